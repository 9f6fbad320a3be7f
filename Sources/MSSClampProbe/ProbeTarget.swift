import Glibc
import MSSClampCore

/// Where probes go and leave from: the destination's address, the source address the
/// kernel's route gives it, and the interface (and MTU) that address belongs to. Found
/// before any probe is sent, so a name that does not resolve or a destination without a
/// route is refused with nothing sent.
public struct ProbeTarget: Sendable, Equatable {
    /// As the user gave it (a name or an address).
    public var name: String
    public var address: IPAddress
    public var source: IPAddress
    public var interface: String?
    /// The interface's MTU: the largest probe this host can send.
    public var interfaceMTU: Int?

    public var family: IPFamily { address.family }

    public init(name: String, address: IPAddress, source: IPAddress, interface: String?, interfaceMTU: Int?) {
        self.name = name
        self.address = address
        self.source = source
        self.interface = interface
        self.interfaceMTU = interfaceMTU
    }

    /// Addresses for `name` (a literal, or resolved by the C library: /etc/hosts, DNS),
    /// one per family, in `families`' order.
    public static func resolve(_ name: String, families: [IPFamily]) throws -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        hints.ai_family = families == [.ipv4] ? AF_INET : families == [.ipv6] ? AF_INET6 : AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(name, nil, &hints, &list)
        guard status == 0, let list else {
            let reason = status == EAI_SYSTEM ? String(cString: strerror(errno)) : String(cString: gai_strerror(status))
            let only = families.count == 1 ? " (\(families[0] == .ipv4 ? "IPv4" : "IPv6") only)" : ""
            throw ProbeError.usage("cannot resolve '\(name)'\(only): \(reason)")
        }
        defer { freeaddrinfo(list) }
        var found: [IPAddress] = []
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let current = entry {
            if let pointer = current.pointee.ai_addr, let address = SocketAddress.address(pointer), !found.contains(address) {
                found.append(address)
            }
            entry = current.pointee.ai_next
        }
        return families.compactMap { family in found.first { $0.family == family } }
    }

    /// The route's view: a connected UDP socket (which sends nothing) learns the source
    /// address the kernel would use, or the reason there is none.
    public static func route(name: String, to address: IPAddress) throws -> ProbeTarget {
        let domain = address.family == .ipv4 ? AF_INET : AF_INET6
        let fd = socket(domain, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ProbeError.usage("cannot open a socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let connected = SocketAddress.with(address, port: 9) { connect(fd, $0, $1) }
        guard connected == 0 else {
            let code = errno
            let why =
                code == ENETUNREACH || code == EHOSTUNREACH ? "no route to \(address.text)" : "\(address.text): \(String(cString: strerror(code)))"
            throw ProbeError.usage(why + (name == address.text ? "" : " ('\(name)')"))
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let source = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 ? SocketAddress.address($0) : nil }
        }
        guard let source else { throw ProbeError.usage("no source address toward \(address.text)") }
        let interface = interfaceName(holding: source)
        return ProbeTarget(
            name: name, address: address, source: source, interface: interface, interfaceMTU: interface.flatMap { mtu(of: $0, asking: fd) })
    }

    /// The MTU of the interface `name` (SIOCGIFMTU, asked on any socket: `fd`); nil when the
    /// kernel does not say. One question, once: no netlink needed.
    static func mtu(of name: String, asking fd: Int32) -> Int? {
        guard !name.isEmpty, name.utf8.count < Int(IF_NAMESIZE) else { return nil }
        var request = ifreq()
        withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { raw in
            for (index, byte) in name.utf8.enumerated() { raw[index] = byte }
        }
        guard ioctl(fd, UInt(SIOCGIFMTU), &request) == 0 else { return nil }
        return Int(request.ifr_ifru.ifru_mtu)
    }

    /// The interface that holds `address` (the one the route leaves by, for a source the
    /// kernel picked itself).
    static func interfaceName(holding address: IPAddress) -> String? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let list else { return nil }
        defer { freeifaddrs(list) }
        var entry: UnsafeMutablePointer<ifaddrs>? = list
        while let current = entry {
            if let pointer = current.pointee.ifa_addr, SocketAddress.address(pointer) == address, let name = current.pointee.ifa_name {
                return String(cString: name)
            }
            entry = current.pointee.ifa_next
        }
        return nil
    }
}

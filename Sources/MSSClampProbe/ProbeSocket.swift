import Glibc
import MSSClampCore

/// The raw sockets a probe run uses (CAP_NET_RAW): one for ICMP, which sends echo probes
/// and hears every answer that is an ICMP message, and for the TCP method one for TCP,
/// which sends the SYNs and hears SYN-ACKs and RSTs from the destination.
///
/// Both send with `IP_PMTUDISC_PROBE` / `IPV6_PMTUDISC_PROBE`: Don't-Fragment set, and the
/// kernel's own path-MTU cache ignored, so a probe larger than an MTU learned before still
/// leaves (only the interface MTU bounds it). The TTL is set per probe.
final class ProbeSocket {
    let family: IPFamily
    let destination: IPAddress
    private let icmp: Int32
    private var tcp: Int32 = -1
    private var buffer = [UInt8](repeating: 0, count: 65536)

    // Kernel UAPI values the Swift overlay of glibc does not export
    // (linux/in.h, linux/in6.h, linux/icmp.h, linux/icmpv6.h).
    private static let ipMTUDiscover: Int32 = 10  // IP_MTU_DISCOVER
    private static let ipv6MTUDiscover: Int32 = 23  // IPV6_MTU_DISCOVER
    private static let pmtuDiscProbe: Int32 = 3  // IP_PMTUDISC_PROBE, IPV6_PMTUDISC_PROBE
    private static let ipv6DontFrag: Int32 = 62  // IPV6_DONTFRAG
    private static let solRaw: Int32 = 255  // SOL_RAW
    private static let icmpFilter: Int32 = 1  // ICMP_FILTER, ICMP6_FILTER

    init(family: IPFamily, source: IPAddress, destination: IPAddress) throws {
        self.family = family
        self.destination = destination
        icmp = try Self.open(family, protocolNumber: family == .ipv4 ? 1 : 58, source: source)
        // Only the types a probe can be answered with: echo reply, unreachable (frag-needed
        // among them), time exceeded; and for IPv6 packet-too-big. Bit set = blocked.
        if family == .ipv4 {
            var blocked: UInt32 = ~(1 << 0 | 1 << 3 | 1 << 11)
            setsockopt(icmp, Self.solRaw, Self.icmpFilter, &blocked, socklen_t(MemoryLayout<UInt32>.size))
        } else {
            var filter = [UInt32](repeating: ~0, count: 8)
            for type in [1, 2, 3] { filter[0] &= ~(1 << UInt32(type)) }
            filter[129 >> 5] &= ~(1 << UInt32(129 & 31))
            setsockopt(icmp, Int32(IPPROTO_ICMPV6), Self.icmpFilter, &filter, socklen_t(32))
        }
    }

    deinit {
        close(icmp)
        if tcp >= 0 { close(tcp) }
    }

    /// Opens the TCP socket for the TCP method; it hears only the destination (connected).
    func openTCP(source: IPAddress) throws {
        guard tcp < 0 else { return }
        tcp = try Self.open(family, protocolNumber: 6, source: source)
        _ = SocketAddress.with(destination) { connect(tcp, $0, $1) }
    }

    private static func open(_ family: IPFamily, protocolNumber: Int32, source: IPAddress) throws -> Int32 {
        let fd = socket(family == .ipv4 ? AF_INET : AF_INET6, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), protocolNumber)
        guard fd >= 0 else {
            let code = errno
            if code == EPERM || code == EACCES {
                throw ProbeError.usage("probe needs CAP_NET_RAW to send its packets: run it as root (or with that capability)")
            }
            throw ProbeError.usage("cannot open a raw socket: \(String(cString: strerror(code)))")
        }
        var probe = pmtuDiscProbe
        var on: Int32 = 1
        let size = socklen_t(MemoryLayout<Int32>.size)
        if family == .ipv4 {
            setsockopt(fd, Int32(IPPROTO_IP), ipMTUDiscover, &probe, size)
        } else {
            setsockopt(fd, Int32(IPPROTO_IPV6), ipv6MTUDiscover, &probe, size)
            setsockopt(fd, Int32(IPPROTO_IPV6), ipv6DontFrag, &on, size)
        }
        // Leave from the address the route chose (and the TCP checksum was computed for).
        guard SocketAddress.with(source, { bind(fd, $0, $1) }) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw ProbeError.usage("cannot send from \(source.text): \(message)")
        }
        return fd
    }

    /// Sends one probe with the given TTL / hop limit.
    func send(_ bytes: [UInt8], method: ProbeMethod, ttl: Int) throws {
        let fd = method == .tcpSYN ? tcp : icmp
        var hops = Int32(ttl)
        let size = socklen_t(MemoryLayout<Int32>.size)
        if family == .ipv4 {
            setsockopt(fd, Int32(IPPROTO_IP), IP_TTL, &hops, size)
        } else {
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_UNICAST_HOPS, &hops, size)
        }
        let sent = bytes.withUnsafeBytes { raw in
            SocketAddress.with(destination) { sendto(fd, raw.baseAddress, raw.count, 0, $0, $1) }
        }
        if sent < 0 {
            let code = errno
            throw ProbeError.failed(
                "sending a \(bytes.count + ProbePacket.ipHeaderLength(family))-byte probe failed: \(String(cString: strerror(code)))")
        }
    }

    /// The next answer that parses, with its sender, or nil at `deadline`.
    func receive(until deadline: ContinuousClock.Instant) -> (answer: ProbeAnswer, from: IPAddress)? {
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return nil }
            var fds = [pollfd(fd: icmp, events: Int16(POLLIN), revents: 0)]
            if tcp >= 0 { fds.append(pollfd(fd: tcp, events: Int16(POLLIN), revents: 0)) }
            let milliseconds = Int32(min(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1, 60_000))
            guard poll(&fds, nfds_t(fds.count), milliseconds) > 0 else { continue }
            for entry in fds where entry.revents & Int16(POLLIN) != 0 {
                if let got = read(entry.fd, protocolNumber: entry.fd == tcp ? 6 : (family == .ipv4 ? 1 : 58)) { return got }
            }
        }
    }

    private func read(_ fd: Int32, protocolNumber: UInt8) -> (answer: ProbeAnswer, from: IPAddress)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let count = buffer.withUnsafeMutableBytes { raw in
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT), $0, &length) }
            }
        }
        guard count > 0 else { return nil }
        return buffer.withUnsafeBytes { raw -> (ProbeAnswer, IPAddress)? in
            let packet = UnsafeRawBufferPointer(rebasing: raw[..<count])
            if family == .ipv4 {
                // An IPv4 raw socket delivers the IP header too.
                guard let (payload, number, source) = ProbeAnswer.transport(ofIPv4: packet), number == protocolNumber,
                    let answer = ProbeAnswer.parse(payload, family: .ipv4, protocolNumber: number)
                else { return nil }
                return (answer, source)
            }
            let source = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress.address($0) } }
            guard let source, let answer = ProbeAnswer.parse(packet, family: .ipv6, protocolNumber: protocolNumber) else { return nil }
            return (answer, source)
        }
    }
}

import CNetfilterQueue
import Glibc
import MSSClampCore

/// Route MTUs over rtnetlink, for `--clamp-mss-to-pmtu`: what xt_TCPMSS takes from the
/// packet's route (towards the destination) and from a lookup back to the source, both as
/// dst_mtu does — the route's MTU metric when it has one (PMTU exceptions included), else
/// the MTU of the device it leaves by.
///
/// Answers are cached per address for `lifetime` seconds; one instance per queue thread,
/// so no locking. A failed lookup is cached too (as unknown), briefly, so a missing route
/// cannot turn every SYN into two netlink round trips.
public final class RouteMTU: PathMTUSource {
    private let socket: OpaquePointer?
    private let portID: UInt32
    private var sequence: UInt32 = 0
    private var buffer = [UInt8](repeating: 0, count: 32768)
    private var cache: [IPAddress: (mtu: Int?, expires: Double)] = [:]
    private let lifetime: Double

    public init(lifetime: Double = 10) {
        self.lifetime = lifetime
        var opened = mnl_socket_open(NETLINK_ROUTE)
        if let socket = opened, mnl_socket_bind(socket, 0, pid_t(MNL_SOCKET_AUTOPID)) < 0 {
            mnl_socket_close(socket)
            opened = nil
        }
        socket = opened
        portID = opened.map { mnl_socket_get_portid($0) } ?? 0
        if let opened {
            var timeout = timeval(tv_sec: 1, tv_usec: 0)
            _ = setsockopt(mnl_socket_get_fd(opened), SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
    }

    deinit {
        if let socket { mnl_socket_close(socket) }
    }

    public func pathMTU(family: IPFamily, source: IPAddress, destination: IPAddress) -> Int? {
        guard let forward = mtu(towards: destination), let back = mtu(towards: source) else { return nil }
        return min(forward, back)
    }

    /// The MTU of the route to `address`, cached.
    public func mtu(towards address: IPAddress) -> Int? {
        let now = RouteMTU.now()
        if let hit = cache[address], hit.expires > now { return hit.mtu }
        if cache.count > 4096 { cache.removeAll(keepingCapacity: true) }
        let answer = lookUp(address)
        cache[address] = (answer, now + (answer == nil ? 1 : lifetime))
        return answer
    }

    private func lookUp(_ address: IPAddress) -> Int? {
        guard let socket else { return nil }
        guard
            let route = request(
                socket, type: UInt16(RTM_GETROUTE),
                fill: { message in
                    let header = mnl_nlmsg_put_extra_header(message, cnfq_rtmsg_size()).assumingMemoryBound(to: rtmsg.self)
                    switch address {
                    case .v4(let value):
                        header.pointee.rtm_family = UInt8(AF_INET)
                        header.pointee.rtm_dst_len = 32
                        var bytes = value.bigEndian
                        mnl_attr_put(message, UInt16(RTA_DST.rawValue), 4, &bytes)
                    case .v6(let high, let low):
                        header.pointee.rtm_family = UInt8(AF_INET6)
                        header.pointee.rtm_dst_len = 128
                        var bytes = (high.bigEndian, low.bigEndian)
                        mnl_attr_put(message, UInt16(RTA_DST.rawValue), 16, &bytes)
                    }
                })
        else { return nil }
        var device: UInt32?
        var metricMTU: Int?
        RouteMTU.attributes(of: route, headerSize: cnfq_rtmsg_size()) { attribute in
            switch Int32(mnl_attr_get_type(attribute)) {
            case Int32(RTA_OIF.rawValue):
                device = mnl_attr_get_u32(attribute)
            case Int32(RTA_METRICS.rawValue):
                RouteMTU.nested(attribute) { metric in
                    if Int32(mnl_attr_get_type(metric)) == RTAX_MTU { metricMTU = Int(mnl_attr_get_u32(metric)) }
                }
            default:
                break
            }
        }
        if let metricMTU, metricMTU > 0 { return metricMTU }
        guard let device else { return nil }
        return linkMTU(socket, index: device)
    }

    private func linkMTU(_ socket: OpaquePointer, index: UInt32) -> Int? {
        guard
            let link = request(
                socket, type: UInt16(RTM_GETLINK),
                fill: { message in
                    let header = mnl_nlmsg_put_extra_header(message, cnfq_ifinfomsg_size()).assumingMemoryBound(to: ifinfomsg.self)
                    header.pointee.ifi_family = UInt8(AF_UNSPEC)
                    header.pointee.ifi_index = Int32(bitPattern: index)
                })
        else { return nil }
        var mtu: Int?
        RouteMTU.attributes(of: link, headerSize: cnfq_ifinfomsg_size()) { attribute in
            if mnl_attr_get_type(attribute) == UInt16(IFLA_MTU) { mtu = Int(mnl_attr_get_u32(attribute)) }
        }
        return mtu
    }

    /// Sends one request and returns the answer's message (a copy's pointer into `buffer`,
    /// valid until the next request), or nil on an error answer or none at all.
    private func request(_ socket: OpaquePointer, type: UInt16, fill: (UnsafeMutablePointer<nlmsghdr>) -> Void) -> UnsafePointer<nlmsghdr>? {
        sequence &+= 1
        let expected = sequence
        let sent = buffer.withUnsafeMutableBytes { raw -> Int in
            let message = mnl_nlmsg_put_header(raw.baseAddress)!
            message.pointee.nlmsg_type = type
            message.pointee.nlmsg_flags = UInt16(NLM_F_REQUEST)
            message.pointee.nlmsg_seq = expected
            fill(message)
            return mnl_socket_sendto(socket, message, Int(message.pointee.nlmsg_len))
        }
        guard sent >= 0 else { return nil }
        for _ in 0..<8 {
            let count = buffer.withUnsafeMutableBytes { mnl_socket_recvfrom(socket, $0.baseAddress, $0.count) }
            guard count > 0 else { return nil }
            var found: UnsafePointer<nlmsghdr>?
            var failed = false
            buffer.withUnsafeBytes { raw in
                NetlinkMessages.forEach(raw, count: count) { message in
                    guard message.pointee.nlmsg_seq == expected else { return }
                    if message.pointee.nlmsg_type == UInt16(NLMSG_ERROR) { failed = true } else { found = message }
                }
            }
            if failed { return nil }
            if let found { return found }
        }
        return nil
    }

    /// mnl_attr_for_each(attr, nlh, offset), written out: the macro cannot be imported.
    static func attributes(of message: UnsafePointer<nlmsghdr>, headerSize: Int, _ body: (UnsafePointer<nlattr>) -> Void) {
        var attribute = UnsafePointer<nlattr>(OpaquePointer(mnl_nlmsg_get_payload_offset(message, headerSize)))!
        let end = UnsafeRawPointer(mnl_nlmsg_get_payload_tail(message))!
        while mnl_attr_ok(attribute, Int32(end - UnsafeRawPointer(attribute))) {
            body(attribute)
            attribute = UnsafePointer(mnl_attr_next(attribute))
        }
    }

    /// mnl_attr_for_each_nested(attr, nest), written out.
    static func nested(_ nest: UnsafePointer<nlattr>, _ body: (UnsafePointer<nlattr>) -> Void) {
        var attribute = UnsafePointer<nlattr>(OpaquePointer(mnl_attr_get_payload(nest)))!
        let end = UnsafeRawPointer(mnl_attr_get_payload(nest))! + Int(mnl_attr_get_payload_len(nest))
        while mnl_attr_ok(attribute, Int32(end - UnsafeRawPointer(attribute))) {
            body(attribute)
            attribute = UnsafePointer(mnl_attr_next(attribute))
        }
    }

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}

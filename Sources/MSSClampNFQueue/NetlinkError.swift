import Glibc

/// A failed netlink call, with errno read at once and the operation that failed.
public struct NetlinkError: Error, CustomStringConvertible, Equatable {
    public let operation: String
    public let code: Int32

    public init(_ operation: String, code: Int32 = errno) {
        self.operation = operation
        self.code = code
    }

    public var description: String {
        switch code {
        case EPERM:
            return
                "\(operation): operation not permitted: mssclamp needs CAP_NET_ADMIN (run as root, or grant it: setcap cap_net_admin+ep, or AmbientCapabilities=CAP_NET_ADMIN in the unit)"
        case EBUSY:
            return "\(operation): the queue is already bound by another process (another mssclamp, suricata, …): choose another --queue"
        default:
            return "\(operation): \(String(cString: strerror(code)))"
        }
    }
}

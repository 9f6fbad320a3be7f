import CNetfilterQueue
import Glibc

/// Interface MTUs by name, for `clamp-to-interface`: read from the kernel once when first
/// asked, and read again only after rtnetlink says a link changed (created, deleted,
/// renamed, its MTU or state changed). Never polled per packet: a per-batch, non-blocking
/// look at the notification socket is all a SYN costs beyond a dictionary lookup.
///
/// One instance per thread (the queue threads, the daemon's monitor): no locking.
public final class LinkMTUs {
    /// nil values cache "absent or down" as well.
    private var known: [String: Int?] = [:]
    private let notifications: OpaquePointer?
    /// For SIOCGIFFLAGS / SIOCGIFMTU: any datagram socket will do.
    private let control: Int32
    private var scratch = [UInt8](repeating: 0, count: 16384)

    public init() {
        var socket = mnl_socket_open(NETLINK_ROUTE)
        if let opened = socket, mnl_socket_bind(opened, cnfq_rtmgrp_link(), pid_t(MNL_SOCKET_AUTOPID)) < 0 {
            mnl_socket_close(opened)
            socket = nil
        }
        if let socket {
            let descriptor = mnl_socket_get_fd(socket)
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        }
        notifications = socket
        control = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    }

    deinit {
        if let notifications { mnl_socket_close(notifications) }
        if control >= 0 { close(control) }
    }

    /// Forgets every MTU if a link changed since the last call; true when one did. Without
    /// the notification socket nothing can be trusted for long: forgotten every call.
    @discardableResult
    public func refreshIfLinksChanged() -> Bool {
        guard let notifications else {
            known.removeAll(keepingCapacity: true)
            return true
        }
        guard drainNotifications(notifications, into: &scratch) else { return false }
        known.removeAll(keepingCapacity: true)
        return true
    }

    /// The MTU of `name` now; nil when there is no such interface or it is down.
    public func mtu(_ name: String) -> Int? {
        if let cached = known[name] { return cached }
        let value = read(name)
        known[name] = value
        return value
    }

    private func read(_ name: String) -> Int? {
        guard control >= 0, !name.isEmpty, name.utf8.count < Int(IF_NAMESIZE) else { return nil }
        var request = ifreq()
        withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { raw in
            for (index, byte) in name.utf8.enumerated() { raw[index] = byte }
        }
        guard ioctl(control, UInt(SIOCGIFFLAGS), &request) == 0, Int32(request.ifr_ifru.ifru_flags) & Int32(IFF_UP) != 0 else {
            return nil
        }
        guard ioctl(control, UInt(SIOCGIFMTU), &request) == 0 else { return nil }
        return Int(request.ifr_ifru.ifru_mtu)
    }
}

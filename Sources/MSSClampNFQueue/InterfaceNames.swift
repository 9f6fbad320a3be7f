import CNetfilterQueue
import Glibc

/// Interface index → name, cached, and forgotten whenever a link changes (renamed, added,
/// removed): an rtnetlink socket subscribed to RTMGRP_LINK tells us, and we poll it without
/// blocking once per receive batch.
public final class InterfaceNames {
    private var names: [UInt32: String] = [:]
    private let socket: OpaquePointer?
    private var scratch = [UInt8](repeating: 0, count: 16384)

    public init() {
        socket = mnl_socket_open(NETLINK_ROUTE)
        if let socket {
            if mnl_socket_bind(socket, cnfq_rtmgrp_link(), pid_t(MNL_SOCKET_AUTOPID)) < 0 {
                mnl_socket_close(socket)
                names = [:]
            } else {
                let descriptor = mnl_socket_get_fd(socket)
                _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            }
        }
    }

    deinit {
        if let socket { mnl_socket_close(socket) }
    }

    /// Drops the cache if any link changed since the last call.
    public func refreshIfLinksChanged() {
        guard let socket else {
            names.removeAll(keepingCapacity: true)
            return
        }
        if drainNotifications(socket, into: &scratch) { names.removeAll(keepingCapacity: true) }
    }

    public func name(_ index: UInt32) -> String? {
        guard index != 0 else { return nil }
        if let known = names[index] { return known }
        var buffer = [CChar](repeating: 0, count: Int(IF_NAMESIZE))
        guard if_indextoname(index, &buffer) != nil else { return nil }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        names[index] = name
        return name
    }
}

extension InterfaceNames {
    /// The names of every interface in this network namespace now (if_nameindex(3)).
    public static func current() -> [String] {
        guard let list = if_nameindex() else { return [] }
        defer { if_freenameindex(list) }
        var names: [String] = []
        var entry = list
        while entry.pointee.if_index != 0, let name = entry.pointee.if_name {
            names.append(String(cString: name))
            entry += 1
        }
        return names
    }
}

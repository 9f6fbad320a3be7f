import CNetfilterQueue
import Glibc

/// Hears every committed change to the kernel's nf_tables ruleset: a NETLINK_NETFILTER
/// socket in the NFNLGRP_NFTABLES multicast group (what `nft monitor` listens to). Both
/// iptables-nft and nftables change rules through nf_tables, so a firewall reload (`nft -f`
/// with `flush ruleset`, `systemctl reload nftables`) that takes our rules away is heard as
/// it commits, not at the next poll. iptables-legacy's x_tables announce nothing: there the
/// daemon's poll remains.
///
/// Polled without blocking (the control loop asks every 100 ms); the kernel keeps what
/// arrives in between (see `drainNotifications`). Not `Sendable`: one task owns it (the
/// daemon's watcher), handed over whole when the task is made.
public final class RulesetWatch {
    private let socket: OpaquePointer
    private var scratch = [UInt8](repeating: 0, count: 65536)

    /// Needs CAP_NET_ADMIN in the network namespace, like the queue itself.
    public init() throws(NetlinkError) {
        guard let socket = mnl_socket_open(NETLINK_NETFILTER) else { throw NetlinkError("open netlink socket (nf_tables events)") }
        guard mnl_socket_bind(socket, 0, pid_t(MNL_SOCKET_AUTOPID)) >= 0 else {
            let error = NetlinkError("bind netlink socket (nf_tables events)")
            mnl_socket_close(socket)
            throw error
        }
        var group = Int32(NFNLGRP_NFTABLES.rawValue)
        guard mnl_socket_setsockopt(socket, NETLINK_ADD_MEMBERSHIP, &group, socklen_t(MemoryLayout<Int32>.size)) >= 0 else {
            let error = NetlinkError("join the nf_tables event group")
            mnl_socket_close(socket)
            throw error
        }
        let descriptor = mnl_socket_get_fd(socket)
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        self.socket = socket
    }

    deinit { mnl_socket_close(socket) }

    /// Whether the ruleset changed since the last call; drains what was announced.
    public func changed() -> Bool {
        drainNotifications(socket, into: &scratch)
    }
}

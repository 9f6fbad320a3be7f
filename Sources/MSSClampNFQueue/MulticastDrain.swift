import CNetfilterQueue
import Glibc

/// Empties a non-blocking netlink socket subscribed to a multicast group and says whether
/// anything had arrived. Link and ruleset notifications both mean "look again": their
/// contents do not matter, only that there were some. An overflowed receive buffer
/// (ENOBUFS: notifications were lost) counts as news too.
///
/// Bounded: a sender that never stops (a firewall manager rewriting rules in a loop) costs
/// at most `limit` reads per call, and the next call goes on.
func drainNotifications(_ socket: OpaquePointer, into scratch: inout [UInt8], limit: Int = 256) -> Bool {
    var arrived = false
    for _ in 0..<limit {
        errno = 0
        let count = scratch.withUnsafeMutableBytes { mnl_socket_recvfrom(socket, $0.baseAddress, $0.count) }
        guard count > 0 || errno == ENOBUFS else { return arrived }
        arrived = true
    }
    return arrived
}

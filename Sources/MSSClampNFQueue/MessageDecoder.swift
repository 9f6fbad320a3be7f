import CNetfilterQueue

/// Turns a receive buffer into packets and error codes, so callers never see netlink types.
public struct MessageDecoder {
    public init() {}

    /// Calls `packet` for each queued packet and `error` for each non-zero netlink error
    /// (negative errno, e.g. -ENOENT for a verdict on a packet the kernel no longer holds).
    public mutating func decode(
        _ buffer: UnsafeRawBufferPointer, count: Int,
        packet: (QueuedPacket) -> Void, error: (Int32) -> Void
    ) {
        NetlinkMessages.forEach(buffer, count: count) { message in
            if message.pointee.nlmsg_type == UInt16(NLMSG_ERROR) {
                let header = mnl_nlmsg_get_payload(message).assumingMemoryBound(to: nlmsgerr.self)
                if header.pointee.error != 0 { error(header.pointee.error) }
            } else if let decoded = QueuedPacket.decode(message) {
                packet(decoded)
            }
        }
    }
}

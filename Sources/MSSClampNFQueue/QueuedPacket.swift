import CNetfilterQueue

/// One packet the kernel queued to us, decoded from its netlink message. `payload` points
/// into the receive buffer and is valid only until the next receive.
public struct QueuedPacket {
    public var id: UInt32
    public var payload: UnsafeRawBufferPointer
    /// The kernel sent fewer bytes than the packet has (NFQA_CAP_LEN): never modify it.
    public var isTruncated: Bool
    /// The checksum field is not final (NFQA_SKB_CSUMNOTREADY): recompute, do not update.
    public var checksumNotReady: Bool
    public var inInterfaceIndex: UInt32
    public var outInterfaceIndex: UInt32
}

extension QueuedPacket {
    /// Decodes a NFQNL_MSG_PACKET message; nil for anything else or a message without the
    /// packet header (which we could not give a verdict to anyway).
    static func decode(_ message: UnsafePointer<nlmsghdr>, attributes: inout [UnsafePointer<nlattr>?]) -> QueuedPacket? {
        let type = Int32(message.pointee.nlmsg_type) & 0xff
        guard type == Int32(NFQNL_MSG_PACKET.rawValue) else { return nil }
        for index in attributes.indices { attributes[index] = nil }
        let parsed = attributes.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: UnsafeMutablePointer<nlattr>?.self, capacity: buffer.count) {
                nfq_nlmsg_parse(message, $0)
            }
        }
        guard parsed >= 0, let header = attributes[Int(NFQA_PACKET_HDR.rawValue)] else { return nil }
        let packetHeader = mnl_attr_get_payload(header).assumingMemoryBound(to: nfqnl_msg_packet_hdr.self)
        var payload = UnsafeRawBufferPointer(start: nil, count: 0)
        if let attribute = attributes[Int(NFQA_PAYLOAD.rawValue)] {
            payload = UnsafeRawBufferPointer(start: mnl_attr_get_payload(attribute), count: Int(mnl_attr_get_payload_len(attribute)))
        }
        func u32(_ kind: nfqnl_attr_type) -> UInt32? {
            attributes[Int(kind.rawValue)].map { UInt32(bigEndian: mnl_attr_get_u32($0)) }
        }
        let info = u32(NFQA_SKB_INFO) ?? 0
        return QueuedPacket(
            id: UInt32(bigEndian: packetHeader.pointee.packet_id),
            payload: payload,
            isTruncated: attributes[Int(NFQA_CAP_LEN.rawValue)] != nil,
            checksumNotReady: info & UInt32(NFQA_SKB_CSUMNOTREADY) != 0,
            inInterfaceIndex: u32(NFQA_IFINDEX_INDEV) ?? 0,
            outInterfaceIndex: u32(NFQA_IFINDEX_OUTDEV) ?? 0)
    }
}

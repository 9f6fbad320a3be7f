import CNetfilterQueue

/// One packet the kernel queued to us, decoded from its netlink message. `payload` points
/// into the receive buffer and is valid only until the next receive.
public struct QueuedPacket {
    public var id: UInt32
    /// The queue it came on (nfgenmsg's res_id): one socket may bind several.
    public var queue: UInt16
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
    ///
    /// The attributes are walked here rather than by nfq_nlmsg_parse: that call fills a
    /// table of every attribute type through a callback per attribute, a fifth of the
    /// per-packet instructions (callgrind, bench/hotpath), for the six we read.
    static func decode(_ message: UnsafePointer<nlmsghdr>) -> QueuedPacket? {
        let type = Int32(message.pointee.nlmsg_type) & 0xff
        guard type == Int32(NFQNL_MSG_PACKET.rawValue) else { return nil }
        let total = Int(message.pointee.nlmsg_len)
        let bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(message), count: total)
        // nlmsghdr, then struct nfgenmsg, then the attributes, each 4-byte aligned.
        var offset = Int(cnfq_nlmsg_align(UInt32(MemoryLayout<nlmsghdr>.size + MemoryLayout<nfgenmsg>.size)))
        // struct nfgenmsg: nfgen_family (u8), version (u8), res_id (be16).
        guard total >= MemoryLayout<nlmsghdr>.size + MemoryLayout<nfgenmsg>.size else { return nil }
        let queue = UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: MemoryLayout<nlmsghdr>.size + 2, as: UInt16.self))
        var packet = QueuedPacket(
            id: 0, queue: queue, payload: UnsafeRawBufferPointer(start: nil, count: 0), isTruncated: false,
            checksumNotReady: false, inInterfaceIndex: 0, outInterfaceIndex: 0)
        var sawHeader = false
        while offset + 4 <= total {
            let length = Int(bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
            // NLA_TYPE_MASK: without NESTED and BYTEORDER.
            let kind = UInt32(bytes.loadUnaligned(fromByteOffset: offset + 2, as: UInt16.self) & 0x3fff)
            guard length >= 4, offset + length <= total else { return nil }  // malformed: as mnl_attr_parse
            let value = UnsafeRawBufferPointer(rebasing: bytes[(offset + 4)..<(offset + length)])
            func u32() -> UInt32? { value.count >= 4 ? UInt32(bigEndian: value.loadUnaligned(as: UInt32.self)) : nil }
            switch kind {
            case NFQA_PACKET_HDR.rawValue:
                // struct nfqnl_msg_packet_hdr: packet_id (be32), hw_protocol (be16), hook (u8).
                guard value.count >= 7 else { return nil }
                packet.id = UInt32(bigEndian: value.loadUnaligned(as: UInt32.self))
                sawHeader = true
            case NFQA_PAYLOAD.rawValue:
                packet.payload = value
            case NFQA_CAP_LEN.rawValue:
                packet.isTruncated = true
            case NFQA_SKB_INFO.rawValue:
                packet.checksumNotReady = (u32() ?? 0) & UInt32(NFQA_SKB_CSUMNOTREADY) != 0
            case NFQA_IFINDEX_INDEV.rawValue:
                packet.inInterfaceIndex = u32() ?? 0
            case NFQA_IFINDEX_OUTDEV.rawValue:
                packet.outInterfaceIndex = u32() ?? 0
            default:
                break
            }
            offset += (length + 3) & ~3
        }
        return sawHeader ? packet : nil
    }
}

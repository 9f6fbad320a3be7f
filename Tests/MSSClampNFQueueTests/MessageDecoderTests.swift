import CNetfilterQueue
import MSSClampNFQueue
import Testing

/// The queue message walker, on messages laid out as the kernel's nfqnl_build_packet_message
/// lays them out, and on damaged ones (which must yield no packet, never a wrong one).
@Suite struct MessageDecoderTests {
    /// One NFQNL_MSG_PACKET message; `attributes` are (type, value) in order.
    static func message(_ attributes: [(UInt16, [UInt8])], type: UInt16 = UInt16(NFQNL_MSG_PACKET.rawValue)) -> [UInt8] {
        var body: [UInt8] = [UInt8(AF_INET), 0, 0, 0]  // struct nfgenmsg
        for (kind, value) in attributes {
            let length = 4 + value.count
            body += [UInt8(length & 0xff), UInt8(length >> 8), UInt8(kind & 0xff), UInt8(kind >> 8)] + value
            body += Array(repeating: 0, count: (4 - length % 4) % 4)
        }
        let total = 16 + body.count
        let kind = UInt16(NFNL_SUBSYS_QUEUE << 8) | type
        return [UInt8(total & 0xff), UInt8((total >> 8) & 0xff), 0, 0, UInt8(kind & 0xff), UInt8(kind >> 8), 0, 0]
            + Array(repeating: 0, count: 8) + body
    }

    static func be32(_ value: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8((value >> UInt32($0)) & 0xff) } }
    static let header = (UInt16(NFQA_PACKET_HDR.rawValue), be32(77) + [0x08, 0x00, 2])
    static let payload = (UInt16(NFQA_PAYLOAD.rawValue), [UInt8](repeating: 0x45, count: 41))

    static func decode(_ bytes: [UInt8]) -> (
        packets: [(id: UInt32, payload: [UInt8], truncated: Bool, csum: Bool, indev: UInt32, outdev: UInt32)], errors: [Int32]
    ) {
        var decoder = MessageDecoder()
        var packets: [(id: UInt32, payload: [UInt8], truncated: Bool, csum: Bool, indev: UInt32, outdev: UInt32)] = []
        var errors: [Int32] = []
        bytes.withUnsafeBytes { raw in
            decoder.decode(
                raw, count: raw.count,
                packet: {
                    packets.append(($0.id, Array($0.payload), $0.isTruncated, $0.checksumNotReady, $0.inInterfaceIndex, $0.outInterfaceIndex))
                }, error: { errors.append($0) })
        }
        return (packets, errors)
    }

    @Test func everyAttributeTheWorkerReads() {
        let bytes = Self.message([
            Self.header,
            (UInt16(NFQA_IFINDEX_INDEV.rawValue), Self.be32(2)),
            (UInt16(NFQA_IFINDEX_OUTDEV.rawValue), Self.be32(3)),
            (UInt16(NFQA_HWADDR.rawValue), [8, 0, 0, 0, 2, 0, 0, 0, 0, 1, 0, 0]),  // skipped
            (UInt16(NFQA_SKB_INFO.rawValue), Self.be32(UInt32(NFQA_SKB_CSUMNOTREADY))),
            Self.payload,
        ])
        let (packets, errors) = Self.decode(bytes + bytes)  // two messages in one receive
        #expect(errors.isEmpty)
        #expect(packets.count == 2)
        #expect(packets.first?.id == 77)
        #expect(packets.first?.payload == Self.payload.1)
        #expect(packets.first?.truncated == false)
        #expect(packets.first?.csum == true)
        #expect(packets.first?.indev == 2 && packets.first?.outdev == 3)
    }

    /// One socket binds a queue per IPsec class: nfgenmsg's res_id says which one.
    @Test func theQueueComesFromResID() {
        var bytes = Self.message([Self.header, Self.payload])
        bytes[18] = 0x01  // res_id, big-endian: queue 258
        bytes[19] = 0x02
        var queues: [UInt16] = []
        var decoder = MessageDecoder()
        bytes.withUnsafeBytes { raw in decoder.decode(raw, count: raw.count, packet: { queues.append($0.queue) }, error: { _ in }) }
        #expect(queues == [258])
        var configuration = QueueConfiguration(number: 256)
        configuration.blocks = 4
        configuration.stride = 2
        #expect(configuration.numbers == [256, 258, 260, 262])
        #expect([256, 257, 258, 259, 262, 263].map(configuration.block(of:)) == [0, 0, 1, 1, 3, 3])
    }

    @Test func capturedLengthMeansTruncated() {
        let bytes = Self.message([Self.header, (UInt16(NFQA_CAP_LEN.rawValue), Self.be32(1500)), Self.payload])
        #expect(Self.decode(bytes).packets.first?.truncated == true)
    }

    @Test func damagedMessagesYieldNoPacket() {
        #expect(Self.decode(Self.message([Self.payload])).packets.isEmpty, "no packet header: nothing to answer")
        #expect(Self.decode(Self.message([(Self.header.0, [0, 0, 0])])).packets.isEmpty, "header too short")
        var pastEnd = Self.message([Self.header, Self.payload])
        pastEnd[pastEnd.count - 48] = 200  // the payload attribute claims more than the message has
        #expect(Self.decode(pastEnd).packets.isEmpty)
        var tiny = Self.message([Self.header, Self.payload])
        tiny[20 + 12] = 2  // an attribute shorter than its own header
        #expect(Self.decode(tiny).packets.isEmpty)
        #expect(Self.decode(Self.message([Self.header], type: UInt16(NFQNL_MSG_VERDICT.rawValue))).packets.isEmpty)
    }
}

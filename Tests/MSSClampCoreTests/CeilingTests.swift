import MSSClampCore
import Testing

/// `Policy.lowerMSS`: the learned-MTU pass after the policy lowers only, never inserts,
/// keeps checksums valid, and tells the learner every readable SYN.
@Suite struct CeilingTests {
    func lower(_ packet: [UInt8], to limit: UInt16?, checksum: ChecksumMode = .incremental) -> (result: (from: UInt16, to: UInt16)?, output: [UInt8], seen: [FlowInfo]) {
        var buffer = packet
        var seen: [FlowInfo] = []
        let result = buffer.withUnsafeMutableBytes {
            Policy.lowerMSS(in: $0, length: packet.count, checksum: checksum) { flow in
                seen.append(flow)
                return limit
            }
        }
        return (result, buffer, seen)
    }

    @Test(arguments: [IPFamily.ipv4, .ipv6], [ChecksumMode.incremental, .recompute])
    func lowersToTheCeilingWithValidChecksums(_ family: IPFamily, _ mode: ChecksumMode) {
        var builder = PacketBuilder()
        builder.family = family
        builder.options = [1, 1, 4, 2, 2, 4, 0x05, 0xb4]  // MSS at an odd word offset
        let (result, output, seen) = lower(builder.build(), to: 1360, checksum: mode)
        #expect(result?.from == 1460 && result?.to == 1360)
        let tcp = family == .ipv4 ? 20 : 40
        #expect(Array(output[(tcp + 26)..<(tcp + 28)]) == be16(1360))
        #expect(checksumsValid(output))
        #expect(seen.count == 1 && seen[0].sourcePort == 40000 && seen[0].destinationPort == 443 && seen[0].mss == 1460)
    }

    @Test func neverRaisesNorInserts() {
        var builder = PacketBuilder()
        builder.options = [2, 4, 0x04, 0xb0]  // 1200
        let low = builder.build()
        #expect(lower(low, to: 1360).result == nil && lower(low, to: 1360).output == low)
        builder.options = []
        let bare = builder.build()
        let (result, output, seen) = lower(bare, to: 1360)
        #expect(result == nil && output == bare)
        #expect(seen.count == 1 && seen[0].mss == nil)  // still noted as a forwarded flow
    }

    @Test func onlySYNsAreLookedAt() {
        var builder = PacketBuilder()
        builder.flags = TCPFlags.syn | TCPFlags.rst
        #expect(lower(builder.build(), to: 1360).seen.isEmpty)
        builder.flags = TCPFlags.ack
        #expect(lower(builder.build(), to: 1360).seen.isEmpty)
        builder.flags = TCPFlags.syn | TCPFlags.ack
        #expect(lower(builder.build(), to: 1360).result?.to == 1360)
    }

    @Test func malformedIsLeftAlone() {
        var builder = PacketBuilder()
        builder.dataOffsetOverride = 15  // options past the end
        let packet = builder.build()
        #expect(lower(packet, to: 1360).result == nil && lower(packet, to: 1360).output == packet)
        #expect(lower(Array(packet.prefix(30)), to: 1360).seen.isEmpty)
    }
}

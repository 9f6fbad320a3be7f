import MSSClampCore
import Testing

@Suite struct IPv6AndFragmentTests {
    static let hopByHop: (type: UInt8, bytes: [UInt8]) = (0, [0, 0, 1, 4, 0, 0, 0, 0])  // PadN
    static let destinationOptions: (type: UInt8, bytes: [UInt8]) = (60, [0, 1] + [1, 12] + Array(repeating: 0, count: 12))
    static let routingDone: (type: UInt8, bytes: [UInt8]) = (43, [0, 0, 4, 0, 0, 0, 0, 0])  // no segments left
    static func fragment(offset: UInt16, more: Bool) -> (type: UInt8, bytes: [UInt8]) {
        (44, [0, 0] + be16(offset << 3 | (more ? 1 : 0)) + [0, 0, 0x12, 0x34])
    }

    @Test func walksExtensionHeaderChain() {
        var builder = PacketBuilder()
        builder.family = .ipv6
        builder.extensionHeaders = [Self.hopByHop, Self.destinationOptions, Self.routingDone, Self.fragment(offset: 0, more: false)]
        let input = builder.build()
        let (decision, output) = run(input)
        #expect(decision.outcome == .clamped(from: 1460, to: 1360))
        #expect(checksumsValid(output))
        #expect(mssOption(output) == 1360)
    }

    @Test func ipv6NonFirstFragmentIsLeftAlone() {
        var builder = PacketBuilder()
        builder.family = .ipv6
        builder.extensionHeaders = [Self.fragment(offset: 185, more: false)]
        let input = builder.build()
        let (decision, output) = run(input)
        #expect(decision.outcome == .unchanged(.nonFirstFragment))
        #expect(output == input)
    }

    @Test func ipv6FirstFragmentIsProcessed() {
        var builder = PacketBuilder()
        builder.family = .ipv6
        builder.extensionHeaders = [Self.fragment(offset: 0, more: true)]
        #expect(run(builder.build()).0.outcome == .clamped(from: 1460, to: 1360))
    }

    @Test func ipv4Fragments() {
        var builder = PacketBuilder()
        builder.fragmentField = 0x2000  // MF, offset 0: first fragment
        #expect(run(builder.build()).0.outcome == .clamped(from: 1460, to: 1360))
        builder.fragmentField = 0x00b9  // offset 185 × 8
        let input = builder.build()
        let (decision, output) = run(input)
        #expect(decision.outcome == .unchanged(.nonFirstFragment))
        #expect(output == input)
    }

    @Test func chainPastTheEndIsDropped() {
        var builder = PacketBuilder()
        builder.family = .ipv6
        builder.extensionHeaders = [(60, [0, 200, 0, 0, 0, 0, 0, 0])]  // claims 1608 bytes
        #expect(run(builder.build()).0.outcome == .dropped(.malformedExtensionHeaders))
    }

    @Test func otherProtocolsAreNotTCP() {
        var v4 = PacketBuilder().build()
        v4[9] = 17
        #expect(run(v4).0.outcome == .unchanged(.notTCP))
        var builder = PacketBuilder()
        builder.family = .ipv6
        var v6 = builder.build()
        v6[6] = 59  // No Next Header
        #expect(run(v6).0.outcome == .unchanged(.notTCP))
    }

    /// With segments left, the pseudo-header uses the final destination (RFC 8200 §8.1):
    /// a full recompute must use it too.
    @Test func recomputeUsesRoutingHeaderFinalDestination() {
        var builder = PacketBuilder()
        builder.family = .ipv6
        let final: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 9] + Array(repeating: 0, count: 9) + [9]
        builder.extensionHeaders = [(43, [0, 2, 0, 1, 0, 0, 0, 0] + final)]  // type 0, one address left
        let input = builder.build()
        let (incremental, outA) = run(input)
        let (recomputed, outB) = run(input, checksum: .recompute)
        #expect(incremental.outcome == .clamped(from: 1460, to: 1360))
        #expect(recomputed.outcome == incremental.outcome)
        // The builder's checksum used the header's destination, so the incremental result
        // keeps that basis while the recompute uses the final one: they must differ exactly
        // by the address difference, and the recompute must verify against `final`.
        let tcp = Array(outB[64...])
        let pseudo = Array(outB[8..<24]) + final + [0, 0] + be16(UInt16(tcp.count)) + [0, 0, 0, 6]
        #expect(PacketBuilder.checksum(pseudo: pseudo, segment: tcp) == 0)
        #expect(outA != outB)
    }
}

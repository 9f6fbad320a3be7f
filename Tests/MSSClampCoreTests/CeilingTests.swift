import MSSClampCore
import Testing

/// A ceiling that answers `limit` and remembers every flow it was asked about.
final class RecordingCeiling: MSSCeilingSource {
    let limit: UInt16?
    var seen: [FlowInfo] = []
    init(_ limit: UInt16?) { self.limit = limit }
    func ceiling(for flow: FlowInfo) -> UInt16? {
        seen.append(flow)
        return limit
    }
}

/// Learned ceilings as an input of `Policy.apply` (`--learn-pmtu`, dry-run's
/// `--assume-learned`): after the rules they lower only, never insert, keep checksums
/// valid, and are asked about every readable SYN.
@Suite struct CeilingTests {
    /// Through a policy that matches nothing, so only the ceiling can change the packet.
    func lower(_ packet: [UInt8], to limit: UInt16?, checksum: ChecksumMode = .incremental, policy: Policy = Policy(rules: []))
        -> (result: (from: UInt16, to: UInt16)?, output: [UInt8], seen: [FlowInfo], decision: Decision)
    {
        var buffer = packet + [0, 0, 0, 0]
        let ceiling = RecordingCeiling(limit)
        let decision = buffer.withUnsafeMutableBytes {
            policy.apply(to: $0, length: packet.count, pathMTU: NoPathMTU(), ceiling: ceiling, checksum: checksum)
        }
        var result: (from: UInt16, to: UInt16)?
        if decision.learned, case .clamped(let from, let to) = decision.outcome { result = (from, to) }
        return (result, Array(buffer[0..<decision.length]), ceiling.seen, decision)
    }

    @Test(arguments: [IPFamily.ipv4, .ipv6], [ChecksumMode.incremental, .recompute])
    func lowersToTheCeilingWithValidChecksums(_ family: IPFamily, _ mode: ChecksumMode) {
        var builder = PacketBuilder()
        builder.family = family
        builder.options = [1, 1, 4, 2, 2, 4, 0x05, 0xb4]  // MSS at an odd word offset
        let (result, output, seen, _) = lower(builder.build(), to: 1360, checksum: mode)
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
        let (result, output, seen, _) = lower(bare, to: 1360)
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

    /// After a rule: the decision tells the packet's story from the MSS it arrived with to
    /// the MSS it leaves with, and says the ceiling did it.
    @Test func afterARuleTheOutcomeIsTheFinalMSS() {
        var builder = PacketBuilder()
        builder.options = [2, 4, 0x05, 0xb4]  // 1460
        let policy = Policy(rules: [Rule(mssRange: 1361...1536, action: .setMSS(1400))])
        let lowered = lower(builder.build(), to: 1300, policy: policy)
        #expect(lowered.decision.outcome == .clamped(from: 1460, to: 1300) && lowered.decision.learned && lowered.decision.rule == 0)
        #expect(checksumsValid(lowered.output))
        let above = lower(builder.build(), to: 1420, policy: policy)
        #expect(above.decision.outcome == .clamped(from: 1460, to: 1400) && !above.decision.learned, "a ceiling above the rule changes nothing")
        // An inserted option is lowered as inserted.
        builder.options = []
        let insert = Policy(rules: [Rule(mssRange: nil, action: .setMSS(1400), insertMissing: true)])
        #expect(lower(builder.build(), to: 500, policy: insert).decision.outcome == .inserted(500))
    }

    @Test func droppedPacketsAreNotAsked() {
        var builder = PacketBuilder()
        builder.dataOffsetOverride = 4  // below 5 words: the rule drops it
        let lowered = lower(builder.build(), to: 1300, policy: Policy(rules: [Rule(mssRange: nil)]))
        #expect(lowered.decision.outcome == .dropped(.badDataOffset) && lowered.seen.isEmpty)
    }
}

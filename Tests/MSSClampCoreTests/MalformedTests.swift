import MSSClampCore
import Testing

/// What the kernel rule would drop, and what mssclamp must not touch.
@Suite struct MalformedTests {
    @Test func tcpHeaderShorterThan20IsDropped() {
        let full = PacketBuilder().build()
        var short = Array(full[0..<30])
        short[3] = 30  // total length
        #expect(run(short).0.outcome == .dropped(.tcpHeaderTooShort))
    }

    @Test func dataOffsetBelowFiveIsDropped() {
        var builder = PacketBuilder()
        builder.dataOffsetOverride = 4
        #expect(run(builder.build()).0.outcome == .dropped(.badDataOffset))
    }

    @Test func optionsPastTheEndAreDropped() {
        var builder = PacketBuilder()
        builder.dataOffsetOverride = 10
        #expect(run(builder.build()).0.outcome == .dropped(.optionsPastEnd))
    }

    /// A malformed header is only examined by rules whose selectors match, as in the kernel.
    @Test func malformedButNotMatchedIsNotDropped() {
        var builder = PacketBuilder()
        builder.dataOffsetOverride = 4
        let policy = Policy(rules: [Rule(family: .ipv6)])
        #expect(run(builder.build(), policy: policy).0.outcome == .unchanged(.noRuleMatched))
        builder.flags = TCPFlags.ack
        #expect(run(builder.build()).0.outcome == .unchanged(.notSYN))
    }

    @Test func badIPv4Headers() {
        var packet = PacketBuilder().build()
        packet[0] = 0x44  // IHL 4
        #expect(run(packet).0.outcome == .dropped(.malformedIPHeader))
        packet = PacketBuilder().build()
        packet[2] = 0
        packet[3] = 10  // total length below header length
        #expect(run(packet).0.outcome == .dropped(.malformedIPHeader))
    }

    @Test func truncatedIsNeverModified() {
        let full = PacketBuilder().build()
        for cut in [0, 10, 19, 20, 30, full.count - 1] {
            let input = Array(full[0..<cut])
            let (decision, output) = run(input)
            #expect(decision.outcome == .unchanged(.truncated), "cut at \(cut)")
            #expect(output == input)
        }
        var builder = PacketBuilder()
        builder.family = .ipv6
        let v6 = builder.build()
        #expect(run(Array(v6[0..<50])).0.outcome == .unchanged(.truncated))
    }

    @Test func notIP() {
        #expect(run([0x00, 1, 2, 3]).0.outcome == .unchanged(.notIP))
    }
}

/// Found by fuzzing (Fuzz/regressions/core/ipv6-payload-length-zero-tcp).
@Suite struct FuzzFoundTests {
    /// IPv6 with payload length 0 and TCP as the next header carries no TCP header: the
    /// kernel trims it to 40 bytes and its TCP match drops it. Only a hop-by-hop header
    /// first makes a zero length a jumbogram.
    @Test func ipv6WithoutPayloadIsDroppedUnlessJumbogram() {
        var header = [UInt8](repeating: 0, count: 40)
        header[0] = 0x60
        header[6] = 6
        #expect(run(header).0.outcome == .dropped(.tcpHeaderTooShort))
        header[6] = 0
        #expect(run(header).0.outcome == .unchanged(.notTCP))
    }
}

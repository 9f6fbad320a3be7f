import MSSClampCore
import Testing

@Suite struct PolicyMatchTests {
    func packet(_ family: IPFamily = .ipv4, flags: UInt8 = TCPFlags.syn, mss: UInt16 = 1460) -> [UInt8] {
        var builder = PacketBuilder()
        builder.family = family
        builder.flags = flags
        builder.options = [2, 4] + be16(mss)
        return builder.build()
    }

    @Test func directions() {
        let synAck = TCPFlags.syn | TCPFlags.ack
        let both = Policy(rules: [Rule(direction: .both)])
        let synOnly = Policy(rules: [Rule(direction: .syn)])
        let synAckOnly = Policy(rules: [Rule(direction: .synAck)])
        #expect(run(packet(flags: synAck), policy: both).0.outcome == .clamped(from: 1460, to: 1360))
        #expect(run(packet(flags: synAck), policy: synOnly).0.outcome == .unchanged(.noRuleMatched))
        #expect(run(packet(flags: TCPFlags.syn), policy: synAckOnly).0.outcome == .unchanged(.noRuleMatched))
        #expect(run(packet(flags: synAck), policy: synAckOnly).0.outcome == .clamped(from: 1460, to: 1360))
        // SYN,RST SYN also matches SYN|FIN (the kernel rule does); --syn does not.
        #expect(run(packet(flags: TCPFlags.syn | TCPFlags.fin), policy: both).0.outcome == .clamped(from: 1460, to: 1360))
        #expect(run(packet(flags: TCPFlags.syn | TCPFlags.fin), policy: synOnly).0.outcome == .unchanged(.noRuleMatched))
        #expect(run(packet(flags: TCPFlags.ack)).0.outcome == .unchanged(.notSYN))
        #expect(run(packet(flags: TCPFlags.syn | TCPFlags.rst)).0.outcome == .unchanged(.notSYN))
    }

    @Test func familyAndPrefixes() throws {
        let pool = try #require(CIDR(address: .v4(0xc000_0200), prefixLength: 24))  // 192.0.2.0/24
        let other = try #require(CIDR(address: .v4(0xcb00_7100), prefixLength: 24))  // 203.0.113.0/24
        let v6net = try #require(CIDR(address: .v6(0x2001_0db8_0000_0000, 0), prefixLength: 32))
        #expect(run(packet(), policy: Policy(rules: [Rule(sources: [pool])])).0.outcome == .clamped(from: 1460, to: 1360))
        #expect(run(packet(), policy: Policy(rules: [Rule(sources: [other])])).0.outcome == .unchanged(.noRuleMatched))
        #expect(run(packet(), policy: Policy(rules: [Rule(sources: [other, pool])])).0.outcome == .clamped(from: 1460, to: 1360))
        #expect(run(packet(), policy: Policy(rules: [Rule(destinations: [pool])])).0.outcome == .unchanged(.noRuleMatched))
        #expect(run(packet(.ipv6), policy: Policy(rules: [Rule(sources: [v6net])])).0.outcome == .clamped(from: 1460, to: 1360))
        #expect(run(packet(.ipv6), policy: Policy(rules: [Rule(sources: [pool])])).0.outcome == .unchanged(.noRuleMatched))
        #expect(run(packet(.ipv6), policy: Policy(rules: [Rule(family: .ipv4)])).0.outcome == .unchanged(.noRuleMatched))
        #expect(run(packet(.ipv4), policy: Policy(rules: [Rule(family: .ipv6)])).0.outcome == .unchanged(.noRuleMatched))
    }

    @Test func cidrEdges() throws {
        let all = try #require(CIDR(address: .v4(0xdead_beef), prefixLength: 0))
        #expect(all.contains(.v4(1)) && !all.contains(.v6(0, 1)))
        let host = try #require(CIDR(address: .v6(1, 2), prefixLength: 128))
        #expect(host.contains(.v6(1, 2)) && !host.contains(.v6(1, 3)))
        let p65 = try #require(CIDR(address: .v6(5, 0x8000_0000_0000_0000), prefixLength: 65))
        #expect(p65.contains(.v6(5, 0xffff_0000_0000_0000)) && !p65.contains(.v6(5, 1)))
        #expect(CIDR(address: .v4(0), prefixLength: 33) == nil)
        #expect(CIDR(address: .v4(0xc000_02ff), prefixLength: 24)?.address == .v4(0xc000_0200), "host bits cleared")
    }

    @Test func interfaces() {
        let rule = Rule(outInterface: InterfacePattern("eth0"))
        let wildcard = Rule(inInterface: InterfacePattern("wg+"))
        #expect(run(packet(), policy: Policy(rules: [rule])).0.outcome == .unchanged(.interfaceUnknown))
        #expect(
            run(packet(), policy: Policy(rules: [rule]), metadata: PacketMetadata(outInterface: "eth0")).0.outcome
                == .clamped(from: 1460, to: 1360))
        #expect(
            run(packet(), policy: Policy(rules: [rule]), metadata: PacketMetadata(outInterface: "eth1")).0.outcome
                == .unchanged(.noRuleMatched))
        #expect(
            run(packet(), policy: Policy(rules: [wildcard]), metadata: PacketMetadata(inInterface: "wg12")).0.outcome
                == .clamped(from: 1460, to: 1360))
        #expect(
            run(packet(), policy: Policy(rules: [wildcard]), metadata: PacketMetadata(inInterface: "eth0")).0.outcome
                == .unchanged(.noRuleMatched))
    }

    @Test func firstMatchWinsAndReportsRule() {
        let policy = Policy(rules: [
            Rule(mssRange: 1441...1460, action: .setMSS(1400)),
            Rule(mssRange: 1361...1536, action: .setMSS(1360)),
        ])
        let (first, _) = run(packet(mss: 1460), policy: policy)
        #expect(first.outcome == .clamped(from: 1460, to: 1400) && first.rule == 0)
        let (second, _) = run(packet(mss: 1440), policy: policy)
        #expect(second.outcome == .clamped(from: 1440, to: 1360) && second.rule == 1)
    }

    @Test func perFamilyValues() {
        let policy = Policy(rules: [Rule(action: .setMSS(ipv4: 1360, ipv6: 1340))])
        #expect(run(packet(.ipv4), policy: policy).0.outcome == .clamped(from: 1460, to: 1360))
        #expect(run(packet(.ipv6), policy: policy).0.outcome == .clamped(from: 1460, to: 1340))
    }

    @Test func noRangeClampsAnyMSSButNeverRaises() {
        let policy = Policy(rules: [Rule(mssRange: nil, action: .setMSS(1360))])
        #expect(run(packet(mss: 9000), policy: policy).0.outcome == .clamped(from: 9000, to: 1360))
        let (low, output) = run(packet(mss: 1200), policy: policy)
        #expect(low.outcome == .unchanged(.atOrBelowTarget) && low.originalMSS == 1200 && low.target == 1360)
        #expect(output == packet(mss: 1200))
    }

    @Test func pathMTU() {
        let pmtu = Policy(rules: [Rule(mssRange: nil, action: .clampToPathMTU)])
        #expect(run(packet(.ipv4), policy: pmtu, pathMTU: AssumedPathMTU(1400)).0.outcome == .clamped(from: 1460, to: 1360))
        #expect(run(packet(.ipv6), policy: pmtu, pathMTU: AssumedPathMTU(1400)).0.outcome == .clamped(from: 1460, to: 1340))
        #expect(run(packet(.ipv4), policy: pmtu).0.outcome == .unchanged(.pathMTUUnknown))
        #expect(run(packet(.ipv4), policy: pmtu, pathMTU: AssumedPathMTU(40)).0.outcome == .dropped(.pathMTUTooSmall))
        #expect(run(packet(.ipv6), policy: pmtu, pathMTU: AssumedPathMTU(60)).0.outcome == .dropped(.pathMTUTooSmall))
        // The kernel computes the target (and may drop) before looking at the option.
        #expect(run(packet(mss: 500), policy: pmtu, pathMTU: AssumedPathMTU(40)).0.outcome == .dropped(.pathMTUTooSmall))
        let fixed = Policy(rules: [Rule(mssRange: nil, action: .clampToMTU(1420))])
        #expect(run(packet(.ipv4), policy: fixed).0.outcome == .clamped(from: 1460, to: 1380))
        #expect(run(packet(.ipv6), policy: fixed).0.outcome == .clamped(from: 1460, to: 1360))
    }

    @Test func countersByKindAndRule() {
        var counters = OutcomeCounters(ruleCount: 1)
        for mss in [1460, 1460, 1300] as [UInt16] { counters.record(run(packet(mss: mss)).0) }
        counters.record(run(packet(flags: TCPFlags.ack)).0)
        #expect(counters.packets == 4)
        #expect(counters.count(.clamped(from: 0, to: 0)) == 2)
        #expect(counters.count(.unchanged(.outsideRange)) == 1)
        #expect(counters.count(.unchanged(.notSYN)) == 1)
        #expect(counters.byRule == [2])
        #expect(OutcomeCounters.kinds.count == 2 + Reason.allCases.count + DropReason.allCases.count)
    }
}

import MSSClampCore
import Testing

/// `clamp-to-interface`: the MSS follows the MTU the source says the interface has now.
@Suite struct InterfaceClampTests {
    /// Interfaces and their MTUs, as a test sets them.
    struct Links: PathMTUSource {
        var mtus: [String: Int]
        func pathMTU(family: IPFamily, source: IPAddress, destination: IPAddress) -> Int? { nil }
        func interfaceMTU(_ name: String) -> Int? { mtus[name] }
    }

    func outcome(_ family: IPFamily, _ links: Links, mss: UInt16 = 1460) -> Outcome {
        var builder = PacketBuilder()
        builder.family = family
        builder.options = [2, 4] + be16(mss)
        let policy = Policy(rules: [Rule(mssRange: nil, action: .clampToInterface("wg0"))])
        return run(builder.build(), policy: policy, pathMTU: links).0.outcome
    }

    @Test func followsTheMTUPerFamily() {
        #expect(outcome(.ipv4, Links(mtus: ["wg0": 1420])) == .clamped(from: 1460, to: 1380))
        #expect(outcome(.ipv6, Links(mtus: ["wg0": 1420])) == .clamped(from: 1460, to: 1360))
        #expect(outcome(.ipv4, Links(mtus: ["wg0": 1280])) == .clamped(from: 1460, to: 1240))
        #expect(outcome(.ipv4, Links(mtus: ["wg0": 1500])) == .unchanged(.atOrBelowTarget))
        // Another interface's MTU is not this rule's business.
        #expect(outcome(.ipv4, Links(mtus: ["wg1": 1280])) == .unchanged(.interfaceMTUUnknown))
        #expect(Reason.interfaceMTUUnknown.label == "interface-mtu-unknown")
    }

    @Test func namedInTextAndKeptOutOfTheKernelTargets() {
        let rule = Rule(mssRange: nil, action: .clampToInterface("wg0"))
        #expect(rule.summary.hasSuffix("-> clamp-to-interface wg0"))
        #expect(rule.action.fixedTarget(.ipv4) == nil && rule.action.followedInterface == "wg0")
        #expect(Action.setMSS(1360).followedInterface == nil)
        // dry-run's --assume-pmtu stands in for the interface too.
        var builder = PacketBuilder()
        builder.options = [2, 4] + be16(1460)
        #expect(
            run(builder.build(), policy: Policy(rules: [rule]), pathMTU: AssumedPathMTU(1400)).0.outcome == .clamped(from: 1460, to: 1360))
    }
}

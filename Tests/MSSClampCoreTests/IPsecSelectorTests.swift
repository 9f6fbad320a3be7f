import MSSClampCore
import Testing

/// `ipsec:` rules: matched from what the queue said, first match wins, and the queue classes
/// never lose what a rule asks.
@Suite struct IPsecSelectorTests {
    func packet() -> [UInt8] {
        var builder = PacketBuilder()
        builder.options = [2, 4] + be16(1460)
        return builder.build()
    }

    func outcome(_ policy: Policy, _ state: IPsecState) -> Outcome {
        run(packet(), policy: policy, metadata: PacketMetadata(ipsec: state)).0.outcome
    }

    @Test func eachSelectorAgainstEachState() {
        let fromIPsec = IPsecState(inbound: true, outbound: false)
        let toIPsec = IPsecState(inbound: false, outbound: true)
        let plain = IPsecState(inbound: false, outbound: false)
        let inbound = Policy(rules: [Rule(ipsec: .inbound)])
        let outbound = Policy(rules: [Rule(ipsec: .outbound)])
        let neither = Policy(rules: [Rule(ipsec: .plain)])
        #expect(outcome(inbound, fromIPsec) == .clamped(from: 1460, to: 1360))
        #expect(outcome(inbound, plain) == .unchanged(.noRuleMatched))
        #expect(outcome(outbound, toIPsec) == .clamped(from: 1460, to: 1360))
        #expect(outcome(outbound, fromIPsec) == .unchanged(.noRuleMatched))
        #expect(outcome(neither, plain) == .clamped(from: 1460, to: 1360))
        #expect(outcome(neither, fromIPsec) == .unchanged(.noRuleMatched))
        #expect(outcome(neither, toIPsec) == .unchanged(.noRuleMatched))
        // Known IPsec on one side is enough to say "not none", even with the other unknown.
        #expect(outcome(neither, IPsecState(inbound: true)) == .unchanged(.noRuleMatched))
    }

    @Test func unknownIsSaidNotGuessed() {
        let inbound = Policy(rules: [Rule(ipsec: .inbound)])
        #expect(outcome(inbound, IPsecState()) == .unchanged(.ipsecUnknown))
        #expect(outcome(Policy(rules: [Rule(ipsec: .plain)]), IPsecState(inbound: false)) == .unchanged(.ipsecUnknown))
        // A later rule without a selector still decides: first match, as in the kernel.
        let then = Policy(rules: [Rule(ipsec: .inbound, action: .setMSS(1300)), Rule(action: .setMSS(1340))])
        #expect(outcome(then, IPsecState(inbound: true)) == .clamped(from: 1460, to: 1300))
        #expect(outcome(then, IPsecState(inbound: false)) == .clamped(from: 1460, to: 1340))
        #expect(Reason.ipsecUnknown.label == "ipsec-unknown")
    }

    @Test func summaryAndDigestSayIt() {
        let rule = Rule(ipsec: .inbound)
        #expect(rule.summary.contains("-m policy --dir in --pol ipsec"))
        #expect(Rule(ipsec: .plain).summary.contains("-m policy --dir in --pol none -m policy --dir out --pol none"))
        #expect(Policy(rules: [rule]).digest != Policy(rules: [Rule()]).digest)
        #expect(Policy.seed.digest == Policy(rules: [Rule(ipsec: nil)]).digest, "policies without ipsec: keep their digest")
    }

    /// Every combination of selectors a policy can hold, every real state a packet can be in:
    /// the class the kernel lines put the packet in decodes to a state on which every rule's
    /// selector answers as on the real one. This is what keeps userspace first-match the
    /// kernel's.
    @Test func classesKeepEveryAnswer() {
        let selectors: [IPsecSelector?] = [nil] + IPsecSelector.allCases
        for a in selectors {
            for b in selectors {
                let policy = Policy(rules: [Rule(ipsec: a), Rule(ipsec: b)])
                let classes = IPsecClasses(policy)
                #expect(classes.isEmpty == !policy.matchesIPsec)
                for inbound in [false, true] {
                    for outbound in [false, true] {
                        let real = IPsecState(inbound: inbound, outbound: outbound)
                        // The lines' -m policy words: the class whose bits the real packet has.
                        let number = (classes.inbound && inbound ? 1 : 0) | (classes.outbound && outbound ? 2 : 0)
                        #expect(classes.classes.contains(number))
                        let decoded = classes.state(ofClass: number)
                        for rule in policy.rules {
                            guard let selector = rule.ipsec else { continue }
                            #expect(selector.matches(decoded) == selector.matches(real), "\(selector) in class \(number)")
                            #expect(classes.admits(selector, ofClass: number) == selector.matches(real))
                        }
                    }
                }
            }
        }
        #expect(IPsecClasses(Policy(rules: [Rule(ipsec: .inbound)])).classes == [0, 1])
        #expect(IPsecClasses(Policy(rules: [Rule(ipsec: .outbound)])).classes == [0, 2])
        #expect(IPsecClasses(Policy(rules: [Rule(ipsec: .plain)])).classes == [0, 1, 2, 3])
    }

    @Test func assumedStates() {
        #expect(IPsecState(assuming: .inbound) == IPsecState(inbound: true, outbound: false))
        #expect(IPsecState(assuming: .outbound) == IPsecState(inbound: false, outbound: true))
        #expect(IPsecState(assuming: .plain) == IPsecState(inbound: false, outbound: false))
    }
}

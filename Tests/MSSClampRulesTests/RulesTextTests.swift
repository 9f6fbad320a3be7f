import MSSClampConfig
import MSSClampCore
import MSSClampRules
import Testing

/// The words `rules print` puts around the rules: they must name what a kernel rule cannot do.
@Suite struct RulesTextTests {
    static let policy = """
        rules:
          - out-interface: eth0
            mss: 1361:1536
            set-mss: 1360
          - in-interface: wg0
            set-mss: 1380
          - clamp-to-interface: wg0
        """

    @Test func notesNameEachRuleWithoutASafetyNetAndWhy() throws {
        let policy = try PolicyFile.parse(Self.policy, source: "t")
        #expect(RulesText.notes(policy, options: SteeringOptions()).isEmpty, "no safety net asked for: nothing to say")
        let notes = RulesText.notes(policy, options: SteeringOptions(safetyNet: true))
        #expect(notes.contains("# note: rule 2 matches an input interface; POSTROUTING cannot, so it has no ipv4 safety net"))
        #expect(notes.contains("# note: rule 3 follows wg0's live MTU, which no kernel rule can, so it has no ipv6 safety net"))
        #expect(!notes.contains { $0.contains("rule 1 ") }, "rule 1 has its safety net")
        #expect(notes.last?.contains("the lowest target wins") == true)
    }

    @Test func kernelEquivalentInBothSyntaxes() throws {
        let policy = try PolicyFile.parse(Self.policy, source: "t")
        let text = RulesText.kernelEquivalent(policy, hook: .forward)
        #expect(text.hasPrefix("# Kernel-only equivalent (no daemon), iptables / ip6tables:"))
        #expect(text.contains("# note: clamp-to-interface wg0 has no kernel form"))
        #expect(text.contains("-j TCPMSS --set-mss 1360") && text.contains("# nftables (nft -f FILE):"))
        #expect(RulesText.queues(SteeringOptions(queues: 2...5)) == "queues 2-5" && RulesText.queues(SteeringOptions()) == "queue 0")
    }
}

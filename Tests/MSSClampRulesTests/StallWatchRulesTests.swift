import MSSClampCore
import MSSClampRules
import Testing

/// `--learn-stalls` in the rules: rendered for both backends, and seen again (or missed) by
/// the one observation `status`, `rules check` and the daemon's repair judge with.
@Suite struct StallWatchRulesTests {
    static let options: SteeringOptions = {
        var options = SteeringOptions(hooks: [.forward], learnPathMTU: true)
        options.learnStalls = true
        return options
    }()

    @Test func itBringsPathMTULearningAndNeedsTheForwardHook() throws {
        let parsed = try SteeringOptions(queue: 0, queues: nil, hooks: "forward", safetyNet: false, learnPathMTU: false, learnStalls: true)
        #expect(parsed == Self.options)
        #expect(throws: SteeringUsageError("--learn-stalls watches forwarded flows: --hooks must include forward")) {
            try SteeringOptions(queue: 0, queues: nil, hooks: "output", safetyNet: false, learnPathMTU: false, learnStalls: true)
        }
    }

    @Test func iptablesJumpAndRuleSeenInBothFamilies() {
        let policy = Policy.default
        for family in IPFamily.allCases {
            let script = IPTablesRenderer.restoreScript(
                policy, family: family, options: Self.options, missingJumps: IPTablesRenderer.jumps(Self.options, family: family))
            #expect(script.contains(":MSSCLAMP_STALL - [0:0]"))
            #expect(script.contains("-j NFLOG --nflog-group 1360 --nflog-size 128 --nflog-threshold 8"))
            #expect(
                script.contains(
                    "-A FORWARD -p tcp -m conntrack --ctstate ESTABLISHED -m connbytes --connbytes 0:8 --connbytes-mode packets --connbytes-dir original -m connbytes --connbytes 0:64"
                ))
            // The server's large segments, and the client's packets once data was sent.
            #expect(script.contains("-A MSSCLAMP_STALL -m conntrack --ctdir REPLY -m length --length 1281:65535 -m comment"))
            #expect(
                script.contains(
                    "-A MSSCLAMP_STALL -m conntrack --ctdir ORIGINAL -m connbytes --connbytes 2:64 --connbytes-mode packets --connbytes-dir reply"))
            let seen = RulesObservation.parse(iptablesSave: script, options: Self.options)
            #expect(seen.watchesStalls == true, "\(family)")
            // The jump alone (its chain emptied) is not a watch.
            let jumpOnly = script.split(separator: "\n").filter { !$0.hasPrefix("-A MSSCLAMP_STALL") }.joined(separator: "\n")
            #expect(RulesObservation.parse(iptablesSave: jumpOnly, options: Self.options).watchesStalls == nil)
        }
    }

    @Test func nftablesChainSeenAndAMissingWatchIsAProblem() {
        let policy = Policy.default
        let script = NFTablesRenderer.script(policy, options: Self.options)
        #expect(script.contains("chain stall_watch {"))
        #expect(script.contains("ct direction reply ct original packets 0-8 ct reply packets 0-64 log group 1360 snaplen 128 queue-threshold 8"))
        #expect(script.contains("ct direction original ct original packets 0-8 ct reply packets 2-64 log group 1360 snaplen 128 queue-threshold 8"))
        var expected = RulesObservation(backend: .nftables)
        expected.read(nftTable: script)
        #expect(expected.ipv4.watchesStalls == true && expected.ipv6.watchesStalls == true)
        var without = RulesObservation(backend: .nftables)
        var plain = Self.options
        plain.learnStalls = false
        without.read(nftTable: NFTablesRenderer.script(policy, options: plain))
        #expect(without.problems(expected: expected).contains { $0.contains("the stall watch") })
        #expect(expected.problems(expected: expected).isEmpty)
    }
}

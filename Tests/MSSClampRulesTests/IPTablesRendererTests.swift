import MSSClampConfig
import MSSClampCore
import MSSClampRules
import Testing

@Suite struct IPTablesRendererTests {
    func rendered(_ policy: Policy, _ family: IPFamily, queues: ClosedRange<UInt16> = 0...0) -> String {
        IPTablesRenderer.restoreScript(
            policy, family: family, options: SteeringOptions(queues: queues),
            missingJumps: IPTablesRenderer.jumps(SteeringOptions(queues: queues), family: family))
    }

    @Test func seedScenario() throws {
        let policy = try PolicyFile.parse(
            """
            rules:
              - source: 198.51.100.0/24
                out-interface: eth0
                mss: 1361:1536
                set-mss: 1360
            """, source: "t")
        let digest = policy.digest
        #expect(
            rendered(policy, .ipv4) == """
                *mangle
                :MSSCLAMP - [0:0]
                :MSSCLAMP_BYPASS - [0:0]
                -A MSSCLAMP -p tcp -o eth0 -s 198.51.100.0/24 --tcp-flags SYN,RST SYN -m tcpmss --mss 1361:1536 -m comment --comment "mssclamp rule 1 policy:\(digest)" -j NFQUEUE --queue-num 0 --queue-bypass
                -A MSSCLAMP_BYPASS -p tcp -o eth0 -s 198.51.100.0/24 --tcp-flags SYN,RST SYN -m tcpmss --mss 1361:1536 -m comment --comment "mssclamp bypass rule 1 policy:\(digest)"
                -A FORWARD -p tcp --tcp-flags SYN,RST SYN -m comment --comment mssclamp -j MSSCLAMP
                -A POSTROUTING -p tcp --tcp-flags SYN,RST SYN -m comment --comment "mssclamp bypass" -j MSSCLAMP_BYPASS
                COMMIT

                """)
        // Another value is another digest, though the queue rule's range is the same.
        var other = policy
        other.rules[0].action = .setMSS(1300)
        #expect(other.digest != digest && digest.count == 8)
        // The IPv4-only prefix keeps the rule out of ip6tables entirely.
        #expect(IPTablesRenderer.chainRules(policy, family: .ipv6, options: SteeringOptions()).isEmpty)
    }

    @Test func candidatesOnlyAndPerFamilyTargets() {
        let policy = Policy(rules: [
            Rule(name: "wan", direction: .syn, mssRange: nil, action: .setMSS(ipv4: 1360, ipv6: 1340)),
            Rule(direction: .synAck, mssRange: 1000...1536, action: .clampToMTU(1400)),
            Rule(mssRange: nil, action: .setMSS(1200), insertMissing: true),
            Rule(mssRange: nil, action: .clampToPathMTU),
        ])
        let rules = { (family: IPFamily) in
            IPTablesRenderer.chainRules(policy, family: family, options: SteeringOptions(queues: 2...5)).map { $0.joined(separator: " ") }
        }
        #expect(
            rules(.ipv4)
                == [
                    "-p tcp --syn -m tcpmss --mss 1361:65535 -m comment --comment mssclamp rule 1 policy:D wan -j NFQUEUE --queue-balance 2:5 --queue-bypass",
                    "-p tcp --tcp-flags SYN,RST,ACK SYN,ACK -m tcpmss --mss 1361:1536 -m comment --comment mssclamp rule 2 policy:D -j NFQUEUE --queue-balance 2:5 --queue-bypass",
                    "-p tcp --tcp-flags SYN,RST SYN -m comment --comment mssclamp rule 3 policy:D -j NFQUEUE --queue-balance 2:5 --queue-bypass",
                    "-p tcp --tcp-flags SYN,RST SYN -m comment --comment mssclamp rule 4 policy:D -j NFQUEUE --queue-balance 2:5 --queue-bypass",
                ].map { $0.replacingOccurrences(of: "policy:D", with: "policy:\(policy.digest)") })
        // Only rules with a fixed target can be counted when they bypass the queue.
        #expect(IPTablesRenderer.bypassRules(policy, family: .ipv4).rules.count == 2)
        #expect(IPTablesRenderer.bypassRules(policy, family: .ipv4).skipped == [2, 3])
        #expect(rules(.ipv6)[0].contains("--mss 1341:65535"))
        #expect(rules(.ipv6)[1].contains("--mss 1341:1536"))
    }

    @Test func removalLeavesOutWhatIsGone() {
        let jump = IPTablesRenderer.jumps(SteeringOptions(), family: .ipv4)
        #expect(IPTablesRenderer.removalScript(presentJumps: [], presentChains: []) == nil)
        #expect(
            IPTablesRenderer.removalScript(presentJumps: [], presentChains: ["MSSCLAMP"])
                == "*mangle\n-F MSSCLAMP\n-X MSSCLAMP\nCOMMIT\n")
        #expect(
            IPTablesRenderer.removalScript(presentJumps: jump, presentChains: ["MSSCLAMP"])
                == "*mangle\n-D FORWARD -p tcp --tcp-flags SYN,RST SYN -m comment --comment mssclamp -j MSSCLAMP\n"
                + "-D POSTROUTING -p tcp --tcp-flags SYN,RST SYN -m comment --comment \"mssclamp bypass\" -j MSSCLAMP_BYPASS\n-F MSSCLAMP\n-X MSSCLAMP\nCOMMIT\n"
        )
    }

    /// `--learn-pmtu`: the signals first, the policy's lines without ranges, then every
    /// other SYN; jumps for the signals from FORWARD and OUTPUT; observation tells them
    /// from hooks.
    @Test(arguments: IPFamily.allCases)
    func learningQueuesSignalsAndEverySYN(_ family: IPFamily) {
        let options = SteeringOptions(learnPathMTU: true)
        let policy = Policy(rules: [Rule(mssRange: 1361...1536, action: .setMSS(1360))])
        let lines = IPTablesRenderer.chainRules(policy, family: family, options: options).map { $0.joined(separator: " ") }
        let signal = family == .ipv4 ? "-p icmp -m icmp --icmp-type fragmentation-needed" : "-p ipv6-icmp -m icmp6 --icmpv6-type packet-too-big"
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix(signal + " -m comment --comment mssclamp learn-pmtu policy:"))
        #expect(lines[1].hasPrefix("-p tcp --tcp-flags SYN,RST SYN -m tcpmss --mss 1361:1536 -m comment --comment mssclamp rule 1"))
        #expect(lines[2].hasPrefix("-p tcp --tcp-flags SYN,RST SYN -m comment --comment mssclamp learn-pmtu"))
        #expect(lines.allSatisfy { $0.hasSuffix("-j NFQUEUE --queue-num 0 --queue-bypass") })
        let jumps = IPTablesRenderer.jumps(options, family: family).map { "\($0.chain) \($0.rule.joined(separator: " "))" }
        #expect(jumps.contains("FORWARD \(signal) -m comment --comment mssclamp learn-pmtu -j MSSCLAMP"))
        #expect(jumps.contains("OUTPUT \(signal) -m comment --comment mssclamp learn-pmtu -j MSSCLAMP"))
        // Without learning only candidates are queued, and removal still finds the signal jumps.
        #expect(IPTablesRenderer.chainRules(policy, family: family, options: SteeringOptions()).count == 1)
        #expect(IPTablesRenderer.allJumps(SteeringOptions(), family: family).filter { $0.rule.contains(SteeringOptions.learnComment) }.count == 2)

        let save = """
            -A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -m comment --comment mssclamp -j MSSCLAMP
            -A FORWARD \(signal) -m comment --comment "mssclamp learn-pmtu" -j MSSCLAMP
            -A OUTPUT \(signal) -m comment --comment "mssclamp learn-pmtu" -j MSSCLAMP
            -A MSSCLAMP \(signal) -m comment --comment "mssclamp learn-pmtu policy:0123abcd" -j NFQUEUE --queue-num 0 --queue-bypass
            """
        let seen = RulesObservation.parse(iptablesSave: save, options: options)
        #expect(seen.hooks == ["FORWARD"] && seen.steersSignals && seen.queueRules == 1)
    }

    @Test func learningInNFTables() {
        let options = SteeringOptions(learnPathMTU: true)
        let policy = Policy(rules: [Rule(mssRange: 1361...1536, action: .setMSS(1360))])
        let script = NFTablesRenderer.script(policy, options: options)
        #expect(script.contains("chain output {"))
        #expect(
            script.contains(
                "meta nfproto ipv4 icmp type destination-unreachable icmp code frag-needed queue flags bypass to 0 comment \"mssclamp learn-pmtu"))
        #expect(script.contains("meta nfproto ipv6 icmpv6 type packet-too-big queue flags bypass to 0"))
        #expect(script.contains("meta l4proto tcp tcp flags & (syn | rst) == syn queue flags bypass to 0 comment \"mssclamp learn-pmtu"))
        var observed = RulesObservation(backend: .nftables)
        observed.read(nftTable: script)
        #expect(observed.ipv4.hooks == ["FORWARD"] && observed.ipv4.steersSignals && observed.ipv6.steersSignals)
    }

    /// `ipsec:` rules: one line per IPsec class the rule admits, each to its block of queues;
    /// the bypass counters and the safety net keep only what POSTROUTING can ask.
    @Test func ipsecClassesEachQueueToTheirBlock() {
        var options = SteeringOptions(queues: 4...5, safetyNet: true)
        options.ipsecQueues = true
        let policy = Policy(rules: [
            Rule(ipsec: .inbound, mssRange: nil, action: .setMSS(1300)), Rule(ipsec: .outbound, mssRange: nil, action: .setMSS(1340)),
            Rule(mssRange: nil, action: .setMSS(1400)),
        ])
        let lines = IPTablesRenderer.chainRules(policy, family: .ipv4, options: options).map { $0.joined(separator: " ") }
        let policyWords = { (inbound: String, outbound: String) in "-m policy --dir in --pol \(inbound) -m policy --dir out --pol \(outbound)" }
        #expect(lines.count == 2 + 2 + 4)
        #expect(lines[0].contains(policyWords("ipsec", "none")) && lines[0].hasSuffix("--queue-balance 6:7 --queue-bypass"))
        #expect(lines[1].contains(policyWords("ipsec", "ipsec")) && lines[1].hasSuffix("--queue-balance 10:11 --queue-bypass"))
        #expect(lines[2].contains(policyWords("none", "ipsec")) && lines[2].hasSuffix("--queue-balance 8:9 --queue-bypass"))
        #expect(lines[3].contains(policyWords("ipsec", "ipsec")) && lines[3].hasSuffix("--queue-balance 10:11 --queue-bypass"))
        #expect(lines[4].contains(policyWords("none", "none")) && lines[4].hasSuffix("--queue-balance 4:5 --queue-bypass"))
        #expect(lines[4...].allSatisfy { $0.contains("mssclamp rule 3") })
        let net = IPTablesRenderer.safetyNetRules(policy, family: .ipv4)
        #expect(net.skipped == [0], "--dir in cannot be asked in POSTROUTING")
        #expect(net.rules.first?.joined(separator: " ").contains("-m policy --dir out --pol ipsec") == true)
        #expect(options.queues(block: 3) == 10...11)
        // Without ipsec: rules the chain is as before, even with the class queues bound.
        let plain = IPTablesRenderer.chainRules(.default, family: .ipv4, options: options)
        #expect(plain.count == 1 && !plain[0].contains("policy") && plain[0].suffix(3) == ["--queue-balance", "4:5", "--queue-bypass"])

        let script = NFTablesRenderer.script(policy, options: options)
        #expect(
            script.contains(
                "meta ipsec exists rt ipsec missing tcp option maxseg size 1301-65535 queue flags bypass to 6-7 comment \"mssclamp rule 1"))
        #expect(
            script.contains(
                "meta ipsec missing rt ipsec exists tcp option maxseg size 1341-65535 queue flags bypass to 8-9 comment \"mssclamp rule 2"))
        #expect(
            script.contains(
                "meta ipsec missing rt ipsec missing tcp option maxseg size 1401-65535 queue flags bypass to 4-5 comment \"mssclamp rule 3"))
        #expect(script.contains("rt ipsec exists tcp option maxseg size 1341-65535 counter tcp option maxseg size set 1340"))
        #expect(
            NFTablesRenderer.kernelEquivalent(Policy(rules: [Rule(ipsec: .plain)])).contains("meta ipsec missing rt ipsec missing tcp option maxseg"))
    }

    @Test func ipsecPoliciesTheSteeringCannotCarry() throws {
        let inbound = Policy(rules: [Rule(ipsec: .inbound)])
        var options = SteeringOptions(hooks: [.forward, .postrouting])
        options.ipsecQueues = true
        let local = #expect(throws: FirewallError.self) { try Backend.iptablesNFT.firewall(options).validate(inbound) }
        #expect(local?.description.contains("only the forward hook can tell") == true)
        try Backend.nftables.firewall(options).validate(Policy(rules: [Rule(ipsec: .outbound)]))
        let unbound = #expect(throws: FirewallError.self) { try Backend.nftables.firewall(SteeringOptions()).validate(inbound) }
        #expect(unbound?.description.contains("restart mssclamp to add the first ipsec: rule") == true)
        options = SteeringOptions(queues: 65530...65533)
        options.ipsecQueues = true
        let high = #expect(throws: FirewallError.self) { try Backend.nftables.firewall(options).validate(inbound) }
        #expect(high?.description.contains("choose a lower --queue") == true)
    }

    /// An interface's live MTU has no kernel form: every SYN the rule matches is queued, and
    /// neither the safety net nor the bypass counters pretend to know the target.
    @Test func clampToInterfaceQueuesAndLeavesTheKernelOut() {
        let policy = Policy(rules: [Rule(outInterface: InterfacePattern("wg0"), mssRange: nil, action: .clampToInterface("wg0"))])
        let options = SteeringOptions(safetyNet: true)
        let lines = IPTablesRenderer.chainRules(policy, family: .ipv4, options: options)
        #expect(lines.count == 1 && !lines[0].contains("tcpmss"))
        #expect(IPTablesRenderer.safetyNetRules(policy, family: .ipv4) == ([], [0]))
        #expect(IPTablesRenderer.bypassRules(policy, family: .ipv4).rules.isEmpty)
        #expect(!NFTablesRenderer.script(policy, options: options).contains("safety-net rule 1"))
    }
}

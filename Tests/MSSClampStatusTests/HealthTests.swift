import MSSClampCore
import MSSClampRules
import MSSClampStatus
import Testing

/// The verdicts of `mssclamp status`, one situation each: every way mssclamp can look
/// ready while clamping nothing must turn into a reason.
@Suite struct HealthTests {
    static let now = 1_000_000.0

    static func worker(_ edit: (inout WorkerStatus) -> Void = { _ in }) -> WorkerStatus {
        var counters = Snapshot()
        counters[Snapshot.outcomes[0]] = 10
        var status = WorkerStatus(
            pid: 4242, netns: "net:[1]", started: now - 600, updated: now - 0.5, state: .running, queues: [0], threads: 1,
            backend: .iptablesNFT, managesRules: true, hooks: [.forward], safetyNet: false, countsBypass: true,
            policyDigest: "0badcafe", policy: ["-o eth0 --tcp-flags SYN,RST SYN -m tcpmss --mss 1361:1536 -> set-mss 1360"],
            expected: rules(), interfaces: ["eth0"], warnings: [], counters: counters, recent: counters,
            recentSeconds: 300, lastSynTime: now - 3, rules: nil, rulesChecked: nil, rulesError: nil)
        edit(&status)
        return status
    }

    static func rules(_ edit: (inout RulesObservation) -> Void = { _ in }) -> RulesObservation {
        var rules = RulesObservation(backend: .iptablesNFT)
        for family in [IPFamily.ipv4, .ipv6] {
            rules[family].hooks = ["FORWARD"]
            rules[family].queueRules = 1
            rules[family].digests = ["0badcafe"]
            rules[family].bypassCounting = true
            rules[family].bypassRules = 1
        }
        edit(&rules)
        return rules
    }

    static func health(
        workers: [WorkerStatus] = [worker()], kernel: [KernelQueueStats]? = [bound()],
        rules: RulesObservation? = rules(), alive: Bool = true
    ) -> Health {
        Health(
            Health.Inputs(
                workers: workers, kernelQueues: kernel, rules: rules, rulesError: rules == nil ? "permission denied" : nil,
                now: now, isAlive: { _ in alive }, stateDirectory: "/run/mssclamp"))
    }

    static func bound(_ queue: UInt16 = 0) -> KernelQueueStats {
        var stats = KernelQueueStats(queue: queue, waiting: 0, queueDropped: 0, userDropped: 0)
        stats.portID = 4242
        return stats
    }

    @Test func healthyWhenWorkerRulesAndKernelAgree() {
        let health = Self.health()
        #expect(health.isHealthy, "\(health.reasons)")
        let text = StatusText.lines(health).joined(separator: "\n")
        #expect(text.hasPrefix("mssclamp: OK"))
        #expect(text.contains("queue 0: bound (port 4242)"))
        #expect(text.contains("= the running policy"))
    }

    @Test func noWorkerAtAll() {
        let health = Self.health(workers: [], rules: Self.rules())
        #expect(!health.isHealthy)
        #expect(health.reasons.count == 2)
        #expect(health.reasons[0].contains("no mssclamp worker"))
        #expect(health.reasons[1].contains("SYNs pass unclamped (--queue-bypass)"))
        #expect(StatusText.lines(health).first == "mssclamp: DEGRADED")
    }

    /// One word per state, each with its own exit status: nothing here, stopped cleanly,
    /// crashed, degraded, could not look.
    @Test func verdictsHaveTheirOwnWords() {
        let nothing = Self.health(workers: [], rules: RulesObservation(backend: .iptablesNFT))
        #expect(nothing.verdict == .notRunning && nothing.verdict.exitStatus == 3)
        #expect(StatusText.lines(nothing).first == "mssclamp: NOT RUNNING")
        #expect(nothing.reasons.first?.contains("nothing of mssclamp's here") == true)

        let blind = Self.health(workers: [], rules: nil)
        #expect(blind.verdict == .unknown && blind.verdict.exitStatus == 4, "no worker state and no reading: could not look")
        #expect(blind.reasons.first?.contains("could not look") == true)

        let stopped = Self.health(workers: [Self.worker { $0.state = .stopped }], rules: RulesObservation(backend: .iptablesNFT))
        #expect(stopped.verdict == .stopped && stopped.verdict.exitStatus == 3)
        #expect(StatusText.lines(stopped).contains { $0.contains("stopped cleanly") })
        #expect(!StatusText.lines(stopped).contains { $0.contains("gone") }, "'gone' is for a crash")

        // systemd removes the run directory at stop: only the safety net tells.
        let net = Self.health(
            workers: [],
            rules: Self.rules {
                $0.ipv4 = .init()
                $0.ipv6 = .init()
                $0.ipv4.safetyNetRules = 1
            })
        #expect(net.verdict == .stopped && net.reasons.first?.contains("safety net") == true)

        let crashed = Self.health(alive: false)
        #expect(crashed.verdict == .crashed && crashed.verdict.exitStatus == 1)
        #expect(StatusText.lines(crashed).contains { $0.contains("gone without stopping (crashed or killed)") })
    }

    /// After a kill -9 the worker counts nothing more; the bypass counter the firewall keeps
    /// is what passed since, and the SYN line says the same figure as the rules line.
    @Test func bypassFiguresAgreeAfterACrash() {
        let rules = Self.rules { $0.ipv4.bypassPackets = 3 }
        let text = StatusText.lines(Self.health(rules: rules, alive: false)).joined(separator: "\n")
        #expect(text.contains("3 while no worker was bound (the rules' bypass counter, read now)"))
        #expect(text.contains("bypass counted (3)"))
    }

    /// A crashed worker's rules removed since (`rules remove`): nothing passes the queue any
    /// more, so status no longer says SYNs pass via --queue-bypass.
    @Test func crashedAndRulesRemoved() {
        let health = Self.health(rules: RulesObservation(backend: .iptablesNFT), alive: false)
        #expect(health.verdict == .crashed)
        #expect(health.reasons.first?.contains("queueing rules have been removed since") == true)
        #expect(!health.reasons.joined().contains("--queue-bypass"))
    }

    @Test func workerGoneHungOrStopped() {
        #expect(Self.health(alive: false).reasons.first?.contains("is gone without stopping") == true)
        #expect(Self.health(workers: [Self.worker { $0.updated = Self.now - 60 }]).reasons.first?.contains("hung") == true)
        #expect(Self.health(workers: [Self.worker { $0.state = .stopped }]).reasons.first?.contains("has stopped") == true)
        #expect(Self.health(workers: [Self.worker { $0.threads = 0 }]).reasons.first?.contains("queue thread") == true)
    }

    @Test func queueNotBoundInTheKernel() {
        let health = Self.health(kernel: [])
        #expect(health.reasons == ["queue 0 is not bound in the kernel: SYNs sent to it pass unclamped (--queue-bypass)"])
        // Without root the kernel's view is unknown, not a problem.
        #expect(Self.health(kernel: nil).isHealthy)
    }

    @Test func rulesMissingOrForeign() {
        let noJump = Self.health(rules: Self.rules { $0.ipv6.hooks = [] })
        #expect(noJump.reasons == ["rules (ipv6): the jump from FORWARD to the queueing chain is missing, so no SYN reaches the worker"])
        let flushed = Self.health(rules: Self.rules { $0.ipv4.queueRules = 0 })
        #expect(flushed.reasons == ["rules (ipv4): 0 queueing rule(s) installed, the policy needs 1"])
        let other = Self.health(rules: Self.rules { $0.ipv4.digests = ["12345678"] })
        #expect(other.reasons.first?.contains("installed for another policy (policy:12345678)") == true)
        let net = Self.health(workers: [
            Self.worker {
                $0.safetyNet = true
                $0.expected.ipv4.safetyNetRules = 1
            }
        ])
        #expect(net.reasons.contains("rules (ipv4): the safety net is missing"))
        // Status cannot read the rules itself: the worker's reading is used, and said so.
        let borrowed = Self.health(workers: [Self.worker { $0.rules = Self.rules() }], rules: nil)
        #expect(borrowed.isHealthy && borrowed.rulesSource == "as the worker saw them")
        #expect(Self.health(rules: nil).reasons.first?.contains("could not be read (permission denied)") == true)
        // --no-install-rules: the operator's rules are not ours to judge.
        #expect(Self.health(workers: [Self.worker { $0.managesRules = false }], rules: RulesObservation(backend: .iptablesNFT)).isHealthy)
    }

    /// `status` judges the rules with the very diff the daemon repairs by and `rules check`
    /// prints: whatever it finds, Health says no more and no less.
    @Test func rulesAreJudgedByTheOneSharedDiff() {
        let edits: [(inout RulesObservation) -> Void] = [
            { _ in }, { $0.ipv6.hooks = [] }, { $0.ipv4.queueRules = 3 }, { $0.ipv4.digests = ["12345678"] },
            { $0.ipv6.bypassCounting = false }, { $0.ipv4 = RulesObservation.Family() },
        ]
        for edit in edits {
            let seen = Self.rules(edit)
            let health = Self.health(rules: seen)
            let rulesReasons = health.reasons.filter { $0.hasPrefix("rules") }
            #expect(rulesReasons == seen.problems(expected: Self.worker().expected))
        }
    }

    /// `--learn-pmtu`: the signal jumps are part of "working"; the entries are listed.
    @Test func learningNeedsItsSignalJumpsAndListsEntries() {
        let learning = WorkerStatus.Learning(
            lifetime: 600, entries: [.init(host: "192.0.2.1", mtu: 1400, mss: 1360, expires: Self.now + 90)])
        let learner = Self.worker {
            $0.learning = learning
            $0.expected.ipv4.steersSignals = true
            $0.expected.ipv6.steersSignals = true
            $0.counters.learning = Snapshot.Learning(entries: 1, flows: 12)
            $0.counters[Snapshot.pmtuLearned] = 1
            $0.counters.counts["pmtu-refused/below-floor"] = 3
            $0.counters.counts["pmtu-refused/unrelated-flow"] = 1
            $0.counters[Snapshot.pmtuClamped] = 7
        }
        let missing = Self.health(workers: [learner])
        #expect(
            missing.reasons.contains(
                "rules (ipv4): the jumps that bring ICMP frag-needed / packet-too-big to the worker are missing, so --learn-pmtu learns nothing"))
        let steered = Self.health(
            workers: [learner],
            rules: Self.rules {
                $0.ipv4.steersSignals = true
                $0.ipv6.steersSignals = true
            })
        #expect(steered.isHealthy, "\(steered.reasons)")
        let text = StatusText.lines(steered)
        #expect(
            text.contains(
                "learning   1 path MTU(s) learned and live (each for 600 s); ICMP seen 5: 1 believed, 4 refused (below-floor 3, unrelated-flow 1); 7 SYN(s) clamped by learning"
            ))
        #expect(text.contains("           192.0.2.1: path MTU 1400 -> MSS 1360, expires in 90 s"))
        #expect(text.contains { $0.contains("ipv4: FORWARD -> queue, 1/1 queueing rule(s), ICMP signals -> queue") })
    }

    @Test func policyWarningsAndRecentBypassAreReasons() {
        let warned = Self.health(workers: [Self.worker { $0.warnings = ["rule 1: interface wan (-o) does not exist now"] }])
        #expect(warned.reasons == ["rule 1: interface wan (-o) does not exist now"])
        let failOpen = Self.health(workers: [Self.worker { $0.recent[Snapshot.unclampedFailOpen] = 7 }])
        #expect(failOpen.reasons.first?.hasPrefix("7 SYN(s) passed unclamped in the last 5 min") == true)
        // Old fail-open events (outside the window) are history, shown but not a reason.
        let old = Self.health(workers: [Self.worker { $0.counters[Snapshot.unclampedFailOpen] = 7 }])
        #expect(old.isHealthy)
        #expect(StatusText.lines(old).contains { $0.contains("7 fail-open") })
    }

    @Test func jsonCarriesTheVerdict() {
        let json = StatusText.json(Self.health(alive: false))
        #expect(json.contains("\"healthy\":false"))
        #expect(json.contains("\"policy_digest\":\"0badcafe\""))
    }
}

/// `status` on native nftables: one `table inet mssclamp` serves both families, and a rule
/// with one value for both is one line without a family. Reading nft's own listing of such
/// a table (as nft 1.0.6 prints it, dependencies elided) against what the worker expects
/// for that backend must judge it healthy, and still see what is really missing.
@Suite struct NFTablesHealthTests {
    static let classic = Policy(rules: [Rule(outInterface: InterfacePattern("eth0"), mssRange: 1361...1536, action: .setMSS(1360))])

    static func listing(digest: String, forward: Bool = true) -> String {
        """
        table inet mssclamp {
        \tcomment "managed by mssclamp"
        \tchain forward {
        \t\ttype filter hook forward priority mangle; policy accept;
        \(forward ? "\t\ttcp flags syn / syn,rst oifname \"eth0\" tcp option maxseg size 1361-1536 queue flags bypass to 0 comment \"mssclamp rule 1 policy:\(digest)\"" : "")
        \t}
        \tchain bypass {
        \t\ttype filter hook postrouting priority mangle - 1; policy accept;
        \t\ttcp flags syn / syn,rst oifname "eth0" tcp option maxseg size 1361-1536 counter packets 3 bytes 180 comment "mssclamp bypass rule 1 policy:\(digest)"
        \t}
        }
        """
    }

    static func health(_ listing: String) -> Health {
        let firewall = NFTablesFirewall(options: SteeringOptions())
        var rules = RulesObservation(backend: .nftables)
        rules.read(nftTable: listing)
        let worker = HealthTests.worker {
            $0.backend = .nftables
            $0.policyDigest = classic.digest
            $0.expected = firewall.expected(classic)
        }
        return HealthTests.health(workers: [worker], rules: rules)
    }

    @Test func oneLineForBothFamiliesIsHealthy() {
        let health = Self.health(Self.listing(digest: Self.classic.digest))
        #expect(health.isHealthy, "\(health.reasons)")
        #expect(health.rules?.ipv6.hooks == ["FORWARD"] && health.rules?.ipv6.queueRules == 1)
        // The bypass counter's packets are counted once, not once per family.
        #expect(health.rules?.bypassPackets == 3)
    }

    @Test func aMissingLineIsStillSeenInBothFamilies() {
        let health = Self.health(Self.listing(digest: Self.classic.digest, forward: false))
        #expect(!health.isHealthy)
        #expect(health.reasons.contains { $0.contains("rules (ipv4): the jump from FORWARD") })
        #expect(health.reasons.contains { $0.contains("rules (ipv6): the jump from FORWARD") })
    }

    @Test func perFamilyValuesAreQualifiedLines() {
        let split = Policy(rules: [Rule(outInterface: InterfacePattern("eth0"), mssRange: 1341...1536, action: .setMSS(ipv4: 1360, ipv6: 1340))])
        let expected = NFTablesFirewall(options: SteeringOptions()).expected(split)
        #expect(expected.ipv4.queueRules == 1 && expected.ipv6.queueRules == 1)
        var seen = RulesObservation(backend: .nftables)
        seen.read(
            nftTable:
                "chain forward {\n meta nfproto ipv6 tcp flags syn / syn,rst oifname \"eth0\" queue to 0 comment \"mssclamp rule 1 policy:0badcafe\"\n}"
        )
        #expect(seen.ipv6.queueRules == 1 && seen.ipv4.queueRules == 0)
        // nft drops `meta nfproto` where an address match implies it.
        #expect(NFTListing.families(of: "ip saddr { 198.51.100.0/24 } queue to 0") == [.ipv4])
        #expect(NFTListing.families(of: "ip6 saddr { 2001:db8::/32 } queue to 0") == [.ipv6])
        #expect(NFTListing.families(of: "icmpv6 type packet-too-big queue to 0") == [.ipv6])
    }
}

import TestSupport
import Testing

/// The installer against real iptables / nft in namespaces the scripts create.
@Suite(.root, .serialized) struct RulesIntegrationTests {
    @Test func installTwiceCheckRemoveRestoresExactly() async {
        let run = await TestSupport.scenario("rules.sh", timeout: 240)
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("RESULT ") }
        for backend in ["iptables-nft", "iptables-legacy"] {
            let unlearn = TestSupport.results(lines.first { $0.contains("backend=\(backend) case=unlearn ") } ?? "")
            #expect(
                unlearn["learn_jumps"] == "3" && unlearn["left"] == "0",
                "--learn-pmtu adds two signal jumps, and an install without it removes them: \(backend)")
            for label in ["pristine", "operator-rules", "learn-pmtu"] {
                let results = TestSupport.results(lines.first { $0.contains("backend=\(backend) case=\(label) ") } ?? "")
                #expect(results["install"] == "0" && results["again"] == "0", "\(backend) \(label)")
                #expect(results["idempotent"] == "1", "install twice changes nothing: \(backend) \(label)")
                #expect(results["listed"] == (label == "learn-pmtu" ? "3" : "1"), "signals, the rule, every other SYN")
                #expect(results["check_ok"] == "0" && results["check_bad"] == "1" && results["check_says_missing"] == "1")
                #expect(results["reinstall"] == "0" && results["check_again"] == "0", "install reconciles")
                #expect(results["safety_net_rules"] == "1" && results["safety_net_removed"] == "1")
                #expect(results["remove"] == "0")
                #expect(results["restored_modulo_empty_tables"] == "1", "\(backend) \(label)")
                // Exact, except legacy in a fresh namespace: the kernel creates a legacy table
                // on first access and nothing can delete it (it stays empty, all ACCEPT).
                if !(backend == "iptables-legacy" && label != "operator-rules") {
                    #expect(results["restored"] == "1", "save before install == save after remove: \(backend) \(label)")
                }
            }
            let foreign = TestSupport.results(lines.first { $0.contains("backend=\(backend) case=foreign-chain") } ?? "")
            #expect(foreign["status"] == "1" && foreign["says_not_ours"] == "1" && foreign["unchanged"] == "1")
        }
        let empty = TestSupport.results(lines.first { $0.contains("case=empty-table") } ?? "")
        #expect(empty["status"] == "0" && empty["removed"] == "1" && empty["said"] == "1", "an empty table of ours is removed too")
        let nft = TestSupport.results(lines.first { $0.contains("case=round-trip") && $0.contains("backend=nftables") } ?? "")
        if nft["nft_queue"] == "supported" {
            #expect(nft["check"] == "0" && nft["restored"] == "1")
        } else {
            // This kernel has no nft_queue: refused with the reason, nothing changed.
            #expect(nft["status"] == "1" && nft["says_why"] == "1" && nft["unchanged"] == "1")
        }
    }

    @Test func kernelEquivalentAndSafetyNetOnTheWire() async {
        let run = await TestSupport.scenario("kernel-equivalent.sh", timeout: 180)
        #expect(run.status == 0, "\(run.stderr)")
        let results = TestSupport.results(run.stdout)
        let expected =
            "41000:1360,41001:1360,41002:1360,41003:1350,41004:1300,41005:9000,41006:none,"
            + "42000:1340,42001:1340,42002:1340,42003:1340,42004:1300,42005:9000,42006:none"
        #expect(results["iptables_lines"] == "2")
        #expect(results["worker"] == expected)
        #expect(results["iptables"] == expected, "printed TCPMSS lines = worker")
        #expect(results["nft"] == expected, "printed nftables table = worker")
        // Worker down: the safety net clamps (the three IPv4 candidates hit its rule).
        #expect(results["net_down"] == expected)
        #expect(results["net_down_hits"] == "3")
        // Worker up: the worker clamps and the safety net never fires.
        #expect(results["net_up"] == expected)
        #expect(results["net_up_hits"] == "0")
        #expect(results["worker_clamped"] == "6")
        // SIGTERM left the net (its rule and jump) to clamp while no worker runs.
        #expect(results["net_left"] == "2")
        #expect(results["rules_left"] == "0")
    }
}

import TestSupport
import Testing

/// `mssclamp run` on a real router namespace: real packets through a real netfilter queue,
/// real iptables rules, results read on the far side with tcpdump and tshark. Each scenario
/// script builds its own client — router — server lab and removes it.
@Suite(.root, .serialized) struct WorkerIntegrationTests {
    @Test func clampsRealConnectionsAndGatesByRange() async {
        let run = await TestSupport.scenario("worker-clamps.sh", timeout: 240)
        #expect(run.status == 0, "\(run.stderr)")
        let results = TestSupport.results(run.stdout)
        // The default policy: real IPv4 (1460) and IPv6 (1440) connections arrive as 1360 and
        // 1340, what a tunnel of MTU 1400 carries in each family.
        #expect(results["real_mss"] == "1340,1360")
        // Crafted SYNs, by source port: 1300 9000 1460 1361 1536 1537, then IPv6 1300 9000
        // 1460 and one without MSS.
        #expect(results["crafted4"] == "41000:1300,41001:9000,41002:1360,41003:1360,41004:1360,41005:1537")
        #expect(results["crafted6"] == "42000:1300,42001:9000,42002:1340,42003:none")
        // Only candidates reached the worker (the range rule keeps the rest in the kernel),
        // and every one it saw was clamped; no overrun, no refused verdict.
        let counters = results["counters1"] ?? ""
        let packets = counters.split(separator: ",").first { $0.hasPrefix("packets=") }.map { $0.dropFirst(8) } ?? ""
        #expect(counters == "packets=\(packets),clamped=\(packets),overruns=0,verdict-errors=0")
        #expect((Int(packets) ?? 0) >= 6)
        #expect(results["synack_mss"] == "1360", "SYN-ACK clamped on its way back")
        #expect(results["stop"] == "0" && results["stop2"] == "0")
        #expect(results["rules_left"] == "0")
        // Two queues behind --queue-balance, scraped over Prometheus, sampled at debug level.
        #expect(results["balance"] == "--queue-balance_0:1")
        #expect(results["multi_count"] == "8" && results["multi_mss"] == "1360")
        #expect(results["metrics_clamped"] == "8")
        #expect(results["metrics_rule"] == "1")
        #expect(results["metrics_404"] == "404")
        #expect(results["kernel_queues"] == "2", "the kernel's own figures for both queues")
        #expect(results["debug_lines"] == "8")
        #expect(results["stop3"] == "0")
        // Interface names follow a rename: -o wan0 did not match eth0, then matches it as wan0.
        #expect(results["before_rename"] == "1460" && results["after_rename"] == "1360")
        #expect(results["stop4"] == "0")
        // ipsec: rules: a block of two queues per IPsec class, all eight bound by the worker;
        // rule 1 (in) queues to the classes "in, not out" (2:3) and "in and out" (6:7), rule 2
        // (none) to "neither" (0:1). Plain SYNs skip rule 1 and are clamped by rule 2.
        #expect(results["ipsec_bound"] == "0,1,2,3,4,5,6,7")
        #expect(results["ipsec_blocks"] == "1:ipsec/none@2:3,1:ipsec/ipsec@6:7,2:none/none@0:1")
        #expect(results["ipsec_mss"] == "1320,1340", "1320 left alone: rule 1 (1300) did not match")
        #expect(results["ipsec_syns"] == "4", "two real connections (IPv4, IPv6), two crafted SYNs")
        #expect(results["stop5"] == "0")
        #expect(results["ipsec_counters"]?.hasSuffix("overruns=0,verdict-errors=0") == true)
        // clamp-to-interface: 20 SYNs across five states of tun7, none with a stale MSS; the
        // value in force in the log, the metrics and status.
        #expect(results["follow_seen"] == "20", "\(run.stderr)")
        #expect(results["follow_stale"] == "0", "\(run.stderr)")
        #expect(results["follow_metric_mtu"] == "1420")
        #expect(results["follow_log_1400"] == "1")
        #expect((Int(results["follow_log_absent"] ?? "") ?? 0) >= 2, "absent at start, down later")
        #expect(results["follow_status"] == "1")
        #expect(results["stop6"] == "0")
    }

    @Test func byteForByteTheKernelExceptItsOddOffsetChecksum() async {
        let run = await TestSupport.scenario("differential.sh", timeout: 240)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").filter { $0.hasPrefix("RESULT policy=") }
        #expect(lines.count == 6, "range, set and pmtu policies, each for IPv4 and IPv6")
        for line in lines {
            let results = TestSupport.results(String(line))
            #expect(results["mismatch"] == "0", "\(line)")
            // The dropped case (data offset 4) is dropped by both.
            #expect(results["both_dropped"] == "1", "\(line)")
            // Only odd-offset MSS values differ, and only in the kernel's wrong checksum.
            for note in (results["notes"] ?? "").split(separator: ",") {
                #expect(note.hasSuffix(":kernel-checksum-wrong"), "\(note)")
            }
            let wrong = Int(results["kernel_checksum_wrong"] ?? "") ?? -1
            let identical = Int(results["identical"] ?? "") ?? -1
            #expect(wrong >= 4 && identical >= 16, "\(line)")
            #expect(wrong + identical + 1 == 22)
        }
    }

    /// Restart after a crash while 10k SYN/s flow, ten times: the restart itself loses no SYN
    /// and holds SYNs no longer than the host does anyway (queue bound and configured in one
    /// message, read before the rules are reinstalled: a worker that reinstalled first would
    /// hold every SYN of that step, some 500 a round, past it). SYNs queued at the instant of
    /// SIGKILL die with the socket (the kernel drops them); those are counted apart and
    /// reported, not hidden.
    ///
    /// The holds are judged per restart against the same run's steady ones (SYNs sent away
    /// from any restart), not by one fixed bound: alone this host holds 99% under 4 ms either
    /// way, but a fresh clone's `make test` (images built and a VM booted beside) saw p99 52 ms
    /// with no fault. A worker that stops reading for 150 ms after each start (SIGSTOP, tried
    /// by hand) shows 10 slow restarts of 10 (p99 136-147 ms against 1.3 ms steady).
    @Test func restartOverACrashLosesNothingAndHoldsLittle() async {
        // Alone: its holds are timed in milliseconds (a fresh clone saw p99 275 ms beside the
        // stall labs' downloads).
        let run = await TestSupport.scenario("restart.sh", ["10"], timeout: 240, exclusive: true)
        #expect(run.status == 0, "\(run.stderr)")
        let results = TestSupport.results(run.stdout)
        print("restart, 10 rounds at 10k SYN/s:", run.stdout.split(separator: "\n").filter { $0.hasPrefix("RESULT") }.joined(separator: " | "))
        let sent = Int(results["sent"] ?? "") ?? 0
        // 10k SYN/s for 33 s, as far as a loaded host's sender keeps pace.
        #expect(sent >= 150_000)
        Self.expectNothingLostOutsideTheKills(results, rounds: 10)
        // Every restart under the flow, each judged on its own against the run's steady
        // holds: a fault in the restart's order holds SYNs in every one; one or two slow
        // restarts are the host's (a fresh clone's make test: one restart at p99 105 ms, the
        // other nine 1.3-19.9 ms, against 3.3 ms steady).
        #expect(results["restart_rounds_covered"] == "10", "each restart happened while SYNs flowed")
        #expect(
            (Int(results["restart_rounds_slow"] ?? "") ?? 99) <= 2,
            "restarts that held SYNs (p99 per restart, ms): \(results["restart_p99s_ms"] ?? "?") against \(results["steady_p99_hold_ms"] ?? "?") away from one"
        )
        #expect((Int(results["unclamped"] ?? "") ?? 0) > 0, "without a safety net, SYNs pass unclamped while the worker is down")
        #expect(results["stop"] == "0" && results["rules_left"] == "0")
    }

    /// The same with --safety-net: the kernel clamps while the worker is down, so every SYN
    /// that arrives is clamped.
    @Test func safetyNetClampsEverySYNWhileTheWorkerIsDown() async {
        let run = await TestSupport.scenario("restart.sh", ["3", "--safety-net"], timeout: 180, exclusive: true)
        #expect(run.status == 0, "\(run.stderr)")
        let results = TestSupport.results(run.stdout)
        print("restart with --safety-net, 3 rounds:", run.stdout.split(separator: "\n").filter { $0.hasPrefix("RESULT") }.joined(separator: " | "))
        #expect(results["unclamped"] == "0")
        #expect((Int(results["clamped"] ?? "") ?? 0) > 30_000)
        Self.expectNothingLostOutsideTheKills(results, rounds: 3)
        #expect(results["stop"] == "0")
        // SIGTERM leaves the net (rule and jump, IPv4 counted) in place.
        #expect(results["rules_left"] == "2")
    }

    /// A restart loses no SYN outside the kill instants. Exact when neither capture missed a
    /// packet; a capture starved on a loaded host (a fresh clone's missed 10k beside the VM
    /// lab) makes the pairing inexact, and then the kernel's counts bound the loss: a restart
    /// that held SYNs past its step lost some 500 a round, a kill loses a few dozen.
    static func expectNothingLostOutsideTheKills(_ results: [String: String], rounds: Int) {
        let missed = Int(results["capture_dropped"] ?? "") ?? -1
        let lost = (Int(results["sent_counted"] ?? "") ?? 0) - (Int(results["arrived_counted"] ?? "") ?? Int.max / 2)
        #expect(missed >= 0 && lost >= 0, "the captures' and the kernel's counts are read")
        if missed == 0 {
            #expect(results["lost_otherwise"] == "0", "SYNs lost outside the kill instants")
        } else {
            print("restart: the captures missed \(missed) packets; the kernel counted \(lost) SYNs lost in all")
            #expect(lost <= 100 * rounds, "SYNs lost in all, by the kernel's counts: at most the kill instants' few")
        }
    }
}

import TestSupport
import Testing

/// `run --learn-stalls` in the four-namespace lab (Tests/Integration/stall.sh): client —
/// hop (1400 toward the client, no ICMP at all) — router — server, no MTU given anywhere.
@Suite(.root, .serialized) struct LearnStallsTests {
    @Test func learnsFromAStalledFlowWithNoICMPAndNothingFromLoss() async {
        let run = await TestSupport.scenario("stall.sh", timeout: 300)
        #expect(run.status == 0, "\(run.stderr)")
        let r = TestSupport.results(run.stdout)
        for family in ["v4", "v6"] {
            // The black hole is real: the first download gets nothing past the handshake.
            #expect(r["\(family)_first"] == "0", "\(family): the first download must stall")
            #expect(r["\(family)_judged"] == "1" && r["\(family)_size"] == "1500", "\(family): the stall judged, its size named")
            let seconds = Double(r["\(family)_detect_seconds"] ?? "") ?? 99
            #expect(seconds < 10, "\(family): judged \(seconds) s after the first large segment")
            #expect(r["\(family)_second"] == "1", "\(family): the next download completes")
        }
        #expect(r["v4_learned"] == "1360/1400" && r["v6_learned"] == "1340/1400")
        #expect(r["syn_mss_v4"] == "1460,1360,", "the SYN after learning carries the learned MSS")
        #expect(r["syn_mss_v6"] == "1440,1340,")
        #expect(r["stall_jump_v4"] == "1" && r["stall_jump_v6"] == "1")
        // Said where an operator looks.
        #expect(r["status_stalls"] == "1" && r["status_v4"] == "1" && r["status_v6"] == "1", "status lists what was learned")
        #expect(r["metric_destinations"] == "2" && r["metric_stalled_flows"] == "2")
        #expect(r["doctor_stall"] == "1" && r["doctor_fix"] == "1", "doctor names the stall and the static rule")
        // The same judgement over a capture of the stalled flow (taken on the router).
        #expect(r["dry_flows"] == "1" && r["dry_stall"] == "1" && r["dry_would_learn"] == "1", "dry-run finds the stall in the capture")
        #expect(r["watch_stall"] == "1", "watch --learn-stalls shows the stall live")
        // Kept across a restart.
        #expect(r["kept"] == "192.0.2.1/1400,2001:db8:1::1/1400,")
        #expect(r["kept_said"] == "1" && r["after_restart_v4"] == "1" && r["after_restart_v6"] == "1")
        // A narrower hole (1300): each stalled download steps down, then one completes.
        for family in ["v4", "v6"] {
            #expect(r["steps_\(family)"] == "0001", "three stalls, then complete (\(family))")
            #expect(r["steps_\(family)_mtus"] == "1400,1360,1280", "the ladder, one step per stall (\(family))")
        }
        // The raise timer (20 s in the lab): the step above tried again, stalled, back down
        // with the next raise twice as far off, then complete.
        for family in ["v4", "v6"] {
            #expect(r["raise_\(family)"] == "1", "1360 tried again after the timer (\(family))")
            #expect(r["raise_\(family)_downloads"] == "01", "the raised step stalls, the next download completes (\(family))")
            #expect(r["raise_\(family)_back"] == "1" && r["raise_\(family)_interval"] == "40.0", "back to 1280, next raise in 40 s (\(family))")
        }
        // Control: loss is not a black hole.
        #expect(Int(r["lossy_dropped_v4"] ?? "") ?? 0 > 50, "the loss is real")
        #expect(r["lossy_stalls"] == "0" && r["lossy_learned"] == "0", "random loss teaches nothing")
        #expect(r["restored"] == "1", "the firewall as found")
    }

    @Test func learnsNothingWhereNoBlackHoleItCouldFixIs() async {
        let run = await TestSupport.scenario("stall-controls.sh", timeout: 300)
        #expect(run.status == 0, "\(run.stderr)")
        let r = TestSupport.results(run.stdout)
        // Asymmetric routing: the hole is there, the router saw the server's side only.
        #expect(r["asym_got"] == "0" && Int(r["asym_router_saw"] ?? "") ?? 0 > 5, "the premise: a stall the router saw half of")
        #expect(r["asym_stalls"] == "0")
        // The router's own flow into the hole: stalls, but it is not forwarded.
        #expect(r["own_got"] == "0" && Int(r["own_router_sent"] ?? "") ?? 0 > 5 && r["own_stalls"] == "0")
        // Clamped below the size that stalls: complete, nothing judged.
        #expect(r["clamped_v4"] == "1048576" && r["clamped_v6"] == "1048576" && r["clamped_stalls"] == "0")
        // An idle client whose window closed.
        #expect(r["idle_v4"] == "1048576" && r["idle_v6"] == "1048576" && r["idle_stalls"] == "0")
        // Congestion with real drops, starving some new flows outright (their first window
        // and two retransmissions dropped: the segments alone look like a black hole). The
        // client acknowledged the other flows' 1500-byte packets: not a black hole.
        #expect(Int(r["congestion_dropped"] ?? "") ?? 0 > 0, "the congestion is real")
        #expect(r["congestion_complete"] == r["congestion_downloads"])
        #expect(r["congestion_stalls"] == "0" && r["learned_file"] == "0", "starved flows: \(r["congestion_starved"] ?? "?")")
    }
}

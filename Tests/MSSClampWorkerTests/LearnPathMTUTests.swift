import TestSupport
import Testing

/// `run --learn-pmtu` in the four-namespace lab of issue #11 (Tests/Integration/learn-pmtu.sh):
/// client — hop (1400 toward the client) — router — server, the server deaf to ICMP.
@Suite(.root, .serialized) struct LearnPathMTUTests {
    @Test func learnsFromICMPCrossingTheRouterAndRefusesHostileICMP() async {
        let run = await TestSupport.scenario("learn-pmtu.sh", timeout: 240)
        #expect(run.status == 0, "\(run.stderr)")
        let r = TestSupport.results(run.stdout)
        // The black hole is real: the router's own links are 1500, so --clamp-mss-to-pmtu
        // alone clamps nothing and 1 MB downloads stall.
        #expect(r["plain_v4"] == "0" && r["plain_v6"] == "0", "without learning the downloads must stall")
        // Learning: the first may stall; later ones complete, with the learned MSS on the wire.
        #expect(r["learn_v4_second"] == "1" && r["learn_v4_third"] == "1")
        #expect(r["learn_v6_second"] == "1" && r["learn_v6_third"] == "1")
        #expect(r["syn_mss_v4"] == "1460,1360,1360,")
        #expect(r["syn_mss_v6"] == "1440,1340,1340,")
        #expect(r["entries"] == "192.0.2.1/1400/1360,2001:db8:1::1/1400/1340")
        #expect(Int(r["clamped_by_learning"] ?? "") ?? 0 >= 4)
        #expect(r["log_learned_v4"] == "1" && r["log_learned_v6"] == "1" && r["status_text_lists"] == "1")
        #expect(r["signal_jump_v4"] == "1" && r["signal_jump_v6_output"] == "1")
        // Expiry.
        #expect(r["expired_v4"] == "1" && r["expired_v6"] == "1" && r["entries_after_expiry"] == "0")
        // Hostile ICMP: observed and passed on (all 303 reach the server), refused and counted.
        #expect(r["hostile_delivered"] == "303")
        #expect(r["below_floor"] == "2" && r["unrelated"] == "1")
        let limited = Int(r["rate_limited"] ?? "") ?? 0
        #expect(limited >= 200, "a flood of 300 lower MTUs is mostly refused by the rate limit")
        #expect(Int(r["hostile_refused"] ?? "") ?? 0 == 3 + limited)
        #expect(Int(r["client_entry_mtu"] ?? "") ?? 0 >= 576, "never below the floor")
        #expect(r["metric_entries"] == "1" && r["metric_rate_limited"] == "\(limited)" && Int(r["metric_clamped"] ?? "") ?? 0 >= 4)
        #expect(r["log_refused"] == "1")
        #expect(r["after_flood_v4"] == "1")
        #expect(r["stop_status"] == "0" && r["restored"] == "1", "rules gone, the firewall as found")
    }
}

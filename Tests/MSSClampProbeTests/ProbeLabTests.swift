import TestSupport
import Testing

/// `mssclamp probe` for real: raw sockets, real routers (namespaces), their real ICMP, a
/// real filter dropping it. Tests/Integration/probe.sh says what each scenario builds.
@Suite(.serialized) struct ProbeLabTests {
    @Test(.root) func findsTheMTUTheHopAndTheBlackHole() async throws {
        let run = await TestSupport.scenario("probe.sh", timeout: 300)
        #expect(run.status == 0, "\(run.stderr)")
        let r = TestSupport.results(run.stdout)
        for (name, mtu, mss, method) in [
            ("announced4", "1400", "1360", "icmp-echo"), ("announced6", "1400", "1340", "icmp-echo"),
            ("tcp4", "1400", "1360", "tcp-syn"), ("tcp6", "1400", "1340", "tcp-syn"),
            ("silent4", "1400", "1360", "icmp-echo"), ("silent6", "1400", "1340", "icmp-echo"),
            ("clean4", "1500", "1460", "icmp-echo"), ("clean6", "1500", "1440", "icmp-echo"),
        ] {
            #expect(r["\(name)_rc"] == "0" && r["\(name)_mtu"] == mtu && r["\(name)_mss"] == mss && r["\(name)_method"] == method, "\(name)")
        }
        // The hop that sends frag-needed is named, by number (from the TTL it quoted).
        for name in ["announced4", "tcp4"] { #expect(r["\(name)_announced"] == "2/203.0.113.1" && r["\(name)_blackhole"] == "False") }
        for name in ["announced6", "tcp6"] { #expect(r["\(name)_announced"] == "2/2001:db8:3::1") }
        #expect(Int(r["announced4_probes"] ?? "") ?? 99 <= 4, "68, 1500, 1400, 1401")
        #expect(r["text_announced"] == "1" && r["text_mss"] == "1")
        #expect(r["max_rc"] == "0" && r["max_atleast"] == "1" && r["max_no_clamp"] == "0", "--max below the path: at least, no MSS")
        #expect(r["maxjson_mtu"] == "None" && r["maxjson_mss"] == "None" && r["maxjson_reached"] == "1300")
        #expect(r["unreach_rc"] == "1" && r["unreach_said"] == "1" && r["unreach_lines"] == "1", "unreachable: said once, in words")
        // Echo filtered and --method icmp: nothing to measure with, said so.
        #expect(r["icmponly_rc"] == "1" && r["icmponly_says"] == "1")
        // The black hole: found by bisection, its hop named by the TTL walk.
        #expect(r["silent4_blackhole"] == "True" && r["silent4_announced"] == "none")
        #expect(r["silent4_last"] == "2/203.0.113.1" && r["silent4_missing"] == "3/192.0.2.1/True")
        #expect(r["silent6_last"] == "2/2001:db8:3::1" && r["silent6_missing"] == "3/2001:db8:1::1/True")
        #expect(r["text_blackhole"] == "1")
        // The first link as the hole: veth takes MTU + 4 bytes (a VLAN tag's room), so 1404.
        #expect(r["mismatch4_mtu"] == "1404" && r["mismatch4_last"] == "none" && r["mismatch4_missing"] == "1/192.0.2.254/False")
        #expect(r["clean4_announced"] == "none" && r["clean4_blackhole"] == "False")
        #expect(r["name_rc"] == "0" && r["name_paths"] == "ipv4/1400/1360,ipv6/1400/1340")
        // Bounds: stopped at 5, exactly 5 on the wire, never closer than 1/4 s (less a ms).
        #expect(r["bounded_rc"] == "1" && r["bounded_stopped"] == "True" && r["bounded_wire"] == "5")
        #expect(Int(r["bounded_min_gap_ms"] ?? "") ?? 0 >= 249)
        // Bad input: exit 2 with the reason, and nothing sent.
        #expect(r["unresolvable_rc"] == "2" && r["unresolvable_says"] == "1")
        #expect(r["noroute_rc"] == "2" && r["noroute_says"] == "1" && r["noroute6_rc"] == "2")
        #expect(r["nobody_rc"] == "2" && r["nobody_says"] == "1")
        #expect(r["sizes_refused"] == "all")
        #expect(r["bad_input_wire"] == "0")
        #expect(r["schema"] == "ok", "\(r["schema"] ?? "no schema result")")
    }
}

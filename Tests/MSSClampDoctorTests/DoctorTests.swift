import Foundation
import MSSClampCore
import TestSupport
import Testing

@testable import MSSClampDoctor

/// The checks on listings as the tools print them.
@Suite struct DoctorChecksTests {
    func facts(v4: String = "", v6: String = "", nft: String = "", links: [GatewayFacts.Link] = []) -> GatewayFacts {
        var facts = GatewayFacts()
        facts.iptables = [.ipv4: v4, .ipv6: v6]
        facts.nftables = nft
        facts.links = links
        return facts
    }

    func ids(_ facts: GatewayFacts) -> [String] { Doctor.examine(facts).findings.filter { $0.severity >= .warning }.map(\.id).sorted() }

    @Test func icmpDropsUnlessAnEarlierRuleLetsThemThrough() {
        let drop = "*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -p icmp -m icmp --icmp-type 3/4 -j DROP\nCOMMIT\n"
        #expect(ids(facts(v4: drop)) == ["icmp-frag-needed-dropped"])
        let allICMP = "*filter\n-A INPUT -p icmp -j REJECT --reject-with icmp-port-unreachable\nCOMMIT\n"
        #expect(ids(facts(v4: allICMP)) == ["icmp-frag-needed-dropped"])
        let echoOnly = "*filter\n-A FORWARD -p icmp -m icmp --icmp-type 8 -j DROP\nCOMMIT\n"
        #expect(ids(facts(v4: echoOnly)).isEmpty)
        let related = "*filter\n-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A FORWARD -p icmp -j DROP\nCOMMIT\n"
        #expect(ids(facts(v4: related)).isEmpty)
        let ptb = "*filter\n-A FORWARD -p ipv6-icmp -m icmp6 --icmpv6-type 2 -j DROP\nCOMMIT\n"
        #expect(ids(facts(v6: ptb)) == ["icmpv6-packet-too-big-dropped"])
        let nft = """
            table inet fw {
            \tchain through {
            \t\ttype filter hook forward priority filter; policy accept;
            \t\ticmpv6 type packet-too-big drop
            \t}
            }
            """
        #expect(ids(facts(nft: nft)) == ["icmpv6-packet-too-big-dropped"])
        let nftRelated = nft.replacingOccurrences(of: "\t\ticmpv6", with: "\t\tct state established,related accept\n\t\ticmpv6")
        #expect(ids(facts(nft: nftRelated)).isEmpty)
    }

    @Test func mssclampsOwnPolicyAgainstEachTunnel() throws {
        var gateway = facts(links: [
            .init(name: "wg0", kind: "wireguard", mtu: 1420, up: true), .init(name: "gre1", kind: "gre", mtu: 1476, up: true),
            .init(name: "eth0", kind: nil, mtu: 1500, up: true),
        ])
        func found(_ policy: [String]) -> [String] {
            gateway.worker = .init(healthy: true, reasons: [], policy: policy)
            return Doctor.examine(gateway).findings.filter { $0.id == "mssclamp-too-high-for-tunnel" }.map(\.summary)
        }
        // The default policy's 1360 fits both (1380/1360 for wg0; 1436/1416 for gre1).
        #expect(found(["--tcp-flags SYN,RST SYN -m tcpmss --mss 1361:1536 -> set-mss 1360"]).isEmpty)
        // 1400 for every SYN: too high for wg0 in both families, for gre1 nowhere.
        let high = found(["--tcp-flags SYN,RST SYN -> set-mss 1400"])
        #expect(high.count == 2 && high.allSatisfy { $0.contains("through wg0 MSS 1400; its MTU 1420 allows") })
        // Pinned to the other tunnel: not judged against wg0.
        #expect(found(["-o gre1 --tcp-flags SYN,RST SYN -> set-mss 1400"]).isEmpty)
        // An uplink rule reaches the tunnel's clients' SYNs on their way out.
        #expect(found(["-o eth0 --syn -> set-mss 1400"]).count == 2)
        // Per family, clamp-to-mtu, clamp-to-interface (of another, larger link), path MTU.
        #expect(found(["-6 --syn -> set-mss 1400"]).count == 1)
        let sameForIPv6 = found(["--syn -> set-mss 1380 (IPv4) / 1380 (IPv6)"])
        #expect(sameForIPv6.count == 1 && sameForIPv6[0].contains("IPv6 SYNs through wg0 MSS 1380"))
        #expect(found(["--syn -> clamp-to-mtu 1500"]).count == 4)
        #expect(found(["-i wg0 --syn -> clamp-to-interface eth0"]).count == 2)
        #expect(found(["-i wg0 --syn -> clamp-to-interface wg0", "--syn -> clamp-mss-to-pmtu"]).isEmpty)
        _ = found(["--syn -> set-mss 1400"])
        let fix = try #require(Doctor.examine(gateway).findings.first { $0.id == "mssclamp-too-high-for-tunnel" }?.fix)
        #expect(fix.contains("clamp-to-interface: wg0"))
    }

    @Test func theKernelsFallbackDevicesAreNoTunnels() throws {
        // What loading ip_gre leaves in every namespace, beside a real (up) tunnel.
        let gateway = facts(links: [
            .init(name: "gre0", kind: "gre", mtu: 1476, up: false), .init(name: "gretap0", kind: "gretap", mtu: 1462, up: false),
            .init(name: "erspan0", kind: "erspan", mtu: 1450, up: false), .init(name: "tun0", kind: "tun", mtu: 1400, up: false),
            .init(name: "gre1", kind: "gre", mtu: 1476, up: true),
        ])
        let report = Doctor.examine(gateway)
        #expect(report.findings.filter { $0.id == "tunnel" }.map { $0.summary.prefix { $0 != " " } } == ["gre1", "tun0"])
        let fix = try #require(report.findings.first { $0.id == "tunnel-unclamped" }?.fix)
        #expect(fix.hasPrefix("mssclamp run -o gre1 --clamp-to-interface gre1"), "the tunnel that is up first")
    }

    @Test func aRaisedPMTUFloorIsANote() {
        var raised = facts()
        raised.sysctls["net.ipv4.route.min_pmtu"] = "1400"
        let notes = Doctor.examine(raised).findings.filter { $0.id == "pmtu-floor-raised" }
        #expect(notes.count == 1 && notes[0].severity == .info && notes[0].summary.contains("1400"))
        raised.sysctls["net.ipv4.route.min_pmtu"] = "552"
        #expect(!Doctor.examine(raised).findings.contains { $0.id == "pmtu-floor-raised" })
    }

    @Test func icmpDroppedByADefaultDrop() throws {
        // A FORWARD policy DROP that lets only established traffic through.
        let policy =
            "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT\nCOMMIT\n"
        #expect(ids(facts(v4: policy)) == ["icmp-frag-needed-dropped"])
        let finding = try #require(Doctor.examine(facts(v4: policy)).findings.first)
        #expect(finding.summary.contains("its policy DROP") && finding.summary.contains("FORWARD"))
        #expect(finding.fix?.hasPrefix("iptables -t filter -I FORWARD -p icmp --icmp-type fragmentation-needed -j ACCEPT") == true)
        // RELATED accepted, or ICMP accepted in a chain FORWARD jumps to: nothing to fix.
        let related = policy.replacingOccurrences(of: "--ctstate ESTABLISHED", with: "--ctstate RELATED,ESTABLISHED")
        #expect(ids(facts(v4: related)).isEmpty)
        let viaChain = policy.replacingOccurrences(of: ":OUTPUT ACCEPT [0:0]\n", with: ":OUTPUT ACCEPT [0:0]\n:ICMP - [0:0]\n")
            .replacingOccurrences(of: "COMMIT", with: "-A FORWARD -p icmp -j ICMP\n-A ICMP -p icmp -j ACCEPT\nCOMMIT")
        #expect(ids(facts(v4: viaChain)).isEmpty)
        // A last rule that drops everything counts as the policy; an accept before it does not.
        let catchAll = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\n-A INPUT -j DROP\nCOMMIT\n"
        #expect(ids(facts(v6: catchAll)) == ["icmpv6-packet-too-big-dropped"])
        let icmpFirst = catchAll.replacingOccurrences(of: "-A INPUT -j DROP", with: "-A INPUT -p ipv6-icmp -j ACCEPT\n-A INPUT -j DROP")
        #expect(ids(facts(v6: icmpFirst)).isEmpty)
        // nftables: an inet base chain with policy drop: both families.
        let nft =
            "table inet fw {\n\tchain through {\n\t\ttype filter hook forward priority filter; policy drop;\n\t\tct state established accept\n\t}\n}\n"
        #expect(ids(facts(nft: nft)) == ["icmp-frag-needed-dropped", "icmpv6-packet-too-big-dropped"])
        #expect(ids(facts(nft: nft.replacingOccurrences(of: "established accept", with: "established,related accept"))).isEmpty)
        let jump =
            "table inet fw {\n\tchain icmps {\n\t\tmeta l4proto { icmp, ipv6-icmp } accept\n\t}\n\tchain through {\n\t\ttype filter hook forward priority filter; policy drop;\n\t\tjump icmps\n\t}\n}\n"
        #expect(ids(facts(nft: jump)).isEmpty, "ICMP of both families accepted in the chain it jumps to")
        let v4Only = jump.replacingOccurrences(of: "meta l4proto { icmp, ipv6-icmp } accept", with: "ip protocol icmp accept")
        #expect(ids(facts(nft: v4Only)) == ["icmpv6-packet-too-big-dropped"])
        // A prerouting chain's policy is not where the signal is judged; iptables-nft's tables are read once.
        #expect(ids(facts(nft: nft.replacingOccurrences(of: "hook forward", with: "hook prerouting"))).isEmpty)
    }

    @Test func clampingPerFamily() throws {
        let v4 = "*mangle\n-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1360\nCOMMIT\n"
        #expect(ids(facts(v4: v4)) == ["clamp-ipv4-only"])
        let fix = try #require(Doctor.examine(facts(v4: v4)).findings.first { $0.id == "clamp-ipv4-only" }?.fix)
        #expect(fix.hasPrefix("ip6tables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1340"))
        let v6Only = v4.replacingOccurrences(of: "1360", with: "1340")
        #expect(ids(facts(v6: v6Only)) == ["clamp-ipv6-only"])
        let v4Fix = try #require(Doctor.examine(facts(v6: v6Only)).findings.first { $0.id == "clamp-ipv6-only" }?.fix)
        #expect(v4Fix.hasPrefix("iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1360"))
        #expect(ids(facts(v4: v4, v6: v4)) == ["clamp-ipv6-given-ipv4-value"])
        #expect(ids(facts(v4: v4, v6: v4.replacingOccurrences(of: "1360", with: "1340"))).isEmpty)
        let ours = "*mangle\n-A MSSCLAMP -p tcp -m comment --comment \"mssclamp rule 1 policy:0\" -j NFQUEUE --queue-num 0\nCOMMIT\n"
        #expect(ids(facts(v4: v4 + ours, v6: ours)) == ["two-clampers"])
        // An nftables table that clamps both families, beside iptables' IPv4 rule.
        let nft =
            "table inet clamp {\n\tchain f {\n\t\ttype filter hook forward priority mangle;\n\t\ttcp flags syn tcp option maxseg size set rt mtu\n\t}\n}\n"
        #expect(ids(facts(v4: v4, nft: nft)).isEmpty)
    }

    @Test func clampingRulesThatNeverRun() {
        let both = "-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1340\n"
        let shadowed =
            "*mangle\n-A FORWARD -p tcp -m comment --comment \"allow all tcp\" -j ACCEPT\n-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1360\nCOMMIT\n"
        #expect(ids(facts(v4: shadowed, v6: "*mangle\n" + both)) == ["clamp-rule-shadowed"])
        let narrowAccept = shadowed.replacingOccurrences(of: "-p tcp -m comment", with: "-i eth9 -p tcp -m comment")
        #expect(ids(facts(v4: narrowAccept, v6: "*mangle\n" + both)).isEmpty, "an accept of some packets only shadows nothing for sure")
        let orphan = "*mangle\n:CLAMP - [0:0]\n-A CLAMP -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1360\nCOMMIT\n"
        #expect(ids(facts(v4: orphan, v6: "*mangle\n" + both)) == ["clamp-rule-unreachable"])
        let jumped = orphan.replacingOccurrences(of: "COMMIT", with: "-A FORWARD -p tcp -j CLAMP\nCOMMIT")
        #expect(ids(facts(v4: jumped, v6: "*mangle\n" + both)).isEmpty)
    }

    @Test func tunnelsWithNothingClamping() {
        let wg = GatewayFacts.Link(name: "wg0", kind: "wireguard", mtu: 1420, up: true)
        let report = Doctor.examine(facts(links: [wg, .init(name: "eth0", kind: nil, mtu: 1500, up: true)]))
        #expect(
            report.findings.filter { $0.id == "tunnel" }.map(\.summary) == [
                "wg0 (wireguard, up), MTU 1420: SYNs leaving by it need MSS 1380 (IPv4) / 1360 (IPv6) at most"
            ])
        #expect(report.findings.first { $0.id == "tunnel-unclamped" }?.fix?.hasPrefix("mssclamp run -o wg0 --clamp-to-interface wg0") == true)
        #expect(report.exitStatus == 1)
        let ours = "table inet mssclamp {\n\tchain forward {\n\t\tmeta l4proto tcp queue to 0\n\t}\n}\n"
        #expect(ids(facts(nft: ours, links: [wg])).isEmpty)
    }

    @Test func aClampTooHighForATunnel() {
        let wg = GatewayFacts.Link(name: "wg0", kind: "wireguard", mtu: 1420, up: true)
        let v4 = "*mangle\n-A FORWARD -o wg+ -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1400\nCOMMIT\n"
        let v6 = "*mangle\n-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1360\nCOMMIT\n"
        let report = Doctor.examine(facts(v4: v4, v6: v6, links: [wg]))
        #expect(
            report.findings.filter { $0.severity >= .warning }.map(\.summary) == [
                "iptables: SYNs leaving by wg0 get MSS 1400 (-A FORWARD -o wg+ -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1400); its MTU 1420 allows 1380"
            ])
        let elsewhere = v4.replacingOccurrences(of: "-o wg+", with: "-o eth1")
        #expect(ids(facts(v4: elsewhere, v6: v6, links: [wg])).isEmpty, "a rule for another interface does not apply")
        let pmtu = v4.replacingOccurrences(of: "--set-mss 1400", with: "--clamp-mss-to-pmtu")
        #expect(ids(facts(v4: pmtu, v6: v6, links: [wg])).isEmpty, "the path MTU follows the tunnel's")
    }

    @Test func sysctlsAndExitStatus() {
        var facts = GatewayFacts()
        facts.sysctls = ["net.ipv4.ip_no_pmtu_disc": "1", "net.ipv4.tcp_mtu_probing": "0", "net.ipv4.ip_forward": "1"]
        let report = Doctor.examine(facts)
        #expect(report.findings.map(\.id) == ["pmtu-discovery-off", "tcp-mtu-probing-off"])
        #expect(report.findings.first?.fix == "sysctl -w net.ipv4.ip_no_pmtu_disc=0")
        #expect(report.exitStatus == 1)
        facts.sysctls["net.ipv4.ip_no_pmtu_disc"] = "0"
        #expect(Doctor.examine(facts).exitStatus == 0, "notes only: nothing to fix")
    }

    @Test func policyBasedIPsec() {
        let policies = """
            src 198.51.100.0/24 dst 203.0.113.0/24
            \tdir fwd priority 375423 ptype main
            \ttmpl src 192.0.2.2 dst 192.0.2.1
            \t\tproto esp reqid 1 mode tunnel
            src 192.0.2.1/32 dst 192.0.2.2/32
            \tdir out priority 0 ptype main
            \ttmpl src 0.0.0.0 dst 0.0.0.0
            \t\tproto esp reqid 2 mode transport
            """
        #expect(XFRM.tunnelPolicies(policies) == ["198.51.100.0/24 -> 203.0.113.0/24"])
        let gcm = "src 192.0.2.1 dst 192.0.2.2\n\tproto esp spi 0xc1 reqid 1 mode tunnel\n\taead rfc4106(gcm(aes)) 0x00 128\n"
        let natt = gcm + "\tencap type espinudp sport 4500 dport 4500 addr 0.0.0.0\n"
        #expect(XFRM.stack(gcm) == "esp-gcm")
        #expect(XFRM.stack(natt) == "esp-gcm+nat-t")
        #expect(XFRM.stack("\tauth-trunc hmac(sha256) 0x00 128\n\tenc cbc(aes) 0x00\n") == "esp-cbc-sha256")
        var facts = facts()
        facts.xfrmPolicies = policies
        facts.xfrmStates = natt
        let report = Doctor.examine(facts)
        #expect(report.findings.map(\.id).sorted() == ["ipsec-policy", "ipsec-unclamped"])
        // The note ends as a sentence (it was cut off at "must be clamped for").
        #expect(report.findings.first { $0.id == "ipsec-policy" }?.summary.hasSuffix("by a rule that selects IPsec traffic (ipsec: in)") == true)
        #expect(
            report.findings.first { $0.id == "ipsec-unclamped" }?.fix?.hasPrefix("mssclamp run --ipsec in --set-mss-for-tunnel esp-gcm+nat-t") == true
        )
        facts.iptables[.ipv4] = "*mangle\n-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu\nCOMMIT\n"
        facts.iptables[.ipv6] = facts.iptables[.ipv4]
        #expect(ids(facts) == ["ipsec-pmtu-clamp-useless"])
    }

    @Test func linksFromIPJSON() {
        let json = """
            [{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP"],"mtu":65536},{"ifindex":5,"ifname":"wg0","flags":["POINTOPOINT","UP"],"mtu":1420,"linkinfo":{"info_kind":"wireguard"}}]
            """
        #expect(
            GatewayFacts.parseLinks(json: json) == [
                .init(name: "lo", kind: nil, mtu: 65536, up: true), .init(name: "wg0", kind: "wireguard", mtu: 1420, up: true),
            ])
        #expect(GatewayFacts.parseLinks(json: "not json") == nil)
    }
}

/// The whole command against a real kernel's firewall, trap by trap (Tests/Integration/doctor.sh).
@Suite(.serialized) struct DoctorLabTests {
    @Test func eachTrapFoundFixedAndClean() async throws {
        let run = await TestSupport.scenario("doctor.sh", timeout: 240)
        #expect(run.status == 0, "\(run.stderr)")
        let r = TestSupport.results(run.stdout)
        #expect(r["clean_rc"] == "0" && r["clean_found"] == "none")
        #expect(r["schema"] == "ok")
        #expect(r["related_first_found"] == "none", "frag-needed of tracked flows passes as RELATED before the drop")
        for (name, id) in [
            ("fragneeded", "icmp-frag-needed-dropped"), ("ptb", "icmpv6-packet-too-big-dropped"), ("nftdrop", "icmp-frag-needed-dropped"),
            ("v4only", "clamp-ipv4-only"), ("v6only", "clamp-ipv6-only"), ("v6value", "clamp-ipv6-given-ipv4-value"),
            ("shadowed", "clamp-rule-shadowed"),
            ("unreachable", "clamp-rule-unreachable"), ("nopmtu", "pmtu-discovery-off"), ("policydrop", "icmp-frag-needed-dropped"),
        ] {
            #expect(r["\(name)_found"] == id && r["\(name)_rc"] == "1", "\(name)")
            #expect(r["\(name)_after"] == "none" && r["\(name)_after_rc"] == "0", "\(name): the printed fix cleared it")
        }
        #expect(r["ipsec_found"] == "ipsec-unclamped" && r["ipsec_fix"] == "mssclamp_run_--ipsec_in_--set-mss-for-tunnel_esp-gcm")
        #expect(r["ipsec_after"] == "none", "mssclamp's ipsec: in rules clamp it")
        #expect(r["ipsec_pmtu"] == "ipsec-pmtu-clamp-useless")
        #expect(r["worker_found"] == "mssclamp-degraded" && r["worker_rc"] == "1" && r["worker_says"] == "1")
        #expect(r["worker_stopped"] == "none" && r["worker_stopped_rc"] == "0", "a worker stopped cleanly is nothing to fix")
        #expect(r["tunnel_found"] == "tunnel-unclamped" && r["tunnel_fix"] == "mssclamp_run_-o_tun9_--clamp-to-interface_tun9")
        #expect(r["tunnel_after"] == "none" && r["tunnel_after_rc"] == "0")
        #expect(r["high_found"] == "clamp-too-high-for-tunnel,clamp-too-high-for-tunnel" && r["high_fixes"] == "2")
        #expect(r["high_after"] == "none" && r["high_after_rc"] == "0", "a lower rule for the tunnel inserted first")
        #expect(r["fighting_found"] == "two-clampers" && r["fighting_rc"] == "1")
        #expect(r["nftpolicy_found"] == "icmp-frag-needed-dropped,icmpv6-packet-too-big-dropped" && r["nftpolicy_fixes"] == "2")
        #expect(r["nftpolicy_after"] == "none" && r["nftpolicy_after_rc"] == "0", "both printed nft fixes cleared it")
        // netfilter runs every base chain of a hook: an accept at an earlier priority does
        // not shadow a later chain's clamp, and doctor does not say it does.
        #expect(r["priority_found"] == "none" && r["priority_syn_mss"] == "1300")
        #expect(r["floor_rc"] == "0" && r["floor_note"] == "1", "a raised PMTU floor is a note")
        #expect(r["noforward_rc"] == "0" && r["noforward_note"] == "1", "forwarding off is a note")
        #expect(r["ownhigh_found"] == "mssclamp-too-high-for-tunnel,mssclamp-too-high-for-tunnel" && r["ownhigh_rc"] == "1")
        #expect(r["ownhigh_fix"] == "1", "the fix names clamp-to-interface: tun9")
        #expect(r["ownfixed_found"] == "none" && r["ownfixed_rc"] == "0")
        #expect(r["nobody_unread"] == "1" && r["nobody_verdict"] == "1", "without root: says what it could not read")
        #expect(r["nobody_rc"] == "4" && r["nobody_looked"] == "1", "without root: could not look, never 'nothing to fix'")
        #expect(r["nobody_oneline"] == "0", "each unreadable source on one line")
    }
}

/// `doctor --json`: the report as one object, keys sorted, fixes as written.
@Suite struct DoctorReportJSONTests {
    @Test func findingsAndWhatWasNotRead() throws {
        let report = DoctorReport(
            findings: [Finding("forwarding-off", .info, "net.ipv4.ip_forward = 0", fix: "sysctl -w net.ipv4.ip_forward=1")],
            unread: ["iptables (IPv6): permission denied"])
        #expect(
            report.json
                == #"{"findings":[{"fix":"sysctl -w net.ipv4.ip_forward=1","id":"forwarding-off","severity":"info","summary":"net.ipv4.ip_forward = 0"}],"unread":["iptables (IPv6): permission denied"]}"#
        )
        #expect(report.exitStatus == 4, "unread and nothing to fix: could not look")
    }
}

/// What `--learn-stalls` learned, in doctor's report: a note (handled), with the static rule.
@Suite struct DoctorStallsTests {
    @Test func eachLearnedDestinationIsANoteWithItsStaticRule() {
        var facts = GatewayFacts()
        facts.worker = .init(
            healthy: true, reasons: [],
            stalls: [
                .init(host: "192.0.2.1", mtu: 1400, mss: 1360, stalledAt: 1500),
                .init(host: "2001:db8:1::1", mtu: 1360, mss: 1300, stalledAt: 1400),
            ])
        let report = Doctor.examine(facts)
        let stalls = report.findings.filter { $0.id == "stalled-flows" }
        #expect(stalls.count == 2 && stalls.allSatisfy { $0.severity == .info })
        #expect(stalls[0].summary.contains("flows toward 192.0.2.1 stalled at 1500 bytes with no ICMP"))
        #expect(
            stalls[0].fix?.hasSuffix(
                "iptables -t mangle -A FORWARD -s 192.0.2.1 -p tcp --tcp-flags SYN,RST SYN -m tcpmss --mss 1361:65535 -j TCPMSS --set-mss 1360")
                == true)
        #expect(stalls[1].fix?.contains("ip6tables -t mangle -A FORWARD -s 2001:db8:1::1") == true)
        #expect(!report.findings.contains { $0.id == "mssclamp-degraded" }, "a healthy worker has nothing more to say")
    }
}

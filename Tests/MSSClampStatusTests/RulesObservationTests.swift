import MSSClampRules
import Testing

/// Reading our rules back from `iptables-save -c` and `nft list table` output as the tools
/// print them (lines taken from iptables-nft 1.8.9 and nft 1.0.6 in a namespace).
@Suite struct RulesObservationTests {
    @Test func iptablesSaveWithCounters() {
        let save = """
            *mangle
            :PREROUTING ACCEPT [10:600]
            :MSSCLAMP - [0:0]
            :MSSCLAMP_BYPASS - [0:0]
            [7:308] -A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -m comment --comment mssclamp -j MSSCLAMP
            [3:132] -A POSTROUTING -p tcp -m tcp --tcp-flags SYN,RST SYN -m comment --comment "mssclamp bypass" -j MSSCLAMP_BYPASS
            [0:0] -A POSTROUTING -o wg0 -j RETURN
            [5:220] -A MSSCLAMP -o eth0 -p tcp -m tcp --tcp-flags SYN,RST SYN -m tcpmss --mss 1361:1536 -m comment --comment "mssclamp rule 1 policy:0badcafe" -j NFQUEUE --queue-num 0 --queue-bypass
            [2:88] -A MSSCLAMP_BYPASS -o eth0 -p tcp -m tcp --tcp-flags SYN,RST SYN -m tcpmss --mss 1361:1536 -m comment --comment "mssclamp bypass rule 1 policy:0badcafe"
            COMMIT
            """
        let seen = RulesObservation.parse(iptablesSave: save, options: SteeringOptions())
        #expect(seen.hooks == ["FORWARD"])
        #expect(seen.queueRules == 1 && seen.bypassRules == 1 && seen.bypassCounting)
        #expect(seen.bypassPackets == 2)
        #expect(seen.safetyNetRules == 0)
        #expect(seen.digests == ["0badcafe"])
    }

    @Test func nftTableWithCounters() {
        var seen = RulesObservation(backend: .nftables)
        seen.read(
            nftTable: """
                table inet mssclamp {
                \tchain forward {
                \t\ttype filter hook forward priority mangle; policy accept;
                \t\tmeta nfproto ipv4 tcp flags syn / syn,rst oifname "eth0" tcp option maxseg size 1361-1536 queue flags bypass to 0 comment "mssclamp rule 1 policy:0badcafe"
                \t}
                \tchain bypass {
                \t\tmeta nfproto ipv6 tcp flags syn / syn,rst oifname "eth0" tcp option maxseg size 1341-1536 counter packets 4 bytes 300 comment "mssclamp bypass rule 1 policy:0badcafe"
                \t}
                \tchain safety_net {
                \t\tmeta nfproto ipv4 tcp flags syn / syn,rst tcp option maxseg size 1361-1536 counter packets 9 bytes 1 tcp option maxseg size set 1360 comment "mssclamp safety-net rule 1 policy:0badcafe"
                \t}
                }
                """)
        #expect(seen.ipv4.hooks == ["FORWARD"] && seen.ipv4.queueRules == 1)
        #expect(seen.ipv6.bypassPackets == 4 && seen.ipv4.safetyNetPackets == 9)
        #expect(seen.hasSafetyNet && seen.digests == ["0badcafe"])
    }

    @Test func digestOnlyFromOurComment() {
        #expect(RulesObservation.digest(inRule: "-A X -m comment --comment \"mssclamp rule 1 policy:0badcafe wan\"") == "0badcafe")
        #expect(RulesObservation.digest(inRule: "-A X -m comment --comment \"mssclamp rule 1\"") == nil)
        #expect(RulesObservation.digest(inRule: "policy:0bad") == nil)
    }
}

import Foundation
import MSSClampCore
import MSSClampReplay
import MSSClampReport
import TestSupport
import Testing

/// Dry-run over scapy-made captures, compared with reviewed golden outputs. Run with
/// UPDATE_GOLDEN=1 to rewrite them after an intended change (then read the diff).
@Suite struct DryRunGoldenTests {
    static var edge: String { Support.fixtures + "/edge-ethernet.pcap" }

    @Test func defaultPolicyText() {
        let result = Support.mssclamp(["dry-run", "-t", Self.edge])
        #expect(result.status == 0)
        let (expected, actual) = Support.golden("edge-default.txt", result.stdout)
        #expect(actual == expected)
    }

    @Test func insertPolicyText() {
        let result = Support.mssclamp(["dry-run", "-t", Self.edge, "--set-mss", "1400", "--insert-missing"])
        #expect(result.status == 0)
        let (expected, actual) = Support.golden("edge-insert.txt", result.stdout)
        #expect(actual == expected)
    }

    @Test func jsonLines() throws {
        let result = Support.mssclamp(["dry-run", "--json", Self.edge])
        #expect(result.status == 0)
        let (expected, actual) = Support.golden("edge-default.jsonl", result.stdout)
        #expect(actual == expected)
        // Every line is a JSON object; the last is the summary.
        let lines = result.stdout.split(separator: "\n")
        for line in lines {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any])
        }
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(lines.last!.utf8)) as? [String: Any])
        let body = try #require(summary["summary"] as? [String: Any])
        #expect(body["frames"] as? Int == 15)
        #expect((body["outcomes"] as? [String: Any])?["clamped"] as? Int == 6)
    }

    @Test func pcapngReadsLikePcap() {
        let pcap = Support.mssclamp(["dry-run", "-t", Self.edge])
        let pcapng = Support.mssclamp(["dry-run", "-t", Support.fixtures + "/edge-ethernet.pcapng"])
        #expect(pcapng.status == 0)
        #expect(pcapng.stdout == pcap.stdout)
    }

    @Test(arguments: [
        ("link-sll.pcap", "Linux cooked (SLL)"), ("link-sll2.pcap", "Linux cooked v2 (SLL2)"),
        ("link-raw.pcap", "raw IP"), ("link-null.pcap", "BSD loopback"), ("link-loop.pcap", "OpenBSD loopback"),
    ])
    func linkTypes(file: String, name: String) throws {
        var lines: [String] = []
        let summary = try DryRun.run(capture: Support.fixtures + "/" + file, options: DryRunOptions(policy: .default)) {
            lines.append(TextReport.line($0, showTime: false))
        }
        #expect(summary.linkLayer.name == name)
        #expect(
            lines == [
                "IP 192.0.2.10.40000 > 198.51.100.20.443: Flags [S], mss 1460 -> 1360, clamped (rule 1)",
                "IP6 2001:db8::10.40003 > 2001:db8:1::20.443: Flags [S], mss 1440 -> 1340, clamped (rule 1)",
            ])
    }

    @Test func timestampsAreUTCMicroseconds() {
        #expect(TextReport.timestamp(seconds: 1_700_000_000, microseconds: 1) == "22:13:20.000001")
        #expect(TextReport.timestamp(seconds: 0, microseconds: 999_999) == "00:00:00.999999")
    }

    @Test func interfaceRulesNeedAssumedNames() {
        let unknown = Support.mssclamp(["dry-run", "-t", Self.edge, "-o", "eth0"])
        #expect(unknown.stdout.contains("note: captures carry no interface names"))
        #expect(unknown.stdout.contains("Flags [S], mss 1460, unchanged: interface-unknown"))
        let assumed = Support.mssclamp(["dry-run", "-t", Self.edge, "-o", "eth0", "--assume-out", "eth0"])
        #expect(!assumed.stdout.contains("interface-unknown"))
        #expect(assumed.stdout.contains("mss 1460 -> 1360, clamped (rule 1)"))
    }

    @Test func pathMTUPerFamily() {
        let result = Support.mssclamp(["dry-run", "-t", Support.fixtures + "/link-raw.pcap", "--clamp-mss-to-pmtu", "--assume-pmtu", "1400"])
        #expect(result.stdout.contains("IP 192.0.2.10.40000 > 198.51.100.20.443: Flags [S], mss 1460 -> 1360, clamped (rule 1)"))
        #expect(result.stdout.contains("IP6 2001:db8::10.40003 > 2001:db8:1::20.443: Flags [S], mss 1440 -> 1340, clamped (rule 1)"))
        let unknown = Support.mssclamp(["dry-run", "-t", Support.fixtures + "/link-raw.pcap", "--clamp-mss-to-pmtu"])
        #expect(unknown.stdout.contains("unchanged: path-mtu-unknown"))
    }

    @Test func bpfFilter() {
        let result = Support.mssclamp(["dry-run", "-t", Self.edge, "--filter", "ip6"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("IP6 ") && !result.stdout.contains("\nIP "))
        let bad = Support.mssclamp(["dry-run", Self.edge, "--filter", "tcp port nonsense"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("filter 'tcp port nonsense'"))
    }
}

import Foundation
import MSSClampCore
import TestSupport
import Testing

/// `dry-run --assume-learned HOST=MTU`: what `run --learn-pmtu` would do once it had
/// learned that path MTU, through the same pass of `Policy.apply` as the worker.
@Suite struct AssumeLearnedTests {
    static var edge: String { Support.fixtures + "/edge-ethernet.pcap" }

    @Test func synsFromTheHostAreLoweredAndSaySo() {
        let plain = Support.mssclamp(["dry-run", "-t", Self.edge])
        let learned = Support.mssclamp(["dry-run", "-t", Self.edge, "--assume-learned", "192.0.2.10=1300", "--assume-learned", "2001:db8::10=1380"])
        #expect(learned.status == 0, "\(learned.stderr)")
        let lines = learned.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("assumed learned: path MTU 1300 toward 192.0.2.10: SYNs from it at most MSS 1260 (as run --learn-pmtu)"))
        // From 192.0.2.10: 1460 -> 1260 (below the rule's 1360), and 1300 (outside the
        // rule's range) -> 1260 by learning alone; its SYN-ACK peer (198.51.100.20) is untouched.
        #expect(lines.contains("IP 192.0.2.10.40000 > 198.51.100.20.443: Flags [S], mss 1460 -> 1260, clamped (rule 1, learned path MTU)"))
        #expect(lines.contains("IP 192.0.2.10.40000 > 198.51.100.20.443: Flags [S], mss 1300 -> 1260, clamped (learned path MTU)"))
        #expect(lines.contains("IP 198.51.100.20.443 > 192.0.2.10.40000: Flags [S.], mss 1460 -> 1360, clamped (rule 1)"))
        // IPv6: 1380 - 60 = 1320, below the rule's 1340.
        #expect(lines.contains("IP6 2001:db8::10.40000 > 2001:db8:1::20.443: Flags [S], mss 1440 -> 1320, clamped (rule 1, learned path MTU)"))
        // Never raised, never inserted: the SYN without an option stays without.
        #expect(lines.filter { $0.contains("no mss, unchanged: no-mss-option") }.count == 2)
        // Counted as clamped: the rule's six, and the two SYNs only learning lowered.
        #expect(plain.stdout.contains("  clamped                             6  MSS lowered in place"))
        #expect(lines.contains("  clamped                             8  MSS lowered in place"))
    }

    @Test func jsonSaysLearned() throws {
        let result = Support.mssclamp(["dry-run", "--json", Self.edge, "--assume-learned", "192.0.2.10=1300"])
        let first = try #require(result.stdout.split(separator: "\n").first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        #expect(object["learned"] as? Bool == true && object["mss_after"] as? Int == 1260)
    }

    @Test(arguments: ["192.0.2.10", "192.0.2.10=", "nohost=1400", "192.0.2.10=500", "2001:db8::1=1279", "192.0.2.10=70000"])
    func badValuesAreUsageErrors(_ value: String) {
        let result = Support.mssclamp(["dry-run", Self.edge, "--assume-learned", value])
        #expect(result.status == 2, "\(value): \(result.stderr)")
        #expect(result.stderr.contains("--assume-learned"))
    }
}

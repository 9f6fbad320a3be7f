import Foundation
import MSSClampReplay
import MSSClampReport
import TestSupport
import Testing

/// A real Linux handshake, captured by tcpdump between two namespaces the test creates, then
/// replayed; the rewritten capture is checked by tshark.
@Suite(.root, .serialized) struct RealHandshakeTests {
    @Test func ipv4AndIPv6() throws {
        let directory = Support.temporaryDirectory("handshake")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let capture = Support.run(
            "/usr/bin/timeout", ["-k", "5", "60", "/bin/bash", Support.packageRoot + "/Tests/Fixtures/capture-handshake.sh", directory], timeout: 70)
        try #require(capture.status == 0, "capture-handshake.sh: \(capture.stderr)")

        let expected = [
            "ipv4": [
                "IP 192.0.2.1.40001 > 192.0.2.2.8080: Flags [S], mss 1460 -> 1360, clamped (rule 1)",
                "IP 192.0.2.2.8080 > 192.0.2.1.40001: Flags [S.], mss 1460 -> 1360, clamped (rule 1)",
            ],
            // The default policy: IPv6 gets 20 bytes less than IPv4 (what MTU 1400 carries).
            "ipv6": [
                "IP6 2001:db8::1.40002 > 2001:db8::2.8080: Flags [S], mss 1440 -> 1340, clamped (rule 1)",
                "IP6 2001:db8::2.8080 > 2001:db8::1.40002: Flags [S.], mss 1440 -> 1340, clamped (rule 1)",
            ],
        ]
        for family in ["ipv4", "ipv6"] {
            let input = "\(directory)/handshake-\(family).pcap"
            let output = "\(directory)/out-\(family).pcap"
            let result = Support.mssclamp(["dry-run", "-t", input, "-w", output])
            #expect(result.status == 0)
            let lines = result.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("IP") }
            #expect(lines == expected[family])
            #expect(result.stdout.contains("unchanged not-syn"), "the rest of the connection is counted")

            // The original capture itself verifies (offload off), so the rewrite is judged fairly.
            let before = Support.tshark(input, fields: ["tcp.options.mss_val", "tcp.checksum.status"], filter: "tcp.flags.syn==1")
            #expect(before.map { $0[1] } == ["1", "1"])
            let after = Support.tshark(output, fields: ["tcp.options.mss_val", "tcp.checksum.status"], filter: "tcp.flags.syn==1")
            #expect(after.map { $0[0] } == (family == "ipv4" ? ["1360", "1360"] : ["1340", "1340"]))
            #expect(after.map { $0[1] } == ["1", "1"], "tshark finds the TCP checksums valid")
            #expect(Support.tshark(output, fields: ["frame.number"]).count == Support.tshark(input, fields: ["frame.number"]).count)
        }
    }
}

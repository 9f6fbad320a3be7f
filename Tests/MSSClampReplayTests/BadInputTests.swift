import Foundation
import MSSClampCore
import MSSClampReplay
import MSSClampReport
import TestSupport
import Testing

/// Broken captures and bad policies: a clear message, what was read, the right exit status.
@Suite struct BadInputTests {
    @Test func truncatedCaptureReportsWhatWasReadThenFails() throws {
        let directory = Support.temporaryDirectory("trunc")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let whole = try Data(contentsOf: URL(fileURLWithPath: Support.fixtures + "/edge-ethernet.pcap"))
        let cut = directory + "/cut.pcap"
        try whole.prefix(whole.count - 30).write(to: URL(fileURLWithPath: cut))
        let result = Support.mssclamp(["dry-run", "-t", cut])
        #expect(result.status == 1)
        #expect(result.stdout.contains("mss 1460 -> 1360, clamped"), "lines before the damage are printed")
        #expect(result.stdout.contains("14 frames (Ethernet)"), "summary of what was read")
        #expect(result.stderr.contains("truncated dump file"))
        #expect(result.stderr.contains("(after 14 frames)"))

        do {
            _ = try DryRun.run(capture: cut, options: DryRunOptions(policy: .default)) { _ in }
            Issue.record("expected a read error")
        } catch {
            guard case .read(_, let partial) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(partial.frames == 14)
        }
    }

    @Test func notACapture() throws {
        let directory = Support.temporaryDirectory("bad")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/notes.txt"
        try "not a capture\n".write(toFile: path, atomically: true, encoding: .utf8)
        let result = Support.mssclamp(["dry-run", path])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("\(path): unknown file format"))
        let missing = Support.mssclamp(["dry-run", directory + "/none.pcap"])
        #expect(missing.status == 1 && missing.stderr.contains("No such file or directory"))
    }

    @Test func unwritableOutput() {
        let result = Support.mssclamp(["dry-run", Support.fixtures + "/link-raw.pcap", "-w", "/nonexistent-dir/out.pcap"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("/nonexistent-dir/out.pcap"))
    }

    @Test func badPoliciesExitTwo() throws {
        let capture = Support.fixtures + "/link-raw.pcap"
        let range = Support.mssclamp(["dry-run", capture, "--mss", "1536:1361"])
        #expect(range.status == 2)
        #expect(range.stderr == "mssclamp: command line: --mss: '1536:1361': range start 1536 is above its end 1361\n")
        let both = Support.mssclamp(["dry-run", capture, "--config", "x.yaml", "--set-mss", "1300"])
        #expect(both.status == 2 && both.stderr.contains("not both"))
        let unknownFlag = Support.mssclamp(["dry-run", capture, "--sett-mss", "1300"])
        #expect(unknownFlag.status == 2 && unknownFlag.stderr.contains("Unknown option '--sett-mss'"))

        let directory = Support.temporaryDirectory("cfg")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = directory + "/policy.yaml"
        try "rules:\n  - out-interface: eth0\n    mss: 1361-1536\n".write(toFile: config, atomically: true, encoding: .utf8)
        let file = Support.mssclamp(["dry-run", capture, "--config", config])
        #expect(file.status == 2)
        #expect(file.stderr == "mssclamp: \(config):3: rules[0].mss: range start '1361-1536' is not a number\n")
    }

    @Test func goodConfigFile() throws {
        let directory = Support.temporaryDirectory("cfg2")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = directory + "/policy.yaml"
        try """
        rules:
          - family: ipv6
            set-mss: 1340
          - family: ipv4
            mss: 1361:1536
            set-mss: 1360
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let result = Support.mssclamp(["dry-run", "-t", Support.fixtures + "/link-raw.pcap", "--config", config])
        #expect(result.status == 0)
        #expect(result.stdout.contains("mss 1460 -> 1360, clamped (rule 2)"))
        #expect(result.stdout.contains("mss 1440 -> 1340, clamped (rule 1)"))
    }
}

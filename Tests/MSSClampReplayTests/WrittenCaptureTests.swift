import Foundation
import MSSClampCapture
import MSSClampCore
import MSSClampReplay
import MSSClampReport
import TestSupport
import Testing

/// `--write` output, checked by an independent reader: tshark's MSS field and its checksum
/// validation, and byte equality of every frame the policy did not touch.
@Suite struct WrittenCaptureTests {
    @Test func rewrittenEdgeCaptureReadsCleanInTshark() throws {
        let directory = Support.temporaryDirectory("write")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = Support.fixtures + "/edge-ethernet.pcap"
        let output = directory + "/out.pcap"
        let result = Support.mssclamp(["dry-run", input, "--set-mss", "1400", "--insert-missing", "-w", output])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("wrote \(output): 15 frames, 8 rewritten"))

        let rows = Support.tshark(output, fields: ["frame.number", "tcp.options.mss_val", "tcp.checksum.status", "ip.checksum.status"])
        #expect(rows.count == 15)
        // Frame: expected MSS after rewriting (nil: no TCP options field to show).
        let expected: [Int: String] = [
            1: "1400", 2: "1400", 3: "1300", 4: "1400", 5: "1400", 6: "536",
            7: "1400", 8: "1400", 9: "1400", 15: "",
        ]
        for row in rows {
            let frame = Int(row[0])!
            if let mss = expected[frame] { #expect(row[1] == mss, "frame \(frame)") }
            if !row[2].isEmpty { #expect(row[2] == "1", "frame \(frame): TCP checksum good") }
            if !row[3].isEmpty { #expect(row[3] == "1", "frame \(frame): IPv4 header checksum good") }
        }

        // Untouched frames are byte-identical; changed ones differ only where they must.
        let original = try frames(input), written = try frames(output)
        #expect(original.count == written.count)
        for (index, (before, after)) in zip(original, written).enumerated() where ![1, 2, 4, 5, 6, 7, 8, 9].contains(index + 1) {
            #expect(before.bytes == after.bytes, "frame \(index + 1) untouched")
        }
        // Frame 6 had no MSS and 6 bytes of Ethernet padding: +4 bytes, padding kept at the end.
        #expect(written[5].bytes.count == original[5].bytes.count + 4)
        #expect(written[5].bytes.suffix(6) == original[5].bytes.suffix(6))
        #expect(written[5].originalLength == original[5].originalLength + 4)
    }

    @Test func snaplenTruncatedFramesAreReportedNotModified() throws {
        let directory = Support.temporaryDirectory("snap")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let snapped = directory + "/snap.pcap"
        #expect(Support.run("/usr/bin/editcap", ["-s", "60", Support.fixtures + "/edge-ethernet.pcap", snapped]).status == 0)
        let result = Support.mssclamp(["dry-run", "-t", snapped, "-w", directory + "/out.pcap"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("IP 192.0.2.10.40000 > 198.51.100.20.443: Flags [S], mss 1460, unchanged: truncated"))
        #expect(try frames(snapped).map(\.bytes) == frames(directory + "/out.pcap").map(\.bytes))
    }

    /// Found by fuzzing: a frame claiming a wire length of 2^32-1 whose SYN gets an option
    /// inserted used to trap while writing (Fuzz/regressions/capture/).
    @Test func aHugeClaimedWireLengthIsKeptNotTrapped() throws {
        let directory = Support.temporaryDirectory("huge")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input =
            #filePath.split(separator: "/").dropLast(3).reduce("") { $0 + "/" + $1 } + "/Fuzz/regressions/capture/wire-length-max-plus-insertion.pcap"
        let result = Support.mssclamp(["dry-run", input, "--set-mss", "1360", "--insert-missing", "-w", directory + "/out.pcap"])
        #expect(result.status == 0, "\(result.stderr)")
        let written = try frames(directory + "/out.pcap")
        #expect(written.count == 1 && written.first?.originalLength == Int(UInt32.max))
    }

    func frames(_ path: String) throws -> [CapturedFrame] {
        let reader = try CaptureReader(path: path)
        var result: [CapturedFrame] = []
        while let frame = try reader.next() { result.append(frame) }
        return result
    }
}

@Suite struct QuietDryRunTests {
    /// `-q` for big captures: the same capture written and the same counts, no packet lines.
    @Test func quietWritesTheSameAndPrintsOnlyCounts() throws {
        let directory = Support.temporaryDirectory("quiet")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = Support.fixtures + "/edge-ethernet.pcap"
        let loud = Support.mssclamp(["dry-run", "-t", input, "--set-mss", "1360", "-w", directory + "/loud.pcap"])
        let quiet = Support.mssclamp(["dry-run", "-q", input, "--set-mss", "1360", "-w", directory + "/quiet.pcap"])
        #expect(loud.status == 0 && quiet.status == 0)
        let packetLines = { (text: String) in text.split(separator: "\n").filter { $0.hasPrefix("IP") } }
        #expect(!packetLines(loud.stdout).isEmpty)
        #expect(packetLines(quiet.stdout).isEmpty)
        let counts = { (text: String) in text.split(separator: "\n").filter { $0.hasPrefix("  ") } }
        #expect(!counts(quiet.stdout).isEmpty && counts(quiet.stdout) == counts(loud.stdout))
        #expect(try CaptureReader(path: directory + "/quiet.pcap").next() != nil)
        let read = { (path: String) throws -> [[UInt8]] in
            let reader = try CaptureReader(path: path)
            var frames: [[UInt8]] = []
            while let frame = try reader.next() { frames.append(frame.bytes) }
            return frames
        }
        #expect(try read(directory + "/quiet.pcap") == read(directory + "/loud.pcap"))
    }
}

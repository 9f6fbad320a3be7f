import Foundation
import Glibc
import MSSClampCore
import MSSClampReplay

/// Paths and helpers shared by the replay tests.
enum Support {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let binary = ProcessInfo.processInfo.environment["MSSCLAMP_BIN"] ?? packageRoot + "/.build/debug/mssclamp"
    static let isRoot = getuid() == 0

    static func temporaryDirectory(_ name: String) -> String {
        let path = NSTemporaryDirectory() + "mssclamp-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The scapy-made captures, generated once per test process.
    static let fixtures: String = {
        let directory = temporaryDirectory("fixtures")
        let result = run("/usr/bin/python3", [packageRoot + "/Tests/Fixtures/make-captures.py", directory])
        precondition(result.status == 0, "make-captures.py failed: \(result.stderr)")
        return directory
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a program without a shell, bounded to `timeout` seconds. Output goes through
    /// files, so a chatty child can never block on a full pipe.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], timeout: Double = 120) -> Result {
        let directory = temporaryDirectory("run")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = FileManager.default.createFile(atPath: directory + "/out", contents: nil)
        _ = FileManager.default.createFile(atPath: directory + "/err", contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle(forWritingAtPath: directory + "/out")
        process.standardError = FileHandle(forWritingAtPath: directory + "/err")
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return Result(status: -1, stdout: "", stderr: "\(error)") }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        func read(_ name: String) -> String { (try? String(contentsOfFile: directory + "/" + name, encoding: .utf8)) ?? "" }
        return Result(status: process.terminationStatus, stdout: read("out"), stderr: read("err"))
    }

    static func mssclamp(_ arguments: [String]) -> Result { run(binary, arguments) }

    /// Compares with Golden/NAME, or rewrites it when UPDATE_GOLDEN=1.
    static func golden(_ name: String, _ actual: String) -> (expected: String, actual: String) {
        let path = packageRoot + "/Tests/MSSClampReplayTests/Golden/" + name
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try? actual.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let expected = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "<missing golden \(name)>"
        return (expected, actual)
    }

    /// tshark's view of a capture: one tab-separated row per frame with the given fields.
    static func tshark(_ path: String, fields: [String], filter: String? = nil) -> [[String]] {
        var arguments = ["-r", path, "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE", "-T", "fields"]
        for field in fields { arguments += ["-e", field] }
        if let filter { arguments += ["-Y", filter] }
        let result = run("/usr/bin/tshark", arguments)
        return result.stdout.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }
}

extension Trait where Self == ConditionTrait {
    /// Tests that create namespaces or need raw access.
    static var root: Self { .enabled(if: Support.isRoot, "needs root (network namespaces)") }
}

import Testing

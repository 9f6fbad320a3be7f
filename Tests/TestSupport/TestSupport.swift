import Foundation
import Glibc
import Testing

/// Helpers every integration-style test uses: where the package and binary are, running
/// programs without a shell (bounded), temporary directories, tshark.
public enum TestSupport {
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    public static let binary = ProcessInfo.processInfo.environment["MSSCLAMP_BIN"] ?? packageRoot + "/.build/debug/mssclamp"
    public static let isRoot = getuid() == 0

    public static func temporaryDirectory(_ name: String) -> String {
        let path = NSTemporaryDirectory() + "mssclamp-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs a program without a shell, bounded to `timeout` seconds. Output goes through
    /// files, so a chatty child can never block on a full pipe.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], timeout: Double = 120) -> Result {
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

    public static func mssclamp(_ arguments: [String]) -> Result { run(binary, arguments) }

    /// Runs one of the namespace scenario scripts in Tests/Integration, hard-bounded with
    /// coreutils timeout (the script cleans up on SIGTERM).
    /// `exclusive`: no other lab beside it (labs that time holds in milliseconds; only
    /// from a `.serialized` suite, so two exclusive labs never wait on each other).
    public static func scenario(_ name: String, _ arguments: [String] = [], timeout: Int = 120, exclusive: Bool = false) async -> Result {
        await lab(packageRoot + "/Tests/Integration/" + name, arguments, timeout: timeout, exclusive: exclusive)
    }

    /// A namespace lab script, bounded, waited for on a thread of its own: a lab mostly waits
    /// (on the network, on timers), and a test blocking one of Swift Testing's threads (as
    /// many as cores) would keep every other test waiting with it. `LabSlots` bounds how
    /// many labs run at once.
    public static func lab(_ script: String, _ arguments: [String] = [], timeout: Int, exclusive: Bool = false) async -> Result {
        let slots = exclusive ? LabSlots.shared.limit : 1
        for _ in 0..<slots { await LabSlots.shared.acquire() }
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result, Never>) in
            Thread {
                continuation.resume(
                    returning: run("/usr/bin/timeout", ["-k", "10", "\(timeout)", "/bin/bash", script] + arguments, timeout: Double(timeout + 20)))
            }.start()
        }
        for _ in 0..<slots { await LabSlots.shared.release() }
        return result
    }

    /// `key=value` pairs from lines starting with "RESULT " in a scenario's output.
    public static func results(_ output: String) -> [String: String] {
        var pairs: [String: String] = [:]
        for line in output.split(separator: "\n") where line.hasPrefix("RESULT ") {
            for word in line.dropFirst(7).split(separator: " ") {
                let parts = word.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { pairs[String(parts[0])] = String(parts[1]) }
            }
        }
        return pairs
    }

    /// tshark's view of a capture: one tab-separated row per frame with the given fields.
    public static func tshark(_ path: String, fields: [String], filter: String? = nil) -> [[String]] {
        var arguments = ["-r", path, "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE", "-T", "fields"]
        for field in fields { arguments += ["-e", field] }
        if let filter { arguments += ["-Y", filter] }
        let result = run("/usr/bin/tshark", arguments)
        return result.stdout.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }
}

extension Trait where Self == ConditionTrait {
    /// Tests that create namespaces or need raw access.
    public static var root: Self { .enabled(if: TestSupport.isRoot, "needs root (network namespaces)") }
}

/// At most `limit` namespace labs at once: each is light alone (a third of a core), but
/// labs that time a restart or count a burst must not share two cores with many others
/// (three at once beside other load: the restart lab's sender fell behind its 10k SYN/s).
public actor LabSlots {
    public static let shared = LabSlots(limit: 2)
    nonisolated let limit: Int
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { self.limit = limit }

    func acquire() async {
        if running < limit {
            running += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            running -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}

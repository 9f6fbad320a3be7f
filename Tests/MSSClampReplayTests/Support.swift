import Foundation
import TestSupport

/// Replay-test helpers on top of TestSupport: the scapy fixtures and golden files.
enum Support {
    static var packageRoot: String { TestSupport.packageRoot }
    static func temporaryDirectory(_ name: String) -> String { TestSupport.temporaryDirectory(name) }
    static func run(_ executable: String, _ arguments: [String], timeout: Double = 120) -> TestSupport.Result {
        TestSupport.run(executable, arguments, timeout: timeout)
    }
    static func mssclamp(_ arguments: [String]) -> TestSupport.Result { TestSupport.mssclamp(arguments) }
    static func tshark(_ path: String, fields: [String], filter: String? = nil) -> [[String]] {
        TestSupport.tshark(path, fields: fields, filter: filter)
    }

    /// The scapy-made captures, generated once per test process.
    static let fixtures: String = {
        let directory = temporaryDirectory("fixtures")
        let result = run("/usr/bin/python3", [packageRoot + "/Tests/Fixtures/make-captures.py", directory])
        precondition(result.status == 0, "make-captures.py failed: \(result.stderr)")
        return directory
    }()

    /// Compares with Golden/NAME, or rewrites it when UPDATE_GOLDEN=1.
    static func golden(_ name: String, _ actual: String) -> (expected: String, actual: String) {
        let path = packageRoot + "/Tests/MSSClampReplayTests/Golden/" + name
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try? actual.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let expected = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "<missing golden \(name)>"
        return (expected, actual)
    }
}

import Foundation
import TestSupport
import Testing

/// `mssclamp rules print` for every backend and policy shape, compared with reviewed golden
/// files (UPDATE_GOLDEN=1 rewrites them; read the diff).
@Suite struct RulesPrintGoldenTests {
    static let shapes: [(name: String, arguments: [String])] = [
        ("seed", ["-o", "eth0", "-s", "198.51.100.0/24", "--mss", "1361:1536", "--set-mss", "1360"]),
        (
            "both-families",
            ["-o", "eth0", "-s", "198.51.100.0/24,2001:db8:100::/56", "--mss", "1341:1536", "--set-mss", "1360", "--set-mss-ipv6", "1340"]
        ),
        ("per-subnet", ["--config", TestSupport.packageRoot + "/Tests/MSSClampRulesTests/Golden/per-subnet.yaml"]),
        ("multi-queue", ["-o", "eth0", "--queues", "0-3"]),
        ("safety-net", ["-o", "eth0", "--mss", "1341:1536", "--set-mss", "1360", "--set-mss-ipv6", "1340", "--safety-net"]),
        ("pmtu-insert", ["-i", "wg+", "--clamp-mss-to-pmtu", "--insert-missing"]),
        ("local-output", ["-o", "eth0", "--hooks", "output,postrouting"]),
    ]

    static func check(_ name: String, _ arguments: [String]) {
        let result = TestSupport.mssclamp(["rules", "print"] + arguments)
        #expect(result.status == 0, "\(name): \(result.stderr)")
        let path = TestSupport.packageRoot + "/Tests/MSSClampRulesTests/Golden/\(name).txt"
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try? result.stdout.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let expected = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "<missing golden \(name)>"
        #expect(result.stdout == expected, "\(name)")
    }

    @Test(arguments: ["iptables-nft", "iptables-legacy", "nftables"])
    func everyShapeOnEveryBackend(_ backend: String) {
        for shape in Self.shapes {
            Self.check("\(shape.name).\(backend)", shape.arguments + ["--backend", backend])
        }
    }

    @Test func kernelEquivalent() {
        for shape in Self.shapes where !shape.arguments.contains("--hooks") {
            Self.check("\(shape.name).kernel", shape.arguments + ["--kernel-equivalent"])
        }
    }

    @Test func inputInterfaceCannotHookLocalTraffic() {
        let result = TestSupport.mssclamp(["rules", "install", "-i", "wg0", "--hooks", "output", "--backend", "iptables-nft"])
        #expect(result.status == 2, "a policy the hooks cannot carry is a usage error")
        #expect(result.stderr.contains("rule 1 matches an input interface"))
    }
}

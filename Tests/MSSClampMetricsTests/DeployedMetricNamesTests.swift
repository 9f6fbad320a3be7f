import FoundationEssentials
import MSSClampCore
import MSSClampMetrics
import MSSClampStatus
import Testing

/// The alerting rules and the dashboard in deploy/ name metrics; an alert on a name the
/// worker does not export never fires. Every `mssclamp_*` name in them must be a series the
/// exporter renders once every kind of figure has been given to it.
@Suite struct DeployedMetricNamesTests {
    static func deployed(_ path: String) throws -> String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return try String(contentsOf: url.appendingPathComponent("deploy/" + path), encoding: .utf8)
    }

    /// `mssclamp_...` words in a text (series names, not the words of annotations).
    static func names(in text: String) -> Set<String> {
        var found: Set<String> = []
        var rest = Substring(text)
        while let range = rest.firstRange(of: "mssclamp_") {
            let name = rest[range.lowerBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            found.insert(String(name))
            rest = rest[range.upperBound...]
        }
        return found
    }

    static func exported() -> Set<String> {
        let exporter = MetricsExporter()
        exporter.update(SnapshotRenderingTests.everything(), rules: ["-o eth0 -> set-mss 1360"])
        let text = String(decoding: exporter.render(), as: UTF8.self)
        return Set(text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { String($0.prefix { $0 != "{" && $0 != " " }) })
    }

    @Test(arguments: ["prometheus/mssclamp-alerts.yaml", "grafana/mssclamp-dashboard.json"])
    func everyNamedMetricIsExported(_ file: String) throws {
        let named = Self.names(in: try Self.deployed(file))
        let exported = Self.exported()
        #expect(named.count >= 8, "\(file) names \(named.sorted())")
        #expect(named.subtracting(exported).isEmpty, "\(file) names metrics nobody exports: \(named.subtracting(exported).sorted())")
    }

    @Test func theRulesAndRepairsAreExported() {
        #expect(Self.exported().isSuperset(of: ["mssclamp_rules_in_force", "mssclamp_rules_repairs_total", "mssclamp_queue_up"]))
    }
}

import Foundation
import MSSClampCore
import MSSClampMetrics
import MSSClampRules
import MSSClampStatus
import Testing

/// Counters are declared once (`Snapshot.counters`) and every view renders that one
/// declaration: a counter added there and forgotten by the metrics, the state file, the stats
/// line or `status --json` fails here, as does one declared twice.
@Suite struct SnapshotRenderingTests {
    /// A snapshot where every declared counter holds its own value (its index + 1000).
    static func everything() -> Snapshot {
        var snapshot = Snapshot()
        for (index, counter) in Snapshot.counters.enumerated() { snapshot[counter] = UInt64(1000 + index) }
        snapshot.byRule = [7]
        snapshot.queues = [Snapshot.Queue(queue: 0, up: true, waiting: 1, queueDropped: 2, userDropped: 3)]
        snapshot.rulesInForce = true
        snapshot.learning = Snapshot.Learning(entries: 4, flows: 5, stallEntries: 2)
        return snapshot
    }

    @Test func declaredOnceEach() {
        let keys = Snapshot.counters.map(\.key)
        #expect(Set(keys).count == keys.count, "a key declared twice")
        let series = Snapshot.counters.map { "\($0.metric)\($0.labels.sorted { $0.key < $1.key })" }
        #expect(Set(series).count == series.count, "two counters render as one series")
        #expect(Snapshot.outcomes.count == OutcomeCounters.kinds.count, "one counter per outcome the core can give")
    }

    @Test func everyCounterIsAMetricWithItsValue() {
        let exporter = MetricsExporter()
        exporter.update(Self.everything(), rules: ["-o eth0 -> set-mss 1360"])
        let lines = String(decoding: exporter.render(), as: UTF8.self).split(separator: "\n").filter { !$0.hasPrefix("#") }
        for (index, counter) in Snapshot.counters.enumerated() {
            let labels = counter.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ",")
            let series = "mssclamp_\(counter.metric)_total" + (labels.isEmpty ? "" : "{\(labels)}")
            #expect(lines.contains("\(series) \(1000 + index)"), "\(counter.key) as \(series)")
        }
        #expect(lines.contains("mssclamp_pmtu_entries 4.0"))
        #expect(lines.contains("mssclamp_rules_in_force 1.0"))
        #expect(lines.contains("mssclamp_queue_up{queue=\"0\"} 1.0"))
        #expect(lines.contains("mssclamp_kernel_queue_dropped_total{queue=\"0\"} 2"))
    }

    @Test func everyCounterIsInTheStatusJSONAndTheStatsLine() throws {
        let snapshot = Self.everything()
        let status = WorkerStatus(
            pid: 1, netns: "net:[1]", started: 0, updated: 0, state: .running, queues: [0], threads: 1, backend: .nftables,
            managesRules: true, hooks: [.forward], safetyNet: false, countsBypass: true, policyDigest: "0badcafe", policy: [],
            expected: RulesObservation(backend: .nftables), interfaces: [], warnings: [], counters: snapshot, recent: snapshot,
            recentSeconds: 300, lastSynTime: nil, rules: nil, rulesChecked: nil, rulesError: nil)
        let health = Health(
            Health.Inputs(
                workers: [status], kernelQueues: nil, rules: nil, rulesError: nil, now: 0,
                isAlive: { _ in true }, stateDirectory: "/"))
        let json = StatusText.json(health)
        let document = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let counts = ((document?["worker"] as? [String: Any])?["counters"] as? [String: Any])?["counts"] as? [String: Any]
        for (index, counter) in Snapshot.counters.enumerated() {
            #expect((counts?[counter.key] as? Int) == 1000 + index, "status --json: \(counter.key)")
            if counter.shown != .never {
                #expect(snapshot.line.contains(" \(counter.key)=\(1000 + index)"), "stats line: \(counter.key)")
            }
        }
        #expect(snapshot.line.hasPrefix("packets=\(snapshot.packets) "))
    }

    @Test func sinceSubtractsEveryCounter() {
        let later = Self.everything()
        var earlier = later
        for counter in Snapshot.counters { earlier[counter] -= 1 }
        let delta = later.since(earlier)
        #expect(Snapshot.counters.allSatisfy { delta[$0] == 1 })
        #expect(delta.packets == UInt64(Snapshot.outcomes.count))
    }
}

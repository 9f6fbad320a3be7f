import NIOConcurrencyHelpers
import MSSClampCore
import Prometheus

/// The worker's counters in Prometheus form. Counters are declared once (name, help,
/// labels); at each scrape the exporter adds what the worker published since the last one,
/// so the hot path never touches Prometheus.
public final class MetricsExporter: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let outcomes: [Counter]
    private let overruns: Counter
    private let verdictErrors: Counter
    private let sendErrors: Counter
    private let truncated: Counter
    private let unclampedFailOpen: Counter
    private let unclampedNoWorker: Counter
    private let safetyNetClamped: Counter
    private let state: NIOLockedValueBox<State>

    struct State {
        var kernelQueues: [UInt16: (waiting: Gauge, queueDropped: Counter, userDropped: Counter, last: (UInt64, UInt64))] = [:]
        var rules: [Counter] = []
        var queueUp: [UInt16: Gauge] = [:]
        var firewall: (inForce: Gauge, repairs: Counter, last: UInt64)?
        var learning: (entries: Gauge, clamped: Counter, signals: [String: (counter: Counter, last: UInt64)], lastClamped: UInt64)?
        var ruleLabels: [String] = []
        var last = Snapshot()
    }

    /// The totals at one moment, as the exporter saw them last.
    public struct Snapshot: Sendable {
        public var byKind: [UInt64] = Array(repeating: 0, count: OutcomeCounters.kinds.count)
        public var byRule: [UInt64] = []
        public var overruns: UInt64 = 0
        public var verdictErrors: UInt64 = 0
        public var sendErrors: UInt64 = 0
        public var truncated: UInt64 = 0
        /// SYNs that passed the queue unclamped, read from the firewall's bypass counters.
        public var unclampedFailOpen: UInt64 = 0
        public var unclampedNoWorker: UInt64 = 0
        public var safetyNetClamped: UInt64 = 0

        public init(byKind: [UInt64], byRule: [UInt64], overruns: UInt64, verdictErrors: UInt64, sendErrors: UInt64, truncated: UInt64) {
            self.byKind = byKind
            self.byRule = byRule
            self.overruns = overruns
            self.verdictErrors = verdictErrors
            self.sendErrors = sendErrors
            self.truncated = truncated
        }

        init() {}
    }

    public init() {
        let registry = self.registry
        outcomes = OutcomeCounters.kinds.map { kind in
            MetricsExporter.counter(registry, "packets", "Queued packets by what mssclamp did (clamped, inserted, unchanged, dropped) and why.",
                                    labels: [("action", kind.action), ("reason", kind.reason ?? "")])
        }
        overruns = MetricsExporter.counter(registry, "queue_overruns", "Receive buffer overruns (ENOBUFS): packets the kernel failed open or dropped meanwhile.")
        verdictErrors = MetricsExporter.counter(registry, "verdict_errors", "Verdicts the kernel refused (packet no longer queued).")
        sendErrors = MetricsExporter.counter(registry, "send_errors", "Netlink send or receive failures.")
        truncated = MetricsExporter.counter(registry, "truncated", "Packets the kernel sent truncated; never modified.")
        let unclampedHelp = "SYNs that passed the queue unclamped: fail-open (queue full or socket overrun, worker bound) or no-worker (--queue-bypass while none was bound)."
        unclampedFailOpen = MetricsExporter.counter(registry, "unclamped", unclampedHelp, labels: [("path", "fail-open")])
        unclampedNoWorker = MetricsExporter.counter(registry, "unclamped", unclampedHelp, labels: [("path", "no-worker")])
        safetyNetClamped = MetricsExporter.counter(registry, "safety_net_clamped", "Of the SYNs that passed the queue, those the kernel's safety net clamped.")
        state = NIOLockedValueBox(State())
    }

    /// Adds what changed since the last call. `rules` names the policy's rules; when they
    /// change (a reload), per-rule counters start again under the new labels.
    public func update(_ snapshot: Snapshot, rules: [String]) {
        state.withLockedValue { state in
            if state.ruleLabels != rules {
                for counter in state.rules { registry.unregisterCounter(counter) }
                state.rules = rules.enumerated().map { index, summary in
                    MetricsExporter.counter(registry, "rule_decisions", "Packets decided by each policy rule.",
                                            labels: [("rule", "\(index + 1)"), ("match", summary)])
                }
                state.ruleLabels = rules
                state.last.byRule = Array(repeating: 0, count: rules.count)
            }
            func delta(_ now: UInt64, _ then: UInt64) -> Int64 { now >= then ? Int64(now - then) : Int64(now) }
            for (index, counter) in outcomes.enumerated() where index < snapshot.byKind.count {
                counter.increment(by: delta(snapshot.byKind[index], state.last.byKind[index]))
            }
            if snapshot.byRule.count == state.rules.count {
                for (index, counter) in state.rules.enumerated() {
                    counter.increment(by: delta(snapshot.byRule[index], state.last.byRule[index]))
                }
            }
            overruns.increment(by: delta(snapshot.overruns, state.last.overruns))
            verdictErrors.increment(by: delta(snapshot.verdictErrors, state.last.verdictErrors))
            sendErrors.increment(by: delta(snapshot.sendErrors, state.last.sendErrors))
            truncated.increment(by: delta(snapshot.truncated, state.last.truncated))
            unclampedFailOpen.increment(by: delta(snapshot.unclampedFailOpen, state.last.unclampedFailOpen))
            unclampedNoWorker.increment(by: delta(snapshot.unclampedNoWorker, state.last.unclampedNoWorker))
            safetyNetClamped.increment(by: delta(snapshot.safetyNetClamped, state.last.safetyNetClamped))
            state.last = snapshot
        }
    }

    /// `mssclamp_<name>_total`, declared once with its help text.
    static func counter(_ registry: PrometheusCollectorRegistry, _ name: String, _ help: String, labels: [(String, String)] = []) -> Counter {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "mssclamp", metricName: name, unitName: "total", helpText: help),
            labels: labels)
    }

    /// The kernel's per-queue figures (absolute counts in, deltas out).
    public func update(kernelQueues: [(queue: UInt16, waiting: UInt64, queueDropped: UInt64, userDropped: UInt64)]) {
        state.withLockedValue { state in
            for stats in kernelQueues {
                if state.kernelQueues[stats.queue] == nil {
                    let labels = [("queue", "\(stats.queue)")]
                    state.kernelQueues[stats.queue] = (
                        registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "mssclamp", metricName: "kernel_queue_waiting", unitName: "packets",
                                                                            helpText: "Packets waiting in the kernel queue now (fail-open accepts past --queue-maxlen)."), labels: labels),
                        MetricsExporter.counter(registry, "kernel_queue_dropped", "Packets the kernel dropped because the queue was full (fail-open off).", labels: labels),
                        MetricsExporter.counter(registry, "kernel_user_dropped", "Packets the kernel could not send to mssclamp (socket buffer full).", labels: labels),
                        (0, 0))
                }
                guard let entry = state.kernelQueues[stats.queue] else { continue }
                entry.waiting.set(Int64(clamping: stats.waiting))
                entry.queueDropped.increment(by: Int64(clamping: stats.queueDropped &- min(stats.queueDropped, entry.last.0)))
                entry.userDropped.increment(by: Int64(clamping: stats.userDropped &- min(stats.userDropped, entry.last.1)))
                state.kernelQueues[stats.queue]?.last = (stats.queueDropped, stats.userDropped)
            }
        }
    }

    /// `--learn-pmtu`: `mssclamp_pmtu_entries` (live learned path MTUs),
    /// `mssclamp_pmtu_signals_total{result}` (ICMP believed as `learned`, or refused by
    /// reason) and `mssclamp_pmtu_clamped_total` (SYNs a learned entry lowered). Absolute
    /// totals in; declared on first use, so a worker that does not learn shows none.
    public func update(learning entries: Int, signals: [(result: String, count: UInt64)], clamped: UInt64) {
        state.withLockedValue { state in
            if state.learning == nil {
                state.learning = (
                    registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "mssclamp", metricName: "pmtu_entries",
                                                                        helpText: "Path MTUs learned from ICMP and not yet expired."), labels: []),
                    MetricsExporter.counter(registry, "pmtu_clamped", "SYNs lowered by a learned path MTU (below what the policy set)."),
                    [:], 0)
            }
            guard var learning = state.learning else { return }
            learning.entries.set(Int64(entries))
            learning.clamped.increment(by: Int64(clamping: clamped &- min(clamped, learning.lastClamped)))
            learning.lastClamped = clamped
            for (result, count) in signals {
                let entry = learning.signals[result] ?? (MetricsExporter.counter(
                    registry, "pmtu_signals", "ICMP frag-needed / packet-too-big seen: learned, or refused and why.", labels: [("result", result)]), 0)
                entry.counter.increment(by: Int64(clamping: count &- min(count, entry.last)))
                learning.signals[result] = (entry.counter, count)
            }
            state.learning = learning
        }
    }

    /// `mssclamp_queue_up{queue}`: 1 while the queue is bound and read, else 0.
    public func update(queuesUp: [(queue: UInt16, up: Bool)]) {
        state.withLockedValue { state in
            for (queue, up) in queuesUp {
                if state.queueUp[queue] == nil {
                    state.queueUp[queue] = registry.makeGauge(
                        descriptor: MetricNameDescriptor(namespace: "mssclamp", metricName: "queue_up", helpText: "1 while the queue is bound in the kernel and read by a live worker thread."),
                        labels: [("queue", "\(queue)")])
                }
                state.queueUp[queue]?.set(Int64(up ? 1 : 0))
            }
        }
    }

    /// `mssclamp_rules_in_force` (1 while the worker's last reading found its rules whole)
    /// and `mssclamp_rules_repairs_total` (times it put them back). Absent when the worker
    /// does not manage rules (`--no-install-rules`) or has not read them yet.
    public func update(rulesInForce: Bool?, repairs: UInt64) {
        guard let rulesInForce else { return }
        state.withLockedValue { state in
            if state.firewall == nil {
                state.firewall = (
                    registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "mssclamp", metricName: "rules_in_force",
                                                                        helpText: "1 while the worker's last reading found all its rules in the firewall."), labels: []),
                    MetricsExporter.counter(registry, "rules_repairs", "Times the worker put back rules someone removed (a firewall reload, a flush)."), 0)
            }
            state.firewall?.inForce.set(Int64(rulesInForce ? 1 : 0))
            if let last = state.firewall?.last {
                state.firewall?.repairs.increment(by: Int64(repairs >= last ? repairs - last : repairs))
                state.firewall?.last = repairs
            }
        }
    }

    public func render() -> [UInt8] {
        registry.emitToBuffer()
    }
}

import MSSClampStatus
import NIOConcurrencyHelpers
import Prometheus

/// The daemon's `Snapshot` in Prometheus form. Every counter comes from the snapshot's one
/// declaration (`Snapshot.counters`: metric name, labels, help); at each scrape the exporter
/// adds what changed since the last one, so the hot path never touches Prometheus.
public final class MetricsExporter: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let state: NIOLockedValueBox<State>

    struct State {
        /// By declared key; learning's only once a snapshot carries learning.
        var counters: [String: Counter] = [:]
        var rules: [Counter] = []
        var ruleLabels: [String] = []
        var queues: [UInt16: (up: Gauge, waiting: Gauge, queueDropped: Counter, userDropped: Counter)] = [:]
        var rulesInForce: Gauge?
        var pmtuEntries: Gauge?
        var stallEntries: Gauge?
        /// `clamp-to-interface`: MTU, MSS IPv4, MSS IPv6 per followed interface.
        var followed: [String: (mtu: Gauge, mss4: Gauge, mss6: Gauge)] = [:]
        var last = Snapshot()
    }

    public init() {
        var state = State()
        for counter in Snapshot.counters where !Snapshot.isLearning(counter) {
            state.counters[counter.key] = MetricsExporter.counter(registry, counter)
        }
        self.state = NIOLockedValueBox(state)
    }

    /// Adds what changed since the last call. `rules` names the policy's rules; when they
    /// change (a reload), per-rule counters start again under the new labels.
    public func update(_ snapshot: Snapshot, rules: [String]) {
        state.withLockedValue { state in
            if state.ruleLabels != rules {
                for counter in state.rules { registry.unregisterCounter(counter) }
                state.rules = rules.enumerated().map { index, summary in
                    MetricsExporter.counter(
                        registry, "rule_decisions", "Packets decided by each policy rule.",
                        labels: [("rule", "\(index + 1)"), ("match", summary)])
                }
                state.ruleLabels = rules
                state.last.byRule = Array(repeating: 0, count: rules.count)
            }
            if snapshot.byRule.count == state.rules.count && state.last.byRule.count == state.rules.count {
                for (index, counter) in state.rules.enumerated() {
                    counter.increment(by: MetricsExporter.delta(snapshot.byRule[index], state.last.byRule[index]))
                }
            }
            for counter in Snapshot.counters where !Snapshot.isLearning(counter) || snapshot.learning != nil {
                if state.counters[counter.key] == nil { state.counters[counter.key] = MetricsExporter.counter(registry, counter) }
                state.counters[counter.key]?.increment(by: MetricsExporter.delta(snapshot[counter], state.last[counter]))
            }
            if let learning = snapshot.learning {
                if state.pmtuEntries == nil {
                    state.pmtuEntries = registry.makeGauge(
                        descriptor: MetricNameDescriptor(
                            namespace: "mssclamp", metricName: "pmtu_entries", helpText: "Path MTUs learned from ICMP and not yet expired."),
                        labels: [])
                }
                state.pmtuEntries?.set(Int64(learning.entries))
                if let stalls = learning.stallEntries {
                    if state.stallEntries == nil {
                        state.stallEntries = registry.makeGauge(
                            descriptor: MetricNameDescriptor(
                                namespace: "mssclamp", metricName: "stall_destinations",
                                helpText: "Destinations whose SYNs are clamped by what stalled flows taught (--learn-stalls)."),
                            labels: [])
                    }
                    state.stallEntries?.set(Int64(stalls))
                }
            }
            if let inForce = snapshot.rulesInForce {
                if state.rulesInForce == nil {
                    state.rulesInForce = registry.makeGauge(
                        descriptor: MetricNameDescriptor(
                            namespace: "mssclamp", metricName: "rules_in_force",
                            helpText: "1 while the worker's last reading found all its rules in the firewall."), labels: [])
                }
                state.rulesInForce?.set(Int64(inForce ? 1 : 0))
            }
            for queue in snapshot.queues { update(&state, queue, last: state.last.queues.first { $0.queue == queue.queue }) }
            for interface in snapshot.followed ?? [] { update(&state, interface) }
            state.last = snapshot
        }
    }

    /// `mssclamp_queue_up{queue}` and the kernel's per-queue figures (absolute counts in,
    /// deltas out; absent while /proc cannot be read).
    private func update(_ state: inout State, _ queue: Snapshot.Queue, last: Snapshot.Queue?) {
        if state.queues[queue.queue] == nil {
            let labels = [("queue", "\(queue.queue)")]
            state.queues[queue.queue] = (
                registry.makeGauge(
                    descriptor: MetricNameDescriptor(
                        namespace: "mssclamp", metricName: "queue_up",
                        helpText: "1 while the queue is bound in the kernel and read by a live worker thread."), labels: labels),
                registry.makeGauge(
                    descriptor: MetricNameDescriptor(
                        namespace: "mssclamp", metricName: "kernel_queue_waiting", unitName: "packets",
                        helpText: "Packets waiting in the kernel queue now (fail-open accepts past --queue-maxlen)."), labels: labels),
                MetricsExporter.counter(
                    registry, "kernel_queue_dropped", "Packets the kernel dropped because the queue was full (fail-open off).", labels: labels),
                MetricsExporter.counter(
                    registry, "kernel_user_dropped", "Packets the kernel could not send to mssclamp (socket buffer full).", labels: labels)
            )
        }
        guard let gauges = state.queues[queue.queue] else { return }
        gauges.up.set(Int64(queue.up ? 1 : 0))
        if let waiting = queue.waiting { gauges.waiting.set(Int64(clamping: waiting)) }
        if let dropped = queue.queueDropped { gauges.queueDropped.increment(by: MetricsExporter.delta(dropped, last?.queueDropped ?? 0)) }
        if let dropped = queue.userDropped { gauges.userDropped.increment(by: MetricsExporter.delta(dropped, last?.userDropped ?? 0)) }
    }

    /// What a counter gained; one that went down restarted (a reload), so all of it is new.
    /// `mssclamp_interface_mtu{interface}` and `mssclamp_interface_mss{interface,family}`:
    /// the value `clamp-to-interface` uses now; 0 while the interface is absent or down.
    private func update(_ state: inout State, _ interface: Snapshot.FollowedInterface) {
        if state.followed[interface.name] == nil {
            func gauge(_ name: String, _ help: String, _ labels: [(String, String)]) -> Gauge {
                registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "mssclamp", metricName: name, helpText: help), labels: labels)
            }
            let mssHelp = "The MSS clamp-to-interface clamps to now (MTU minus 40 or 60); 0 while the interface is absent or down."
            state.followed[interface.name] = (
                gauge("interface_mtu", "MTU of an interface clamp-to-interface follows; 0 while absent or down.", [("interface", interface.name)]),
                gauge("interface_mss", mssHelp, [("interface", interface.name), ("family", "ipv4")]),
                gauge("interface_mss", mssHelp, [("interface", interface.name), ("family", "ipv6")])
            )
        }
        guard let gauges = state.followed[interface.name] else { return }
        gauges.mtu.set(Int64(interface.mtu ?? 0))
        gauges.mss4.set(Int64(interface.mss(.ipv4) ?? 0))
        gauges.mss6.set(Int64(interface.mss(.ipv6) ?? 0))
    }

    static func delta(_ now: UInt64, _ then: UInt64) -> Int64 { Int64(clamping: now >= then ? now - then : now) }

    /// A declared counter: `mssclamp_<metric>_total{labels}`, labels in name order.
    static func counter(_ registry: PrometheusCollectorRegistry, _ counter: Snapshot.Counter) -> Counter {
        MetricsExporter.counter(registry, counter.metric, counter.help, labels: counter.labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    static func counter(_ registry: PrometheusCollectorRegistry, _ name: String, _ help: String, labels: [(String, String)] = []) -> Counter {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "mssclamp", metricName: name, unitName: "total", helpText: help),
            labels: labels)
    }

    public func render() -> [UInt8] {
        registry.emitToBuffer()
    }
}

import FoundationEssentials
import MSSClampCore
import MSSClampRules

/// `mssclamp status` as a person reads it (one screen, the verdict first, every reason on
/// a line of its own) and as JSON for machines.
public enum StatusText {
    public static func lines(_ health: Health) -> [String] {
        var lines = ["mssclamp: \(health.verdict.rawValue)"]
        let now = health.inputs.now
        if let worker = health.worker {
            let alive = health.inputs.isAlive(worker.pid)
            let state =
                switch (worker.state, alive) {
                case (.running, true): "running"
                case (.running, false): "gone without stopping (crashed or killed)"
                case (.stopped, _): "stopped cleanly"
                }
            lines.append(
                row(
                    "worker",
                    "pid \(worker.pid) \(state), started \(Health.ago(now - worker.started)), state written \(Health.ago(now - worker.updated))"
                ))
            for queue in worker.queues {
                var text = "queue \(queue): "
                if let kernel = health.inputs.kernelQueues {
                    if let stats = kernel.first(where: { $0.queue == queue }) {
                        text +=
                            "bound (port \(stats.portID)), \(stats.waiting) waiting, kernel dropped \(stats.queueDropped) (queue full) + \(stats.userDropped) (socket)"
                    } else {
                        text += "NOT bound in the kernel"
                    }
                } else {
                    text += "kernel view needs root (/proc/net/netfilter/nfnetlink_queue)"
                }
                lines.append(row(queue == worker.queues.first ? "queues" : "", text))
            }
            lines.append(row("policy", "policy:\(worker.policyDigest), \(worker.policy.count) rule(s)"))
            for (index, rule) in worker.policy.enumerated() { lines.append(row("", "rule \(index + 1): \(rule)")) }
            let total = worker.counters
            let recent = worker.recent
            // A worker that is not running counts nothing more: the bypass counter the firewall
            // keeps (read now) says what passed since.
            let running = worker.state == .running && alive
            let bypassNow = running ? nil : health.rules.map(\.bypassPackets)
            lines.append(row("SYNs", "since start: \(counts(total, bypassNow: bypassNow))"))
            lines.append(
                row("", "last \(worker.recentSeconds / 60) min: \(running ? counts(recent) : "not counted: no worker is running")"))
            lines.append(row("", "last SYN: \(worker.lastSynTime.map { Health.ago(now - $0) } ?? "none yet")"))
            if let learning = worker.learning { lines += learningLines(learning, counters: worker.counters, now: now) }
            for (index, interface) in (worker.counters.followed ?? []).enumerated() {
                lines.append(row(index == 0 ? "followed" : "", interface.text))
            }
            lines.append(row("interfaces", worker.interfaces.isEmpty ? "any (the policy names none)" : worker.interfaces.joined(separator: ", ")))
        }
        lines += rulesLines(health)
        if !health.reasons.isEmpty {
            lines.append("")
            lines.append(health.verdict == .degraded ? "degraded:" : "why:")
            lines += health.reasons.map { "  - \($0)" }
        }
        return lines
    }

    /// The counters in words, generated from their declaration (`Snapshot.counters`): the
    /// outcomes by action, then what passed the worker, then every other counter that is not
    /// zero by its key, so a counter added to the declaration shows here with no edit.
    /// Learning's counters have their own line (`learningLines`).
    static func counts(_ c: Snapshot, bypassNow: UInt64? = nil) -> String {
        var actions: [String] = []
        for counter in Snapshot.outcomes where !actions.contains(counter.action) { actions.append(counter.action) }
        var text = "\(c.packets) queued"
        for action in actions {
            let total = c.total(action)
            guard total > 0 || Self.alwaysWorded.contains(action) else { continue }
            text += ", \(total) \(Self.actionWords[action] ?? action)"
        }
        text +=
            "; unclamped past the worker: \(c[Snapshot.unclampedFailOpen]) fail-open, \(max(c[Snapshot.unclampedNoWorker], bypassNow ?? 0)) while no worker was bound"
        if let bypassNow, bypassNow > c[Snapshot.unclampedNoWorker] { text += " (the rules' bypass counter, read now)" }
        if c[Snapshot.safetyNetClamped] > 0 { text += " (safety net clamped \(c[Snapshot.safetyNetClamped]))" }
        for counter in Snapshot.counters where counter.group != .outcome && !Self.worded.contains(counter) && !Snapshot.isLearning(counter) {
            if c[counter] > 0 { text += "; \(counter.key) \(c[counter])" }
        }
        return text
    }

    /// Outcome actions said even at zero, and the words for some.
    static let alwaysWorded: Set<String> = ["clamped", "unchanged"]
    static let actionWords = ["inserted": "MSS inserted", "dropped": "dropped (malformed)"]
    /// Counters the sentence above words itself.
    static let worded: Set<Snapshot.Counter> = [Snapshot.unclampedFailOpen, Snapshot.unclampedNoWorker, Snapshot.safetyNetClamped]

    /// `--learn-pmtu`: the entries (host, path MTU, MSS, time left) and the signal counts.
    static func learningLines(_ learning: WorkerStatus.Learning, counters c: Snapshot, now: Double) -> [String] {
        let ignored = Snapshot.pmtuRefused.filter { c[$0] > 0 }.map { "\($0.labels["result"] ?? $0.key) \(c[$0])" }.sorted()
        let learned = c[Snapshot.pmtuLearned]
        var lines = [
            row(
                "learning",
                "\(learning.entries.count) path MTU(s) learned and live (each for \(Int(learning.lifetime)) s); "
                    + "ICMP seen \(learned + c.refused): \(learned) believed, \(c.refused) refused"
                    + (ignored.isEmpty ? "" : " (\(ignored.joined(separator: ", ")))")
                    + "; \(c[Snapshot.pmtuClamped]) SYN(s) clamped by learning")
        ]
        for entry in learning.entries {
            lines.append(row("", "\(entry.host): path MTU \(entry.mtu) -> MSS \(entry.mss), expires in \(max(0, Int(entry.expires - now))) s"))
        }
        if let stalls = learning.stalls {
            lines.append(
                row(
                    "stalls",
                    "\(stalls.count) destination(s) learned from stalled flows (no ICMP); \(c[Snapshot.stalledFlows]) flow(s) judged stalled"
                        + (c[Snapshot.starvedFlows] > 0 ? ", \(c[Snapshot.starvedFlows]) starved by congestion (not learned)" : "")))
            for stall in stalls {
                lines.append(
                    row(
                        "",
                        "\(stall.host): path MTU \(stall.mtu) -> MSS \(stall.mss) (stalled at \(stall.stalledAt), \(stall.confirmed ? "confirmed" : "searching")), next try higher in \(max(0, Int(stall.raiseAt - now))) s"
                    ))
            }
        }
        return lines
    }

    static func rulesLines(_ health: Health) -> [String] {
        guard let worker = health.worker else {
            guard let rules = health.rules else { return [row("rules", "not read (\(health.inputs.rulesError ?? "unknown"))")] }
            return [
                row(
                    "rules",
                    rules.isEmpty
                        ? "none of mssclamp's (\(rules.backend))"
                        : "\(rules.backend): mssclamp rules present, policy:\(rules.digests.sorted().joined(separator: ","))")
            ]
        }
        guard worker.managesRules else { return [row("rules", "not managed by mssclamp (--no-install-rules): your own rules feed the queue")] }
        guard let rules = health.rules else { return [row("rules", "not read (\(health.inputs.rulesError ?? worker.rulesError ?? "unknown"))")] }
        var lines: [String] = []
        for name in IPFamily.allCases where worker.expected[name].queueRules > 0 || !rules[name].isEmpty {
            let family = rules[name]
            let jumps = family.hooks.isEmpty ? "no jump" : family.hooks.map { "\($0) -> queue" }.joined(separator: ", ")
            var text = "\(name): \(jumps), \(family.queueRules)/\(worker.expected[name].queueRules) queueing rule(s)"
            if worker.learning != nil { text += family.steersSignals ? ", ICMP signals -> queue" : ", ICMP signals NOT steered" }
            text += family.bypassCounting ? ", bypass counted (\(family.bypassPackets))" : ", bypass not counted"
            text +=
                family.safetyNetRules > 0 ? ", safety net \(family.safetyNetRules) rule(s) (\(family.safetyNetPackets) clamped)" : ", no safety net"
            lines.append(row(lines.isEmpty ? "rules" : "", text))
        }
        let digests = rules.digests.sorted().map { "policy:\($0)" }.joined(separator: ",")
        lines.append(
            row(
                lines.isEmpty ? "rules" : "",
                "\(rules.backend), \(digests.isEmpty ? "no policy" : digests)\(rules.digests == [worker.policyDigest] ? (health.verdict == .crashed || worker.state == .stopped ? " = the worker's policy" : " = the running policy") : ""); \(health.rulesSource)"
            ))
        return lines
    }

    static func row(_ label: String, _ text: String) -> String {
        label + String(repeating: " ", count: max(0, 11 - label.count)) + text
    }

    /// One JSON object with the verdict, the reasons and everything read.
    public static func json(_ health: Health) -> String {
        struct Document: Encodable {
            var healthy: Bool
            var verdict: Health.Verdict
            var reasons: [String]
            var worker: WorkerStatus?
            var kernelQueues: [KernelQueueStats]?
            var rules: RulesObservation?
            var rulesSource: String
            var now: Double
        }
        return StatusStore.json(
            Document(
                healthy: health.isHealthy, verdict: health.verdict, reasons: health.reasons, worker: health.worker,
                kernelQueues: health.inputs.kernelQueues, rules: health.rules, rulesSource: health.rulesSource, now: health.inputs.now))
    }
}

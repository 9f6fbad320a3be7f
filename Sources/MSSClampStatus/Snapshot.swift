import MSSClampCore
import MSSClampLearning

/// Everything a running worker counts, at one moment: outcomes by reason, the queue
/// transport, SYNs that passed the queue, rule repairs, the learner, and each queue as the
/// kernel sees it. The one type the stats line, the state file (so `status`) and the
/// Prometheus metrics render; each counter is declared once, in `Snapshot.counters`, with
/// its key (log line and JSON), its metric and its help text.
public struct Snapshot: Codable, Sendable, Equatable {
    /// Every process-wide counter, by its declared key. A key absent reads as zero.
    public var counts: [String: UInt64] = [:]
    /// Decisions by policy rule, in rule order (they start again when a reload changes rules).
    public var byRule: [UInt64] = []
    /// Each queue: whether a live thread reads it, and the kernel's own figures.
    public var queues: [Queue] = []
    /// Whether the worker's last reading found its rules whole; nil when they are not its
    /// to manage (`--no-install-rules`) or not read yet.
    public var rulesInForce: Bool?
    /// `--learn-pmtu`: path MTUs learned and live now, flows remembered; nil when not learning.
    public var learning: Learning?
    /// `clamp-to-interface`: each followed interface and its MTU now (nil: absent or down);
    /// nil when the policy follows none.
    public var followed: [FollowedInterface]?

    public init() {}

    public struct FollowedInterface: Codable, Sendable, Equatable {
        public var name: String
        public var mtu: Int?

        public init(name: String, mtu: Int?) {
            self.name = name
            self.mtu = mtu
        }

        /// The MSS SYNs are clamped to for a family while the MTU holds.
        public func mss(_ family: IPFamily) -> Int? { mtu.map(family.mss(forMTU:)) }

        /// `wg0: MTU 1420, MSS 1380 (IPv4) / 1360 (IPv6)`, or why there is none.
        public var text: String {
            guard let mtu else { return "\(name): absent or down (its rules leave SYNs unchanged: interface-mtu-unknown)" }
            return "\(name): MTU \(mtu), MSS \(IPFamily.ipv4.mss(forMTU: mtu)) (IPv4) / \(IPFamily.ipv6.mss(forMTU: mtu)) (IPv6)"
        }
    }

    public struct Queue: Codable, Sendable, Equatable {
        public var queue: UInt16
        /// Our thread runs and (where /proc is readable) the kernel has the queue bound.
        public var up: Bool
        /// The kernel's figures (`/proc/net/netfilter/nfnetlink_queue`); nil when unreadable.
        public var waiting: UInt64?
        public var queueDropped: UInt64?
        public var userDropped: UInt64?

        public init(queue: UInt16, up: Bool, waiting: UInt64? = nil, queueDropped: UInt64? = nil, userDropped: UInt64? = nil) {
            self.queue = queue
            self.up = up
            self.waiting = waiting
            self.queueDropped = queueDropped
            self.userDropped = userDropped
        }
    }

    public struct Learning: Codable, Sendable, Equatable {
        public var entries: Int
        public var flows: Int
        /// `--learn-stalls`: destinations learned from stalled flows; nil when not watching.
        public var stallEntries: Int?

        public init(entries: Int, flows: Int, stallEntries: Int? = nil) {
            self.entries = entries
            self.flows = flows
            self.stallEntries = stallEntries
        }
    }

    public subscript(counter: Counter) -> UInt64 {
        get { counts[counter.key] ?? 0 }
        set { counts[counter.key] = newValue }
    }

    /// Queued packets answered: every outcome counted.
    public var packets: UInt64 { Snapshot.outcomes.reduce(0) { $0 + self[$1] } }

    /// Packets of one action (`clamped`, `inserted`, `unchanged`, `dropped`), all reasons.
    public func total(_ action: String) -> UInt64 {
        Snapshot.outcomes.filter { $0.action == action }.reduce(0) { $0 + self[$1] }
    }

    /// Learning signals refused, all reasons.
    public var refused: UInt64 { Snapshot.counters.filter { $0.group == .refused }.reduce(0) { $0 + self[$1] } }

    /// `self - earlier`, counter by counter (a counter that went down restarted: taken
    /// whole); what is not a counter (queues, gauges) is as now.
    public func since(_ earlier: Snapshot) -> Snapshot {
        var delta = self
        for (key, now) in counts {
            let then = earlier.counts[key] ?? 0
            delta.counts[key] = now >= then ? now - then : now
        }
        delta.byRule = byRule.count == earlier.byRule.count ? zip(byRule, earlier.byRule).map { $0 >= $1 ? $0 - $1 : $0 } : byRule
        return delta
    }
}

extension Snapshot {
    /// One counter as declared: how the stats line and JSON name it, and its metric.
    public struct Counter: Sendable, Hashable {
        public enum Group: Sendable, Hashable { case outcome, passed, transport, rules, learning, refused }
        /// When the stats line shows it.
        public enum Shown: Sendable, Hashable { case always, nonzero, never }

        /// `clamped`, `unchanged/not-syn`, `unclamped-fail-open`, …: the stats line's and
        /// the state file's name for it.
        public let key: String
        public let group: Group
        /// Prometheus: `mssclamp_<metric>_total{labels}`.
        public let metric: String
        public let labels: [String: String]
        public let help: String
        public let shown: Shown
        /// For outcomes: the action (`clamped`, …).
        public var action: String { labels["action"] ?? "" }

        init(_ key: String, _ group: Group, metric: String, labels: [String: String] = [:], help: String, shown: Shown) {
            self.key = key
            self.group = group
            self.metric = metric
            self.labels = labels
            self.help = help
            self.shown = shown
        }
    }

    static let packetsHelp = "Queued packets by what mssclamp did (clamped, inserted, unchanged, dropped) and why."
    static let unclampedHelp =
        "SYNs that passed the queue unclamped: fail-open (queue full or socket overrun, worker bound) or no-worker (--queue-bypass while none was bound)."
    static let signalsHelp = "ICMP frag-needed / packet-too-big seen: learned, or refused and why."

    /// Every outcome the packet core can give, one counter each (the core's `OutcomeCounters`
    /// order, so a worker's counts map one to one).
    public static let outcomes: [Counter] = OutcomeCounters.kinds.map { kind in
        Counter(
            kind.reason.map { "\(kind.action)/\($0)" } ?? kind.action, .outcome, metric: "packets",
            labels: ["action": kind.action, "reason": kind.reason ?? ""], help: packetsHelp, shown: .nonzero)
    }

    public static let unclampedFailOpen = Counter(
        "unclamped-fail-open", .passed, metric: "unclamped", labels: ["path": "fail-open"], help: unclampedHelp, shown: .nonzero)
    public static let unclampedNoWorker = Counter(
        "unclamped-no-worker", .passed, metric: "unclamped", labels: ["path": "no-worker"], help: unclampedHelp, shown: .nonzero)
    public static let safetyNetClamped = Counter(
        "safety-net-clamped", .passed, metric: "safety_net_clamped",
        help: "Of the SYNs that passed the queue, those the kernel's safety net clamped.", shown: .nonzero)
    public static let overruns = Counter(
        "overruns", .transport, metric: "queue_overruns",
        help: "Receive buffer overruns (ENOBUFS): packets the kernel failed open or dropped meanwhile.", shown: .always)
    public static let verdictErrors = Counter(
        "verdict-errors", .transport, metric: "verdict_errors", help: "Verdicts the kernel refused (packet no longer queued).", shown: .always)
    public static let sendErrors = Counter(
        "send-errors", .transport, metric: "send_errors", help: "Netlink send or receive failures.", shown: .nonzero)
    public static let truncated = Counter(
        "truncated", .transport, metric: "truncated", help: "Packets the kernel sent truncated; never modified.", shown: .nonzero)
    public static let rulesRepairs = Counter(
        "rules-repairs", .rules, metric: "rules_repairs",
        help: "Times the worker put back rules someone removed (a firewall reload, a flush).", shown: .nonzero)
    public static let pmtuLearned = Counter(
        "pmtu-learned", .learning, metric: "pmtu_signals", labels: ["result": "learned"], help: signalsHelp, shown: .always)
    public static let pmtuRefused: [Counter] = PathMTULearner.Ignored.allCases.map {
        Counter("pmtu-refused/\($0.rawValue)", .refused, metric: "pmtu_signals", labels: ["result": $0.rawValue], help: signalsHelp, shown: .nonzero)
    }
    public static let stalledFlows = Counter(
        "stalled-flows", .learning, metric: "stalled_flows",
        help: "Forwarded flows judged stalled with no ICMP (a large segment sent again and again, nothing newer): --learn-stalls.",
        shown: .nonzero)
    public static let starvedFlows = Counter(
        "starved-flows", .learning, metric: "starved_flows",
        help:
            "Forwarded flows that looked stalled toward a client that acknowledged packets as large on another flow: congestion, nothing learned (--learn-stalls).",
        shown: .nonzero)
    public static let pmtuClamped = Counter(
        "pmtu-clamped", .learning, metric: "pmtu_clamped", help: "SYNs lowered by a learned path MTU (below what the policy set).", shown: .always)

    /// The declaration: every counter a worker keeps, in the stats line's order.
    public static let counters: [Counter] =
        outcomes
        + [
            unclampedFailOpen, unclampedNoWorker, safetyNetClamped, overruns, verdictErrors, sendErrors, truncated, rulesRepairs,
            pmtuLearned,
        ] + pmtuRefused + [pmtuClamped, stalledFlows, starvedFlows]

    /// Whether a counter belongs to learning (shown, exported only while learning).
    public static func isLearning(_ counter: Counter) -> Bool { counter.group == .learning || counter.group == .refused }

    /// The one-line summary for the periodic log, the exit line and systemd's STATUS=.
    public var line: String {
        var parts = ["packets=\(packets)"]
        for counter in Snapshot.counters {
            if Snapshot.isLearning(counter) && learning == nil { continue }
            if counter == Snapshot.pmtuLearned, let learning { parts.append("pmtu-entries=\(learning.entries)") }
            let value = self[counter]
            if counter.shown == .always || (counter.shown == .nonzero && value > 0) { parts.append("\(counter.key)=\(value)") }
        }
        return parts.joined(separator: " ")
    }
}

import MSSClampRules

/// Everything `status` looked at, and the verdict: healthy, or degraded with one reason per
/// problem. Pure: the inputs are read elsewhere, so every verdict can be tested.
public struct Health: Sendable {
    /// What status saw.
    public struct Inputs: Sendable {
        public var workers: [WorkerStatus]
        /// The kernel's queues, nil when /proc is not readable (not root).
        public var kernelQueues: [KernelQueueStats]?
        /// The firewall as status read it itself; nil when it could not (no CAP_NET_ADMIN).
        public var rules: RulesObservation?
        public var rulesError: String?
        public var now: Double
        public var isAlive: @Sendable (Int32) -> Bool
        public var stateDirectory: String

        public init(
            workers: [WorkerStatus], kernelQueues: [KernelQueueStats]?, rules: RulesObservation?, rulesError: String?,
            now: Double, isAlive: @escaping @Sendable (Int32) -> Bool, stateDirectory: String
        ) {
            self.workers = workers
            self.kernelQueues = kernelQueues
            self.rules = rules
            self.rulesError = rulesError
            self.now = now
            self.isAlive = isAlive
            self.stateDirectory = stateDirectory
        }
    }

    /// The one-word answer, each with its own wording and exit status (LSB's for a service:
    /// 3 not running, 4 unknown).
    public enum Verdict: String, Sendable, Codable {
        /// A worker is running and nothing is wrong.
        case ok = "OK"
        /// A worker is running, or rules are in force, but something is wrong.
        case degraded = "DEGRADED"
        /// The worker died without stopping (killed, crashed).
        case crashed = "CRASHED"
        /// The worker stopped cleanly (the safety net may still clamp).
        case stopped = "STOPPED"
        /// Nothing of mssclamp's here: no worker has published, no rules.
        case notRunning = "NOT RUNNING"
        /// Could not look: no worker state, and the firewall could not be read.
        case unknown = "UNKNOWN"

        public var exitStatus: Int32 {
            switch self {
            case .ok: return 0
            case .degraded, .crashed: return 1
            case .stopped, .notRunning: return 3
            case .unknown: return 4
            }
        }
    }

    public let inputs: Inputs
    public private(set) var verdict = Verdict.ok
    /// Why the verdict is not OK, one problem per line.
    public private(set) var reasons: [String] = []
    /// The worker status judged (the newest live one, else the newest).
    public let worker: WorkerStatus?
    /// The rules as judged: status's own reading, else the worker's.
    public let rules: RulesObservation?
    public let rulesSource: String

    /// A state older than this means the worker stopped writing it (hung, or gone).
    public static let staleAfter = 10.0

    public var isHealthy: Bool { verdict == .ok }

    public init(_ inputs: Inputs) {
        self.inputs = inputs
        let live = inputs.workers.filter { $0.state == .running && inputs.isAlive($0.pid) }
        worker = live.first ?? inputs.workers.first
        if let rules = inputs.rules {
            self.rules = rules
            rulesSource = "read by status"
        } else if let rules = worker?.rules {
            self.rules = rules
            rulesSource = "as the worker saw them"
        } else {
            self.rules = nil
            rulesSource = "unknown"
        }
        judge()
    }

    private mutating func judge() {
        guard let worker else {
            judgeWithoutWorker()
            return
        }
        let age = inputs.now - worker.updated
        let queueing = rules.map { $0.ipv4.queueRules + $0.ipv6.queueRules > 0 }
        let net = (rules?.hasSafetyNet ?? worker.safetyNet) ? " but the safety net (kernel TCPMSS rules)" : ""
        if worker.state != .running {
            verdict = .stopped
            reasons.append("the worker (pid \(worker.pid)) has stopped cleanly \(Health.ago(age)): nothing clamps here\(net)")
            if queueing == true {
                verdict = .degraded
                reasons.append("mssclamp queueing rules are installed but no worker answers them: SYNs pass unclamped (--queue-bypass)")
            }
            return
        } else if !inputs.isAlive(worker.pid) {
            verdict = .crashed
            reasons.append(
                queueing == false
                    ? "the worker (pid \(worker.pid)) is gone without stopping (crashed or killed) \(Health.ago(age)), and its queueing rules have been removed since: nothing clamps here\(net)"
                    : "the worker (pid \(worker.pid)) is gone without stopping (crashed or killed) \(Health.ago(age)): SYNs pass unclamped (--queue-bypass)\(worker.safetyNet ? " unless the safety net clamps them" : "")"
            )
            return
        } else if age > Health.staleAfter {
            reasons.append("the worker (pid \(worker.pid)) has not updated its state for \(Int(age)) s: it is hung")
        } else if worker.threads < worker.queues.count {
            reasons.append(
                "\(worker.queues.count - worker.threads) of \(worker.queues.count) queue thread(s) have stopped: their queues are bound but unread")
        }
        if let kernel = inputs.kernelQueues {
            for queue in worker.queues where !kernel.contains(where: { $0.queue == queue }) {
                reasons.append("queue \(queue) is not bound in the kernel: SYNs sent to it pass unclamped (--queue-bypass)")
            }
        }
        reasons += worker.warnings
        let recent = worker.recent
        if recent[Snapshot.unclampedFailOpen] > 0 {
            reasons.append(
                "\(recent[Snapshot.unclampedFailOpen]) SYN(s) passed unclamped in the last \(worker.recentSeconds / 60) min: the queue was full or the socket overran and the kernel failed open (raise --queue-maxlen or --receive-buffer)"
            )
        }
        if recent[Snapshot.overruns] > 0 {
            reasons.append(
                "\(recent[Snapshot.overruns]) receive buffer overrun(s) in the last \(worker.recentSeconds / 60) min (raise --receive-buffer)")
        }
        judgeRules(worker)
        if !reasons.isEmpty { verdict = .degraded }
    }

    /// No worker has published here: nothing installed, a stopped service (systemd removes
    /// its run directory), rules nobody answers, or the firewall unreadable.
    private mutating func judgeWithoutWorker() {
        let looked = "no mssclamp worker has published its state in this network namespace (looked in \(inputs.stateDirectory))"
        guard let rules else {
            verdict = .unknown
            reasons.append("\(looked), and the firewall could not be read (\(inputs.rulesError ?? "unknown")): could not look; run as root")
            return
        }
        if rules.isEmpty {
            verdict = .notRunning
            reasons.append("\(looked) and no mssclamp rules are installed: nothing of mssclamp's here")
        } else if rules.ipv4.queueRules + rules.ipv6.queueRules == 0 && rules.hasSafetyNet {
            verdict = .stopped
            reasons.append("\(looked): mssclamp is stopped, and its safety net (kernel TCPMSS rules) clamps meanwhile")
        } else {
            verdict = .degraded
            reasons.append(looked)
            reasons.append(
                rules.hasSafetyNet
                    ? "mssclamp rules are installed but no worker answers them: SYNs pass the queue (--queue-bypass) and only the safety net clamps them"
                    : "mssclamp rules are installed but no worker answers them: SYNs pass unclamped (--queue-bypass)")
        }
    }

    private mutating func judgeRules(_ worker: WorkerStatus) {
        guard worker.managesRules else { return }
        guard let rules else {
            reasons.append("the rules could not be read (\(inputs.rulesError ?? worker.rulesError ?? "no reading yet"))")
            return
        }
        reasons += rules.problems(expected: worker.expected)
    }

    static func ago(_ seconds: Double) -> String {
        if seconds < 1 { return "just now" }
        if seconds < 120 { return "\(Int(seconds)) s ago" }
        if seconds < 7200 { return "\(Int(seconds / 60)) min ago" }
        if seconds < 172_800 { return "\(Int(seconds / 3600)) h ago" }
        return "\(Int(seconds / 86400)) days ago"
    }
}

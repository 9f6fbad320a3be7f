import MSSClampNFQueue
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

    public let inputs: Inputs
    public private(set) var reasons: [String] = []
    /// The worker status judged (the newest live one, else the newest).
    public let worker: WorkerStatus?
    /// The rules as judged: status's own reading, else the worker's.
    public let rules: RulesObservation?
    public let rulesSource: String

    /// A state older than this means the worker stopped writing it (hung, or gone).
    public static let staleAfter = 10.0

    public var isHealthy: Bool { reasons.isEmpty }

    public init(_ inputs: Inputs) {
        self.inputs = inputs
        let live = inputs.workers.filter { $0.state == "running" && inputs.isAlive($0.pid) }
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
            reasons.append(
                "no mssclamp worker has published its state in this network namespace (looked in \(inputs.stateDirectory)): nothing clamps here")
            if let rules, !rules.isEmpty {
                reasons.append(
                    rules.hasSafetyNet
                        ? "mssclamp rules are installed but no worker answers them: SYNs pass the queue (--queue-bypass) and only the safety net clamps them"
                        : "mssclamp rules are installed but no worker answers them: SYNs pass unclamped (--queue-bypass)")
            }
            return
        }
        let age = inputs.now - worker.updated
        if worker.state != "running" {
            reasons.append("the worker (pid \(worker.pid)) has stopped: nothing clamps here\(worker.safetyNet ? " but the safety net" : "")")
        } else if !inputs.isAlive(worker.pid) {
            reasons.append(
                "the worker (pid \(worker.pid)) is gone without stopping (crashed or killed) \(Health.ago(age)): SYNs pass unclamped (--queue-bypass)\(worker.safetyNet ? " unless the safety net clamps them" : "")"
            )
        } else if age > Health.staleAfter {
            reasons.append("the worker (pid \(worker.pid)) has not updated its state for \(Int(age)) s: it is hung")
        } else if worker.threads < worker.queues.count {
            reasons.append(
                "\(worker.queues.count - worker.threads) of \(worker.queues.count) queue thread(s) have stopped: their queues are bound but unread")
        }
        let running = worker.state == "running" && inputs.isAlive(worker.pid)
        if running, let kernel = inputs.kernelQueues {
            for queue in worker.queues where !kernel.contains(where: { $0.queue == queue }) {
                reasons.append("queue \(queue) is not bound in the kernel: SYNs sent to it pass unclamped (--queue-bypass)")
            }
        }
        reasons += worker.warnings
        if running {
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
        }
        judgeRules(worker, running: running)
    }

    private mutating func judgeRules(_ worker: WorkerStatus, running: Bool) {
        guard worker.managesRules else { return }
        guard let rules else {
            reasons.append("the rules could not be read (\(inputs.rulesError ?? worker.rulesError ?? "no reading yet"))")
            return
        }
        guard running else { return }
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

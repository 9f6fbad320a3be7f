import MSSClampRules
import MSSClampWorker

/// What a running worker publishes about itself, as JSON in its state file, for
/// `mssclamp status` (which may run as another user, without the worker's privileges) to
/// read. Written whole every second and renamed into place, so a reader never sees half.
public struct WorkerStatus: Codable, Sendable, Equatable {
    public var pid: Int32
    /// The network namespace (`net:[inode]`): status only trusts a worker of its own.
    public var netns: String
    public var started: Double
    public var updated: Double
    /// `running`, or `stopped` (a clean exit leaves the file saying so).
    public var state: String
    public var queues: [UInt16]
    /// Queue threads alive now.
    public var threads: Int
    public var backend: String
    /// False with `--no-install-rules`: the operator's own rules feed the queue.
    public var managesRules: Bool
    public var hooks: [String]
    public var safetyNet: Bool
    public var countsBypass: Bool
    public var policyDigest: String
    public var policy: [String]
    /// Rules the policy needs per family, to compare with what is installed.
    public var expectedRules: [String: Int]
    /// Interfaces the policy names (`wg+` as written).
    public var interfaces: [String]
    public var warnings: [String]
    public var counters: Counters
    public var recent: Counters
    public var recentSeconds: Int
    /// When the last queued SYN was answered (to the second), nil if none yet.
    public var lastSynTime: Double?
    /// The firewall as the worker saw it last, and when.
    public var rules: RulesObservation?
    public var rulesChecked: Double?
    public var rulesError: String?
    /// `--learn-pmtu`: what was learned and what was refused; nil when not learning.
    public var learning: Learning?

    public init(
        pid: Int32, netns: String, started: Double, updated: Double, state: String, queues: [UInt16], threads: Int, backend: String, managesRules: Bool, hooks: [String], safetyNet: Bool, countsBypass: Bool, policyDigest: String, policy: [String], expectedRules: [String: Int], interfaces: [String], warnings: [String], counters: Counters, recent: Counters, recentSeconds: Int, lastSynTime: Double?, rules: RulesObservation?, rulesChecked: Double?, rulesError: String?, learning: Learning? = nil
    ) {
        self.pid = pid
        self.netns = netns
        self.started = started
        self.updated = updated
        self.state = state
        self.queues = queues
        self.threads = threads
        self.backend = backend
        self.managesRules = managesRules
        self.hooks = hooks
        self.safetyNet = safetyNet
        self.countsBypass = countsBypass
        self.policyDigest = policyDigest
        self.policy = policy
        self.expectedRules = expectedRules
        self.interfaces = interfaces
        self.warnings = warnings
        self.counters = counters
        self.recent = recent
        self.recentSeconds = recentSeconds
        self.lastSynTime = lastSynTime
        self.rules = rules
        self.rulesChecked = rulesChecked
        self.rulesError = rulesError
        self.learning = learning
    }

    /// The path-MTU learner as the worker saw it at `updated`.
    public struct Learning: Codable, Sendable, Equatable {
        public struct Entry: Codable, Sendable, Equatable {
            /// The host the path leads to; SYNs from it are clamped to `mss`.
            public var host: String
            public var mtu: Int
            public var mss: Int
            /// Wall-clock time of expiry.
            public var expires: Double

            public init(host: String, mtu: Int, mss: Int, expires: Double) {
                self.host = host
                self.mtu = mtu
                self.mss = mss
                self.expires = expires
            }
        }

        public var lifetime: Double
        public var entries: [Entry]
        /// ICMP frag-needed / packet-too-big looked at, believed, refused (by reason).
        public var signals: Int
        public var learned: Int
        public var ignored: [String: Int]
        /// SYNs a learned entry lowered, and flows remembered to tie signals to.
        public var clamped: Int
        public var flows: Int

        public init(lifetime: Double, entries: [Entry], signals: Int, learned: Int, ignored: [String: Int], clamped: Int, flows: Int) {
            self.lifetime = lifetime
            self.entries = entries
            self.signals = signals
            self.learned = learned
            self.ignored = ignored
            self.clamped = clamped
            self.flows = flows
        }
    }

    public struct Counters: Codable, Sendable, Equatable {
        public var packets: UInt64 = 0
        public var clamped: UInt64 = 0
        public var inserted: UInt64 = 0
        public var unchanged: UInt64 = 0
        public var dropped: UInt64 = 0
        public var overruns: UInt64 = 0
        public var verdictErrors: UInt64 = 0
        public var unclampedFailOpen: UInt64 = 0
        public var unclampedWhileUnbound: UInt64 = 0
        public var safetyNetClamped: UInt64 = 0

        public init() {}

        /// `self - earlier`, field by field (never below zero).
        public func since(_ earlier: Counters) -> Counters {
            func d(_ a: UInt64, _ b: UInt64) -> UInt64 { a >= b ? a - b : a }
            var c = Counters()
            c.packets = d(packets, earlier.packets)
            c.clamped = d(clamped, earlier.clamped)
            c.inserted = d(inserted, earlier.inserted)
            c.unchanged = d(unchanged, earlier.unchanged)
            c.dropped = d(dropped, earlier.dropped)
            c.overruns = d(overruns, earlier.overruns)
            c.verdictErrors = d(verdictErrors, earlier.verdictErrors)
            c.unclampedFailOpen = d(unclampedFailOpen, earlier.unclampedFailOpen)
            c.unclampedWhileUnbound = d(unclampedWhileUnbound, earlier.unclampedWhileUnbound)
            c.safetyNetClamped = d(safetyNetClamped, earlier.safetyNetClamped)
            return c
        }
    }
}

import MSSClampRules

/// What a running worker publishes about itself, as JSON in its state file, for
/// `mssclamp status` (which may run as another user, without the worker's privileges) to
/// read. Written whole every second and renamed into place, so a reader never sees half.
public struct WorkerStatus: Codable, Sendable, Equatable {
    /// What the worker says of itself: a clean exit leaves the file saying `stopped`; a
    /// file saying `running` whose pid is gone is a crash.
    public enum State: String, Codable, Sendable { case running, stopped }

    public var pid: Int32
    /// The network namespace (`net:[inode]`), for people: the kernel reuses inode numbers.
    public var netns: String
    /// The namespace's cookie (SO_NETNS_COOKIE), never reused while the system runs: status
    /// only trusts a worker whose cookie is its own. Nil where the kernel has none (< 5.14).
    public var netnsCookie: UInt64?
    public var started: Double
    public var updated: Double
    public var state: State
    public var queues: [UInt16]
    /// Queue threads alive now.
    public var threads: Int
    public var backend: Backend
    /// False with `--no-install-rules`: the operator's own rules feed the queue.
    public var managesRules: Bool
    public var hooks: [Hook]
    public var safetyNet: Bool
    public var countsBypass: Bool
    public var policyDigest: String
    public var policy: [String]
    /// The rules as the firewall lists them once the policy is installed (the backend's
    /// `expected`): what `status` compares its own reading with. Empty without
    /// managed rules.
    public var expected: RulesObservation
    /// Interfaces the policy names (`wg+` as written).
    public var interfaces: [String]
    public var warnings: [String]
    /// Everything counted since the start, and over the last `recentSeconds`.
    public var counters: Snapshot
    public var recent: Snapshot
    public var recentSeconds: Int
    /// When the last queued SYN was answered (to the second), nil if none yet.
    public var lastSynTime: Double?
    /// The firewall as the worker saw it last, and when.
    public var rules: RulesObservation?
    public var rulesChecked: Double?
    public var rulesError: String?
    /// `--learn-pmtu`: what was learned and what was refused; nil when not learning.
    public var learning: Learning?
    /// The last SIGHUP's outcome; nil before the first. `mssclamp reload` (the unit's
    /// ExecReload) waits for `generation` to pass the one it saw before signalling.
    public var reload: Reload?
    /// The arguments that rebuild this worker's policy (`--config /etc/mssclamp.yaml`, or
    /// the rule flags; empty: the default): `watch` judges by them. Nil from older workers.
    public var policySource: [String]?

    public struct Reload: Codable, Sendable, Equatable {
        /// Counts SIGHUPs handled since the start: a confirmation no later write undoes.
        public var generation: Int
        public var time: Double
        /// True when the new policy is in force (queue and rules); false: the old one stays.
        public var applied: Bool
        /// The policy in force after the reload.
        public var digest: String
        public var rules: Int
        /// Why it was refused, or what the reload noted.
        public var message: String

        public init(generation: Int, time: Double, applied: Bool, digest: String, rules: Int, message: String) {
            self.generation = generation
            self.time = time
            self.applied = applied
            self.digest = digest
            self.rules = rules
            self.message = message
        }
    }

    public init(
        pid: Int32, netns: String, netnsCookie: UInt64? = nil, started: Double, updated: Double, state: State, queues: [UInt16], threads: Int,
        backend: Backend,
        managesRules: Bool, hooks: [Hook], safetyNet: Bool, countsBypass: Bool, policyDigest: String, policy: [String], expected: RulesObservation,
        interfaces: [String], warnings: [String], counters: Snapshot, recent: Snapshot, recentSeconds: Int, lastSynTime: Double?,
        rules: RulesObservation?, rulesChecked: Double?, rulesError: String?, learning: Learning? = nil, reload: Reload? = nil,
        policySource: [String]? = nil
    ) {
        self.pid = pid
        self.netns = netns
        self.netnsCookie = netnsCookie
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
        self.expected = expected
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
        self.reload = reload
        self.policySource = policySource
    }

    /// The path MTUs learned and live at `updated` (the learner's counts are in `counters`).
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

        /// A destination learned from stalled flows (`--learn-stalls`).
        public struct Stall: Codable, Sendable, Equatable {
            public var host: String
            public var mtu: Int
            public var mss: Int
            /// The smallest packet seen stalling toward it.
            public var stalledAt: Int
            /// A clamped flow went without stalling since the step was taken.
            public var confirmed: Bool
            /// Wall-clock time the next step up is tried.
            public var raiseAt: Double

            public init(host: String, mtu: Int, mss: Int, stalledAt: Int, confirmed: Bool, raiseAt: Double) {
                self.host = host
                self.mtu = mtu
                self.mss = mss
                self.stalledAt = stalledAt
                self.confirmed = confirmed
                self.raiseAt = raiseAt
            }
        }

        public var lifetime: Double
        public var entries: [Entry]
        /// Nil when the worker does not watch for stalls.
        public var stalls: [Stall]?

        public init(lifetime: Double, entries: [Entry], stalls: [Stall]? = nil) {
            self.lifetime = lifetime
            self.entries = entries
            self.stalls = stalls
        }
    }
}

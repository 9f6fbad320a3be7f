import Glibc
import Logging
import MSSClampConfig
import MSSClampCore
import MSSClampLearning
import MSSClampMetrics
import MSSClampNFQueue
import MSSClampPrivileges
import MSSClampRules
import MSSClampStatus

/// Everything `mssclamp run` was asked, typed, with its defaults written here once (the CLI
/// shows them as its own). `validate()` refuses what would turn clamping off or cannot work
/// before anything is touched; `run()` detects the backend, confines the process, and runs
/// the daemon until SIGTERM or SIGINT.
public struct RunOptions: Sendable {
    /// Where the policy comes from: loaded at start, read again at SIGHUP (a file).
    public var policySource: PolicySource = .builtin
    /// Queues, hooks, safety net and `--learn-pmtu`, as the rules will carry them.
    public var steering = SteeringOptions()
    /// The backend; nil: detected (`auto`).
    public var backend: Backend?
    /// False with `--no-install-rules`: the operator's own rules feed the queue.
    public var installRules = true
    /// Per queue: packets the kernel may hold, and the netlink buffer.
    public var maxLength = QueueConfiguration.defaultMaxLength
    public var receiveBuffer = QueueConfiguration.defaultReceiveBuffer
    /// taskset's CPU list the queue threads are pinned to, in turn.
    public var cpus: String?
    /// Drop instead of accepting unclamped when a queue is full.
    public var failClosed = false
    /// Seconds between summary log lines (0: none).
    public var statsInterval = Daemon.Settings().statsInterval
    public var stateDirectory = StatusStore.defaultDirectory
    /// Serve Prometheus metrics at `HOST:PORT`.
    public var metrics: String?
    /// With `--learn-pmtu`: how long a learned path MTU lasts.
    public var learnExpiry = PathMTULearner.Limits.defaultLifetime
    /// With `--learn-stalls`: seconds before a lowered step is given up for the one above
    /// (RFC 8899's raise timer).
    public var stallRaiseAfter = StallLearner.Limits().raiseAfter
    /// Become this user once started as root.
    public var user: String?
    /// swift-log's level name.
    public var logLevel = "info"
    /// The command line to re-execute with once confined.
    public var arguments: [String] = CommandLine.arguments

    /// Every default, for the CLI to show as its own.
    public static let defaults = RunOptions()

    public init() {}

    /// The smallest receive buffer that holds one queued packet with its netlink headers.
    public static let smallestReceiveBuffer = 4096
    /// The longest a learned path MTU may be believed, in seconds (a day).
    public static let longestLearnExpiry: Double = 86400

    /// Settings that would turn clamping off, or cannot work, are configuration errors (exit 2).
    public func validate() throws(DaemonError) {
        guard maxLength >= 1 else {
            throw .configuration(
                "--queue-maxlen: 0 lets the kernel hold no packet, so every SYN would pass unclamped (fail-open) or be dropped; use 1 or more (default \(Self.defaults.maxLength))"
            )
        }
        guard receiveBuffer >= Self.smallestReceiveBuffer else {
            throw .configuration(
                "--receive-buffer: \(receiveBuffer) bytes cannot hold one queued packet with its netlink headers; use \(Self.smallestReceiveBuffer) or more (default \(Self.defaults.receiveBuffer))"
            )
        }
        guard statsInterval >= 0 else {
            throw .configuration("--stats-interval: \(statsInterval) must be 0 (no summary lines) or a number of seconds")
        }
        if let metrics {
            do { _ = try MetricsServer.endpoint(metrics) } catch { throw .configuration(error.description) }
        }
        _ = try cpuList()
        guard learnExpiry >= 1 && learnExpiry <= Self.longestLearnExpiry else {
            throw .configuration(
                "--learn-pmtu-expiry: \(learnExpiry) must be between 1 and \(Int(Self.longestLearnExpiry)) seconds (default \(Int(Self.defaults.learnExpiry)))"
            )
        }
        guard stallRaiseAfter >= 1 && stallRaiseAfter <= StallLearner.Limits().longestRaise else {
            throw .configuration(
                "--stall-raise-after: \(stallRaiseAfter) must be between 1 and \(Int(StallLearner.Limits().longestRaise)) seconds (default \(Int(Self.defaults.stallRaiseAfter)))"
            )
        }
        _ = try level()
    }

    /// The CPUs named by `cpus`, each one this machine has.
    func cpuList() throws(DaemonError) -> [Int] {
        guard let cpus else { return [] }
        do {
            return try CPUList.parse(cpus, cpuCount: max(1, sysconf(Int32(_SC_NPROCESSORS_CONF))))
        } catch {
            throw .configuration("--cpus: \(error)")
        }
    }

    func level() throws(DaemonError) -> Logger.Level {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw .configuration("--log-level: '\(logLevel)' is not one of trace, debug, info, notice, warning, error")
        }
        return level
    }

    /// The learner's limits, when learning.
    var learning: PathMTULearner.Limits? {
        guard steering.learnPathMTU else { return nil }
        var limits = PathMTULearner.Limits()
        limits.lifetime = learnExpiry
        return limits
    }

    /// Starts logging to stderr (the journal's priorities under systemd), checks the
    /// privilege before anything else can fail for lack of it, resolves the backend as
    /// root, confines the process, and runs the daemon until it stops.
    public func run() async throws(DaemonError) {
        try validate()
        let level = try level()
        LoggingSystem.bootstrap { label in ProgramLogHandler(label: label, level: level) }
        let logger = Logger(label: "mssclamp")
        let policy: Policy
        do throws(ConfigError) { policy = try policySource.load() } catch { throw .configuration(error.description) }
        // Said first, before a backend detection that could not read anything either.
        if !Privileges.State.current().effective.contains(.netAdmin) {
            throw DaemonError(
                "run needs CAP_NET_ADMIN (to bind the queue and install the rules); this process (uid \(geteuid())) lacks it. \(Privileges.grantHint([.netAdmin]))"
            )
        }
        let firewall = await steering.firewall(for: policy, backend: backend) { detection in
            if detection.isFallback {
                logger.warning("backend: \(detection.backend.rawValue) (auto): \(detection.reason)")
            } else {
                logger.info("backend: \(detection.backend.rawValue) (auto): \(detection.reason)")
            }
        }
        // The backend was resolved as root; the confined process must not guess again.
        let reexec = arguments + (backend == nil ? ["--backend", firewall.backend.rawValue] : [])
        try Confinement.apply(firewall: firewall, user: user, arguments: reexec, stateDirectory: stateDirectory, logger: logger)
        do { try firewall.validate(policy) } catch { throw .configuration(error.description) }
        var launch = Daemon.Launch(policy: policy, firewall: firewall, options: self)
        launch.cpus = try cpuList()
        launch.sampling = level <= .debug
        try await Daemon.run(launch, logger: logger)
    }
}

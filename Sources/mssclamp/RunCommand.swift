import ArgumentParser
import Glibc
import Logging
import MSSClampConfig
import MSSClampCore
import MSSClampDaemon
import MSSClampLearning
import MSSClampMetrics
import MSSClampNFQueue
import MSSClampPrivileges
import MSSClampStatus

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Clamp forwarded SYNs through NFQUEUE until stopped (SIGTERM/SIGINT; SIGHUP reloads --config).",
        discussion: """
            Binds the queue(s), installs the steering rules for the policy (an MSSCLAMP chain in \
            the mangle table, jumped to from FORWARD, NFQUEUE with --queue-bypass, and counters \
            for SYNs that pass the queue unclamped), and answers every queued packet. Every \
            second it publishes its state for `mssclamp status`; every 5 s it checks its rules \
            and puts back what was flushed. On SIGTERM or SIGINT it removes the rules (not the \
            safety net), drains the queue and exits 0. Needs CAP_NET_ADMIN (and CAP_NET_RAW \
            with iptables-legacy); started with more, it keeps only those, sets no_new_privs \
            and, with --user, becomes that user before it binds a queue.

            Exit status: 0 stopped cleanly; 1 a runtime failure; 2 bad usage or policy.
            """
    )

    @OptionGroup(title: "Policy")
    var policy: PolicyOptions

    @OptionGroup(title: "Steering")
    var steering: SteeringArguments

    @Flag(name: .customLong("no-install-rules"), help: "Do not install or remove rules: the queue is fed by rules of your own.")
    var noInstallRules = false

    @Option(name: .customLong("queue-maxlen"), help: ArgumentHelp("Packets the kernel may hold per queue.", valueName: "N"))
    var queueMaxLength = QueueConfiguration.defaultMaxLength

    @Option(
        name: .customLong("receive-buffer"),
        help: ArgumentHelp("Netlink receive buffer per queue, in bytes (forced past rmem_max).", valueName: "bytes"))
    var receiveBuffer = QueueConfiguration.defaultReceiveBuffer

    @Option(
        name: .customLong("cpus"),
        help: ArgumentHelp(
            "Pin the queue threads to these CPUs, one each in turn (taskset's list: 1, 2-3, 0,2).", valueName: "list"))
    var cpus: String?

    @Flag(name: .customLong("fail-closed"), help: "Drop instead of accepting unclamped when a queue is full.")
    var failClosed = false

    @Option(
        name: .customLong("stats-interval"), parsing: .unconditional,
        help: ArgumentHelp("Seconds between summary log lines (0: none).", valueName: "s"))
    var statsInterval: Int = 60

    @Option(name: .customLong("state-dir"), help: ArgumentHelp("Where to publish the state `mssclamp status` reads.", valueName: "dir"))
    var stateDirectory = StatusStore.defaultDirectory

    @Option(name: .customLong("metrics"), help: ArgumentHelp("Serve Prometheus metrics at http://HOST:PORT/metrics.", valueName: "host:port"))
    var metrics: String?

    @Option(
        name: .customLong("learn-pmtu-expiry"),
        help: ArgumentHelp(
            "With --learn-pmtu: seconds a learned path MTU lasts (the kernel's PMTU cache keeps 600).", valueName: "seconds"))
    var learnExpiry = PathMTULearner.Limits.defaultLifetime

    @Option(
        name: .customLong("user"),
        help: ArgumentHelp(
            "Run as this user once started as root (its group too, no supplementary groups).", valueName: "name"))
    var user: String?

    @Option(name: .customLong("log-level"), help: ArgumentHelp("trace, debug, info, notice, warning, error.", valueName: "level"))
    var logLevel: String = "info"

    /// Settings that would turn clamping off, or cannot work, are usage errors (exit 2).
    func validate() throws {
        guard queueMaxLength >= 1 else {
            throw ValidationError(
                "--queue-maxlen: 0 lets the kernel hold no packet, so every SYN would pass unclamped (fail-open) or be dropped; use 1 or more (default \(QueueConfiguration.defaultMaxLength))"
            )
        }
        guard receiveBuffer >= 4096 else {
            throw ValidationError(
                "--receive-buffer: \(receiveBuffer) bytes cannot hold one queued packet with its netlink headers; use 4096 or more (default \(QueueConfiguration.defaultReceiveBuffer))"
            )
        }
        guard statsInterval >= 0 else {
            throw ValidationError("--stats-interval: \(statsInterval) must be 0 (no summary lines) or a number of seconds")
        }
        if let metrics {
            do { _ = try MetricsServer.endpoint(metrics) } catch { throw ValidationError(error.description) }
        }
        if let cpus {
            do { _ = try CPUList.parse(cpus, cpuCount: Self.cpuCount) } catch { throw ValidationError("--cpus: \(error)") }
        }
        guard learnExpiry >= 1 && learnExpiry <= 86400 else {
            throw ValidationError(
                "--learn-pmtu-expiry: \(learnExpiry) must be between 1 and 86400 seconds (default \(Int(PathMTULearner.Limits.defaultLifetime)))")
        }
    }

    static var cpuCount: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_CONF))) }

    /// The learner's limits, when learning.
    var learning: PathMTULearner.Limits? {
        guard steering.learnPathMTU else { return nil }
        var limits = PathMTULearner.Limits()
        limits.lifetime = learnExpiry
        return limits
    }

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw CommandFailure.config("--log-level: '\(logLevel)' is not one of trace, debug, info, notice, warning, error")
        }
        LoggingSystem.bootstrap { label in ProgramLogHandler(label: label, level: level) }
        let logger = Logger(label: "mssclamp")
        let policy = try self.policy.policy()
        // Said first, before a backend detection that could not read anything either.
        if !Privileges.State.current().effective.contains(.netAdmin) {
            throw CommandFailure.runtime(
                "run needs CAP_NET_ADMIN (to bind the queue and install the rules); this process (uid \(geteuid())) lacks it. \(Privileges.grantHint([.netAdmin]))"
            )
        }
        let firewall = try await steering.firewall(for: policy) { detection in
            if detection.isFallback {
                logger.warning("backend: \(detection.backend.rawValue) (auto): \(detection.reason)")
            } else {
                logger.info("backend: \(detection.backend.rawValue) (auto): \(detection.reason)")
            }
        }
        // The backend was resolved as root; the confined process must not guess again.
        let arguments = CommandLine.arguments + (steering.backend.chosen == nil ? ["--backend", firewall.backend.rawValue] : [])
        do {
            try Confinement.apply(firewall: firewall, user: user, arguments: arguments, stateDirectory: stateDirectory, logger: logger)
            try firewall.validate(policy)
        } catch let error as DaemonError {
            throw error.isConfiguration ? CommandFailure.config(error.message) : CommandFailure.runtime(error.message)
        } catch {
            throw CommandFailure.config("\(error)")
        }
        var launch = Daemon.Launch(policy: policy, firewall: firewall)
        launch.settings.installRules = !noInstallRules
        launch.settings.statsInterval = statsInterval
        launch.settings.stateDirectory = stateDirectory
        launch.policySource = try self.policy.source()
        launch.maxLength = queueMaxLength
        launch.receiveBuffer = receiveBuffer
        launch.failClosed = failClosed
        launch.cpus = try cpus.map { try CPUList.parse($0, cpuCount: Self.cpuCount) } ?? []
        launch.learning = learning
        launch.sampling = level <= .debug
        launch.metrics = metrics
        do {
            try await Daemon.run(launch, logger: logger)
        } catch {
            throw error.isConfiguration ? CommandFailure.config(error.message) : CommandFailure.runtime(error.message)
        }
    }
}

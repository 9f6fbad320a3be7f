import ArgumentParser
import Glibc
import Logging
import MSSClampConfig
import MSSClampCore
import MSSClampLearning
import MSSClampMetrics
import MSSClampNFQueue
import MSSClampPrivileges
import MSSClampReplay
import MSSClampRules
import MSSClampStatus
import MSSClampWorker
import ServiceLifecycle
import UnixSignals

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
    var queueMaxLength: UInt32 = 4096

    @Option(name: .customLong("receive-buffer"), help: ArgumentHelp("Netlink receive buffer per queue, in bytes (forced past rmem_max).", valueName: "bytes"))
    var receiveBuffer: Int = 8 << 20

    @Option(name: .customLong("cpus"), help: ArgumentHelp(
        "Pin the queue threads to these CPUs, one each in turn (taskset's list: 1, 2-3, 0,2).", valueName: "list"))
    var cpus: String?

    @Flag(name: .customLong("fail-closed"), help: "Drop instead of accepting unclamped when a queue is full.")
    var failClosed = false

    @Option(name: .customLong("stats-interval"), parsing: .unconditional,
            help: ArgumentHelp("Seconds between summary log lines (0: none).", valueName: "s"))
    var statsInterval: Int = 60

    @Option(name: .customLong("state-dir"), help: ArgumentHelp("Where to publish the state `mssclamp status` reads.", valueName: "dir"))
    var stateDirectory = StatusStore.defaultDirectory

    @Option(name: .customLong("metrics"), help: ArgumentHelp("Serve Prometheus metrics at http://HOST:PORT/metrics.", valueName: "host:port"))
    var metrics: String?

    @Option(name: .customLong("learn-pmtu-expiry"), help: ArgumentHelp(
        "With --learn-pmtu: seconds a learned path MTU lasts (the kernel's PMTU cache keeps 600).", valueName: "seconds"))
    var learnExpiry: Double = 600

    @Option(name: .customLong("user"), help: ArgumentHelp(
        "Run as this user once started as root (its group too, no supplementary groups).", valueName: "name"))
    var user: String?

    @Option(name: .customLong("log-level"), help: ArgumentHelp("trace, debug, info, notice, warning, error.", valueName: "level"))
    var logLevel: String = "info"

    /// Settings that would turn clamping off, or cannot work, are usage errors (exit 2).
    func validate() throws {
        guard queueMaxLength >= 1 else {
            throw ValidationError("--queue-maxlen: 0 lets the kernel hold no packet, so every SYN would pass unclamped (fail-open) or be dropped; use 1 or more (default 4096)")
        }
        guard receiveBuffer >= 4096 else {
            throw ValidationError("--receive-buffer: \(receiveBuffer) bytes cannot hold one queued packet with its netlink headers; use 4096 or more (default 8388608)")
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
            throw ValidationError("--learn-pmtu-expiry: \(learnExpiry) must be between 1 and 86400 seconds (default 600)")
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

    /// Gives up every capability the backend does not need, switches to --user, sets
    /// no_new_privs, and re-executes itself so that all of that holds for every thread
    /// (see Privileges). The re-executed worker logs what it holds and checks what the
    /// backend will need (iptables-legacy's lock) before it touches anything.
    func confine(firewall: Firewall, logger: Logger) throws(CommandFailure) {
        let keep: Set<Capability> = firewall.backend == .iptablesLegacy ? [.netAdmin, .netRaw] : [.netAdmin]
        if getenv(Privileges.confinedMarker) == nil {
            let account: Account?
            do { account = try user.map(Account.named) } catch { throw CommandFailure.config(error.description) }
            if Privileges.needsConfining(keep: keep, user: account) {
                if let account { prepareStateDirectory(for: account) }
                // The backend was resolved as root; the confined process must not guess again.
                let arguments = CommandLine.arguments + (steering.backend == "auto" ? ["--backend", firewall.backend.rawValue] : [])
                do {
                    try Privileges.confineAndReexec(keep: keep, user: account, arguments: arguments)
                } catch where geteuid() != 0 && account == nil && Privileges.State.current().effective.isSuperset(of: keep) {
                    // Not root, already holding what the backend needs, and not allowed to
                    // drop the rest (a unit's system-call filter denies capset): its
                    // bounding set is the limit then. Said, not fatal.
                    logger.warning("privileges: cannot give up capabilities the \(firewall.backend.rawValue) backend does not need (\(error)); running with \(Privileges.State.current())")
                } catch {
                    var message = error.description
                    if firewall.backend == .iptablesLegacy && message.contains("CAP_NET_RAW") {
                        message += " (iptables-legacy talks to the kernel over a raw socket; grant CAP_NET_RAW too, or use --backend iptables-nft)"
                    }
                    throw CommandFailure.runtime(message)
                }
            }
        }
        unsetenv(Privileges.confinedMarker)
        logger.info("privileges: \(Privileges.State.current())")
        do { try firewall.preflight() } catch { throw CommandFailure.runtime(error.description) }
    }

    /// The state directory must stay writable after the switch to --user.
    func prepareStateDirectory(for account: Account) {
        mkdir(stateDirectory, 0o755)
        var info = stat()
        if stat(stateDirectory, &info) == 0 && info.st_uid == 0 { chown(stateDirectory, account.uid, account.gid) }
    }

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw CommandFailure.config("--log-level: '\(logLevel)' is not one of trace, debug, info, notice, warning, error")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "mssclamp")
        let policy = try self.policy.policy()
        let firewall = try await steering.firewall { detection in
            if detection.isFallback {
                logger.warning("backend: \(detection.backend.rawValue) (auto): \(detection.reason)")
            } else {
                logger.info("backend: \(detection.backend.rawValue) (auto): \(detection.reason)")
            }
        }
        try confine(firewall: firewall, logger: logger)
        do { try firewall.validate(policy) } catch { throw CommandFailure.config(error.description) }
        let range = firewall.options.queues
        let pinning = try cpus.map { try CPUList.parse($0, cpuCount: Self.cpuCount) } ?? []
        let configurations = range.enumerated().map { index, number in
            var configuration = QueueConfiguration(number: number)
            configuration.cpu = pinning.isEmpty ? nil : pinning[index % pinning.count]
            configuration.maxLength = queueMaxLength
            configuration.failOpen = !failClosed
            configuration.receiveBuffer = receiveBuffer
            return configuration
        }

        let worker: Worker
        do {
            worker = try Worker(policy: policy, queues: configurations, sampling: level <= .debug, learning: learning)
        } catch {
            throw CommandFailure.runtime(error.description)
        }
        var metricsServer: MetricsServer?
        defer { metricsServer?.shutdown() }
        if let metrics {
            let exporter = MetricsExporter()
            let state = worker.state
            do {
                metricsServer = try MetricsServer(listen: metrics) {
                    exporter.update(Summary.snapshot(state), rules: state.policy.rules.map(\.summary))
                    if let learner = state.learner {
                        // Copied out first: the queue threads wait on this lock, not on Prometheus.
                        let now = WorkerState.now()
                        let (entries, signals, clamped) = learner.withLockedValue { learner in
                            (learner.live(now: now).count,
                             [("learned", UInt64(learner.learnedCount))]
                                 + PathMTULearner.Ignored.allCases.map { ($0.rawValue, UInt64(learner.ignored[$0] ?? 0)) },
                             UInt64(learner.clamps))
                        }
                        exporter.update(learning: entries, signals: signals, clamped: clamped)
                    }
                    let rules = state.rules.withLockedValue { $0 }
                    exporter.update(rulesInForce: rules.inForce, repairs: rules.repairs)
                    let kernel = KernelQueueStats.readIfPermitted()
                    exporter.update(kernelQueues: (kernel ?? []).filter { range.contains($0.queue) }.map {
                        ($0.queue, $0.waiting, $0.queueDropped, $0.userDropped)
                    })
                    // Up: our threads run, and (where /proc is readable) the kernel has the queue bound.
                    let threadsUp = state.runningThreads == range.count
                    exporter.update(queuesUp: range.map { queue in
                        (queue, threadsUp && (kernel.map { $0.contains { $0.queue == queue && $0.portID != 0 } } ?? true))
                    })
                    return exporter.render()
                }
            } catch {
                _ = worker.stop(timeout: 1)
                throw CommandFailure.runtime(error.description)
            }
        }

        let monitor = WorkerMonitor(worker: worker, firewall: firewall, managesRules: !noInstallRules,
                                    store: StatusStore(directory: stateDirectory), logger: logger)
        let service = WorkerService(
            worker: worker, firewall: firewall, installRules: !noInstallRules, policyOptions: self.policy,
            statsInterval: statsInterval, monitor: monitor, logger: logger)
        let group = ServiceGroup(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger)
        do {
            try await group.run()
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure.runtime("\(error)")
        }
    }
}

/// The one-line summary of the counters, for the periodic log and the exit line.
enum Summary {
    static func snapshot(_ state: WorkerState) -> MetricsExporter.Snapshot {
        let (outcomes, transport) = state.counters
        var snapshot = MetricsExporter.Snapshot(
            byKind: outcomes.byKind, byRule: outcomes.byRule, overruns: transport.overruns,
            verdictErrors: transport.verdictErrors, sendErrors: transport.sendErrors, truncated: transport.truncated)
        let bypass = state.bypass.withLockedValue { $0 }
        snapshot.unclampedFailOpen = bypass.failOpen
        snapshot.unclampedNoWorker = bypass.whileUnbound
        snapshot.safetyNetClamped = bypass.safetyNetClamped
        return snapshot
    }

    static func line(_ state: WorkerState) -> String {
        let (outcomes, transport) = state.counters
        var parts = ["packets=\(outcomes.packets)"]
        for (index, kind) in OutcomeCounters.kinds.enumerated() where outcomes.byKind[index] > 0 {
            parts.append("\(kind.reason.map { "\(kind.action)/\($0)" } ?? kind.action)=\(outcomes.byKind[index])")
        }
        let bypass = state.bypass.withLockedValue { $0 }
        if bypass.failOpen > 0 { parts.append("unclamped-fail-open=\(bypass.failOpen)") }
        if bypass.whileUnbound > 0 { parts.append("unclamped-no-worker=\(bypass.whileUnbound)") }
        if bypass.safetyNetClamped > 0 { parts.append("safety-net-clamped=\(bypass.safetyNetClamped)") }
        parts.append("overruns=\(transport.overruns)")
        parts.append("verdict-errors=\(transport.verdictErrors)")
        if transport.sendErrors > 0 { parts.append("send-errors=\(transport.sendErrors)") }
        if let learner = state.learner {
            let now = WorkerState.now()
            parts.append(learner.withLockedValue { learner in
                let refused = learner.ignored.values.reduce(0, +)
                return "pmtu-entries=\(learner.live(now: now).count) pmtu-learned=\(learner.learnedCount) pmtu-refused=\(refused) pmtu-clamped=\(learner.clamps)"
            })
        }
        return parts.joined(separator: " ")
    }
}

import FoundationEssentials
import Logging
import MSSClampCore
import MSSClampLearning
import MSSClampNFQueue
import MSSClampReport
import MSSClampRules
import MSSClampStatus
import MSSClampWorker
import NIOConcurrencyHelpers
import ServiceLifecycle
import UnixSignals

/// The running worker's life, as a ServiceLifecycle service: start, a control loop, stop.
///
/// Order is what makes it lossless: the queues are bound (by whoever made `queues`) and
/// read before the rules are installed, so the rules never feed an unbound or unread queue;
/// systemd hears READY only once the rules are in; at stop the rules go before the queues
/// drain, and the queues are unbound only once drained.
///
/// Everything that changes the firewall after the start (a SIGHUP reload, a repair after a
/// flush) runs in one loop, one event at a time, so two changes never interleave.
public final class Daemon: Service, Sendable {
    public struct Settings: Sendable {
        /// False with `--no-install-rules`: the operator's own rules feed the queue.
        public var installRules = true
        /// Seconds between summary log lines (0: none).
        public var statsInterval = 60
        /// Where to publish the state `status` reads; nil: nowhere.
        public var stateDirectory: String?
        /// The arguments that give this worker's policy (`--config FILE`, or the rule flags;
        /// empty for the default), published so `watch` judges as this worker does.
        public var policySource: [String] = []
        /// `--learn-stalls`: where what is learned is kept across restarts; nil: nowhere.
        public var stallsFile: String?
        /// `--learn-stalls`: the learner's raise timer and the rest of its limits.
        public var stallLimits = StallLearner.Limits()
        public init() {}
    }

    /// What the control loop handles, one at a time.
    public enum Event: Sendable { case tick, reload, rulesetChanged }

    let queues: any PacketQueues
    let firewall: any Firewall
    let settings: Settings
    let logger: Logger
    /// A fresh policy for SIGHUP; nil when there is no file to read again.
    let reloadPolicy: (@Sendable () throws(DaemonError) -> Policy)?
    /// Firewalls of other backends that hold mssclamp rules now.
    let otherBackends: @Sendable () async -> [any Firewall]
    let serviceManager: ServiceManager
    /// What the firewall's counters and the repairs add to the worker's own counts.
    public let firewallCounts = NIOLockedValueBox(FirewallCounts())
    let monitor: Monitor

    public init(
        queues: any PacketQueues, firewall: any Firewall, settings: Settings, logger: Logger,
        reloadPolicy: (@Sendable () throws(DaemonError) -> Policy)? = nil,
        otherBackends: (@Sendable () async -> [any Firewall])? = nil,
        serviceManager: ServiceManager = ServiceManager()
    ) {
        self.queues = queues
        self.firewall = firewall
        self.settings = settings
        self.logger = logger
        self.reloadPolicy = reloadPolicy
        self.otherBackends =
            otherBackends ?? { [firewall] in
                await Backend.holdingRules(options: firewall.options).filter { $0 != firewall.backend }.map { $0.firewall(firewall.options) }
            }
        self.serviceManager = serviceManager
        monitor = Monitor(
            queues: queues, firewall: firewall, managesRules: settings.installRules,
            store: settings.stateDirectory.map(StatusStore.init(directory:)), counts: firewallCounts, logger: logger,
            policySource: settings.policySource)
    }

    /// Everything counted now (for the metrics).
    public func snapshot() -> Snapshot { monitor.snapshot() }

    /// The policy in force.
    public var policy: Policy { queues.state.policy }

    // MARK: the service

    public func run() async throws {
        // Bound before anything is installed: a group another logger holds is said at once.
        // Held in a Mutex to hand it to its task: the task alone takes it from there on.
        let stallWatch = StallWatch.Handle(
            try (firewall.options.learnStalls ? queues.state.learner : nil).map { table throws(DaemonError) in
                try StallWatch(
                    group: firewall.options.stallLogGroup, table: table, file: settings.stallsFile, limits: settings.stallLimits, logger: logger)
            })
        try await start()
        let (events, input) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(16))
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sighup) { input.yield(.reload) }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    input.yield(.tick)
                }
            }
            // nf_tables announces every ruleset change: a flush of ours is checked within
            // 100 ms instead of at the next 5-second poll (iptables-legacy announces nothing).
            if settings.installRules && firewall.backend.announcesChanges {
                do {
                    let watch = try RulesetWatch()
                    group.addTask {
                        while !Task.isCancelled {
                            try? await Task.sleep(for: .milliseconds(100))
                            if watch.changed() { input.yield(.rulesetChanged) }
                        }
                    }
                } catch {
                    logger.warning("rules: cannot hear nf_tables changes (\(error)); a flush is found by the 5-second check")
                }
            }
            if stallWatch.watch.withLock({ $0 != nil }) {
                group.addTask {
                    var ticks = 0
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(100))
                        let wall = Date().timeIntervalSince1970
                        ticks += 1
                        stallWatch.watch.withLock { watch in
                            watch?.poll(monotonic: WorkerState.now(), wall: wall)
                            if ticks % 10 == 0 { watch?.tick(monotonic: WorkerState.now(), wall: wall) }
                        }
                    }
                    stallWatch.watch.withLock { $0?.save() }
                }
            }
            group.addTask { [self] in
                for await event in events {
                    if Task.isCancelled { return }
                    await handle(event)
                }
            }
            try? await gracefulShutdown()
            input.finish()
            group.cancelAll()
        }
        try await stop()
    }

    // MARK: the steps, each callable alone (the tests drive them with fakes)

    /// Reads the queues, installs the rules, says READY.
    public func start() async throws(DaemonError) {
        // Read the queues before the rules are (re)installed: over a crash's leftovers SYNs
        // are queued already, and each one waits for as long as nobody reads.
        let unread = queues.start { [logger] queue, cpu in
            logger.warning("queue \(queue): could not pin its thread to CPU \(cpu) (cpuset or seccomp filter?); it runs on any CPU")
        }
        guard unread.isEmpty else {
            _ = queues.stop(timeout: 1)
            throw DaemonError(
                "could not start a thread for queue \(unread.map(String.init).joined(separator: ", ")) (thread limit?); no rules installed")
        }
        await monitor.beforeInstall()
        var notes: [String] = []
        if settings.installRules {
            do {
                notes = try await firewall.install(policy)
            } catch {
                _ = queues.stop(timeout: 1)
                _ = try? await firewall.remove()
                throw DaemonError("installing rules: \(error)")
            }
            // Before READY: once `systemctl start` returns, only this policy's rules act.
            await removeFromOtherBackends()
        }
        await monitor.installed(policy, notes: notes)
        let numbers = queues.queues
        let queueText = "queue\(numbers.count > 1 ? "s \(numbers.first ?? 0)-\(numbers.last ?? 0)" : " \(numbers.first ?? 0)")"
        let placed = settings.installRules ? "installed in \(firewall.location) (\(firewall.backend.rawValue))" : "not installed (--no-install-rules)"
        logger.info("ready: \(queueText), \(policy.rules.count) rule(s), policy:\(policy.digest), rules \(placed)")
        serviceManager.notify(.ready(status: "clamping: \(queueText), policy:\(policy.digest), \(firewall.backend.rawValue)"))
    }

    /// One event of the control loop.
    public func handle(_ event: Event) async {
        switch event {
        case .reload: await reload()
        case .rulesetChanged: await monitor.rulesetChanged()
        case .tick:
            let ticks = await monitor.tick()
            if settings.statsInterval > 0 && ticks % settings.statsInterval == 0 {
                let line = snapshot().line
                logger.info("\(line)")
                serviceManager.notify(.status(line))
            }
            if queues.state.sampling { logSamples() }
        }
    }

    /// Rules out first, then drain: nothing queued is left to the kernel's flush. With
    /// --safety-net the net stays, so SYNs are clamped by the kernel while we are down.
    public func stop() async throws(DaemonError) {
        logger.info("stopping")
        serviceManager.notify(.stopping(status: "stopping: removing the queueing rules, draining the queue"))
        var failure: String?
        if settings.installRules {
            do {
                let notes = try await firewall.remove(keepSafetyNet: firewall.options.safetyNet, policy: policy)
                for note in notes { logger.warning("rules: \(note)") }
                if firewall.options.safetyNet {
                    logger.notice(
                        "leaving the safety net (\(firewall.safetyNetLocation)) in place: SYNs stay clamped by the kernel while mssclamp is down; `mssclamp rules remove` takes it out"
                    )
                }
            } catch { failure = "removing rules: \(error)" }
        }
        if !queues.stop(timeout: 10) { logger.warning("a queue thread did not finish within 10 s") }
        await monitor.stopped()
        logger.info("stopped: \(snapshot().line)")
        if let failure { throw DaemonError(failure) }
    }

    /// Rules of ours in another backend (the backend was switched, or a host moved between
    /// iptables-nft and iptables-legacy) would go on acting beside the new ones: the old
    /// safety net clamping, the old queue rules queueing. They go once ours are in, so
    /// there is no moment without either.
    func removeFromOtherBackends() async {
        for other in await otherBackends() {
            do {
                try await other.remove()
                logger.notice("rules: removed mssclamp rules left in \(other.backend.rawValue); they are in \(firewall.backend.rawValue) now")
            } catch {
                logger.warning(
                    "rules: mssclamp rules are left in \(other.backend.rawValue) and could not be removed (\(error)); `mssclamp rules remove --backend \(other.backend.rawValue)` takes them out"
                )
            }
        }
    }

    /// SIGHUP: a good file replaces the policy and the rules follow; a bad one changes
    /// nothing and says why.
    func reload() async {
        guard let reloadPolicy else {
            logger.notice("SIGHUP: no --config to reload; policy unchanged")
            await monitor.reloaded(applied: false, message: "no --config to reload (the policy came from flags); policy unchanged")
            return
        }
        let fresh: Policy
        let notes: [String]
        do {
            fresh = try reloadPolicy()
        } catch {
            logger.error("SIGHUP: keeping the running policy: \(error.message)")
            await monitor.reloaded(applied: false, message: error.message)
            return
        }
        do {
            try firewall.validate(fresh)
            notes = settings.installRules ? try await firewall.install(fresh) : []
        } catch {
            logger.error("SIGHUP: keeping the running policy (rules not updated): \(error)")
            await monitor.reloaded(applied: false, message: "rules not updated: \(error)")
            return
        }
        queues.state.replace(policy: fresh)
        logger.info("SIGHUP: reloaded \(fresh.rules.count) rule(s), policy:\(fresh.digest)")
        serviceManager.notify(.status("clamping: reloaded policy:\(fresh.digest)"))
        await monitor.installed(fresh, notes: notes.filter { !$0.hasPrefix("replacing rules installed for another policy") })
        await monitor.reloaded(applied: true, message: "reloaded \(fresh.rules.count) rule(s)")
    }

    /// A debug line per sampled clamped SYN (at most 10 a second per queue), logged here,
    /// off the queue threads.
    func logSamples() {
        for (flow, decision) in queues.state.drainSamples() {
            logger.debug("\(TextReport.line(DryRunRecord(frame: 0, seconds: 0, microseconds: 0, flow: flow, decision: decision), showTime: false))")
        }
    }
}

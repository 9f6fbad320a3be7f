import FoundationEssentials
import Glibc
import Logging
import MSSClampConfig
import MSSClampCore
import MSSClampNFQueue
import MSSClampRules
import MSSClampStatus
import MSSClampWorker
import NIOConcurrencyHelpers

/// The daemon's eyes on itself, ticked once a second from the control loop (never from a
/// queue thread): it keeps the recent-window counts, reads the firewall every few seconds
/// (are our rules whole, which policy, how many SYNs passed the queue unclamped), puts back
/// rules someone flushed, says in the log whatever makes clamping silently stop, and
/// publishes all of it for `mssclamp status`.
actor Monitor {
    let queues: any PacketQueues
    let firewall: any Firewall
    let managesRules: Bool
    let store: StatusStore?
    let logger: Logger
    /// Shared with whoever renders snapshots (the metrics server's threads).
    let counts: NIOLockedValueBox<FirewallCounts>
    private(set) var policy: Policy
    /// What the firewall lists once `policy` is installed.
    private(set) var expected: RulesObservation
    let started = Date().timeIntervalSince1970
    let netns = StatusStore.currentNetns
    let netnsCookie = StatusStore.currentCookie
    /// Seconds of history behind the "recent" figures.
    static let recentSeconds = 300
    /// Seconds between two readings of the firewall (nf_tables changes are heard at once).
    static let rulesInterval = 5

    private var history: [(time: Double, counters: Snapshot)] = []
    /// The firewall's bypass and safety-net counters at the last reading.
    private var lastRead = (bypass: UInt64(0), net: UInt64(0))
    private var observation: RulesObservation?
    private var observed: Double?
    private var rulesError: String?
    private var warnings: [String] = []
    private var lastSynTime: Double?
    private var lastPackets: UInt64 = 0
    private var ticks = 0
    private var lastFailOpenNotice = 0.0
    private var state = WorkerStatus.State.running
    private var reload: WorkerStatus.Reload?
    private var learningLog = LearningLog()
    /// `clamp-to-interface`: the monitor's own view of the links (the queue threads keep
    /// theirs), and what it last said of each followed interface.
    private let links = LinkMTUs()
    private let followed = NIOLockedValueBox<[Snapshot.FollowedInterface]?>(nil)

    /// Published for `watch` (see `Daemon.Settings.policySource`).
    let policySource: [String]

    init(
        queues: any PacketQueues, firewall: any Firewall, managesRules: Bool, store: StatusStore?,
        counts: NIOLockedValueBox<FirewallCounts>, logger: Logger, policySource: [String] = []
    ) {
        self.policySource = policySource
        self.queues = queues
        self.firewall = firewall
        self.managesRules = managesRules
        self.store = store
        self.counts = counts
        self.logger = logger
        policy = queues.state.policy
        expected = managesRules ? firewall.expected(policy) : RulesObservation(backend: firewall.backend)
    }

    /// Before our rules are (re)installed: what a previous run's counters saw while no
    /// worker was bound. Installing resets them, so this is the only moment to read them.
    func beforeInstall() async {
        if let store {
            for name in store.removeStale(now: Date().timeIntervalSince1970, cookie: netnsCookie, netns: netns) {
                logger.debug("removed stale state \(store.directory)/\(name)")
            }
        }
        guard managesRules, let leftover = try? await firewall.observe(), !leftover.isEmpty else { return }
        counts.withLockedValue {
            $0.whileUnbound += leftover.bypassPackets
            $0.safetyNetClamped += leftover.safetyNetPackets
        }
        if leftover.bypassPackets > 0 {
            logger.warning(
                "\(leftover.bypassPackets) SYN(s) passed the queue unclamped while no worker was bound (counted by the rules a previous run left)\(leftover.safetyNetPackets > 0 ? "; the safety net clamped \(leftover.safetyNetPackets)" : "")"
            )
        }
    }

    /// A SIGHUP handled: published at once, for `mssclamp reload` waiting on it.
    func reloaded(applied: Bool, message: String) {
        reload = WorkerStatus.Reload(
            generation: (reload?.generation ?? 0) + 1, time: Date().timeIntervalSince1970, applied: applied, digest: policy.digest,
            rules: policy.rules.count, message: message)
        publish()
    }

    /// After an install (start, reload, repair): the counters start again from the new rules.
    func installed(_ policy: Policy, notes: [String]) async {
        self.policy = policy
        if managesRules { expected = firewall.expected(policy) }
        for note in notes { logger.warning("rules: \(note)") }
        let fresh = managesRules ? try? await firewall.observe() : nil
        if let fresh { counts.withLockedValue { $0.rulesInForce = fresh.problems(expected: expected).isEmpty } }
        lastRead = (fresh?.bypassPackets ?? 0, fresh?.safetyNetPackets ?? 0)
        observation = fresh
        observed = fresh == nil ? nil : Date().timeIntervalSince1970
        lint(announceAll: true)
        follow(announceAll: true)
        publish()
    }

    /// Once a second; returns how many ticks there were (the stats line's clock).
    @discardableResult
    func tick() async -> Int {
        ticks += 1
        let now = Date().timeIntervalSince1970
        let counters = snapshot()
        if counters.packets != lastPackets {
            lastPackets = counters.packets
            lastSynTime = now
        }
        if let learner = queues.state.learner {
            learningLog.tick(learner, monotonic: WorkerState.now(), wall: now, logger: logger)
        }
        follow(announceAll: false)
        history.append((now, counters))
        history.removeAll { now - $0.time > Double(Monitor.recentSeconds) }
        if ticks % Monitor.rulesInterval == 0 {
            lint(announceAll: false)
            if managesRules { await watchRules(now) }
        }
        publish()
        return ticks
    }

    /// nf_tables announced a change to the ruleset (ours included): look now whether our
    /// rules are still whole, and put back what is missing.
    func rulesetChanged() async {
        guard managesRules else { return }
        await watchRules(Date().timeIntervalSince1970)
        publish()
    }

    /// The worker is stopping: the state file says so, so `status` never mistakes it.
    func stopped() {
        state = .stopped
        publish()
    }

    /// Everything counted now; from any thread (the metrics server's too): it reads only
    /// what the queue threads publish behind locks.
    nonisolated func snapshot() -> Snapshot {
        var snapshot = Snapshot.taking(
            queues.state, firewall: counts.withLockedValue { $0 }, queues: queues.queues,
            kernel: KernelQueueStats.readIfPermitted())
        snapshot.followed = followed.withLockedValue { $0 }
        return snapshot
    }

    /// The interfaces `clamp-to-interface` rules follow, as the kernel has them now: each
    /// change of MTU, disappearance or return is said in the log as it is heard (rtnetlink),
    /// and published for `status` and the metrics.
    private func follow(announceAll: Bool) {
        let names = Array(Set(policy.rules.compactMap(\.action.followedInterface))).sorted()
        guard !names.isEmpty else {
            followed.withLockedValue { $0 = nil }
            return
        }
        let changed = links.refreshIfLinksChanged()
        let before = followed.withLockedValue { $0 } ?? []
        guard announceAll || changed || before.map(\.name) != names else { return }
        let now = names.map { Snapshot.FollowedInterface(name: $0, mtu: links.mtu($0)) }
        for interface in now where announceAll || before.first(where: { $0.name == interface.name }) != interface {
            if interface.mtu == nil {
                logger.warning("clamp-to-interface \(interface.text)")
            } else {
                logger.info("clamp-to-interface \(interface.text)")
            }
        }
        followed.withLockedValue { $0 = now }
    }

    private func watchRules(_ now: Double) async {
        let seen: RulesObservation
        do {
            seen = try await firewall.observe()
            rulesError = nil
        } catch {
            rulesError = error.description
            return
        }
        observation = seen
        observed = now
        let counted = seen.bypassPackets, net = seen.safetyNetPackets
        // Counters that went down were reinstalled by someone: count from zero again.
        let newlyUnclamped = counted >= lastRead.bypass ? counted - lastRead.bypass : counted
        let newlyNetted = net >= lastRead.net ? net - lastRead.net : net
        lastRead = (counted, net)
        let missing = seen.problems(expected: expected)
        // Each counter on its own: a path-MTU rule has a safety net but no bypass counter.
        counts.withLockedValue {
            $0.failOpen += newlyUnclamped
            $0.safetyNetClamped += newlyNetted
            $0.rulesInForce = missing.isEmpty
        }
        if newlyUnclamped > 0 && now - lastFailOpenNotice >= 60 {
            lastFailOpenNotice = now
            logger.warning(
                "\(newlyUnclamped) SYN(s) passed the queue unclamped in the last \(Monitor.rulesInterval) s: the queue was full or our socket overran and the kernel failed open\(newlyNetted > 0 ? " (the safety net clamped \(newlyNetted))" : "") — raise --queue-maxlen or --receive-buffer"
            )
        }
        guard !missing.isEmpty else { return }
        logger.warning("\(missing.joined(separator: "; ")): putting them back")
        do {
            let notes = try await firewall.install(policy)
            counts.withLockedValue { $0.repairs += 1 }
            await installed(policy, notes: notes)
            logger.notice("rules: reinstalled (\(firewall.backend.rawValue))")
        } catch {
            logger.error("rules: could not reinstall: \(error)")
        }
    }

    /// Warnings about a policy that matches nothing; logged when they change.
    private func lint(announceAll: Bool) {
        let now = policy.warnings(interfaces: InterfaceNames.current())
        for warning in now where announceAll || !warnings.contains(warning) { logger.warning("policy: \(warning)") }
        for gone in warnings where !now.contains(gone) { logger.notice("policy: no longer true: \(gone)") }
        warnings = now
    }

    /// The learned path MTUs in the form `status` reads.
    func learningStatus() -> WorkerStatus.Learning? {
        guard let learner = queues.state.learner else { return nil }
        let wall = Date().timeIntervalSince1970, mono = WorkerState.now()
        return learner.withLockedValue { learner in
            WorkerStatus.Learning(
                lifetime: learner.limits.lifetime,
                entries: learner.live(now: mono).map {
                    .init(host: $0.host.text, mtu: $0.mtu, mss: Int($0.mss), expires: wall + ($0.expires - mono))
                },
                stalls: learner.watchesStalls
                    ? learner.stallCeilings.sorted { $0.key.text < $1.key.text }.map { host, ceiling in
                        .init(
                            host: host.text, mtu: ceiling.mtu, mss: host.family.mss(forMTU: ceiling.mtu), stalledAt: ceiling.stalledAt,
                            confirmed: ceiling.confirmed, raiseAt: ceiling.raiseAt)
                    } : nil)
        }
    }

    /// The state as `status` will read it.
    var status: WorkerStatus {
        let now = Date().timeIntervalSince1970
        let counters = snapshot()
        let options = firewall.options
        let named = policy.rules.flatMap { [$0.inInterface?.name, $0.outInterface?.name].compactMap { $0 } }
        return WorkerStatus(
            pid: getpid(), netns: netns, netnsCookie: netnsCookie, started: started, updated: now, state: state, queues: queues.queues,
            threads: queues.state.runningThreads, backend: firewall.backend, managesRules: managesRules,
            hooks: options.hooks, safetyNet: options.safetyNet, countsBypass: options.countsBypass,
            policyDigest: policy.digest, policy: policy.rules.map(\.summary), expected: expected,
            interfaces: Array(Set(named)).sorted(), warnings: warnings, counters: counters,
            // Younger than the window: everything since the start is recent (the first
            // history entry, a second in, already counts the first SYNs).
            recent: counters.since(now - started <= Double(Monitor.recentSeconds) || history.isEmpty ? Snapshot() : history[0].counters),
            recentSeconds: Monitor.recentSeconds, lastSynTime: lastSynTime, rules: observation, rulesChecked: observed,
            rulesError: rulesError, learning: learningStatus(), reload: reload, policySource: policySource)
    }

    private func publish() {
        guard let store else { return }
        do {
            try store.write(status)
        } catch {
            if ticks % 60 == 1 { logger.warning("cannot write the state for `mssclamp status` in \(store.directory): \(error)") }
        }
    }
}

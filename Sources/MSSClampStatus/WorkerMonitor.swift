import FoundationEssentials
import Glibc
import Logging
import MSSClampConfig
import MSSClampCore
import MSSClampLearning
import MSSClampNFQueue
import MSSClampRules
import MSSClampWorker

/// The worker's eyes on itself, ticked once a second from one task (never from a queue
/// thread): it keeps the recent-window counters, reads the firewall every few seconds (are
/// our rules still there, which policy, how many SYNs passed the queue unclamped), puts
/// back rules someone flushed, says in the log whatever makes clamping silently stop, and
/// publishes all of it for `mssclamp status`.
public final class WorkerMonitor: @unchecked Sendable {
    let worker: Worker
    let firewall: Firewall
    let managesRules: Bool
    let store: StatusStore?
    let logger: Logger
    public private(set) var policy: Policy
    let started = Date().timeIntervalSince1970
    let netns = StatusStore.currentNetns
    /// Seconds of history behind the "recent" figures.
    public static let recentSeconds = 300
    /// Seconds between two readings of the firewall.
    public static let rulesInterval = 5

    private var history: [(time: Double, counters: WorkerStatus.Counters)] = []
    private var bypass = (counted: UInt64(0), net: UInt64(0))
    private var observation: RulesObservation?
    private var observed: Double?
    private var rulesError: String?
    private var warnings: [String] = []
    private var lastSynTime: Double?
    private var lastPackets: UInt64 = 0
    private var ticks = 0
    private var lastFailOpenNotice = 0.0
    private var state = "running"
    private var ignoredLogged = 0
    private var lastIgnoredNotice = 0.0

    public init(worker: Worker, firewall: Firewall, managesRules: Bool, store: StatusStore?, logger: Logger) {
        self.worker = worker
        self.firewall = firewall
        self.managesRules = managesRules
        self.store = store
        self.logger = logger
        policy = worker.state.policy
    }

    /// Before our rules are (re)installed: what a previous run's counters saw while no
    /// worker was bound. Installing resets them, so this is the only moment to read them.
    public func beforeInstall() async {
        guard managesRules, let leftover = try? await firewall.observe(), !leftover.isEmpty else { return }
        worker.state.bypass.withLockedValue {
            $0.whileUnbound += leftover.bypassPackets
            $0.safetyNetClamped += leftover.safetyNetPackets
        }
        if leftover.bypassPackets > 0 {
            logger.warning("\(leftover.bypassPackets) SYN(s) passed the queue unclamped while no worker was bound (counted by the rules a previous run left)\(leftover.safetyNetPackets > 0 ? "; the safety net clamped \(leftover.safetyNetPackets)" : "")")
        }
    }

    /// After an install (start, reload, repair): the counters start again from the new rules.
    public func installed(_ policy: Policy, notes: [String]) async {
        self.policy = policy
        for note in notes { logger.warning("rules: \(note)") }
        let fresh = managesRules ? try? await firewall.observe() : nil
        if let fresh { worker.state.rules.withLockedValue { $0.inForce = problems(fresh).isEmpty } }
        bypass = (fresh?.bypassPackets ?? 0, fresh?.safetyNetPackets ?? 0)
        observation = fresh
        observed = fresh == nil ? nil : Date().timeIntervalSince1970
        lint(announceAll: true)
        publish()
    }

    /// Once a second.
    public func tick() async {
        ticks += 1
        let now = Date().timeIntervalSince1970
        let counters = currentCounters()
        if counters.packets != lastPackets {
            lastPackets = counters.packets
            lastSynTime = now
        }
        learningTick(now)
        history.append((now, counters))
        history.removeAll { now - $0.time > Double(WorkerMonitor.recentSeconds) }
        if ticks % WorkerMonitor.rulesInterval == 0 {
            lint(announceAll: false)
            if managesRules { await watchRules(now) }
        }
        publish()
    }

    /// nf_tables announced a change to the ruleset (ours included): look now whether our
    /// rules are still whole, and put back what is missing.
    public func rulesetChanged() async {
        guard managesRules else { return }
        await watchRules(Date().timeIntervalSince1970)
        publish()
    }

    /// The worker is stopping: the state file says so, so `status` never mistakes it.
    public func stopped() {
        state = "stopped"
        publish()
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
        let newlyUnclamped = counted >= bypass.counted ? counted - bypass.counted : counted
        let newlyNetted = net >= bypass.net ? net - bypass.net : net
        bypass = (counted, net)
        // Each counter on its own: a path-MTU rule has a safety net but no bypass counter.
        if newlyUnclamped > 0 || newlyNetted > 0 {
            worker.state.bypass.withLockedValue {
                $0.failOpen += newlyUnclamped
                $0.safetyNetClamped += newlyNetted
            }
        }
        if newlyUnclamped > 0 {
            if now - lastFailOpenNotice >= 60 {
                lastFailOpenNotice = now
                logger.warning("\(newlyUnclamped) SYN(s) passed the queue unclamped in the last \(WorkerMonitor.rulesInterval) s: the queue was full or our socket overran and the kernel failed open\(newlyNetted > 0 ? " (the safety net clamped \(newlyNetted))" : "") — raise --queue-maxlen or --receive-buffer")
            }
        }
        let missing = problems(seen)
        worker.state.rules.withLockedValue { $0.inForce = missing.isEmpty }
        guard !missing.isEmpty else { return }
        logger.warning("rules: \(missing.joined(separator: "; ")): putting them back")
        do {
            let notes = try await firewall.install(policy)
            worker.state.rules.withLockedValue { $0.repairs += 1 }
            await installed(policy, notes: notes)
            logger.notice("rules: reinstalled (\(firewall.backend.rawValue))")
        } catch {
            logger.error("rules: could not reinstall: \(error)")
        }
    }

    /// `--learn-pmtu`: logs what was learned and what expired (a few lines a second at most:
    /// beyond three, one line sums up), and at most once a minute how many signals were
    /// refused as suspect and why. A repeat of what is known (`not-lower`, every
    /// retransmission into the black hole) is no news and is only counted.
    private func learningTick(_ now: Double) {
        guard let learner = worker.state.learner else { return }
        let (learned, expired, ignored, lifetime) = learner.withLockedValue {
            ($0.drainLearned(), $0.expire(now: WorkerState.now()), $0.ignored, Int($0.limits.lifetime))
        }
        for entry in learned.prefix(3) {
            logger.notice("learn-pmtu: path MTU \(entry.mtu) toward \(entry.host.text) learned from ICMP; SYNs from it are clamped to MSS \(entry.mss) for \(lifetime) s")
        }
        if learned.count > 3, let lowest = learned.min(by: { $0.mtu < $1.mtu }) {
            logger.notice("learn-pmtu: \(learned.count - 3) more path MTU(s) learned in the last second, the lowest \(lowest.mtu) toward \(lowest.host.text)")
        }
        for entry in expired {
            logger.notice("learn-pmtu: path MTU \(entry.mtu) toward \(entry.host.text) expired; SYNs from it follow the policy alone again")
        }
        let suspect = ignored.filter { $0.key != .notLower }
        let refused = suspect.values.reduce(0, +)
        if refused > ignoredLogged && now - lastIgnoredNotice >= 60 {
            lastIgnoredNotice = now
            let reasons = suspect.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: " ")
            logger.warning("learn-pmtu: \(refused - ignoredLogged) ICMP signal(s) refused since the last notice (totals: \(reasons))")
            ignoredLogged = refused
        }
    }

    /// The learner in the form `status` reads.
    func learningStatus() -> WorkerStatus.Learning? {
        guard let learner = worker.state.learner else { return nil }
        let wall = Date().timeIntervalSince1970, mono = WorkerState.now()
        return learner.withLockedValue { learner in
            WorkerStatus.Learning(
                lifetime: learner.limits.lifetime,
                entries: learner.live(now: mono).map {
                    .init(host: $0.host.text, mtu: $0.mtu, mss: Int($0.mss), expires: wall + ($0.expires - mono))
                },
                signals: learner.signals, learned: learner.learnedCount,
                ignored: Dictionary(uniqueKeysWithValues: learner.ignored.map { ($0.key.rawValue, $0.value) }),
                clamped: learner.clamps, flows: learner.flowCount)
        }
    }

    /// What of the policy's rules is not in the firewall.
    func problems(_ seen: RulesObservation) -> [String] {
        var problems: [String] = []
        for family in IPFamily.allCases {
            let expected = firewall.expectedQueueRules(policy, family: family)
            guard expected > 0 else { continue }
            let found = seen[family]
            let hooks = firewall.options.hooks.map(\.chain).filter { !found.hooks.contains($0) }
            if !hooks.isEmpty { problems.append("\(family) jump from \(hooks.joined(separator: ", ")) missing") }
            if found.queueRules != expected { problems.append("\(family) queueing rules: \(found.queueRules) of \(expected)") }
            if firewall.options.learnPathMTU && !found.steersSignals { problems.append("\(family) path-MTU signal jumps missing") }
        }
        if !seen.digests.isEmpty && seen.digests != [policy.digest] {
            problems.append("rules of another policy (policy:\(seen.digests.sorted().joined(separator: ",")))")
        }
        return problems
    }

    /// Warnings about a policy that matches nothing; logged when they change.
    private func lint(announceAll: Bool) {
        let now = policy.warnings(interfaces: InterfaceNames.current())
        for warning in now where announceAll || !warnings.contains(warning) { logger.warning("policy: \(warning)") }
        for gone in warnings where !now.contains(gone) { logger.notice("policy: no longer true: \(gone)") }
        warnings = now
    }

    func currentCounters() -> WorkerStatus.Counters {
        let (outcomes, transport) = worker.state.counters
        let unclamped = worker.state.bypass.withLockedValue { $0 }
        var c = WorkerStatus.Counters()
        c.packets = outcomes.packets
        for (index, kind) in OutcomeCounters.kinds.enumerated() where index < outcomes.byKind.count {
            switch kind.action {
            case "clamped": c.clamped += outcomes.byKind[index]
            case "inserted": c.inserted += outcomes.byKind[index]
            case "unchanged": c.unchanged += outcomes.byKind[index]
            default: c.dropped += outcomes.byKind[index]
            }
        }
        c.overruns = transport.overruns
        c.verdictErrors = transport.verdictErrors
        c.unclampedFailOpen = unclamped.failOpen
        c.unclampedWhileUnbound = unclamped.whileUnbound
        c.safetyNetClamped = unclamped.safetyNetClamped
        return c
    }

    /// The state as `status` will read it.
    public var status: WorkerStatus {
        let now = Date().timeIntervalSince1970
        let counters = currentCounters()
        let oldest = history.first?.counters ?? WorkerStatus.Counters()
        let options = firewall.options
        var expected: [String: Int] = [:]
        for family in IPFamily.allCases {
            expected[family.description] = managesRules ? firewall.expectedQueueRules(policy, family: family) : 0
        }
        let named = policy.rules.flatMap { [$0.inInterface?.name, $0.outInterface?.name].compactMap { $0 } }
        return WorkerStatus(
            pid: getpid(), netns: netns, started: started, updated: now, state: state, queues: worker.queues,
            threads: worker.state.runningThreads, backend: firewall.backend.rawValue, managesRules: managesRules,
            hooks: options.hooks.map(\.chain), safetyNet: options.safetyNet, countsBypass: options.countsBypass,
            policyDigest: policy.digest, policy: policy.rules.map(\.summary), expectedRules: expected,
            interfaces: Array(Set(named)).sorted(), warnings: warnings, counters: counters,
            recent: counters.since(history.count > 1 ? oldest : WorkerStatus.Counters()),
            recentSeconds: WorkerMonitor.recentSeconds, lastSynTime: lastSynTime, rules: observation, rulesChecked: observed,
            rulesError: rulesError, learning: learningStatus())
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

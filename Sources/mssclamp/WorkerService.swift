import Logging
import MSSClampConfig
import MSSClampCore
import MSSClampDaemon
import MSSClampNFQueue
import MSSClampReplay
import MSSClampRules
import MSSClampStatus
import MSSClampWorker
import ServiceLifecycle
import UnixSignals

/// `mssclamp run` as a ServiceLifecycle service: the ServiceGroup turns SIGTERM and SIGINT
/// into a graceful shutdown; SIGHUP reloads the policy file.
///
/// Order is what makes it lossless: the queues are bound and configured (one message) before
/// the service starts and read before the rules are installed (so the rules never feed an
/// unbound or unread queue), the rules go before the queues drain, and the queues are
/// unbound only once drained.
struct WorkerService: Service {
    let worker: Worker
    let firewall: Firewall
    let installRules: Bool
    let policyOptions: PolicyOptions
    let statsInterval: Int
    let monitor: WorkerMonitor
    let logger: Logger
    /// systemd (`Type=notify`): ready only once clamping is in force.
    let serviceManager = ServiceManager()

    /// What the one control loop handles, one at a time: firewall changes from a reload and
    /// from the monitor's repairs must never interleave.
    enum Event { case tick, reload, rulesetChanged }

    func run() async throws {
        // Read the queues before the rules are (re)installed: over a crash's leftovers SYNs
        // are queued already, and each one waits for as long as nobody reads.
        let unread = worker.start { [logger] queue, cpu in
            logger.warning("queue \(queue): could not pin its thread to CPU \(cpu) (cpuset or seccomp filter?); it runs on any CPU")
        }
        guard unread.isEmpty else {
            _ = worker.stop(timeout: 1)
            throw CommandFailure.runtime("could not start a thread for queue \(unread.map(String.init).joined(separator: ", ")) (thread limit?); no rules installed")
        }
        await monitor.beforeInstall()
        var notes: [String] = []
        if installRules {
            do {
                notes = try await firewall.install(worker.state.policy)
            } catch {
                _ = worker.stop(timeout: 1)
                _ = try? await firewall.remove()
                throw CommandFailure.runtime("installing rules: \(error)")
            }
        }
        // Before READY: once `systemctl start` returns, only this policy's rules act.
        if installRules { await removeFromOtherBackends() }
        await monitor.installed(worker.state.policy, notes: notes)
        let queues = firewall.options.queues
        let queueText = "queue\(queues.count > 1 ? "s \(queues.lowerBound)-\(queues.upperBound)" : " \(queues.lowerBound)")"
        logger.info("ready: \(queueText), \(worker.state.policy.rules.count) rule(s), policy:\(worker.state.policy.digest), rules \(installRules ? "installed in \(firewall.location) (\(firewall.backend.rawValue))" : "not installed (--no-install-rules)")")
        serviceManager.notify(.ready(status: "clamping: \(queueText), policy:\(worker.state.policy.digest), \(firewall.backend.rawValue)"))

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
            if installRules && firewall.backend != .iptablesLegacy {
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
            group.addTask {
                var ticks = 0
                for await event in events {
                    if Task.isCancelled { return }
                    switch event {
                    case .reload: await reload()
                    case .rulesetChanged: await monitor.rulesetChanged()
                    case .tick:
                        ticks += 1
                        await monitor.tick()
                        if statsInterval > 0 && ticks % statsInterval == 0 {
                            let line = Summary.line(worker.state)
                            logger.info("\(line)")
                            serviceManager.notify(.status(line))
                        }
                        if worker.state.sampling { logSamples() }
                    }
                }
            }
            try? await gracefulShutdown()
            logger.info("stopping")
            serviceManager.notify(.stopping(status: "stopping: removing the queueing rules, draining the queue"))
            input.finish()
            group.cancelAll()
        }

        // Rules out first, then drain: nothing queued is left to the kernel's flush. With
        // --safety-net the net stays, so SYNs are clamped by the kernel while we are down.
        var failure: String?
        if installRules {
            do {
                let notes = try await firewall.remove(keepSafetyNet: firewall.options.safetyNet, policy: worker.state.policy)
                for note in notes { logger.warning("rules: \(note)") }
                if firewall.options.safetyNet {
                    logger.notice("leaving the safety net (\(firewall.options.safetyNetChain)) in place: SYNs stay clamped by the kernel while mssclamp is down; `mssclamp rules remove` takes it out")
                }
            } catch { failure = "removing rules: \(error)" }
        }
        if !worker.stop() { logger.warning("a queue thread did not finish within 10 s") }
        monitor.stopped()
        logger.info("stopped: \(Summary.line(worker.state))")
        if let failure { throw CommandFailure.runtime(failure) }
    }

    /// Rules of ours in another backend (the backend was switched, or a host moved between
    /// iptables-nft and iptables-legacy) would go on acting beside the new ones: the old
    /// safety net clamping, the old queue rules queueing. They go once ours are in, so
    /// there is no moment without either.
    func removeFromOtherBackends() async {
        for other in await Backend.holdingRules(options: firewall.options) where other != firewall.backend {
            do {
                try await Firewall(backend: other, options: firewall.options).remove()
                logger.notice("rules: removed mssclamp rules left in \(other.rawValue); they are in \(firewall.backend.rawValue) now")
            } catch {
                logger.warning("rules: mssclamp rules are left in \(other.rawValue) and could not be removed (\(error)); `mssclamp rules remove --backend \(other.rawValue)` takes them out")
            }
        }
    }

    /// SIGHUP: a good file replaces the policy and the rules follow; a bad one changes
    /// nothing and says why.
    func reload() async {
        guard policyOptions.config != nil else {
            logger.notice("SIGHUP: no --config to reload; policy unchanged")
            return
        }
        do {
            let fresh = try policyOptions.policy()
            try firewall.validate(fresh)
            let notes = installRules ? try await firewall.install(fresh) : []
            worker.state.replace(policy: fresh)
            logger.info("SIGHUP: reloaded \(fresh.rules.count) rule(s), policy:\(fresh.digest)")
            serviceManager.notify(.status("clamping: reloaded policy:\(fresh.digest)"))
            await monitor.installed(fresh, notes: notes.filter { !$0.hasPrefix("replacing rules installed for another policy") })
        } catch let failure as CommandFailure {
            logger.error("SIGHUP: keeping the running policy: \(failure.message)")
        } catch {
            logger.error("SIGHUP: keeping the running policy (rules not updated): \(error)")
        }
    }

    /// A debug line per sampled clamped SYN (at most 10 a second per queue), logged here,
    /// off the queue threads.
    func logSamples() {
        for (flow, decision) in worker.state.drainSamples() {
            logger.debug("\(TextReport.line(DryRunRecord(frame: 0, seconds: 0, microseconds: 0, flow: flow, decision: decision), showTime: false))")
        }
    }
}

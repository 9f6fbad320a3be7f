import Logging
import MSSClampConfig
import MSSClampCore
import MSSClampReplay
import MSSClampRules
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
    let logger: Logger

    func run() async throws {
        // Read the queues before the rules are (re)installed: over a crash's leftovers SYNs
        // are queued already, and each one waits for as long as nobody reads.
        worker.start()
        if installRules {
            do {
                try await firewall.install(worker.state.policy)
            } catch {
                _ = worker.stop(timeout: 1)
                try? await firewall.remove()
                throw CommandFailure.runtime("installing rules: \(error)")
            }
        }
        let queues = firewall.options.queues
        logger.info("ready: queue\(queues.count > 1 ? "s \(queues.lowerBound)-\(queues.upperBound)" : " \(queues.lowerBound)"), \(worker.state.policy.rules.count) rule(s), rules \(installRules ? "installed in mangle/\(firewall.options.chain) (\(firewall.backend.rawValue))" : "not installed (--no-install-rules)")")

        await withTaskGroup(of: Void.self) { group in
            group.addTask { await reloads() }
            if statsInterval > 0 { group.addTask { await periodicSummary() } }
            if worker.state.sampling { group.addTask { await debugSamples() } }
            try? await gracefulShutdown()
            logger.info("stopping")
            group.cancelAll()
        }

        // Rules out first, then drain: nothing queued is left to the kernel's flush.
        var failure: String?
        if installRules {
            do { try await firewall.remove() } catch { failure = "removing rules: \(error)" }
        }
        if !worker.stop() { logger.warning("a queue thread did not finish within 10 s") }
        logger.info("stopped: \(Summary.line(worker.state))")
        if let failure { throw CommandFailure.runtime(failure) }
    }

    /// SIGHUP: a good file replaces the policy and the rules follow; a bad one changes
    /// nothing and says why.
    func reloads() async {
        for await _ in await UnixSignalsSequence(trapping: .sighup) {
            if Task.isCancelled { return }
            guard policyOptions.config != nil else {
                logger.notice("SIGHUP: no --config to reload; policy unchanged")
                continue
            }
            do {
                let fresh = try policyOptions.policy()
                if installRules { try await firewall.install(fresh) }
                worker.state.replace(policy: fresh)
                logger.info("SIGHUP: reloaded \(fresh.rules.count) rule(s)")
            } catch let failure as CommandFailure {
                logger.error("SIGHUP: keeping the running policy: \(failure.message)")
            } catch {
                logger.error("SIGHUP: keeping the running policy (rules not updated): \(error)")
            }
        }
    }

    func periodicSummary() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(statsInterval))
            if Task.isCancelled { return }
            logger.info("\(Summary.line(worker.state))")
        }
    }

    /// A debug line per sampled clamped SYN (at most 10 a second per queue), logged here,
    /// off the queue threads.
    func debugSamples() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            for (flow, decision) in worker.state.drainSamples() {
                logger.debug("\(TextReport.line(DryRunRecord(frame: 0, seconds: 0, microseconds: 0, flow: flow, decision: decision), showTime: false))")
            }
        }
    }
}

import ArgumentParser
import Glibc
import Logging
import MSSClampConfig
import MSSClampCore
import MSSClampMetrics
import MSSClampNFQueue
import MSSClampReplay
import MSSClampRules
import MSSClampWorker

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Clamp forwarded SYNs through NFQUEUE until stopped (SIGTERM/SIGINT; SIGHUP reloads --config).",
        discussion: """
            Binds the queue(s), installs the steering rules for the policy (a MSSCLAMP chain in the \\
            mangle table, jumped to from FORWARD, NFQUEUE with --queue-bypass), and answers every \\
            queued packet. On SIGTERM or SIGINT it removes the rules, drains the queue and exits 0. \\
            Needs CAP_NET_ADMIN.
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

    @Flag(name: .customLong("fail-closed"), help: "Drop instead of accepting unclamped when a queue is full.")
    var failClosed = false

    @Option(name: .customLong("stats-interval"), help: ArgumentHelp("Seconds between summary log lines (0: none).", valueName: "s"))
    var statsInterval: Int = 60

    @Option(name: .customLong("metrics"), help: ArgumentHelp("Serve Prometheus metrics at http://HOST:PORT/metrics.", valueName: "host:port"))
    var metrics: String?

    @Option(name: .customLong("log-level"), help: ArgumentHelp("trace, debug, info, notice, warning, error.", valueName: "level"))
    var logLevel: String = "info"

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
        var policy = try self.policy.policy()
        let firewall = try await steering.firewall()
        let range = firewall.options.queues
        let configurations = range.map { number in
            var configuration = QueueConfiguration(number: number)
            configuration.maxLength = queueMaxLength
            configuration.failOpen = !failClosed
            return configuration
        }

        // Signals first, so a SIGTERM during start-up is not fatal and still cleans up.
        let signals = Signals.stream()
        let worker: Worker
        do {
            worker = try Worker(policy: policy, queues: configurations, sampling: level <= .debug)
        } catch {
            throw CommandFailure.runtime(error.description)
        }
        if let metrics {
            let exporter = MetricsExporter()
            let state = worker.state
            do {
                let server = try MetricsServer(listen: metrics) {
                    exporter.update(Summary.snapshot(state), rules: state.policy.rules.map(\.summary))
                    exporter.update(kernelQueues: KernelQueueStats.read().filter { range.contains($0.queue) }.map {
                        ($0.queue, $0.waiting, $0.queueDropped, $0.userDropped)
                    })
                    return exporter.render()
                }
                server.start()
            } catch {
                _ = worker.stop(timeout: 1)
                throw CommandFailure.runtime(error.description)
            }
        }
        if !noInstallRules {
            do {
                try await firewall.install(policy)
            } catch {
                _ = worker.stop(timeout: 1)
                try? await firewall.remove()
                throw CommandFailure.runtime("installing rules: \(error)")
            }
        }
        worker.start()
        logger.info("ready: queue\(range.count > 1 ? "s \(range.lowerBound)-\(range.upperBound)" : " \(range.lowerBound)"), \(policy.rules.count) rule(s), rules \(noInstallRules ? "not installed (--no-install-rules)" : "installed in mangle/\(firewall.options.chain)")")

        let samples = level <= .debug ? Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                for (flow, decision) in worker.state.drainSamples() {
                    logger.debug("\(TextReport.line(DryRunRecord(frame: 0, seconds: 0, microseconds: 0, flow: flow, decision: decision), showTime: false))")
                }
            }
        } : nil
        let stats = statsInterval > 0 ? Task { [statsInterval] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(statsInterval))
                if Task.isCancelled { break }
                logger.info("\(Summary.line(worker.state))")
            }
        } : nil

        for await number in signals {
            guard number == SIGHUP else {
                logger.info("\(Signals.name(number)): stopping")
                break
            }
            guard self.policy.config != nil else {
                logger.notice("SIGHUP: no --config to reload; policy unchanged")
                continue
            }
            do {
                let fresh = try self.policy.policy()
                worker.state.replace(policy: fresh)
                if !noInstallRules { try await firewall.install(fresh) }
                policy = fresh
                logger.info("SIGHUP: reloaded \(fresh.rules.count) rule(s)")
            } catch let failure as CommandFailure {
                logger.error("SIGHUP: keeping the running policy: \(failure.message)")
            } catch let failure as FirewallError {
                logger.error("SIGHUP: rules not updated: \(failure.message)")
            } catch {
                logger.error("SIGHUP: keeping the running policy: \(error)")
            }
        }
        stats?.cancel()
        samples?.cancel()

        // Rules out first, then drain: nothing queued is left to the kernel's flush.
        var failure: String?
        if !noInstallRules {
            do { try await firewall.remove() } catch { failure = "removing rules: \(error)" }
        }
        if !worker.stop() { logger.warning("a queue thread did not finish within 10 s") }
        logger.info("stopped: \(Summary.line(worker.state))")
        if let failure { throw CommandFailure.runtime(failure) }
    }
}

/// The one-line summary of the counters, for the periodic log and the exit line.
enum Summary {
    static func snapshot(_ state: WorkerState) -> MetricsExporter.Snapshot {
        let (outcomes, transport) = state.counters
        return MetricsExporter.Snapshot(
            byKind: outcomes.byKind, byRule: outcomes.byRule, overruns: transport.overruns,
            verdictErrors: transport.verdictErrors, sendErrors: transport.sendErrors, truncated: transport.truncated)
    }

    static func line(_ state: WorkerState) -> String {
        let (outcomes, transport) = state.counters
        var parts = ["packets=\(outcomes.packets)"]
        for (index, kind) in OutcomeCounters.kinds.enumerated() where outcomes.byKind[index] > 0 {
            parts.append("\(kind.reason.map { "\(kind.action)/\($0)" } ?? kind.action)=\(outcomes.byKind[index])")
        }
        parts.append("overruns=\(transport.overruns)")
        parts.append("verdict-errors=\(transport.verdictErrors)")
        if transport.sendErrors > 0 { parts.append("send-errors=\(transport.sendErrors)") }
        return parts.joined(separator: " ")
    }
}

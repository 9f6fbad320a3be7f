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
import ServiceLifecycle
import UnixSignals

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

    @Option(name: .customLong("receive-buffer"), help: ArgumentHelp("Netlink receive buffer per queue, in bytes (forced past rmem_max).", valueName: "bytes"))
    var receiveBuffer: Int = 8 << 20

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
        let policy = try self.policy.policy()
        let firewall = try await steering.firewall()
        let range = firewall.options.queues
        let configurations = range.map { number in
            var configuration = QueueConfiguration(number: number)
            configuration.maxLength = queueMaxLength
            configuration.failOpen = !failClosed
            configuration.receiveBuffer = receiveBuffer
            return configuration
        }

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

        let service = WorkerService(
            worker: worker, firewall: firewall, installRules: !noInstallRules, policyOptions: self.policy,
            statsInterval: statsInterval, logger: logger)
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

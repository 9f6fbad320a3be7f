import Logging
import MSSClampConfig
import MSSClampCore
import MSSClampLearning
import MSSClampMetrics
import MSSClampNFQueue
import MSSClampRules
import MSSClampWorker
import ServiceLifecycle

extension Daemon {
    /// Everything `mssclamp run` decided from its arguments.
    public struct Launch: Sendable {
        public var policy: Policy
        public var firewall: any Firewall
        public var settings = Settings()
        /// Per queue: how many packets the kernel may hold, the netlink buffer, fail-closed.
        public var maxLength = QueueConfiguration.defaultMaxLength
        public var receiveBuffer = QueueConfiguration.defaultReceiveBuffer
        public var failClosed = false
        /// CPUs the queue threads are pinned to, in turn; empty: not pinned.
        public var cpus: [Int] = []
        public var learning: PathMTULearner.Limits?
        /// Sample clamped SYNs for debug lines.
        public var sampling = false
        /// Serve Prometheus metrics here (`host:port`).
        public var metrics: String?
        /// Where the policy came from: read again at SIGHUP (a file), published for `watch`.
        public var policySource: PolicySource = .builtin

        public init(policy: Policy, firewall: any Firewall) {
            self.policy = policy
            self.firewall = firewall
        }

        /// One configuration per queue of the firewall's range.
        var queueConfigurations: [QueueConfiguration] {
            firewall.options.queues.enumerated().map { index, number in
                var configuration = QueueConfiguration(number: number)
                configuration.cpu = cpus.isEmpty ? nil : cpus[index % cpus.count]
                configuration.maxLength = maxLength
                configuration.failOpen = !failClosed
                configuration.receiveBuffer = receiveBuffer
                if firewall.options.ipsecQueues {
                    configuration.blocks = IPsecClasses.blocks
                    configuration.stride = UInt16(firewall.options.queues.count)
                }
                return configuration
            }
        }
    }

    /// SIGHUP's fresh policy, read from where the first came from; nil when reading again
    /// cannot give another (flags, the default).
    static func reloader(_ source: PolicySource) -> (@Sendable () throws(DaemonError) -> Policy)? {
        guard source.reloads else { return nil }
        return { () throws(DaemonError) -> Policy in
            do throws(ConfigError) {
                return try source.load()
            } catch {
                throw DaemonError.configuration(error.description)
            }
        }
    }

    /// Binds the queues, serves metrics, and runs the daemon until SIGTERM or SIGINT.
    public static func run(_ launch: Launch, logger: Logger) async throws(DaemonError) {
        let worker: Worker
        do {
            worker = try Worker(policy: launch.policy, queues: launch.queueConfigurations, sampling: launch.sampling, learning: launch.learning)
        } catch {
            throw DaemonError(error.description)
        }
        var settings = launch.settings
        settings.policySource = launch.policySource.arguments
        let daemon = Daemon(
            queues: worker, firewall: launch.firewall, settings: settings, logger: logger, reloadPolicy: reloader(launch.policySource))
        var metricsServer: MetricsServer?
        defer { metricsServer?.shutdown() }
        if let metrics = launch.metrics {
            do {
                metricsServer = try MetricsServer(listen: metrics, body: MetricsFeed(daemon: daemon).render)
            } catch {
                _ = worker.stop(timeout: 1)
                throw DaemonError(error.description)
            }
        }
        let group = ServiceGroup(services: [daemon], gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger)
        do {
            try await group.run()
        } catch let failure as DaemonError {
            throw failure
        } catch {
            throw DaemonError("\(error)")
        }
    }
}

/// The daemon's snapshot in Prometheus form, taken at each scrape (on the server's threads:
/// everything it reads is behind the locks the queue threads publish into).
struct MetricsFeed: Sendable {
    let daemon: Daemon
    let exporter = MetricsExporter()

    func render() -> [UInt8] {
        exporter.update(daemon.snapshot(), rules: daemon.policy.rules.map(\.summary))
        return exporter.render()
    }
}

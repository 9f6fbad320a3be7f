import Glibc
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
    /// What `run` decided: the policy loaded, the firewall resolved, the options they came from.
    struct Launch: Sendable {
        var policy: Policy
        var firewall: any Firewall
        var options: RunOptions
        /// CPUs the queue threads are pinned to, in turn; empty: not pinned.
        var cpus: [Int] = []
        /// Sample clamped SYNs for debug lines.
        var sampling = false

        init(policy: Policy, firewall: any Firewall, options: RunOptions) {
            self.policy = policy
            self.firewall = firewall
            self.options = options
        }

        var settings: Settings {
            var settings = Settings()
            settings.installRules = options.installRules
            settings.statsInterval = options.statsInterval
            settings.stateDirectory = options.stateDirectory
            settings.policySource = options.policySource.arguments
            if options.steering.learnStalls {
                // systemd's StateDirectory= outlives a stop and a reboot; the runtime
                // directory only a restart.
                let kept = getenv("STATE_DIRECTORY").map { String(cString: $0).split(separator: ":").first.map(String.init) ?? "" }
                settings.stallsFile = (kept.flatMap { $0.isEmpty ? nil : $0 } ?? options.stateDirectory) + "/learned-stalls.tsv"
                settings.stallLimits.raiseAfter = options.stallRaiseAfter
            }
            return settings
        }

        /// One configuration per queue of the firewall's range.
        var queueConfigurations: [QueueConfiguration] {
            firewall.options.queues.enumerated().map { index, number in
                var configuration = QueueConfiguration(number: number)
                configuration.cpu = cpus.isEmpty ? nil : cpus[index % cpus.count]
                configuration.maxLength = options.maxLength
                configuration.failOpen = !options.failClosed
                configuration.receiveBuffer = options.receiveBuffer
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
    static func run(_ launch: Launch, logger: Logger) async throws(DaemonError) {
        let worker: Worker
        do {
            worker = try Worker(
                policy: launch.policy, queues: launch.queueConfigurations, sampling: launch.sampling, learning: launch.options.learning)
        } catch {
            throw DaemonError(error.description)
        }
        let daemon = Daemon(
            queues: worker, firewall: launch.firewall, settings: launch.settings, logger: logger,
            reloadPolicy: reloader(launch.options.policySource))
        var metricsServer: MetricsServer?
        defer { metricsServer?.shutdown() }
        if let metrics = launch.options.metrics {
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

import ArgumentParser
import MSSClampDaemon

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
    var queueMaxLength = RunOptions.defaults.maxLength

    @Option(
        name: .customLong("receive-buffer"),
        help: ArgumentHelp("Netlink receive buffer per queue, in bytes (forced past rmem_max).", valueName: "bytes"))
    var receiveBuffer = RunOptions.defaults.receiveBuffer

    @Option(
        name: .customLong("cpus"),
        help: ArgumentHelp(
            "Pin the queue threads to these CPUs, one each in turn (taskset's list: 1, 2-3, 0,2).", valueName: "list"))
    var cpus: String?

    @Flag(name: .customLong("fail-closed"), help: "Drop instead of accepting unclamped when a queue is full.")
    var failClosed = false

    @Option(
        name: .customLong("stats-interval"), parsing: .unconditional,
        help: ArgumentHelp("Seconds between summary log lines (0: none).", valueName: "s"))
    var statsInterval = RunOptions.defaults.statsInterval

    @Option(name: .customLong("state-dir"), help: ArgumentHelp("Where to publish the state `mssclamp status` reads.", valueName: "dir"))
    var stateDirectory = RunOptions.defaults.stateDirectory

    @Option(name: .customLong("metrics"), help: ArgumentHelp("Serve Prometheus metrics at http://HOST:PORT/metrics.", valueName: "host:port"))
    var metrics: String?

    @Option(
        name: .customLong("learn-pmtu-expiry"),
        help: ArgumentHelp(
            "With --learn-pmtu: seconds a learned path MTU lasts (the kernel's PMTU cache keeps 600).", valueName: "seconds"))
    var learnExpiry = RunOptions.defaults.learnExpiry

    @Option(
        name: .customLong("stall-raise-after"),
        help: ArgumentHelp(
            "With --learn-stalls: seconds before a lowered clamp tries the step above again (RFC 8899's raise timer; doubles after a raise that stalls).",
            valueName: "seconds"))
    var stallRaiseAfter = RunOptions.defaults.stallRaiseAfter

    @Option(
        name: .customLong("user"),
        help: ArgumentHelp(
            "Run as this user once started as root (its group too, no supplementary groups).", valueName: "name"))
    var user: String?

    @Option(name: .customLong("log-level"), help: ArgumentHelp("trace, debug, info, notice, warning, error.", valueName: "level"))
    var logLevel = RunOptions.defaults.logLevel

    /// The arguments as the daemon takes them; the policy is not loaded yet.
    func options() throws(CommandFailure) -> RunOptions {
        var options = RunOptions()
        options.policySource = try policy.source()
        options.steering = try steering.options()
        options.backend = steering.backend.chosen
        options.installRules = !noInstallRules
        options.maxLength = queueMaxLength
        options.receiveBuffer = receiveBuffer
        options.cpus = cpus
        options.failClosed = failClosed
        options.statsInterval = statsInterval
        options.stateDirectory = stateDirectory
        options.metrics = metrics
        options.learnExpiry = learnExpiry
        options.stallRaiseAfter = stallRaiseAfter
        options.user = user
        options.logLevel = logLevel
        return options
    }

    /// Settings that would turn clamping off, or cannot work, are usage errors (exit 2).
    func validate() throws {
        do {
            try options().validate()
        } catch let error as DaemonError {
            throw ValidationError(error.message)
        } catch let error as CommandFailure {
            throw ValidationError(error.message ?? "")
        }
    }

    func run() async throws {
        do {
            try await options().run()
        } catch let error as DaemonError {
            throw error.isConfiguration ? CommandFailure.config(error.message) : CommandFailure.runtime(error.message)
        }
    }
}

import ArgumentParser
import MSSClampCore
import MSSClampRules

/// How the kernel hands SYNs to the worker: shared by `run` and `rules`, so both install
/// exactly the same rules.
struct SteeringArguments: ParsableArguments {
    @Option(name: .customLong("queue"), help: ArgumentHelp("The netfilter queue.", valueName: "N"))
    var queue: UInt16 = 0

    @Option(name: .customLong("queues"), help: ArgumentHelp("Several queues (--queue-balance A:B), one worker thread each.", valueName: "A-B"))
    var queues: String?

    @Option(
        name: .customLong("backend"),
        help: ArgumentHelp("\(Backend.names), or auto (the iptables backend that already holds rules).", valueName: "name"))
    var backend = BackendName.auto

    @Option(
        name: .customLong("hooks"),
        help: ArgumentHelp(
            "Chains that jump to ours: forward (routed traffic), output, postrouting (traffic this host originates).", valueName: "list"))
    var hooks: String = "forward"

    @Flag(
        name: .customLong("safety-net"),
        help: "Kernel TCPMSS rules in mangle POSTROUTING that clamp SYNs which bypass the worker (they outlive `run`).")
    var safetyNet = false

    @Flag(
        name: .customLong("learn-pmtu"),
        help:
            "Learn path MTUs from ICMP frag-needed / packet-too-big crossing or sent by this host, and clamp later SYNs from the hosts they name (queues every SYN and those ICMP messages)."
    )
    var learnPathMTU = false

    @Flag(
        name: .customLong("learn-stalls"),
        help:
            "Also learn from stalled flows when no ICMP comes at all: a server's large segment sent again and again toward a client lowers the clamp for that client's later SYNs (implies --learn-pmtu)."
    )
    var learnStalls = false

    @Option(
        name: .customLong("stall-log-group"),
        help: ArgumentHelp("With --learn-stalls: the NFLOG group the kernel copies segments to.", valueName: "N"))
    var stallLogGroup = SteeringOptions().stallLogGroup

    func options() throws(CommandFailure) -> SteeringOptions {
        do {
            return try SteeringOptions(
                queue: queue, queues: queues, hooks: hooks, safetyNet: safetyNet, learnPathMTU: learnPathMTU, learnStalls: learnStalls,
                stallLogGroup: stallLogGroup)
        } catch {
            throw CommandFailure.config(error.description)
        }
    }

    /// The firewall these flags name for `policy` (see `SteeringOptions.firewall`).
    func firewall(for policy: Policy, detected: (Backend.Detection) -> Void = { _ in }) async throws(CommandFailure) -> any Firewall {
        try await options().firewall(for: policy, backend: backend.chosen, detected: detected)
    }
}

/// `--backend NAME`: a backend, or `auto` (`chosen` nil: detected when needed). Checked as
/// the arguments are parsed, so a typo is a usage error before anything runs.
struct BackendName: ExpressibleByArgument, Equatable {
    var chosen: Backend?

    static let auto = BackendName(chosen: nil)

    init(chosen: Backend?) { self.chosen = chosen }

    init?(argument: String) {
        if argument == "auto" {
            chosen = nil
        } else if let backend = Backend(rawValue: argument) {
            chosen = backend
        } else {
            return nil
        }
    }

    var defaultValueDescription: String { chosen?.rawValue ?? "auto" }
    static var allValueStrings: [String] { Backend.allCases.map(\.rawValue) + ["auto"] }
}

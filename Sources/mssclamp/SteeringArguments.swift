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
        help: ArgumentHelp("iptables-nft, iptables-legacy, nftables, or auto (the iptables backend that already holds rules).", valueName: "name"))
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

    func queueRange() throws(CommandFailure) -> ClosedRange<UInt16> {
        guard let queues else { return queue...queue }
        let parts = queues.split(separator: "-", omittingEmptySubsequences: false).map { UInt16($0) }
        guard parts.count == 2, let low = parts[0], let high = parts[1], low <= high, high - low < 64 else {
            throw CommandFailure.config("--queues: '\(queues)' must be A-B with A <= B, at most 64 queues (e.g. 0-3)")
        }
        return low...high
    }

    func options() throws(CommandFailure) -> SteeringOptions {
        var hookList: [Hook] = []
        for name in hooks.split(separator: ",") {
            guard let hook = Hook(rawValue: name.lowercased()) else {
                throw CommandFailure.config("--hooks: '\(name)' must be forward, output or postrouting")
            }
            if !hookList.contains(hook) { hookList.append(hook) }
        }
        guard !hookList.isEmpty else { throw CommandFailure.config("--hooks: name at least one of forward, output, postrouting") }
        return SteeringOptions(queues: try queueRange(), hooks: hookList, safetyNet: safetyNet, learnPathMTU: learnPathMTU)
    }

    /// The firewall these flags name for `policy`. With `auto` the backend is detected, and
    /// `detected` hears which and why (a fallback is logged, never silent).
    func firewall(for policy: Policy, detected: (Backend.Detection) -> Void = { _ in }) async throws(CommandFailure) -> any Firewall {
        var options = try options()
        // A policy with ipsec: rules is carried by a block of queues per IPsec class.
        options.ipsecQueues = policy.matchesIPsec
        return await Backend.resolve(backend.chosen, detected: detected).firewall(options)
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

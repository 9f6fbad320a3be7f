import MSSClampCore

/// A firewall change that failed or was refused, with the tool's own words.
public struct FirewallError: Error, CustomStringConvertible {
    /// What kind of failure: a caller that reads the firewall to give a verdict must tell
    /// "could not look" (no privilege) from "nothing there" (the tool is not installed, so
    /// that firewall holds nothing of ours).
    public enum Reason: Sendable { case failed, denied, notInstalled }
    public let message: String
    public let reason: Reason
    public init(_ message: String, reason: Reason = .failed) {
        self.message = message
        self.reason = reason
    }
    public var description: String { message }
}

/// What mssclamp asks of a firewall backend: render, install, remove, observe. One
/// implementation per tooling (`IPTablesFirewall` for iptables-nft and iptables-legacy,
/// `NFTablesFirewall` for a native table); everything else (the CLI, the daemon, `status`)
/// holds an `any Firewall` and never asks which.
///
/// Every implementation installs atomically (one transaction per family, or one `nft -f`),
/// idempotently (installing again replaces our rules' contents), reconciles whatever a crash
/// left, runs no shell, and touches nothing but its own chains (or table) and the jumps to
/// them.
public protocol Firewall: Sendable {
    var backend: Backend { get }
    var options: SteeringOptions { get }
    /// Where the rules live, in the words of the backend's own listing.
    var location: String { get }
    /// Where the safety net lives, in the same words (what a stopping worker leaves).
    var safetyNetLocation: String { get }

    /// What `install` applies, as text (`rules print`).
    func rendered(_ policy: Policy) -> String
    /// What `observe()` reads right after `install(policy)`, counters at zero: the
    /// expectation that `rules check`, the daemon's repair and `status` compare against.
    func expected(_ policy: Policy) -> RulesObservation
    /// Installs; returns what it replaced or removed that was not this policy's, in words for
    /// the log: nothing of the operator's firewall changes silently.
    func install(_ policy: Policy) async throws(FirewallError) -> [String]
    /// Removes every rule mssclamp installed, or all but the safety net (`keepSafetyNet`: a
    /// stopping worker leaves it to clamp while it is down). Returns what it removed that
    /// the current policy did not install.
    func remove(keepSafetyNet: Bool, policy: Policy?) async throws(FirewallError) -> [String]
    /// mssclamp's rules as they stand now, with their counters.
    func observe() async throws(FirewallError) -> RulesObservation
    /// Whether anything of ours stands here (a rule, a safety net, an empty table of ours),
    /// read without side effects: `rules remove` and a worker's start clean every backend
    /// that says yes. Throws `.denied` when this process may not look, `.notInstalled` when
    /// the tool is missing (then nothing of ours can be there).
    func holdsOurs() async throws(FirewallError) -> Bool
    /// Rule by rule, what differs in text from what `install` would apply (a value edited in
    /// place keeps the counts the shared diff compares): for `rules check`.
    func textDifferences(_ policy: Policy) async throws(FirewallError) -> [String]
    /// What can be found out before touching anything (a lock this process cannot open).
    func preflight() throws(FirewallError)
}

extension Backend {
    /// The implementation behind this backend's name: the one place that maps names to code.
    public func firewall(_ options: SteeringOptions) -> any Firewall {
        switch self {
        case .iptablesNFT, .iptablesLegacy: return IPTablesFirewall(backend: self, options: options)
        case .nftables: return NFTablesFirewall(options: options)
        }
    }
}

extension Firewall {
    @discardableResult
    public func remove() async throws(FirewallError) -> [String] {
        try await remove(keepSafetyNet: false, policy: nil)
    }

    /// Policy shapes the chosen hooks cannot carry.
    public func validate(_ policy: Policy) throws(FirewallError) {
        if options.hooks.contains(where: { !$0.allowsInInterface }),
            let index = policy.rules.firstIndex(where: { $0.inInterface != nil })
        {
            throw FirewallError(
                "rule \(index + 1) matches an input interface, which does not exist for locally originated traffic (hooks: \(options.hooks.map(\.rawValue).joined(separator: ",")))"
            )
        }
        let classes = IPsecClasses(policy)
        if classes.inbound, let hook = options.hooks.first(where: { !$0.allows(.inbound) }) {
            let index = policy.rules.firstIndex { $0.ipsec == .inbound || $0.ipsec == .plain }!
            throw FirewallError(
                "rule \(index + 1) asks whether a SYN came out of IPsec (ipsec: \(policy.rules[index].ipsec!.rawValue)), which only the forward hook can tell (hooks: \(options.hooks.map(\.rawValue).joined(separator: ",")); \(hook.rawValue) cannot)"
            )
        }
        if !classes.isEmpty && !options.ipsecQueues {
            let index = policy.rules.firstIndex { $0.ipsec != nil }!
            throw FirewallError(
                "rule \(index + 1) matches on IPsec policy, but the worker was started without ipsec: rules and does not read the queues that carry it; restart mssclamp to add the first ipsec: rule"
            )
        }
        if options.ipsecQueues && Int(options.queues.upperBound) + (IPsecClasses.blocks - 1) * options.queues.count > Int(UInt16.max) {
            throw FirewallError(
                "ipsec: rules need \(IPsecClasses.blocks) blocks of \(options.queues.count) queue(s) from queue \(options.queues.lowerBound); choose a lower --queue"
            )
        }
    }

    /// What differs between the firewall and the policy; empty when they match. The shared
    /// diff first (what `status` and the daemon see), then the backend's rule-by-rule text.
    public func check(_ policy: Policy) async throws(FirewallError) -> [String] {
        let seen = try await observe()
        return seen.problems(expected: expected(policy)) + (try await textDifferences(policy))
    }

    /// What installing `policy` over `before` replaces or removes that is not this policy's.
    func changeNotes(before: RulesObservation, installing policy: Policy) -> [String] {
        var notes: [String] = []
        let others = before.digests.subtracting([policy.digest])
        if !others.isEmpty {
            notes.append(
                "replacing rules installed for another policy (policy:\(others.sorted().joined(separator: ","))) with this one (policy:\(policy.digest))"
            )
        }
        if before.hasSafetyNet && !options.safetyNet {
            notes.append(
                "removing the safety net (\(before.ipv4.safetyNetRules + before.ipv6.safetyNetRules) kernel TCPMSS rule(s) in \(options.safetyNetChain), \(before.safetyNetPackets) SYN(s) clamped so far): this policy is installed without --safety-net, so SYNs that bypass the worker will leave unclamped; add --safety-net to keep it"
            )
        }
        let unwanted = Set(before.ipv4.hooks + before.ipv6.hooks).subtracting(options.hooks.map(\.chain))
        if !unwanted.isEmpty {
            notes.append(
                "removing the jump(s) from \(unwanted.sorted().joined(separator: ", ")): --hooks is now \(options.hooks.map(\.rawValue).joined(separator: ","))"
            )
        }
        return notes
    }

    /// What removing over `before` takes out that the current policy did not install.
    func removalNotes(before: RulesObservation, keepSafetyNet: Bool, policy: Policy?) -> [String] {
        var notes: [String] = []
        if let policy {
            let others = before.digests.subtracting([policy.digest])
            if !others.isEmpty { notes.append("removing rules installed for another policy (policy:\(others.sorted().joined(separator: ",")))") }
        }
        if before.hasSafetyNet && !keepSafetyNet {
            notes.append("removing the safety net (\(options.safetyNetChain)): from now on nothing clamps SYNs in the kernel")
        }
        return notes
    }
}

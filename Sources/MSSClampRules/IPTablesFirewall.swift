import Glibc
import MSSClampCore

/// The rules as chains of our own in the mangle table, through iptables / ip6tables
/// (iptables-nft or iptables-legacy): `*-restore --noflush`, one transaction per family.
/// Jumps are added only when missing; what iptables-nft had to create for them (the table,
/// a builtin chain) is removed again with them.
public struct IPTablesFirewall: Firewall {
    public let backend: Backend
    public let options: SteeringOptions

    public init(backend: Backend, options: SteeringOptions) {
        precondition(backend != .nftables, "IPTablesFirewall carries the iptables backends")
        self.backend = backend
        self.options = options
    }

    public var location: String { "mangle/\(options.chain)" }
    public var safetyNetLocation: String { "mangle/\(options.safetyNetChain)" }

    public func rendered(_ policy: Policy) -> String {
        var parts: [String] = []
        for family in IPFamily.allCases where !IPTablesRenderer.chainRules(policy, family: family, options: options).isEmpty {
            parts.append(
                "# \(backend.tools(family).restore) --noflush\n"
                    + IPTablesRenderer.restoreScript(
                        policy, family: family, options: options, missingJumps: IPTablesRenderer.jumps(options, family: family)))
        }
        return parts.joined(separator: "\n")
    }

    /// Read back from the restore scripts `install` applies, as `iptables-save` would list
    /// them; a family without rules stays empty (install removes it).
    public func expected(_ policy: Policy) -> RulesObservation {
        var expected = RulesObservation(backend: backend)
        for family in IPFamily.allCases where !IPTablesRenderer.chainRules(policy, family: family, options: options).isEmpty {
            let script = IPTablesRenderer.restoreScript(
                policy, family: family, options: options, missingJumps: IPTablesRenderer.jumps(options, family: family))
            expected[family] = RulesObservation.parse(iptablesSave: script, options: options)
        }
        return expected
    }

    /// Jump labels that also record what iptables-nft had to create for the jump: the whole
    /// mangle table, or the builtin chain (iptables-nft creates both on demand). Removal
    /// deletes them again when they are empty, so `nft list ruleset` is as it was.
    static let createdChain = " created-chain"
    static let createdTable = " created-table"

    /// The position of a rule's comment text.
    static func commentIndex(_ rule: [String]) -> Int? {
        rule.firstIndex(of: "--comment").map { $0 + 1 }.flatMap { $0 < rule.count ? $0 : nil }
    }

    /// Installs the rules; returns what it replaced or removed that was not this policy's
    /// (another policy's rules, a safety net not asked for, a hook no longer wanted), in
    /// words for the log: nothing of the operator's firewall changes silently.
    public func install(_ policy: Policy) async throws(FirewallError) -> [String] {
        try validate(policy)
        let listings = try await checkedListings()
        let notes = changeNotes(before: observation(of: listings), installing: policy)
        for family in IPFamily.allCases {
            let listing = listings[family]
            guard !IPTablesRenderer.chainRules(policy, family: family, options: options).isEmpty else {
                try await remove(family: family, listing: listing)
                continue
            }
            let tableCreated = backend == .iptablesNFT ? !(try await nftExists(family, nil)) : false
            var missing: [(chain: String, rule: [String])] = []
            for jump in IPTablesRenderer.jumps(options, family: family) where try await present(family, jump, in: listing) == nil {
                var rule = jump.rule
                var suffix = ""
                if tableCreated {
                    suffix = IPTablesFirewall.createdTable
                } else if backend == .iptablesNFT, !(try await nftExists(family, jump.chain)) {
                    suffix = IPTablesFirewall.createdChain
                }
                if let at = IPTablesFirewall.commentIndex(rule) { rule[at] += suffix }
                missing.append((jump.chain, rule))
            }
            // Reconcile: jumps and the safety-net chain from an earlier install that the
            // options no longer ask for go in the same transaction.
            let (stale, staleJumps) = try await staleParts(family, listing)
            try await restore(
                family,
                IPTablesRenderer.restoreScript(
                    policy, family: family, options: options, missingJumps: missing, reconcile: stale))
            try await cleanUpCreated(family, removedJumps: staleJumps)
        }
        return notes
    }

    /// Removes every rule mssclamp installed, or all but the safety net (`keepSafetyNet`:
    /// a worker stopping leaves it to clamp while it is down). Returns what it removed
    /// that was not installed by the current policy.
    public func remove(keepSafetyNet: Bool, policy: Policy?) async throws(FirewallError) -> [String] {
        let listings = try await checkedListings()
        let notes = removalNotes(before: observation(of: listings), keepSafetyNet: keepSafetyNet, policy: policy)
        for family in IPFamily.allCases {
            try await remove(family: family, listing: listings[family], keepSafetyNet: keepSafetyNet)
        }
        return notes
    }

    /// Both families' listings, each refused before the next is read when it holds a chain
    /// by our names that is not ours: on iptables-legacy even a read creates a table.
    func checkedListings() async throws(FirewallError) -> MangleListings {
        let ipv4 = try await listing(.ipv4)
        try refuseForeignChains(.ipv4, ipv4)
        let ipv6 = try await listing(.ipv6)
        try refuseForeignChains(.ipv6, ipv6)
        return MangleListings(ipv4: ipv4, ipv6: ipv6)
    }

    func observation(of listings: MangleListings) -> RulesObservation {
        var observation = RulesObservation(backend: backend)
        for family in IPFamily.allCases {
            observation[family] = RulesObservation.parse(iptablesSave: listings[family].text, options: options)
        }
        return observation
    }

    /// Rule by rule with `-C` (values included), chain sizes, and jumps.
    public func textDifferences(_ policy: Policy) async throws(FirewallError) -> [String] {
        var differences: [String] = []
        for family in IPFamily.allCases {
            let tool = backend.tools(family).command
            let listed = try await listing(family)
            let expected = IPTablesRenderer.chainRules(policy, family: family, options: options)
            let chains: [(String, [[String]])] =
                [(options.chain, expected)]
                + (options.countsBypass ? [(options.bypassChain, IPTablesRenderer.bypassRules(policy, family: family).rules)] : [])
                + (options.safetyNet ? [(options.safetyNetChain, IPTablesRenderer.safetyNetRules(policy, family: family).rules)] : [])
                + (options.learnStalls ? [(options.stallChain, IPTablesRenderer.stallRules(options, digest: policy.digest))] : [])
            for (chain, rules) in chains {
                let listing = listed.rules(of: chain)
                if rules.isEmpty {
                    if listing != nil && chain != options.bypassChain {
                        differences.append("\(tool): chain \(chain) exists but the policy has no \(family) rules")
                    }
                    continue
                }
                guard let listing else {
                    differences.append("\(tool): chain \(chain) is missing")
                    continue
                }
                let digests = Set(listing.compactMap(RulesObservation.digest(inRule:)))
                if !digests.isEmpty && digests != [policy.digest] {
                    differences.append(
                        "\(tool): \(chain) holds rules of another policy (policy:\(digests.sorted().joined(separator: ","))); this one is policy:\(policy.digest)"
                    )
                }
                for rule in rules where try await run(family, ["-C", chain] + rule).status != 0 {
                    differences.append("\(tool): missing in \(chain): -A \(chain) \(IPTablesRenderer.quote(rule))")
                }
                if listing.count != rules.count {
                    differences.append("\(tool): \(chain) holds \(listing.count) rule(s), the policy wants \(rules.count):")
                    differences += listing.map { "  \($0)" }
                }
            }
            if !expected.isEmpty {
                for jump in IPTablesRenderer.jumps(options, family: family) where try await present(family, jump, in: listed) == nil {
                    differences.append("\(tool): missing jump: -A \(jump.chain) \(IPTablesRenderer.quote(jump.rule))")
                }
            }
        }
        return differences
    }

    public func holdsOurs() async throws(FirewallError) -> Bool {
        if backend == .iptablesLegacy {
            // Reading a legacy table that does not exist would create it (and load x_tables).
            guard let tables = Backend.legacyTables() else {
                throw FirewallError("the kernel's table list (/proc/self/net/ip_tables_names) is root's", reason: .denied)
            }
            if !tables.contains("mangle") { return false }
        }
        return try await !observe().isEmpty
    }

    public func observe() async throws(FirewallError) -> RulesObservation {
        observation(of: MangleListings(ipv4: try await listing(.ipv4), ipv6: try await listing(.ipv6)))
    }

    /// One family's mangle table, with counters: one process for every question of a step.
    func listing(_ family: IPFamily) async throws(FirewallError) -> MangleListing {
        let tool = backend.tools(family).save
        let result = try await FirewallTool.run(tool, ["-c", "-t", "mangle"])
        if result.status != 0 && FirewallTool.denied(result.error) {
            throw FirewallError("\(tool): permission denied: reading the firewall needs CAP_NET_ADMIN", reason: .denied)
        }
        return MangleListing(save: result.output)
    }

    func remove(family: IPFamily, listing: MangleListing, keepSafetyNet: Bool = false) async throws(FirewallError) {
        var presentJumps: [(chain: String, rule: [String])] = []
        for jump in IPTablesRenderer.allJumps(options, family: family) where !(keepSafetyNet && jump.rule.last == options.safetyNetChain) {
            if let found = try await present(family, jump, in: listing) { presentJumps.append(found) }
        }
        let chains = ([options.chain, options.bypassChain, options.stallChain] + (keepSafetyNet ? [] : [options.safetyNetChain])).filter {
            listing.rules(of: $0) != nil
        }
        guard let script = IPTablesRenderer.removalScript(presentJumps: presentJumps, presentChains: chains) else { return }
        try await restore(family, script)
        try await cleanUpCreated(family, removedJumps: presentJumps)
    }

    /// Whatever iptables-nft created for jumps now removed goes again, if nothing else uses it.
    func cleanUpCreated(_ family: IPFamily, removedJumps presentJumps: [(chain: String, rule: [String])]) async throws(FirewallError) {
        let nftFamily = family == .ipv4 ? "ip" : "ip6"
        let created = { (jump: (chain: String, rule: [String]), suffix: String) in
            IPTablesFirewall.commentIndex(jump.rule).map { jump.rule[$0].hasSuffix(suffix) } ?? false
        }
        for jump in presentJumps where created(jump, IPTablesFirewall.createdChain) || created(jump, IPTablesFirewall.createdTable) {
            if try await chainIsEmpty(family, jump.chain) {
                _ = try await FirewallTool.run("nft", ["delete", "chain", nftFamily, "mangle", jump.chain])
            }
        }
        if presentJumps.contains(where: { created($0, IPTablesFirewall.createdTable) }) {
            let table = try await FirewallTool.run("nft", ["list", "table", nftFamily, "mangle"])
            if table.status == 0 && !table.output.contains("chain ") {
                _ = try await FirewallTool.run("nft", ["delete", "table", nftFamily, "mangle"])
            }
        }
    }

    /// The jump as it stands in the firewall (with whichever label), or nil. The listing
    /// names the candidates; `-C` confirms the one it shows, rule for rule.
    func present(
        _ family: IPFamily, _ jump: (chain: String, rule: [String]), in listing: MangleListing
    ) async throws(FirewallError) -> (chain: String, rule: [String])? {
        guard let at = IPTablesFirewall.commentIndex(jump.rule), let target = jump.rule.last else { return nil }
        for suffix in ["", IPTablesFirewall.createdChain, IPTablesFirewall.createdTable] {
            var rule = jump.rule
            rule[at] += suffix
            guard listing.hasJump(in: jump.chain, comment: rule[at], target: target) else { continue }
            if try await run(family, ["-C", jump.chain] + rule).status == 0 { return (jump.chain, rule) }
        }
        return nil
    }

    /// Removal lines for jumps and chains of ours that the current options do not want,
    /// and the jumps they remove.
    func staleParts(_ family: IPFamily, _ listing: MangleListing) async throws(FirewallError) -> ([String], [(chain: String, rule: [String])]) {
        let wanted = IPTablesRenderer.jumps(options, family: family).map { "\($0.chain) \($0.rule)" }
        var lines: [String] = []
        var removed: [(chain: String, rule: [String])] = []
        for jump in IPTablesRenderer.allJumps(options, family: family) {
            guard let found = try await present(family, jump, in: listing), !wanted.contains("\(jump.chain) \(jump.rule)") else { continue }
            lines.append("-D \(found.chain) " + IPTablesRenderer.quote(found.rule))
            removed.append(found)
        }
        for (chain, wanted) in [
            (options.safetyNetChain, options.safetyNet), (options.bypassChain, options.countsBypass), (options.stallChain, options.learnStalls),
        ]
        where !wanted {
            if listing.rules(of: chain) != nil { lines += ["-F \(chain)", "-X \(chain)"] }
        }
        return (lines, removed)
    }

    /// Our chain names must be ours: a chain by that name holding rules without our comment
    /// belongs to someone else, and we change nothing.
    func refuseForeignChains(_ family: IPFamily, _ listing: MangleListing) throws(FirewallError) {
        for chain in [options.chain, options.bypassChain, options.safetyNetChain, options.stallChain] {
            guard let rules = listing.rules(of: chain) else { continue }
            if let foreign = rules.first(where: { !SteeringOptions.carriesOurComment($0) }) {
                throw FirewallError(
                    "\(backend.tools(family).command): chain \(chain) in the mangle table already exists and is not mssclamp's (\(foreign)); nothing was changed"
                )
            }
        }
    }

    /// Whether nf_tables has the mangle table (chain nil) or that chain of it.
    func nftExists(_ family: IPFamily, _ chain: String?) async throws(FirewallError) -> Bool {
        let nftFamily = family == .ipv4 ? "ip" : "ip6"
        let arguments = chain.map { ["list", "chain", nftFamily, "mangle", $0] } ?? ["list", "table", nftFamily, "mangle"]
        return try await FirewallTool.run("nft", arguments).status == 0
    }

    /// A builtin chain with no rules and policy ACCEPT.
    func chainIsEmpty(_ family: IPFamily, _ chain: String) async throws(FirewallError) -> Bool {
        let result = try await run(family, ["-S", chain])
        let lines = result.output.split(separator: "\n")
        return result.status == 0 && lines.allSatisfy { $0.hasPrefix("-P ") && $0.hasSuffix(" ACCEPT") }
    }

    func restore(_ family: IPFamily, _ script: String) async throws(FirewallError) {
        let tool = backend.tools(family).restore
        let result = try await FirewallTool.run(tool, ["-w", "--noflush"], input: script)
        guard result.status == 0 else {
            throw FirewallError(
                "\(tool) refused the change, nothing was applied (exit \(result.status)): \(result.error.trimmingSpaces)\nscript was:\n\(script)")
        }
    }

    func run(_ family: IPFamily, _ arguments: [String]) async throws(FirewallError) -> FirewallTool.Output {
        let tool = backend.tools(family).command
        let result = try await FirewallTool.run(tool, ["-w", "-t", "mangle"] + arguments)
        if result.status == 4 || result.error.contains("Permission denied") || result.error.contains("Operation not permitted") {
            throw FirewallError(IPTablesFirewall.explainDenied(tool: tool, backend: backend, stderr: result.error))
        }
        return result
    }

    /// The real obstacle behind an iptables "permission denied". iptables-legacy needs more
    /// than CAP_NET_ADMIN: a raw socket (CAP_NET_RAW) to talk to x_tables, and the host-wide
    /// lock file every iptables serializes on, which is root's, mode 0600.
    static func explainDenied(tool: String, backend: Backend, stderr: String) -> String {
        if stderr.contains("lock file") {
            return "\(tool): cannot open \(IPTablesFirewall.legacyLockPath) (\(stderr.trimmingSpaces)). " + IPTablesFirewall.legacyLockAdvice
        }
        if backend == .iptablesLegacy && stderr.contains("you must be root") {
            return
                "\(tool): permission denied: iptables-legacy talks to the kernel over a raw socket and needs CAP_NET_RAW as well as CAP_NET_ADMIN (mssclamp run keeps both for this backend; grant both, e.g. AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW)"
        }
        return "\(tool): permission denied: changing the firewall needs CAP_NET_ADMIN (run as root, or grant it)"
    }

    /// The lock iptables-legacy takes around every change ($XTABLES_LOCKFILE overrides it).
    public static var legacyLockPath: String {
        if let path = getenv("XTABLES_LOCKFILE"), path.pointee != 0 { return String(cString: path) }
        return "/run/xtables.lock"
    }

    static let legacyLockAdvice = """
        iptables-legacy serializes every change on this host-wide lock (created by root, mode 0600). \
        Either let mssclamp stay uid 0 (omit --user: it still keeps only CAP_NET_ADMIN and CAP_NET_RAW), \
        or let the service's group open the lock: chgrp GROUP /run/xtables.lock && chmod 0640 /run/xtables.lock \
        (the drop-in shipped as /usr/share/doc/mssclamp/examples/iptables-legacy.conf, deploy/mssclamp-iptables-legacy.conf in the source, does this at every start), or use --backend iptables-nft
        """

    /// What can be found out before touching anything: for iptables-legacy, whether this
    /// process can open the lock every change will need.
    public func preflight() throws(FirewallError) {
        guard backend == .iptablesLegacy else { return }
        let path = IPTablesFirewall.legacyLockPath
        let descriptor = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let reason = String(cString: strerror(errno))
            throw FirewallError("iptables-legacy: cannot open \(path) as uid \(geteuid()): \(reason). " + IPTablesFirewall.legacyLockAdvice)
        }
        close(descriptor)
    }
}

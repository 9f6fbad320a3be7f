import Glibc
import MSSClampCore
import Subprocess

/// A firewall change that failed or was refused, with the tool's own words.
public struct FirewallError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Applies the steering rules: atomically (`*-restore --noflush` or `nft -f`, one
/// transaction per family), idempotently (our chains are declared, so re-installing replaces
/// their contents; jumps are added only when missing), reconciling whatever a crash left,
/// and without a shell. Touches nothing but its own chains (or table) and jumps to them.
public struct Firewall: Sendable {
    public var backend: Backend
    public var options: SteeringOptions

    public init(backend: Backend, options: SteeringOptions) {
        self.backend = backend
        self.options = options
    }

    /// Where the rules live, in the words of the backend's own listing.
    public var location: String {
        backend == .nftables ? "table inet \(SteeringOptions.nftTable)" : "mangle/\(options.chain)"
    }

    /// Queueing rules per family as `observe()` counts them once `policy` is installed: the
    /// one expectation `status`, the worker's repair and `rules check` compare against.
    /// nftables is read back from the very script `install` applies, since one inet table
    /// carries both families and a line without a family serves both.
    public func expectedQueueRules(_ policy: Policy, family: IPFamily) -> Int {
        guard backend == .nftables else { return IPTablesRenderer.chainRules(policy, family: family, options: options).count }
        var expected = RulesObservation(backend: backend.rawValue)
        expected.read(nftTable: NFTablesRenderer.script(policy, options: options))
        return expected[family].queueRules
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
    @discardableResult
    public func install(_ policy: Policy) async throws(FirewallError) -> [String] {
        try validate(policy)
        // Refuse before reading anything: on iptables-legacy even a read creates a table.
        if backend != .nftables {
            for family in IPFamily.allCases { try await refuseForeignChains(family) }
        }
        let notes = changeNotes(before: try await observe(), installing: policy)
        if backend == .nftables {
            try await nft(NFTablesRenderer.script(policy, options: options), what: "install")
            return notes
        }
        for family in IPFamily.allCases {
            guard !IPTablesRenderer.chainRules(policy, family: family, options: options).isEmpty else {
                try await remove(family: family)
                continue
            }
            let tableCreated = backend == .iptablesNFT ? !(try await nftExists(family, nil)) : false
            var missing: [(chain: String, rule: [String])] = []
            for jump in IPTablesRenderer.jumps(options, family: family) where try await present(family, jump) == nil {
                var rule = jump.rule
                var suffix = ""
                if tableCreated {
                    suffix = Firewall.createdTable
                } else if backend == .iptablesNFT, !(try await nftExists(family, jump.chain)) {
                    suffix = Firewall.createdChain
                }
                if let at = Firewall.commentIndex(rule) { rule[at] += suffix }
                missing.append((jump.chain, rule))
            }
            // Reconcile: jumps and the safety-net chain from an earlier install that the
            // options no longer ask for go in the same transaction.
            let (stale, staleJumps) = try await staleParts(family)
            try await restore(family, IPTablesRenderer.restoreScript(
                policy, family: family, options: options, missingJumps: missing, reconcile: stale))
            try await cleanUpCreated(family, removedJumps: staleJumps)
        }
        return notes
    }

    /// Removes every rule mssclamp installed, or all but the safety net (`keepSafetyNet`:
    /// a worker stopping leaves it to clamp while it is down). Returns what it removed
    /// that was not installed by the current policy.
    @discardableResult
    public func remove(keepSafetyNet: Bool = false, policy: Policy? = nil) async throws(FirewallError) -> [String] {
        if backend != .nftables {
            for family in IPFamily.allCases { try await refuseForeignChains(family) }
        }
        let notes = removalNotes(before: try await observe(), keepSafetyNet: keepSafetyNet, policy: policy)
        if backend == .nftables {
            var script = NFTablesRenderer.removalScript()
            if keepSafetyNet, let policy { script = NFTablesRenderer.script(policy, options: options, queueing: false) }
            try await nft(script, what: "remove")
            return notes
        }
        for family in IPFamily.allCases {
            try await remove(family: family, keepSafetyNet: keepSafetyNet)
        }
        return notes
    }

    /// What differs between the firewall and the policy; empty when they match.
    public func check(_ policy: Policy) async throws(FirewallError) -> [String] {
        if backend == .nftables { return try await checkNFT(policy) }
        var differences: [String] = []
        for family in IPFamily.allCases {
            let tool = backend.tools(family).command
            let expected = IPTablesRenderer.chainRules(policy, family: family, options: options)
            let chains: [(String, [[String]])] = [(options.chain, expected)]
                + (options.countsBypass ? [(options.bypassChain, IPTablesRenderer.bypassRules(policy, family: family).rules)] : [])
                + (options.safetyNet ? [(options.safetyNetChain, IPTablesRenderer.safetyNetRules(policy, family: family).rules)] : [])
            for (chain, rules) in chains {
                let listing = try await listChain(family, chain)
                if rules.isEmpty {
                    if listing != nil && chain != options.bypassChain { differences.append("\(tool): chain \(chain) exists but the policy has no \(family) rules") }
                    continue
                }
                guard let listing else {
                    differences.append("\(tool): chain \(chain) is missing")
                    continue
                }
                let digests = Set(listing.compactMap(RulesObservation.digest(inRule:)))
                if !digests.isEmpty && digests != [policy.digest] {
                    differences.append("\(tool): \(chain) holds rules of another policy (policy:\(digests.sorted().joined(separator: ","))); this one is policy:\(policy.digest)")
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
                for jump in IPTablesRenderer.jumps(options, family: family) where try await present(family, jump) == nil {
                    differences.append("\(tool): missing jump: -A \(jump.chain) \(IPTablesRenderer.quote(jump.rule))")
                }
            }
        }
        return differences
    }

    /// What `install` applies, as text (the same renderers, for `rules print`).
    public func rendered(_ policy: Policy) -> String {
        if backend == .nftables { return "# nft -f -\n" + NFTablesRenderer.script(policy, options: options) }
        var parts: [String] = []
        for family in IPFamily.allCases where !IPTablesRenderer.chainRules(policy, family: family, options: options).isEmpty {
            parts.append("# \(backend.tools(family).restore) --noflush\n"
                         + IPTablesRenderer.restoreScript(policy, family: family, options: options, missingJumps: IPTablesRenderer.jumps(options, family: family)))
        }
        return parts.joined(separator: "\n")
    }

    /// Policy shapes the chosen hooks cannot carry.
    public func validate(_ policy: Policy) throws(FirewallError) {
        if options.hooks.contains(where: { !$0.allowsInInterface }),
           let index = policy.rules.firstIndex(where: { $0.inInterface != nil }) {
            throw FirewallError("rule \(index + 1) matches an input interface, which does not exist for locally originated traffic (hooks: \(options.hooks.map(\.rawValue).joined(separator: ",")))")
        }
    }

    // MARK: iptables

    func remove(family: IPFamily, keepSafetyNet: Bool = false) async throws(FirewallError) {
        var presentJumps: [(chain: String, rule: [String])] = []
        for jump in IPTablesRenderer.allJumps(options, family: family) where !(keepSafetyNet && jump.rule.last == options.safetyNetChain) {
            if let found = try await present(family, jump) { presentJumps.append(found) }
        }
        var chains: [String] = []
        for chain in [options.chain, options.bypassChain] + (keepSafetyNet ? [] : [options.safetyNetChain])
        where try await listChain(family, chain) != nil {
            chains.append(chain)
        }
        guard let script = IPTablesRenderer.removalScript(presentJumps: presentJumps, presentChains: chains) else { return }
        try await restore(family, script)
        try await cleanUpCreated(family, removedJumps: presentJumps)
    }

    /// Whatever iptables-nft created for jumps now removed goes again, if nothing else uses it.
    func cleanUpCreated(_ family: IPFamily, removedJumps presentJumps: [(chain: String, rule: [String])]) async throws(FirewallError) {
        let nftFamily = family == .ipv4 ? "ip" : "ip6"
        let created = { (jump: (chain: String, rule: [String]), suffix: String) in
            Firewall.commentIndex(jump.rule).map { jump.rule[$0].hasSuffix(suffix) } ?? false
        }
        for jump in presentJumps where created(jump, Firewall.createdChain) || created(jump, Firewall.createdTable) {
            if try await chainIsEmpty(family, jump.chain) {
                _ = try await Firewall.execute("nft", ["delete", "chain", nftFamily, "mangle", jump.chain], input: nil)
            }
        }
        if presentJumps.contains(where: { created($0, Firewall.createdTable) }) {
            let table = try await Firewall.execute("nft", ["list", "table", nftFamily, "mangle"], input: nil)
            if table.status == 0 && !table.output.contains("chain ") {
                _ = try await Firewall.execute("nft", ["delete", "table", nftFamily, "mangle"], input: nil)
            }
        }
    }

    /// The jump as it stands in the firewall (with whichever label), or nil.
    func present(_ family: IPFamily, _ jump: (chain: String, rule: [String])) async throws(FirewallError) -> (chain: String, rule: [String])? {
        guard let at = Firewall.commentIndex(jump.rule) else { return nil }
        for suffix in ["", Firewall.createdChain, Firewall.createdTable] {
            var rule = jump.rule
            rule[at] += suffix
            if try await run(family, ["-C", jump.chain] + rule).status == 0 { return (jump.chain, rule) }
        }
        return nil
    }

    /// Removal lines for jumps and chains of ours that the current options do not want,
    /// and the jumps they remove.
    func staleParts(_ family: IPFamily) async throws(FirewallError) -> ([String], [(chain: String, rule: [String])]) {
        let wanted = IPTablesRenderer.jumps(options, family: family).map { "\($0.chain) \($0.rule)" }
        var lines: [String] = []
        var removed: [(chain: String, rule: [String])] = []
        for jump in IPTablesRenderer.allJumps(options, family: family) {
            guard let found = try await present(family, jump), !wanted.contains("\(jump.chain) \(jump.rule)") else { continue }
            lines.append("-D \(found.chain) " + IPTablesRenderer.quote(found.rule))
            removed.append(found)
        }
        for (chain, wanted) in [(options.safetyNetChain, options.safetyNet), (options.bypassChain, options.countsBypass)]
        where !wanted {
            if try await listChain(family, chain) != nil { lines += ["-F \(chain)", "-X \(chain)"] }
        }
        return (lines, removed)
    }

    /// Our chain names must be ours: a chain by that name holding rules without our comment
    /// belongs to someone else, and we change nothing.
    func refuseForeignChains(_ family: IPFamily) async throws(FirewallError) {
        for chain in [options.chain, options.bypassChain, options.safetyNetChain] {
            guard let rules = try await listChain(family, chain) else { continue }
            if let foreign = rules.first(where: { !$0.contains("--comment \"\(SteeringOptions.comment)") && !$0.contains("--comment \(SteeringOptions.comment)") }) {
                throw FirewallError("\(backend.tools(family).command): chain \(chain) in the mangle table already exists and is not mssclamp's (\(foreign)); nothing was changed")
            }
        }
    }

    /// The `-A` lines of a chain, or nil when it does not exist.
    func listChain(_ family: IPFamily, _ chain: String) async throws(FirewallError) -> [String]? {
        let result = try await run(family, ["-S", chain])
        guard result.status == 0 else { return nil }
        return result.output.split(separator: "\n").map(String.init).filter { $0.hasPrefix("-A ") }
    }

    /// Whether nf_tables has the mangle table (chain nil) or that chain of it.
    func nftExists(_ family: IPFamily, _ chain: String?) async throws(FirewallError) -> Bool {
        let nftFamily = family == .ipv4 ? "ip" : "ip6"
        let arguments = chain.map { ["list", "chain", nftFamily, "mangle", $0] } ?? ["list", "table", nftFamily, "mangle"]
        return try await Firewall.execute("nft", arguments, input: nil).status == 0
    }

    /// A builtin chain with no rules and policy ACCEPT.
    func chainIsEmpty(_ family: IPFamily, _ chain: String) async throws(FirewallError) -> Bool {
        let result = try await run(family, ["-S", chain])
        let lines = result.output.split(separator: "\n")
        return result.status == 0 && lines.allSatisfy { $0.hasPrefix("-P ") && $0.hasSuffix(" ACCEPT") }
    }

    func restore(_ family: IPFamily, _ script: String) async throws(FirewallError) {
        let tool = backend.tools(family).restore
        let result = try await Firewall.execute(tool, ["-w", "--noflush"], input: script)
        guard result.status == 0 else {
            throw FirewallError("\(tool) refused the change, nothing was applied (exit \(result.status)): \(result.error.trimmingCharacters())\nscript was:\n\(script)")
        }
    }

    func run(_ family: IPFamily, _ arguments: [String]) async throws(FirewallError) -> Output {
        let tool = backend.tools(family).command
        let result = try await Firewall.execute(tool, ["-w", "-t", "mangle"] + arguments, input: nil)
        if result.status == 4 || result.error.contains("Permission denied") || result.error.contains("Operation not permitted") {
            throw FirewallError(Firewall.explainDenied(tool: tool, backend: backend, stderr: result.error))
        }
        return result
    }

    /// The real obstacle behind an iptables "permission denied". iptables-legacy needs more
    /// than CAP_NET_ADMIN: a raw socket (CAP_NET_RAW) to talk to x_tables, and the host-wide
    /// lock file every iptables serializes on, which is root's, mode 0600.
    static func explainDenied(tool: String, backend: Backend, stderr: String) -> String {
        if stderr.contains("lock file") {
            return "\(tool): cannot open \(Firewall.legacyLockPath) (\(stderr.trimmingCharacters())). " + Firewall.legacyLockAdvice
        }
        if backend == .iptablesLegacy && stderr.contains("you must be root") {
            return "\(tool): permission denied: iptables-legacy talks to the kernel over a raw socket and needs CAP_NET_RAW as well as CAP_NET_ADMIN (mssclamp run keeps both for this backend; grant both, e.g. AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW)"
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
        let path = Firewall.legacyLockPath
        let descriptor = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let reason = String(cString: strerror(errno))
            throw FirewallError("iptables-legacy: cannot open \(path) as uid \(geteuid()): \(reason). " + Firewall.legacyLockAdvice)
        }
        close(descriptor)
    }

    // MARK: nftables

    func nft(_ script: String, what: String) async throws(FirewallError) {
        let existing = try await Firewall.execute("nft", ["list", "table", "inet", SteeringOptions.nftTable], input: nil)
        if existing.status == 0 && !existing.output.contains("managed by mssclamp") {
            throw FirewallError("nft: table inet \(SteeringOptions.nftTable) already exists and is not mssclamp's; nothing was changed")
        }
        let result = try await Firewall.execute("nft", ["-f", "-"], input: script)
        guard result.status == 0 else {
            var hint = ""
            if result.error.contains("queue") || script.contains("queue") && result.error.contains("No such file or directory") {
                hint = "\n(this kernel may lack nft_queue (CONFIG_NFT_QUEUE); use --backend iptables-nft, which queues through xt_NFQUEUE)"
            }
            throw FirewallError("nft refused to \(what), nothing was applied (exit \(result.status)): \(result.error.trimmingCharacters())\(hint)")
        }
    }

    func checkNFT(_ policy: Policy) async throws(FirewallError) -> [String] {
        let listing = try await Firewall.execute("nft", ["list", "table", "inet", SteeringOptions.nftTable], input: nil)
        guard listing.status == 0 else { return ["nft: table inet \(SteeringOptions.nftTable) is missing"] }
        // nft rewrites expressions when it lists them; compare by the rules' comments, in
        // order, chain by chain.
        let expected = NFTablesRenderer.script(policy, options: options).split(separator: "\n").compactMap(NFTablesRenderer.commentOf)
        let actual = listing.output.split(separator: "\n").compactMap(NFTablesRenderer.commentOf)
        guard expected != actual else { return [] }
        return ["nft: table inet \(SteeringOptions.nftTable) holds rules \(actual), the policy wants \(expected)"]
    }

    // MARK: running tools

    public struct Output: Sendable {
        public var status: Int32
        public var output: String
        public var error: String
    }

    /// Runs a tool by name (PATH), never through a shell.
    public static func execute(_ tool: String, _ arguments: [String], input: String?) async throws(FirewallError) -> Output {
        do {
            let result = try await Subprocess.run(
                .name(tool), arguments: Arguments(arguments),
                input: .string(input ?? ""), output: .string(limit: 1 << 22), error: .string(limit: 1 << 20))
            let status: Int32
            switch result.terminationStatus {
            case .exited(let code): status = code
            case .signaled(let signal): status = 128 + signal
            }
            return Output(status: status, output: result.standardOutput, error: result.standardError)
        } catch {
            throw FirewallError("cannot run \(tool): \(error) (is it installed? Debian: apt-get install iptables nftables)")
        }
    }
}

extension NFTablesRenderer {
    /// The comment of a rule line, if it has one of ours.
    static func commentOf(_ line: Substring) -> String? {
        guard let range = line.firstRange(of: "comment \"\(SteeringOptions.comment)") else { return nil }
        let rest = line[range.lowerBound...].dropFirst("comment \"".count)
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }
}

extension String {
    func trimmingCharacters() -> String {
        var slice = Substring(self)
        while slice.last?.isWhitespace == true { slice.removeLast() }
        while slice.first?.isWhitespace == true { slice.removeFirst() }
        return String(slice)
    }
}

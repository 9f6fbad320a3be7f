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

    /// The jump label that also records "the mangle table did not exist before us", so that
    /// removal can leave an iptables-nft ruleset exactly as it found it.
    static let createdTableLabel = "\(SteeringOptions.comment) created-table"

    public func install(_ policy: Policy) async throws(FirewallError) {
        try validate(policy)
        if backend == .nftables {
            try await nft(NFTablesRenderer.script(policy, options: options), what: "install")
            return
        }
        for family in IPFamily.allCases {
            try await refuseForeignChains(family)
            guard !IPTablesRenderer.chainRules(policy, family: family, options: options).isEmpty else {
                try await remove(family: family)
                continue
            }
            let created = backend == .iptablesNFT ? !(try await tableExists(family)) : false
            var missing: [(chain: String, rule: [String])] = []
            for jump in IPTablesRenderer.jumps(options) where try await present(family, jump) == nil {
                var rule = jump.rule
                if created, let at = rule.firstIndex(of: SteeringOptions.comment) { rule[at] = Firewall.createdTableLabel }
                missing.append((jump.chain, rule))
            }
            var script = IPTablesRenderer.restoreScript(policy, family: family, options: options, missingJumps: missing)
            // Reconcile: jumps and the safety-net chain from an earlier install that the
            // options no longer ask for.
            let stale = try await staleParts(family)
            if !stale.isEmpty {
                script = script.replacingOccurrences(of: "COMMIT\n", with: stale.joined(separator: "\n") + "\nCOMMIT\n")
            }
            try await restore(family, script)
        }
    }

    public func remove() async throws(FirewallError) {
        if backend == .nftables {
            try await nft(NFTablesRenderer.removalScript(), what: "remove")
            return
        }
        for family in IPFamily.allCases {
            try await refuseForeignChains(family)
            try await remove(family: family)
        }
    }

    /// What differs between the firewall and the policy; empty when they match.
    public func check(_ policy: Policy) async throws(FirewallError) -> [String] {
        if backend == .nftables { return try await checkNFT(policy) }
        var differences: [String] = []
        for family in IPFamily.allCases {
            let tool = backend.tools(family).command
            let expected = IPTablesRenderer.chainRules(policy, family: family, options: options)
            let chains: [(String, [[String]])] = [(options.chain, expected)]
                + (options.safetyNet ? [(options.safetyNetChain, IPTablesRenderer.safetyNetRules(policy, family: family).rules)] : [])
            for (chain, rules) in chains {
                let listing = try await listChain(family, chain)
                if rules.isEmpty {
                    if listing != nil { differences.append("\(tool): chain \(chain) exists but the policy has no \(family) rules") }
                    continue
                }
                guard let listing else {
                    differences.append("\(tool): chain \(chain) is missing")
                    continue
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
                for jump in IPTablesRenderer.jumps(options) where try await present(family, jump) == nil {
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
                         + IPTablesRenderer.restoreScript(policy, family: family, options: options, missingJumps: IPTablesRenderer.jumps(options)))
        }
        return parts.joined(separator: "\n")
    }

    /// Policy shapes the chosen hooks cannot carry.
    func validate(_ policy: Policy) throws(FirewallError) {
        if options.hooks.contains(where: { !$0.allowsInInterface }),
           let index = policy.rules.firstIndex(where: { $0.inInterface != nil }) {
            throw FirewallError("rule \(index + 1) matches an input interface, which does not exist for locally originated traffic (hooks: \(options.hooks.map(\.rawValue).joined(separator: ",")))")
        }
    }

    // MARK: iptables

    func remove(family: IPFamily) async throws(FirewallError) {
        var presentJumps: [(chain: String, rule: [String])] = []
        for jump in IPTablesRenderer.jumps(SteeringOptions(queues: options.queues, hooks: Hook.allCases, safetyNet: true)) {
            if let found = try await present(family, jump) { presentJumps.append(found) }
        }
        var chains: [String] = []
        for chain in [options.chain, options.safetyNetChain] where try await listChain(family, chain) != nil {
            chains.append(chain)
        }
        guard let script = IPTablesRenderer.removalScript(presentJumps: presentJumps, presentChains: chains) else { return }
        try await restore(family, script)
        // We created the table: if nothing else lives there now, take it away again.
        if presentJumps.contains(where: { $0.rule.contains(Firewall.createdTableLabel) }), try await tableIsEmpty(family) {
            _ = try await Firewall.execute("nft", ["delete", "table", family == .ipv4 ? "ip" : "ip6", "mangle"], input: nil)
        }
    }

    /// The jump as it stands in the firewall (with whichever label), or nil.
    func present(_ family: IPFamily, _ jump: (chain: String, rule: [String])) async throws(FirewallError) -> (chain: String, rule: [String])? {
        if try await run(family, ["-C", jump.chain] + jump.rule).status == 0 { return jump }
        var created = jump.rule
        if let at = created.firstIndex(of: SteeringOptions.comment) {
            created[at] = Firewall.createdTableLabel
            if try await run(family, ["-C", jump.chain] + created).status == 0 { return (jump.chain, created) }
        }
        return nil
    }

    /// Removal lines for jumps and chains of ours that the current options do not want.
    func staleParts(_ family: IPFamily) async throws(FirewallError) -> [String] {
        let wanted = IPTablesRenderer.jumps(options).map { "\($0.chain) \($0.rule)" }
        var lines: [String] = []
        for jump in IPTablesRenderer.jumps(SteeringOptions(queues: options.queues, hooks: Hook.allCases, safetyNet: true)) {
            guard let found = try await present(family, jump), !wanted.contains("\(jump.chain) \(jump.rule)") else { continue }
            lines.append("-D \(found.chain) " + IPTablesRenderer.quote(found.rule))
        }
        if !options.safetyNet, try await listChain(family, options.safetyNetChain) != nil {
            lines += ["-F \(options.safetyNetChain)", "-X \(options.safetyNetChain)"]
        }
        return lines
    }

    /// Our chain names must be ours: a chain by that name holding rules without our comment
    /// belongs to someone else, and we change nothing.
    func refuseForeignChains(_ family: IPFamily) async throws(FirewallError) {
        for chain in [options.chain, options.safetyNetChain] {
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

    func tableExists(_ family: IPFamily) async throws(FirewallError) -> Bool {
        let result = try await Firewall.execute("nft", ["list", "table", family == .ipv4 ? "ip" : "ip6", "mangle"], input: nil)
        return result.status == 0
    }

    /// No rules and every builtin chain at policy ACCEPT.
    func tableIsEmpty(_ family: IPFamily) async throws(FirewallError) -> Bool {
        let result = try await run(family, ["-S"])
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
            throw FirewallError("\(tool): permission denied: changing the firewall needs CAP_NET_ADMIN (run as root)")
        }
        return result
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
        guard let range = line.range(of: "comment \"\(SteeringOptions.comment)") else { return nil }
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

    func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = Substring(self)
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}

import MSSClampCore

/// The rules as one native nftables table (`table inet mssclamp`), applied with `nft -f`:
/// one transaction for both families, and removal is deleting the table.
public struct NFTablesFirewall: Firewall {
    public let options: SteeringOptions
    public var backend: Backend { .nftables }
    public var location: String { "table inet \(SteeringOptions.nftTable)" }
    public var safetyNetLocation: String { "chain safety_net of table inet \(SteeringOptions.nftTable)" }

    public init(options: SteeringOptions) {
        self.options = options
    }

    public func rendered(_ policy: Policy) -> String {
        "# nft -f -\n" + NFTablesRenderer.script(policy, options: options)
    }

    /// Read back from the very script `install` applies, since one inet table carries both
    /// families and a line without a family serves both.
    public func expected(_ policy: Policy) -> RulesObservation {
        var expected = RulesObservation(backend: backend)
        expected.read(nftTable: NFTablesRenderer.script(policy, options: options))
        return expected
    }

    public func install(_ policy: Policy) async throws(FirewallError) -> [String] {
        try validate(policy)
        let notes = changeNotes(before: try await observe(), installing: policy)
        try await apply(NFTablesRenderer.script(policy, options: options), what: "install")
        return notes
    }

    public func remove(keepSafetyNet: Bool, policy: Policy?) async throws(FirewallError) -> [String] {
        let notes = removalNotes(before: try await observe(), keepSafetyNet: keepSafetyNet, policy: policy)
        var script = NFTablesRenderer.removalScript()
        if keepSafetyNet, let policy {
            // A policy the kernel cannot clamp alone (every rule follows an interface or asks
            // about IPsec) has no net to leave: then no empty table either, which no later
            // `rules remove` would see as ours to take away.
            let net = NFTablesRenderer.script(policy, options: options, queueing: false)
            if net.split(separator: "\n").contains(where: { NFTablesRenderer.commentOf($0) != nil }) { script = net }
        }
        try await apply(script, what: "remove")
        return notes
    }

    public func holdsOurs() async throws(FirewallError) -> Bool {
        if try await !observe().isEmpty { return true }
        return await tableExists()  // our table with no rule left in it: ours to remove all the same
    }

    public func observe() async throws(FirewallError) -> RulesObservation {
        var observation = RulesObservation(backend: backend)
        let listing = try await FirewallTool.run("nft", ["list", "table", "inet", SteeringOptions.nftTable])
        if listing.status == 0 {
            observation.read(nftTable: listing.output)
        } else if FirewallTool.denied(listing.error) {
            throw FirewallError("nft: permission denied: reading the firewall needs CAP_NET_ADMIN", reason: .denied)
        }
        return observation
    }

    /// nft rewrites expressions when it lists them; compared by the rules' comments, in
    /// order, chain by chain.
    public func textDifferences(_ policy: Policy) async throws(FirewallError) -> [String] {
        let listing = try await FirewallTool.run("nft", ["list", "table", "inet", SteeringOptions.nftTable])
        guard listing.status == 0 else { return ["nft: table inet \(SteeringOptions.nftTable) is missing"] }
        let expected = NFTablesRenderer.script(policy, options: options).split(separator: "\n").compactMap(NFTablesRenderer.commentOf)
        let actual = listing.output.split(separator: "\n").compactMap(NFTablesRenderer.commentOf)
        guard expected != actual else { return [] }
        return ["nft: table inet \(SteeringOptions.nftTable) holds rules \(actual), the policy wants \(expected)"]
    }

    public func preflight() throws(FirewallError) {}

    /// Whether our table exists at all, rules or none (an empty one is still ours to remove).
    public func tableExists() async -> Bool {
        guard let listing = try? await FirewallTool.run("nft", ["list", "table", "inet", SteeringOptions.nftTable]) else { return false }
        return listing.status == 0 && NFTListing.isOurTable(listing.output)
    }

    /// Applies a script, refusing to touch a table of that name that is not ours.
    func apply(_ script: String, what: String) async throws(FirewallError) {
        let existing = try await FirewallTool.run("nft", ["list", "table", "inet", SteeringOptions.nftTable])
        if existing.status == 0 && !NFTListing.isOurTable(existing.output) {
            throw FirewallError("nft: table inet \(SteeringOptions.nftTable) already exists and is not mssclamp's; nothing was changed")
        }
        let result = try await FirewallTool.run("nft", ["-f", "-"], input: script)
        guard result.status == 0 else {
            var hint = ""
            if result.error.contains("queue") || script.contains("queue") && result.error.contains("No such file or directory") {
                hint = "\n(this kernel may lack nft_queue (CONFIG_NFT_QUEUE); use --backend iptables-nft, which queues through xt_NFQUEUE)"
            }
            throw FirewallError("nft refused to \(what), nothing was applied (exit \(result.status)): \(result.error.trimmingSpaces)\(hint)")
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

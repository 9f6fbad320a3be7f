import MSSClampCore

/// One family's mangle table as `iptables-save -c -t mangle` lists it, read once per step:
/// which chains exist, their `-A` lines, and the text for `RulesObservation`.
///
/// Why: every question asked with a tool of its own (`-S CHAIN`, `-C CHAIN RULE` for each jump
/// and each label it could carry) is a process and a netlink dump of the whole table. A
/// worker's start asked about fifty of them: 5 s here, 15–37 s under emulation. The listing
/// answers which chains exist and which jumps could be ours; `-C` is kept only to confirm a
/// jump the listing shows, so a rule of ours that someone changed is not taken for ours.
struct MangleListing {
    /// The save output as read, counters included.
    let text: String
    /// Chain name → its rules as `iptables -S` prints them (`-A CHAIN ...`, no counters).
    private var chains: [String: [String]] = [:]

    init(save text: String) {
        self.text = text
        let (rules, chains) = IPTablesListing.read(text)
        for chain in chains where self.chains[chain.name] == nil { self.chains[chain.name] = [] }
        for rule in rules { self.chains[rule.chain, default: []].append(rule.line) }
    }

    /// The `-A` lines of a chain, or nil when the chain does not exist.
    func rules(of chain: String) -> [String]? { chains[chain] }

    /// Whether `chain` holds a rule with exactly this comment that jumps to `target`.
    func hasJump(in chain: String, comment: String, target: String) -> Bool {
        let written = comment.contains(" ") ? "--comment \"\(comment)\" " : "--comment \(comment) "
        return chains[chain]?.contains { $0.contains(written) && $0.hasSuffix(" -j \(target)") } ?? false
    }
}

/// Both families' listings, taken together before a change.
struct MangleListings {
    var ipv4: MangleListing
    var ipv6: MangleListing

    subscript(family: IPFamily) -> MangleListing { family == .ipv4 ? ipv4 : ipv6 }
}

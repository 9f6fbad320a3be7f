import MSSClampCore

/// Which firewall tooling carries the rules.
public enum Backend: String, Sendable, CaseIterable {
    /// iptables / ip6tables on nf_tables (iptables-nft), Debian's default since buster.
    case iptablesNFT = "iptables-nft"
    /// iptables / ip6tables on the legacy x_tables (iptables-legacy).
    case iptablesLegacy = "iptables-legacy"
    /// A native nftables table (`table inet mssclamp`), through nft.
    case nftables

    /// The command, its restore and save tools, per family.
    public func tools(_ family: IPFamily) -> (command: String, restore: String, save: String) {
        let base = family == .ipv4 ? "iptables" : "ip6tables"
        switch self {
        case .iptablesNFT: return ("\(base)-nft", "\(base)-nft-restore", "\(base)-nft-save")
        case .iptablesLegacy: return ("\(base)-legacy", "\(base)-legacy-restore", "\(base)-legacy-save")
        case .nftables: return ("nft", "nft", "nft")
        }
    }

    /// Picks the iptables backend the way Kubernetes' iptables-wrapper and Docker do: the one
    /// that already holds rules wins (legacy only when it has more), so ours land beside the
    /// rules that are really in force; with none anywhere, nf_tables.
    public static func detect() async -> Backend {
        async let legacy = ruleCount(.iptablesLegacy)
        async let nft = ruleCount(.iptablesNFT)
        let (legacyCount, nftCount) = await (legacy, nft)
        if nftCount == nil && legacyCount != nil { return .iptablesLegacy }
        return (legacyCount ?? 0) > (nftCount ?? 0) ? .iptablesLegacy : .iptablesNFT
    }

    /// `-A` lines in both families' save output, or nil when the tools are missing.
    static func ruleCount(_ backend: Backend) async -> Int? {
        var total: Int?
        for family in IPFamily.allCases {
            guard let result = try? await Firewall.execute(backend.tools(family).save, [], input: nil), result.status == 0 else { continue }
            total = (total ?? 0) + result.output.split(separator: "\n").filter { $0.hasPrefix("-A ") }.count
        }
        return total
    }
}

/// The builtin chains that jump to ours: FORWARD for routed traffic (the VPN gateway case),
/// OUTPUT and POSTROUTING for traffic the host itself originates.
public enum Hook: String, Sendable, CaseIterable {
    case forward, output, postrouting

    public var chain: String { rawValue.uppercased() }
    /// An input interface exists only where a packet came in from somewhere.
    public var allowsInInterface: Bool { self == .forward }
}

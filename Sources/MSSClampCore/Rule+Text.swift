extension Rule {
    /// The rule in iptables' words, for dry-run headers and logs:
    /// `-o eth0 -s 198.51.100.0/24 --tcp-flags SYN,RST SYN -m tcpmss --mss 1361:1536 -> set-mss 1360`.
    public var summary: String {
        var words: [String] = []
        if family != .both { words.append(family == .ipv4 ? "-4" : "-6") }
        if let inInterface { words += ["-i", inInterface.name] }
        if let outInterface { words += ["-o", outInterface.name] }
        if !sources.isEmpty { words += ["-s", sources.map(\.text).joined(separator: ",")] }
        if !destinations.isEmpty { words += ["-d", destinations.map(\.text).joined(separator: ",")] }
        switch direction {
        case .both: words += ["--tcp-flags", "SYN,RST", "SYN"]
        case .syn: words.append("--syn")
        case .synAck: words += ["--tcp-flags", "SYN,RST,ACK", "SYN,ACK"]
        }
        if let ipsec { words += ipsec.policyWords }
        if let mssRange {
            words += [
                "-m", "tcpmss", "--mss",
                mssRange.lowerBound == mssRange.upperBound
                    ? "\(mssRange.lowerBound)" : "\(mssRange.lowerBound):\(mssRange.upperBound)",
            ]
        }
        words += ["->", action.summary]
        if insertMissing { words.append("(insert missing)") }
        return words.joined(separator: " ")
    }
}

extension Action {
    public var summary: String {
        switch self {
        case .setMSS(let v4, let v6): return v4 == v6 ? "set-mss \(v4)" : "set-mss \(v4) (IPv4) / \(v6) (IPv6)"
        case .clampToMTU(let mtu): return "clamp-to-mtu \(mtu)"
        case .clampToPathMTU: return "clamp-mss-to-pmtu"
        case .clampToInterface(let name): return "clamp-to-interface \(name)"
        }
    }
}

extension IPsecSelector {
    /// The `-m policy` matches that say the same to xt_policy.
    public var policyWords: [String] {
        switch self {
        case .inbound: return ["-m", "policy", "--dir", "in", "--pol", "ipsec"]
        case .outbound: return ["-m", "policy", "--dir", "out", "--pol", "ipsec"]
        case .plain: return ["-m", "policy", "--dir", "in", "--pol", "none", "-m", "policy", "--dir", "out", "--pol", "none"]
        }
    }
}

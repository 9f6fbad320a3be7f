import MSSClampCore

/// Tunnel interfaces: their MTUs, and what the clamping in force gives SYNs through them.
extension Doctor {
    /// What TCPMSS rules give SYNs leaving by a tunnel, against what its MTU allows. TCPMSS
    /// never raises, so where several apply the lowest value wins; a rule clamping to the
    /// path MTU follows the tunnel's own MTU there and is not judged by a number.
    static func tooHigh(_ link: GatewayFacts.Link, _ inForce: PerFamily<Clamping>) -> [Finding] {
        var findings: [Finding] = []
        for family in IPFamily.allCases {
            let applicable = inForce[family].tcpmss.filter { entry in
                guard let o = entry.rule.words.firstIndex(of: "-o"), o + 1 < entry.rule.words.count else { return true }
                return InterfacePattern(entry.rule.words[o + 1]).matches(link.name)
            }
            guard !applicable.isEmpty, !applicable.contains(where: { $0.setMSS == nil }), let value = applicable.compactMap(\.setMSS).min() else {
                continue
            }
            let need = family.mss(forMTU: link.mtu)
            guard value > need, let rule = applicable.first(where: { $0.setMSS == value })?.rule else { continue }
            let tool = family == .ipv4 ? "iptables" : "ip6tables"
            findings.append(
                Finding(
                    "clamp-too-high-for-tunnel", .warning,
                    "\(tool): SYNs leaving by \(link.name) get MSS \(value) (-A \(rule.chain) \(rule.text)); its MTU \(link.mtu) allows \(need)",
                    fix:
                        "\(tool) -t mangle -I \(rule.chain) -o \(link.name) -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss \(need)   (or: mssclamp run -o \(link.name) --clamp-to-interface \(link.name))"
                ))
        }
        return findings
    }

    static let tunnelKinds: Set<String> = [
        "wireguard", "gre", "gretap", "ip6gre", "ip6gretap", "ipip", "ip6tnl", "sit", "vti", "vti6", "xfrm", "tun", "vxlan", "geneve", "l2tp",
    ]

    /// The devices tunnel modules create in every namespace (`ip_gre` makes gre0, gretap0
    /// and erspan0, ...): they carry nothing and are no one's tunnel.
    static let fallbackDevices: Set<String> = [
        "gre0", "gretap0", "erspan0", "ip6gre0", "ip6erspan0", "ip6tnl0", "sit0", "tunl0", "ip_vti0", "ip6_vti0",
    ]

    static func tunnels(_ facts: GatewayFacts) -> [Finding] {
        let tunnels = facts.links.filter(isTunnel).sorted { $0.up && !$1.up }
        guard !tunnels.isEmpty else { return [] }
        var findings = tunnels.map { link in
            Finding(
                "tunnel", .info,
                "\(link.name) (\(link.kind ?? "ppp"), \(link.up ? "up" : "down")), MTU \(link.mtu): SYNs leaving by it need MSS \(IPFamily.ipv4.mss(forMTU: link.mtu)) (IPv4) / \(IPFamily.ipv6.mss(forMTU: link.mtu)) (IPv6) at most"
            )
        }
        let readable = facts.iptables[.ipv4] != nil || facts.nftables != nil
        let inForce = clampingInForce(facts)
        findings += tunnels.filter(\.up).flatMap { tooHigh($0, inForce) }
        findings += tunnels.filter(\.up).flatMap { mssclampTooHigh($0, facts) }
        if readable && !inForce.values.contains(where: \.any) {
            let first = tunnels[0].name
            findings.append(
                Finding(
                    "tunnel-unclamped", .warning,
                    "tunnel interfaces (\(tunnels.map(\.name).joined(separator: ", "))) and nothing clamps MSS: a client that believes its MTU is 1500 stalls wherever ICMP is filtered",
                    fix: "mssclamp run -o \(first) --clamp-to-interface \(first)   (YAML: out-interface: \(first), clamp-to-interface: \(first))"))
        }
        return findings
    }

    /// mssclamp's own policy, as its worker publishes it, against each tunnel: a rule that
    /// reaches SYNs through the tunnel (not pinned by -i/-o to another tunnel) with a fixed
    /// target above what the tunnel's MTU allows.
    static func mssclampTooHigh(_ link: GatewayFacts.Link, _ facts: GatewayFacts) -> [Finding] {
        guard let worker = facts.worker else { return [] }
        let others = facts.links.filter { $0.name != link.name && isTunnel($0) }
        var findings: [Finding] = []
        for (index, text) in worker.policy.enumerated() {
            guard let rule = PolicyLine(text), rule.reaches(link.name, notPinnedTo: others.map(\.name)) else { continue }
            for family in IPFamily.allCases where rule.family == nil || rule.family == family {
                let need = family.mss(forMTU: link.mtu)
                guard let target = rule.target(family, mtu: { name in facts.links.first { $0.name == name }?.mtu }), target > need else { continue }
                findings.append(
                    Finding(
                        "mssclamp-too-high-for-tunnel", .warning,
                        "mssclamp's rule \(index + 1) (\(text)) gives \(family == .ipv4 ? "IPv4" : "IPv6") SYNs through \(link.name) MSS \(target); its MTU \(link.mtu) allows \(need)",
                        fix:
                            "in rule \(index + 1) of the policy: clamp-to-interface: \(link.name)   (or set-mss: \(IPFamily.ipv4.mss(forMTU: link.mtu)), which is \(IPFamily.ipv6.mss(forMTU: link.mtu)) for IPv6 by clamp-to-mtu: \(link.mtu)); then systemctl reload mssclamp"
                    ))
            }
        }
        return findings
    }

    static func isTunnel(_ link: GatewayFacts.Link) -> Bool {
        ((link.kind.map(tunnelKinds.contains) ?? false) || link.name.hasPrefix("ppp")) && !fallbackDevices.contains(link.name)
    }
}

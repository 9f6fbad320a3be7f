import MSSClampCore
import MSSClampRules

/// The gateway checks: pure functions of `GatewayFacts`, one per trap, each finding with its
/// fix. Read-only by construction: nothing here can change the system.
public enum Doctor {
    public static func examine(_ facts: GatewayFacts) -> DoctorReport {
        var findings =
            sysctls(facts) + icmp(facts) + icmpByDefault(facts) + clamping(facts) + deadClamping(facts) + tunnels(facts) + ipsec(facts)
            + worker(facts)
        findings.sort { $0.severity > $1.severity }
        return DoctorReport(findings: findings, unread: facts.unread)
    }

    // MARK: sysctls

    static func sysctls(_ facts: GatewayFacts) -> [Finding] {
        var findings: [Finding] = []
        if let value = facts.sysctls["net.ipv4.ip_no_pmtu_disc"], value != "0" {
            findings.append(
                Finding(
                    "pmtu-discovery-off", .warning,
                    "net.ipv4.ip_no_pmtu_disc = \(value): this host's own packets go without DF, and MSS clamping cannot help UDP (QUIC, DNS, WireGuard's own datagrams)",
                    fix: "sysctl -w net.ipv4.ip_no_pmtu_disc=0"))
        }
        if let value = facts.sysctls["net.ipv4.tcp_mtu_probing"], value == "0" {
            findings.append(
                Finding(
                    "tcp-mtu-probing-off", .info,
                    "net.ipv4.tcp_mtu_probing = 0: the gateway's own TCP connections cannot find a black hole without ICMP (clamping covers forwarded SYNs only)",
                    fix: "sysctl -w net.ipv4.tcp_mtu_probing=1"))
        }
        // The kernel's default floor is 552; raised, it overrides what routers announce.
        if let text = facts.sysctls["net.ipv4.route.min_pmtu"], let floor = Int(text), floor > 552 {
            findings.append(
                Finding(
                    "pmtu-floor-raised", .info,
                    "net.ipv4.route.min_pmtu = \(floor): a frag-needed announcing less than \(floor) is taken as \(floor), and this host's own packets on such a path go without DF (fragmented); forwarded SYNs still need clamping below it",
                    fix: "sysctl -w net.ipv4.route.min_pmtu=552   (the kernel's default)"))
        }
        for (key, family) in [("net.ipv4.ip_forward", "IPv4"), ("net.ipv6.conf.all.forwarding", "IPv6")] {
            if let value = facts.sysctls[key], value == "0" {
                findings.append(
                    Finding(
                        "forwarding-off", .info, "\(key) = 0: this host does not route \(family); clamping forwarded SYNs does nothing for it",
                        fix: "sysctl -w \(key)=1 (if this host is meant to be the gateway)"))
            }
        }
        return findings
    }

    // MARK: clamping in force

    /// What clamps SYNs in one family: TCPMSS rules (anyone's), nft `maxseg size set`
    /// statements, and mssclamp's own queueing rules.
    struct Clamping {
        var tcpmss: [(rule: IPTablesListing.Rule, setMSS: Int?)] = []
        var nftMaxseg: [String] = []
        var mssclamp = false
        var any: Bool { !tcpmss.isEmpty || !nftMaxseg.isEmpty || mssclamp }
        var others: Bool { tcpmss.contains { !$0.rule.isOurs } || !nftMaxseg.isEmpty }
    }

    /// One value per family, both always there (no optional to unwrap).
    struct PerFamily<Value> {
        var ipv4: Value
        var ipv6: Value
        subscript(family: IPFamily) -> Value {
            get { family == .ipv4 ? ipv4 : ipv6 }
            set { if family == .ipv4 { ipv4 = newValue } else { ipv6 = newValue } }
        }
        var values: [Value] { [ipv4, ipv6] }
    }

    static func clampingInForce(_ facts: GatewayFacts) -> PerFamily<Clamping> {
        var result = PerFamily(ipv4: Clamping(), ipv6: Clamping())
        for family in IPFamily.allCases {
            guard let save = facts.iptables[family] else { continue }
            for rule in IPTablesListing.rules(save) {
                if rule.target == "TCPMSS" && !rule.isOurs {
                    let value = rule.words.firstIndex(of: "--set-mss").flatMap { $0 + 1 < rule.words.count ? Int(rule.words[$0 + 1]) : nil }
                    result[family].tcpmss.append((rule, value))
                }
                if rule.isOurs && (rule.target == "NFQUEUE" || rule.target == "TCPMSS") { result[family].mssclamp = true }
            }
        }
        if let ruleset = facts.nftables {
            for rule in NFTListing.rules(ruleset) where !rule.managedByIPTables {
                for family in IPFamily.allCases where rule.applies(to: family) {
                    if rule.table.hasSuffix(" " + SteeringOptions.nftTable) {
                        result[family].mssclamp = true
                        continue
                    }
                    if rule.text.contains("maxseg size set") { result[family].nftMaxseg.append(rule.text) }
                }
            }
        }
        return result
    }

    static func clamping(_ facts: GatewayFacts) -> [Finding] {
        var findings: [Finding] = []
        guard facts.iptables[.ipv4] != nil || facts.iptables[.ipv6] != nil || facts.nftables != nil else { return [] }
        let inForce = clampingInForce(facts)
        let v4 = inForce.ipv4, v6 = inForce.ipv6
        // One family clamped, the other not (mssclamp clamps both when its policy says so).
        for (clamped, other) in [(IPFamily.ipv4, IPFamily.ipv6), (.ipv6, .ipv4)] {
            let here = inForce[clamped], there = inForce[other]
            guard !here.tcpmss.isEmpty, there.tcpmss.isEmpty, there.nftMaxseg.isEmpty, !there.mssclamp else { continue }
            let (tool, otherTool) = clamped == .ipv4 ? ("iptables", "ip6tables") : ("ip6tables", "iptables")
            // IPv6 headers are 20 bytes longer than IPv4's: the same link, 20 less.
            let shift = clamped == .ipv4 ? -20 : 20
            let target = here.tcpmss.compactMap(\.setMSS).min().map { "--set-mss \($0 + shift)" } ?? "--clamp-mss-to-pmtu"
            findings.append(
                Finding(
                    clamped == .ipv4 ? "clamp-ipv4-only" : "clamp-ipv6-only", .warning,
                    "\(tool) clamps \(clamped == .ipv4 ? "IPv4" : "IPv6") SYNs (\(here.tcpmss.map { "-A \($0.rule.chain) \($0.rule.text)" }.joined(separator: "; "))) but nothing clamps \(other == .ipv4 ? "IPv4" : "IPv6")",
                    fix: "\(otherTool) -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS \(target)"))
        }
        // IPv6 given the IPv4 number: the same --set-mss in both families.
        let shared = Set(v4.tcpmss.compactMap(\.setMSS)).intersection(v6.tcpmss.compactMap(\.setMSS))
        let v6Rules = facts.iptables[.ipv6].map(IPTablesListing.rules) ?? []
        for value in shared.sorted() {
            guard let rule = v6.tcpmss.first(where: { $0.setMSS == value })?.rule else { continue }
            // -R takes the rule's place in its chain, counted from 1 as iptables lists it.
            let number = v6Rules.prefix(rule.index).filter { $0.table == rule.table && $0.chain == rule.chain }.count + 1
            findings.append(
                Finding(
                    "clamp-ipv6-given-ipv4-value", .warning,
                    "ip6tables -t mangle -A \(rule.chain) \(rule.text): IPv6 gets --set-mss \(value), the IPv4 value; over the same link IPv6 needs 20 bytes less, so its full-sized segments are 20 bytes too big",
                    fix:
                        "ip6tables -t mangle -R \(rule.chain) \(number) \(rule.text.replacing("--set-mss \(value)", with: "--set-mss \(value - 20)"))"
                ))
        }
        // Two clampers on the same SYNs: the lower wins, and neither's counters tell the truth.
        for family in IPFamily.allCases where inForce[family].mssclamp && inForce[family].others {
            let clamp = inForce[family]
            let theirs = clamp.tcpmss.filter { !$0.rule.isOurs }.map { "TCPMSS in \($0.rule.chain)" } + clamp.nftMaxseg.map { "nft '\($0)'" }
            findings.append(
                Finding(
                    "two-clampers", .warning,
                    "\(family == .ipv4 ? "IPv4" : "IPv6"): mssclamp and \(theirs.joined(separator: ", ")) both clamp; the lower target wins and neither's counts tell what happened",
                    fix: "keep one: remove the other rule, or express it as an mssclamp policy rule"))
        }
        return findings
    }

    // MARK: clamping rules that never run

    static let builtinChains: Set<String> = ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"]

    /// TCPMSS rules no SYN reaches: behind an earlier rule of the chain that accepts every
    /// TCP packet (ACCEPT ends the table's evaluation, TCPMSS is never reached: a bug
    /// Tailscale shipped), or in a chain of their own that nothing jumps to.
    static func deadClamping(_ facts: GatewayFacts) -> [Finding] {
        var findings: [Finding] = []
        for family in IPFamily.allCases {
            guard let save = facts.iptables[family] else { continue }
            let tool = family == .ipv4 ? "iptables" : "ip6tables"
            let rules = IPTablesListing.rules(save)
            for rule in rules where rule.target == "TCPMSS" && !rule.isOurs {
                let chain = rules.filter { $0.table == rule.table && $0.chain == rule.chain }
                if let accept = chain.first(where: { $0.index < rule.index && $0.target == "ACCEPT" && acceptsAllTCP($0) }) {
                    findings.append(
                        Finding(
                            "clamp-rule-shadowed", .error,
                            "\(tool) -t \(rule.table) -A \(rule.chain) \(rule.text) never runs: the earlier '-A \(accept.chain) \(accept.text)' accepts every TCP packet first",
                            fix:
                                "\(tool) -t \(rule.table) -D \(rule.chain) \(rule.text) && \(tool) -t \(rule.table) -I \(rule.chain) \(rule.text)   (clamp before accepting)"
                        ))
                } else if !builtinChains.contains(rule.chain),
                    !rules.contains(where: {
                        $0.table == rule.table && ($0.target == rule.chain || $0.words.contains("-g") && $0.words.last == rule.chain)
                    })
                {
                    findings.append(
                        Finding(
                            "clamp-rule-unreachable", .error,
                            "\(tool) -t \(rule.table) -A \(rule.chain) \(rule.text) never runs: nothing jumps to chain \(rule.chain)",
                            fix: "\(tool) -t \(rule.table) -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j \(rule.chain)"))
                }
            }
        }
        return findings
    }

    /// An ACCEPT whose only matches are ones every TCP SYN passes (none, `-p tcp`, a comment).
    static func acceptsAllTCP(_ rule: IPTablesListing.Rule) -> Bool {
        var words = rule.words
        if let j = words.firstIndex(of: "-j") { words.removeSubrange(j..<min(j + 2, words.count)) }
        if let c = words.firstIndex(of: "--comment") {
            // The comment's words run to the closing quote.
            var end = c + 1
            if end < words.count && words[end].hasPrefix("\"") {
                while end < words.count && !(words[end].hasSuffix("\"") && (end > c + 1 || words[end].count > 1)) { end += 1 }
            }
            words.removeSubrange(c...min(end, words.count - 1))
            if let m = words.lastIndex(of: "comment"), m > 0, words[m - 1] == "-m" { words.removeSubrange((m - 1)...m) }
        }
        for pair in [["-p", "tcp"], ["-m", "tcp"]] {
            if let i = words.firstIndex(of: pair[0]), i + 1 < words.count, words[i + 1] == pair[1] { words.removeSubrange(i...(i + 1)) }
        }
        return words.isEmpty
    }

    // MARK: policy-based IPsec

    /// Tunnel-mode IPsec policies: no interface, so the route toward the far side keeps the
    /// device's MTU, and `--clamp-mss-to-pmtu` (nft `rt mtu`) clamps nothing there. The
    /// overhead comes from the SAs' algorithms when `ip xfrm state` can be read.
    static func ipsec(_ facts: GatewayFacts) -> [Finding] {
        guard let policies = facts.xfrmPolicies else { return [] }
        let tunnels = XFRM.tunnelPolicies(policies)
        guard !tunnels.isEmpty else { return [] }
        let stack = facts.xfrmStates.map(XFRM.stack) ?? "esp-gcm"
        let known = facts.xfrmStates?.contains("proto esp") ?? false
        var findings = [
            Finding(
                "ipsec-policy", .info,
                "policy-based IPsec in tunnel mode (\(tunnels.joined(separator: "; "))): no tunnel interface, so routes toward these networks keep the device's MTU; the ESP overhead (\(stack)\(known ? ", from the SAs" : ", assumed: no SA read")) must be clamped for by a rule that selects IPsec traffic (ipsec: in)"
            )
        ]
        let inForce = clampingInForce(facts)
        let pmtuOnly =
            inForce.values.contains(where: { !$0.tcpmss.isEmpty || !$0.nftMaxseg.isEmpty })
            && inForce.values.allSatisfy { clamp in
                !clamp.mssclamp && clamp.tcpmss.allSatisfy { $0.setMSS == nil } && clamp.nftMaxseg.allSatisfy { $0.contains("rt mtu") }
            }
        let fix =
            "mssclamp run --ipsec in --set-mss-for-tunnel \(stack)   (YAML: ipsec: in, set-mss-for-tunnel: \(stack); the numbers: mssclamp mss --tunnel \(stack))"
        if pmtuOnly {
            findings.append(
                Finding(
                    "ipsec-pmtu-clamp-useless", .warning,
                    "the only clamping is to the path MTU (--clamp-mss-to-pmtu / rt mtu), which policy-based IPsec leaves at the device's 1500: IPsec clients' SYNs pass unclamped",
                    fix: fix))
        } else if (facts.iptables[.ipv4] != nil || facts.nftables != nil) && !inForce.values.contains(where: \.any) {
            findings.append(Finding("ipsec-unclamped", .warning, "tunnel-mode IPsec policies and nothing clamps MSS", fix: fix))
        }
        return findings
    }

    // MARK: mssclamp itself

    static func worker(_ facts: GatewayFacts) -> [Finding] {
        guard let worker = facts.worker else { return [] }
        // Black holes found with no ICMP: handled (later SYNs clamped), said with the static
        // rule an operator may prefer to keep.
        var findings = worker.stalls.map { stall in
            let v6 = stall.host.contains(":")
            return Finding(
                "stalled-flows", .info,
                "flows toward \(stall.host) stalled at \(stall.stalledAt) bytes with no ICMP (a black hole beyond this gateway); mssclamp --learn-stalls clamps SYNs from it to MSS \(stall.mss) (path MTU \(stall.mtu))",
                fix:
                    "to keep it without learning, a policy rule (source: \(stall.host), set-mss: \(stall.mss)) or \(v6 ? "ip6tables" : "iptables") -t mangle -A FORWARD -s \(stall.host) -p tcp --tcp-flags SYN,RST SYN -m tcpmss --mss \(stall.mss + 1):65535 -j TCPMSS --set-mss \(stall.mss)"
            )
        }
        guard !worker.healthy else { return findings }
        findings += worker.reasons.map {
            Finding("mssclamp-degraded", .warning, "mssclamp's worker: \($0)", fix: "mssclamp status (each reason with its remedy)")
        }
        return findings
    }

}

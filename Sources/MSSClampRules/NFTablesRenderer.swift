import MSSClampCore

/// Renders a policy as a native nftables table (`table inet mssclamp`), one base chain per
/// hook at mangle priority, and the nftables kernel-only equivalent.
///
/// nftables differs from xt_TCPMSS (shared/spec): `tcp option maxseg size set` never
/// inserts a missing option, and `set rt mtu` yields 536 instead of dropping when the MTU is
/// too small. The renderer says so in comments where a policy relies on either.
public enum NFTablesRenderer {
    /// The stall watch's base chain in our table.
    public static let stallChain = "stall_watch"

    /// The table's own comment: what tells our table from another of the same name.
    public static let tableComment = "managed by mssclamp"

    /// The nftables expression for one policy rule in one family (no MSS range). One inet
    /// table carries both families: `qualified` adds `meta nfproto`, so the line applies to
    /// this family only.
    public static func matches(_ rule: Rule, family: IPFamily, hook: Hook = .forward, qualified: Bool = true, selector: Bool = true) -> String? {
        guard IPTablesRenderer.matches(rule, family: family, hook: hook) != nil else { return nil }
        var words: [String] = []
        if qualified { words.append("meta nfproto \(family.description)") }
        words.append("meta l4proto tcp")
        switch rule.direction {
        case .both: words.append("tcp flags & (syn | rst) == syn")
        case .syn: words.append("tcp flags & (syn | rst | ack | fin) == syn")
        case .synAck: words.append("tcp flags & (syn | rst | ack) == syn | ack")
        }
        if let inInterface = rule.inInterface { words.append("iifname \(interface(inInterface))") }
        if let outInterface = rule.outInterface { words.append("oifname \(interface(outInterface))") }
        let address = family == .ipv4 ? "ip" : "ip6"
        let sources = rule.sources.filter { $0.family == family }
        let destinations = rule.destinations.filter { $0.family == family }
        if !sources.isEmpty { words.append("\(address) saddr { \(sources.map(\.text).joined(separator: ", ")) }") }
        if !destinations.isEmpty { words.append("\(address) daddr { \(destinations.map(\.text).joined(separator: ", ")) }") }
        if let ipsec = rule.ipsec, selector { words.append(policy(ipsec)) }
        return words.joined(separator: " ")
    }

    /// xt_policy's questions in nftables' words: `meta ipsec` asks whether the packet came
    /// out of an SA (it carries a secpath), `rt ipsec` whether its route goes into one.
    static func policy(_ selector: IPsecSelector) -> String {
        switch selector {
        case .inbound: return "meta ipsec exists"
        case .outbound: return "rt ipsec exists"
        case .plain: return "meta ipsec missing rt ipsec missing"
        }
    }

    /// The expressions that put a packet in IPsec class `number` (none without classes).
    static func classWords(_ classes: IPsecClasses, _ number: Int) -> String {
        var words: [String] = []
        if classes.inbound { words.append("meta ipsec \(number & 1 != 0 ? "exists" : "missing")") }
        if classes.outbound { words.append("rt ipsec \(number & 2 != 0 ? "exists" : "missing")") }
        return words.map { " " + $0 }.joined()
    }

    /// iptables' `eth+` is nftables' `"eth*"`.
    static func interface(_ pattern: InterfacePattern) -> String {
        pattern.isWildcard ? "\"\(pattern.name.dropLast())*\"" : "\"\(pattern.name)\""
    }

    static func range(_ range: ClosedRange<UInt16>?) -> String {
        guard let range else { return "" }
        return range.lowerBound == range.upperBound
            ? " tcp option maxseg size \(range.lowerBound)" : " tcp option maxseg size \(range.lowerBound)-\(range.upperBound)"
    }

    /// The lines of each policy rule: one unqualified line when both families render the
    /// same (a `both` rule without prefixes and with one value), else one line per family,
    /// each qualified. (Two unqualified lines with different values would both apply to every
    /// packet, and nftables' MSS statement does not end the chain.)
    /// `selector: false` leaves the rules' `ipsec:` to the caller (queueing lines say it
    /// through their class); `line` may then give several lines, one per class.
    static func perFamily(
        _ policy: Policy, hook: Hook = .forward, selector: Bool = true, _ line: (Int, Rule, IPFamily, String) -> [String]?
    ) -> [String] {
        var lines: [String] = []
        for (index, rule) in policy.rules.enumerated() {
            let plain = IPFamily.allCases.map { family in
                matches(rule, family: family, hook: hook, qualified: false, selector: selector).flatMap { line(index, rule, family, $0) }
            }
            if let first = plain[0], plain[1] == first {
                lines += first
                continue
            }
            for family in IPFamily.allCases {
                if let matched = matches(rule, family: family, hook: hook, selector: selector), let text = line(index, rule, family, matched) {
                    lines += text
                }
            }
        }
        return lines
    }

    /// One line per rule (`perFamily` for callers with nothing to say per class).
    static func perFamily(_ policy: Policy, hook: Hook = .forward, _ line: (Int, Rule, IPFamily, String) -> String?) -> [String] {
        perFamily(policy, hook: hook, selector: true) { index, rule, family, matched in line(index, rule, family, matched).map { [$0] } }
    }

    static func queue(_ options: SteeringOptions, block: Int = 0) -> String {
        var flags: [String] = []
        if options.bypass { flags.append("bypass") }
        // A range hashes flows over the queues, as iptables' --queue-balance does ("fanout"
        // would spread by CPU instead).
        let queues = options.queues(block: block)
        let target = queues.count == 1 ? "\(queues.lowerBound)" : "\(queues.lowerBound)-\(queues.upperBound)"
        return "queue " + (flags.isEmpty ? "" : "flags \(flags.joined(separator: ",")) ") + "to \(target)"
    }

    /// ICMP "fragmentation needed" / ICMPv6 "packet too big": the path-MTU signals.
    static func signalMatch(_ family: IPFamily) -> String {
        family == .ipv4
            ? "meta nfproto ipv4 icmp type destination-unreachable icmp code frag-needed"
            : "meta nfproto ipv6 icmpv6 type packet-too-big"
    }

    static func target(_ rule: Rule, family: IPFamily) -> String {
        switch rule.action {
        case .setMSS(let v4, let v6): return "tcp option maxseg size set \(family == .ipv4 ? v4 : v6)"
        case .clampToMTU(let mtu): return "tcp option maxseg size set \(family.mss(forMTU: mtu))"
        case .clampToPathMTU, .clampToInterface: return "tcp option maxseg size set rt mtu"
        }
    }

    static func comment(_ index: Int, _ rule: Rule, suffix: String = "", digest: String? = nil) -> String {
        " comment \"" + IPTablesRenderer.label(rule, index: index, suffix: suffix, digest: digest) + "\""
    }

    /// `nft -f` input that replaces our table atomically: declaring the table first makes
    /// the delete succeed whether or not it existed, and all of it is one transaction.
    /// Without `queueing`, only the safety net (what a stopping worker leaves behind).
    public static func script(_ policy: Policy, options: SteeringOptions, queueing: Bool = true) -> String {
        let digest = policy.digest
        var lines = [
            "table inet \(SteeringOptions.nftTable)", "delete table inet \(SteeringOptions.nftTable)",
            "table inet \(SteeringOptions.nftTable) {", "\tcomment \"\(tableComment)\"",
        ]
        let learning = options.learnPathMTU
        let classes = IPsecClasses(policy)
        let learnLabel = " comment \"\(SteeringOptions.learnComment) policy:\(digest)\""
        let hooks = Hook.allCases.filter { options.hooks.contains($0) || (learning && SteeringOptions.signalHooks.contains($0)) }
        for hook in queueing ? hooks : [] {
            lines += ["\tchain \(hook.rawValue) {", "\t\ttype filter hook \(hook.rawValue) priority mangle; policy accept;"]
            if learning && SteeringOptions.signalHooks.contains(hook) {
                lines += IPFamily.allCases.map { "\t\t" + signalMatch($0) + " " + queue(options) + learnLabel }
            }
            if options.hooks.contains(hook) {
                // Learning queues every SYN: the policy's lines keep only the rules' own
                // ranges (and their counters), and a last line takes the rest.
                lines += perFamily(policy, hook: hook, selector: false) { index, rule, family, matched in
                    classes.classes.filter { classes.admits(rule.ipsec, ofClass: $0) }.map { number in
                        "\t\t" + matched + classWords(classes, number)
                            + range(learning ? rule.mssRange : IPTablesRenderer.candidateRange(rule, family: family)) + " "
                            + queue(options, block: number) + comment(index, rule, digest: digest)
                    }
                }
                if learning {
                    lines += classes.classes.map {
                        "\t\tmeta l4proto tcp tcp flags & (syn | rst) == syn" + classWords(classes, $0) + " " + queue(options, block: $0) + learnLabel
                    }
                }
            }
            lines.append("\t}")
        }
        if queueing && options.countsBypass {
            // Before the safety net (a lower priority runs first): once clamped, out of range.
            lines += ["\tchain bypass {", "\t\ttype filter hook postrouting priority mangle - 1; policy accept;"]
            lines += perFamily(policy, hook: .postrouting) { index, rule, family, matched in
                IPTablesRenderer.countableRange(rule, family: family).map {
                    "\t\t" + matched + range($0) + " counter" + comment(index, rule, suffix: " bypass", digest: digest)
                }
            }
            lines.append("\t}")
        }
        if queueing && options.learnStalls {
            // The stall watch (see IPTablesRenderer.stallJump and stallRules): copies only.
            // nft's `ct ... packets` turns conntrack accounting on by itself.
            let copy =
                " log group \(options.stallLogGroup) snaplen \(SteeringOptions.stallCopyRange) queue-threshold \(SteeringOptions.stallThreshold)"
            lines += [
                "\tchain \(stallChain) {", "\t\ttype filter hook forward priority mangle; policy accept;",
                "\t\tmeta l4proto tcp meta length \(SteeringOptions.stallBaseSize + 1)-65535 ct state established ct direction reply"
                    + " ct original packets 0-\(SteeringOptions.stallClientPackets) ct reply packets 0-\(SteeringOptions.stallServerPackets)"
                    + copy + " comment \"\(SteeringOptions.stallComment) policy:\(digest)\"",
                "\t\tmeta l4proto tcp ct state established ct direction original"
                    + " ct original packets 0-\(SteeringOptions.stallClientPackets) ct reply packets 2-\(SteeringOptions.stallServerPackets)"
                    + copy + " comment \"\(SteeringOptions.stallComment) acks policy:\(digest)\"",
                "\t}",
            ]
        }
        if options.safetyNet {
            lines += ["\tchain safety_net {", "\t\ttype filter hook postrouting priority mangle; policy accept;"]
            lines += perFamily(policy, hook: .postrouting) { index, rule, family, matched in
                guard rule.action.followedInterface == nil else { return nil }  // left to the worker
                return "\t\t" + matched + range(IPTablesRenderer.candidateRange(rule, family: family) ?? 1...65535) + " counter "
                    + target(rule, family: family) + comment(index, rule, suffix: " safety-net", digest: digest)
            }
            lines.append("\t}")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    public static func removalScript() -> String {
        "table inet \(SteeringOptions.nftTable)\ndelete table inet \(SteeringOptions.nftTable)\n"
    }

    /// The kernel-only nftables equivalent, as an `nft -f` script, with the differences
    /// from xt_TCPMSS spelled out where the policy meets them.
    public static func kernelEquivalent(_ policy: Policy, hook: Hook = .forward) -> String {
        var notes: [String] = []
        if policy.rules.contains(where: \.insertMissing) {
            notes.append("# note: nftables never inserts a missing MSS option; rules with insert-missing only clamp here.")
        }
        if policy.rules.contains(where: { $0.action == .clampToPathMTU }) {
            notes.append("# note: 'set rt mtu' yields 536 where xt_TCPMSS drops (route MTU too small).")
        }
        var lines =
            notes + [
                "table inet mssclamp_kernel {", "\tchain \(hook.rawValue) {", "\t\ttype filter hook \(hook.rawValue) priority mangle; policy accept;",
            ]
        lines += perFamily(policy, hook: hook) { index, rule, family, matched in
            let mss = rule.mssRange ?? (rule.insertMissing ? nil : IPTablesRenderer.candidateRange(rule, family: family))
            return "\t\t" + matched + range(mss) + " " + target(rule, family: family) + comment(index, rule)
        }
        lines += ["\t}", "}"]
        return lines.joined(separator: "\n") + "\n"
    }
}

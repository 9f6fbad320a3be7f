import MSSClampCore
import MSSClampRules

/// ICMP frag-needed and ICMPv6 packet-too-big: path-MTU discovery's only signals. Dropped
/// where they cross the gateway (FORWARD), where they reach it (INPUT: its own connections,
/// and its tunnels' outer packets) or where it sends its own (OUTPUT), senders never learn.
extension Doctor {
    // MARK: ICMP that path-MTU discovery needs

    /// Rules that drop or reject ICMP frag-needed / ICMPv6 packet-too-big, unless an earlier
    /// rule of the same chain accepts them (a `RELATED` accept lets the errors of tracked
    /// connections through).
    static func icmp(_ facts: GatewayFacts) -> [Finding] {
        var findings: [Finding] = []
        for family in IPFamily.allCases {
            guard let save = facts.iptables[family] else { continue }
            let rules = IPTablesListing.rules(save)
            for rule in rules where blocksSignal(rule, family: family) {
                let earlier = rules.prefix(rule.index).filter { $0.table == rule.table && $0.chain == rule.chain }
                if earlier.contains(where: { passesSignal($0, family: family) }) { continue }
                let tool = family == .ipv4 ? "iptables" : "ip6tables"
                let what = family == .ipv4 ? "ICMP frag-needed (type 3 code 4)" : "ICMPv6 packet-too-big (type 2)"
                let accept = family == .ipv4 ? "-p icmp --icmp-type fragmentation-needed" : "-p ipv6-icmp --icmpv6-type packet-too-big"
                findings.append(
                    Finding(
                        family == .ipv4 ? "icmp-frag-needed-dropped" : "icmpv6-packet-too-big-dropped", .error,
                        "\(tool) -t \(rule.table) -A \(rule.chain) \(rule.text): drops \(what), which path-MTU discovery needs: senders behind it never learn the smaller MTU",
                        fix:
                            "\(tool) -t \(rule.table) -I \(rule.chain) \(accept) -j ACCEPT   (or delete the rule: \(tool) -t \(rule.table) -D \(rule.chain) \(rule.text))"
                    ))
            }
        }
        if let ruleset = facts.nftables {
            let rules = NFTListing.rules(ruleset)
            for rule in rules where !rule.managedByIPTables {
                for family in IPFamily.allCases where rule.applies(to: family) && nftBlocksSignal(rule.text, family: family) {
                    let earlier = rules.prefix(rule.index).filter { $0.table == rule.table && $0.chain == rule.chain }
                    if earlier.contains(where: { nftPassesSignal($0.text, family: family) }) { continue }
                    let type = family == .ipv4 ? "icmp type destination-unreachable icmp code frag-needed" : "icmpv6 type packet-too-big"
                    findings.append(
                        Finding(
                            family == .ipv4 ? "icmp-frag-needed-dropped" : "icmpv6-packet-too-big-dropped", .error,
                            "nft table \(rule.table) chain \(rule.chain): '\(rule.text)' drops \(family == .ipv4 ? "ICMP frag-needed" : "ICMPv6 packet-too-big"), which path-MTU discovery needs",
                            fix: "nft insert rule \(rule.table) \(rule.chain) \(type) accept"))
                }
            }
        }
        return findings
    }

    static func blocksSignal(_ rule: IPTablesListing.Rule, family: IPFamily) -> Bool {
        guard rule.target == "DROP" || rule.target == "REJECT" else { return false }
        return matchesSignal(rule.words, family: family, emptyMeansAll: true)
    }

    static func passesSignal(_ rule: IPTablesListing.Rule, family: IPFamily) -> Bool {
        guard rule.target == "ACCEPT" else { return false }
        if rule.words.contains(where: { $0.contains("RELATED") }) { return true }
        return matchesSignal(rule.words, family: family, emptyMeansAll: true)
    }

    /// Whether a rule's matches select the signal: the protocol (or none at all), and the
    /// type (or none).
    static func matchesSignal(_ words: [String], family: IPFamily, emptyMeansAll: Bool) -> Bool {
        let protocols = family == .ipv4 ? ["icmp", "1"] : ["ipv6-icmp", "icmpv6", "58"]
        let types = family == .ipv4 ? ["fragmentation-needed", "3/4", "destination-unreachable", "3"] : ["packet-too-big", "2", "2/0"]
        guard let p = words.firstIndex(of: "-p"), p + 1 < words.count, protocols.contains(words[p + 1]) else { return false }
        let typeFlag = family == .ipv4 ? "--icmp-type" : "--icmpv6-type"
        guard let t = words.firstIndex(of: typeFlag), t + 1 < words.count else { return emptyMeansAll }
        return types.contains(words[t + 1])
    }

    static func nftBlocksSignal(_ text: String, family: IPFamily) -> Bool {
        guard text.hasSuffix(" drop") || text.contains(" drop ") || text.hasPrefix("drop") || text.contains("reject") else { return false }
        return nftSelectsSignal(text, family: family)
    }

    static func nftPassesSignal(_ text: String, family: IPFamily) -> Bool {
        guard text.contains("accept") else { return false }
        return text.contains("related") || nftSelectsSignal(text, family: family)
    }

    static func nftSelectsSignal(_ text: String, family: IPFamily) -> Bool {
        if family == .ipv4 {
            if text.contains("icmp type") { return text.contains("destination-unreachable") || text.contains("frag-needed") }
            return text.contains("ip protocol icmp") || nftValues(after: "meta l4proto", in: text).contains { $0 == "icmp" || $0 == "1" }
        }
        if text.contains("icmpv6 type") { return text.contains("packet-too-big") }
        return text.contains("ip6 nexthdr ipv6-icmp")
            || nftValues(after: "meta l4proto", in: text).contains { $0 == "ipv6-icmp" || $0 == "icmpv6" || $0 == "58" }
    }

    /// The value after `key`, or each value of an anonymous set `{ a, b }` there.
    static func nftValues(after key: String, in text: String) -> [String] {
        guard let range = text.firstRange(of: key + " ") else { return [] }
        let rest = text[range.upperBound...]
        if rest.hasPrefix("{"), let close = rest.firstIndex(of: "}") {
            return rest[rest.index(after: rest.startIndex)..<close].split(separator: ",").map { String($0).trimmingSpaces }
        }
        return rest.split(separator: " ").first.map { [String($0)] } ?? []
    }

    // MARK: dropped by default

    static let signalChains = ["INPUT", "FORWARD", "OUTPUT"]

    /// Chains whose default drops: a DROP policy, or a last rule that drops everything,
    /// with no rule before it (in the chain or a chain it jumps to) that lets the signal
    /// through. The trap of a firewall written as "allow what I know, drop the rest".
    static func icmpByDefault(_ facts: GatewayFacts) -> [Finding] {
        var findings: [Finding] = []
        for family in IPFamily.allCases {
            guard let save = facts.iptables[family] else { continue }
            let rules = IPTablesListing.rules(save).filter { $0.table == "filter" }
            let policies = IPTablesListing.chains(save).filter { $0.table == "filter" && $0.policy != "-" }
            let tool = family == .ipv4 ? "iptables" : "ip6tables"
            for chain in signalChains {
                let own = rules.filter { $0.chain == chain }
                let catchAll = own.first { ($0.target == "DROP" || $0.target == "REJECT") && $0.words.count == 2 }
                let policy = policies.first { $0.name == chain }?.policy
                guard catchAll != nil || policy == "DROP" else { continue }
                let before = catchAll.map { end in own.filter { $0.index < end.index } } ?? own
                guard !passes(before, all: rules, family: family, seen: [chain]) else { continue }
                let how = catchAll.map { "its rule '-A \(chain) \($0.text)'" } ?? "its policy DROP"
                findings.append(
                    Finding(
                        family == .ipv4 ? "icmp-frag-needed-dropped" : "icmpv6-packet-too-big-dropped", .error,
                        "\(tool) filter \(chain) drops \(signalName(family)) by default (\(how)) and no rule before lets it through: \(whose(chain))",
                        fix: "\(tool) -t filter -I \(chain) \(acceptWords(family)) -j ACCEPT   (or: -m conntrack --ctstate RELATED -j ACCEPT)"))
            }
        }
        if let ruleset = facts.nftables {
            let rules = NFTListing.rules(ruleset)
            for chain in NFTListing.baseChains(ruleset) where !chain.managedByIPTables && ["input", "forward", "output"].contains(chain.hook) {
                let own = rules.filter { $0.table == chain.table && $0.chain == chain.name }
                let catchAll = own.first { ["drop", "reject", "counter drop", "counter reject"].contains($0.text) }
                guard catchAll != nil || chain.policy == "drop" else { continue }
                let before = catchAll.map { end in own.filter { $0.index < end.index } } ?? own
                for family in IPFamily.allCases where chain.applies(to: family) {
                    guard !nftPasses(before, all: rules, family: family, seen: [chain.name]) else { continue }
                    let how = catchAll.map { "its rule '\($0.text)'" } ?? "its policy drop"
                    let type = family == .ipv4 ? "icmp type destination-unreachable icmp code frag-needed" : "icmpv6 type packet-too-big"
                    findings.append(
                        Finding(
                            family == .ipv4 ? "icmp-frag-needed-dropped" : "icmpv6-packet-too-big-dropped", .error,
                            "nft table \(chain.table) chain \(chain.name) (hook \(chain.hook)) drops \(signalName(family)) by default (\(how)) and no rule before lets it through: \(whose(chain.hook.uppercased()))",
                            fix: "nft insert rule \(chain.table) \(chain.name) \(type) accept   (or: ct state related accept)"))
                }
            }
        }
        return findings
    }

    static func signalName(_ family: IPFamily) -> String {
        family == .ipv4 ? "ICMP frag-needed (type 3 code 4)" : "ICMPv6 packet-too-big (type 2)"
    }

    static func acceptWords(_ family: IPFamily) -> String {
        family == .ipv4 ? "-p icmp --icmp-type fragmentation-needed" : "-p ipv6-icmp --icmpv6-type packet-too-big"
    }

    /// Who stops hearing, by hook.
    static func whose(_ chain: String) -> String {
        switch chain {
        case "INPUT": return "this host's own connections and its tunnels' outer packets never learn a smaller path MTU"
        case "OUTPUT": return "the frag-needed this gateway sends for its own smaller links never leave it"
        default: return "hosts on either side never learn a smaller path MTU"
        }
    }

    /// Whether a rule among `rules` (or in a chain one of them jumps to) lets the signal through.
    static func passes(_ rules: [IPTablesListing.Rule], all: [IPTablesListing.Rule], family: IPFamily, seen: Set<String>) -> Bool {
        for rule in rules {
            if passesSignal(rule, family: family) { return true }
            if let target = rule.target, !seen.contains(target), all.contains(where: { $0.chain == target }),
                passes(all.filter { $0.chain == target }, all: all, family: family, seen: seen.union([target]))
            {
                return true
            }
        }
        return false
    }

    static func nftPasses(_ rules: [NFTListing.Rule], all: [NFTListing.Rule], family: IPFamily, seen: Set<String>) -> Bool {
        for rule in rules {
            if nftPassesSignal(rule.text, family: family) { return true }
            let words = rule.text.split(separator: " ")
            if let verb = words.firstIndex(where: { $0 == "jump" || $0 == "goto" }), verb + 1 < words.count {
                let target = String(words[verb + 1])
                if !seen.contains(target),
                    nftPasses(all.filter { $0.table == rule.table && $0.chain == target }, all: all, family: family, seen: seen.union([target]))
                {
                    return true
                }
            }
        }
        return false
    }
}

import MSSClampCore

/// `iptables-save` output (with or without `-c`), rule by rule: the one reader of that
/// format, for the installer, `status` and `doctor` alike.
public enum IPTablesListing {
    public struct Rule: Equatable, Sendable {
        /// Its place among every rule of the listing, from 0.
        public var index: Int
        public var table: String
        public var chain: String
        /// The words after `-A CHAIN`.
        public var words: [String]
        public var text: String
        /// The packet counter (`[packets:bytes]`), 0 when the listing has none.
        public var packets: UInt64

        /// The `-j` target.
        public var target: String? { words.firstIndex(of: "-j").flatMap { $0 + 1 < words.count ? words[$0 + 1] : nil } }
        /// Installed by mssclamp (every rule of ours carries the comment).
        public var isOurs: Bool { SteeringOptions.carriesOurComment(text) }
        /// As `iptables -S` prints it.
        public var line: String { "-A \(chain) \(text)" }
    }

    /// A chain as declared (`:FORWARD ACCEPT [0:0]`; a user chain's policy is `-`).
    public struct Chain: Equatable, Sendable {
        public var table: String
        public var name: String
        public var policy: String
    }

    public static func rules(_ save: String) -> [Rule] { read(save).rules }
    public static func chains(_ save: String) -> [Chain] { read(save).chains }

    public static func read(_ save: String) -> (rules: [Rule], chains: [Chain]) {
        var table = ""
        var rules: [Rule] = []
        var chains: [Chain] = []
        for raw in save.split(separator: "\n") {
            var line = Substring(raw)
            var packets: UInt64 = 0
            if line.hasPrefix("["), let close = line.firstIndex(of: "]") {
                packets = UInt64(line[line.index(after: line.startIndex)..<close].split(separator: ":").first ?? "") ?? 0
                line = line[line.index(after: close)...].drop { $0 == " " }
            }
            if line.hasPrefix("*") {
                table = String(line.dropFirst())
            } else if line.hasPrefix(":") {
                let words = line.dropFirst().split(separator: " ")
                if let name = words.first {
                    chains.append(Chain(table: table, name: String(name), policy: words.count >= 2 ? String(words[1]) : "-"))
                }
            } else if line.hasPrefix("-A ") {
                let words = line.split(separator: " ").map(String.init)
                guard words.count >= 2 else { continue }
                let rest = Array(words.dropFirst(2))
                rules.append(
                    Rule(index: rules.count, table: table, chain: words[1], words: rest, text: rest.joined(separator: " "), packets: packets))
            }
        }
        return (rules, chains)
    }
}

/// `nft list ruleset` / `nft list table` output, and the scripts `nft -f` reads, rule by
/// rule with the table and chain each is in: the one reader of that format.
public enum NFTListing {
    public struct Rule: Equatable, Sendable {
        public var index: Int
        /// `inet filter`, `ip6 mangle`, ...
        public var table: String
        public var chain: String
        public var text: String

        public var family: String { String(table.prefix { $0 != " " }) }

        /// iptables-nft's own tables are read through iptables-save, not twice.
        public var managedByIPTables: Bool {
            let name = table.split(separator: " ").last.map(String.init) ?? ""
            return (family == "ip" || family == "ip6") && ["filter", "mangle", "raw", "nat", "security"].contains(name)
        }

        /// `counter packets N`, 0 without a counter.
        public var packets: UInt64 {
            guard let range = text.firstRange(of: "counter packets ") else { return 0 }
            return UInt64(text[range.upperBound...].prefix { $0.isNumber }) ?? 0
        }

        /// Installed by mssclamp (every rule of ours carries the comment).
        public var isOurs: Bool { text.contains("comment \"\(SteeringOptions.comment)") }

        /// The families the kernel applies it to: its table's, or in an `inet` (`bridge`,
        /// `netdev`) table what the rule matches only one family has (`ip saddr`, `icmpv6`;
        /// nft may print those without the `meta nfproto` it makes implicit), else both.
        public var families: [IPFamily] {
            switch family {
            case "ip": return [.ipv4]
            case "ip6": return [.ipv6]
            case "inet", "bridge", "netdev", "": return NFTListing.families(of: text)
            default: return []
            }
        }

        public func applies(to ipFamily: IPFamily) -> Bool { families.contains(ipFamily) }
    }

    /// A base chain: the hook it is attached to and its policy.
    public struct BaseChain: Equatable, Sendable {
        public var table: String
        public var name: String
        public var hook: String
        public var policy: String

        /// Judged as an empty rule of its table would be.
        private var asRule: Rule { Rule(index: 0, table: table, chain: name, text: "") }
        public var managedByIPTables: Bool { asRule.managedByIPTables }
        public func applies(to ipFamily: IPFamily) -> Bool { asRule.applies(to: ipFamily) }
    }

    /// The families a rule's text alone names (both when it names neither, or both).
    public static func families(of text: some StringProtocol) -> [IPFamily] {
        let ipv6 = ["nfproto ipv6", "ip6 ", "icmpv6"].contains { text.contains($0) }
        let ipv4 = ["nfproto ipv4", "ip saddr", "ip daddr", "ip protocol", "icmp type", "icmp code"].contains { text.contains($0) }
        if ipv6 && !ipv4 { return [.ipv6] }
        if ipv4 && !ipv6 { return [.ipv4] }
        return IPFamily.allCases
    }

    /// `type filter hook forward priority filter; policy drop;` under each chain that has one.
    public static func baseChains(_ ruleset: String) -> [BaseChain] {
        var found: [BaseChain] = []
        walk(ruleset) { table, chain, line in
            guard line.hasPrefix("type "), line.contains(" hook ") else { return }
            let words = line.split(whereSeparator: { $0 == " " || $0 == ";" }).map(String.init)
            func value(_ key: String) -> String? { words.firstIndex(of: key).flatMap { $0 + 1 < words.count ? words[$0 + 1] : nil } }
            found.append(BaseChain(table: table, name: chain, hook: value("hook") ?? "", policy: value("policy") ?? "accept"))
        }
        return found
    }

    public static func rules(_ ruleset: String) -> [Rule] {
        var rules: [Rule] = []
        walk(ruleset) { table, chain, line in
            guard !line.isEmpty, !line.hasPrefix("type "), !line.hasPrefix("policy "), !line.hasPrefix("comment "), !line.hasPrefix("#") else {
                return
            }
            rules.append(Rule(index: rules.count, table: table, chain: chain, text: line))
        }
        return rules
    }

    /// Whether the listing holds the table mssclamp made (its comment says so).
    public static func isOurTable(_ listing: String) -> Bool { listing.contains(NFTablesRenderer.tableComment) }

    /// Calls `body` with each line inside a chain, and the table and chain it is in. Other
    /// blocks (sets, maps, flowtables) are stepped over.
    private static func walk(_ ruleset: String, _ body: (_ table: String, _ chain: String, _ line: String) -> Void) {
        var table = ""
        var chain: String?
        var depth = 0
        // Where the chain's lines are: 2 inside a table, 1 for a chain listed alone.
        var chainDepth = 0
        for raw in ruleset.split(separator: "\n") {
            let line = String(raw).trimmingSpaces
            if line.hasPrefix("table ") && line.hasSuffix("{") {
                table = String(line.dropFirst(6).dropLast()).trimmingSpaces
                chain = nil
                depth = 1
            } else if line.hasPrefix("chain ") && line.hasSuffix("{") && depth <= 1 {
                chain = String(line.dropFirst(6).dropLast()).trimmingSpaces
                depth += 1
                chainDepth = depth
            } else if line.hasSuffix("{") {
                depth += 1
            } else if line == "}" {
                depth -= 1
                if depth < chainDepth { chain = nil }
            } else if depth == chainDepth, let chain {
                body(table, chain, line)
            }
        }
    }
}

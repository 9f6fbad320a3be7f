import MSSClampCore
import MSSClampRules

/// `iptables-save` output, rule by rule: table, chain, the words after `-A CHAIN`.
enum IPTablesSave {
    struct Rule: Equatable {
        var index: Int
        var table: String
        var chain: String
        var words: [String]
        var text: String

        /// The `-j` target.
        var target: String? { words.firstIndex(of: "-j").flatMap { $0 + 1 < words.count ? words[$0 + 1] : nil } }
        /// Installed by mssclamp (every rule of ours carries the comment).
        var isMSSClamp: Bool { SteeringOptions.carriesOurComment(text) }
    }

    static func rules(_ save: String) -> [Rule] {
        var table = ""
        var rules: [Rule] = []
        for line in save.split(separator: "\n") {
            if line.hasPrefix("*") {
                table = String(line.dropFirst())
            } else if line.hasPrefix("-A ") {
                let words = line.split(separator: " ").map(String.init)
                guard words.count >= 2 else { continue }
                let rest = Array(words.dropFirst(2))
                rules.append(Rule(index: rules.count, table: table, chain: words[1], words: rest, text: rest.joined(separator: " ")))
            }
        }
        return rules
    }

    /// Built-in chains' policies: `:FORWARD DROP [0:0]`.
    static func policies(_ save: String) -> [(table: String, chain: String, policy: String)] {
        var table = ""
        var found: [(table: String, chain: String, policy: String)] = []
        for line in save.split(separator: "\n") {
            if line.hasPrefix("*") {
                table = String(line.dropFirst())
            } else if line.hasPrefix(":") {
                let words = line.dropFirst().split(separator: " ")
                if words.count >= 2 && words[1] != "-" { found.append((table, String(words[0]), String(words[1]))) }
            }
        }
        return found
    }
}

/// `nft list ruleset`, rule by rule, with the table and chain each is in.
enum NFTRuleset {
    struct Rule: Equatable {
        var index: Int
        /// `inet filter`, `ip6 mangle`, ...
        var table: String
        var chain: String
        var text: String

        var family: String { String(table.prefix { $0 != " " }) }

        /// iptables-nft's own tables are read through iptables-save, not twice.
        var managedByIPTables: Bool {
            let name = table.split(separator: " ").last.map(String.init) ?? ""
            return (family == "ip" || family == "ip6") && ["filter", "mangle", "raw", "nat", "security"].contains(name)
        }

        func applies(to ipFamily: IPFamily) -> Bool {
            switch family {
            case "ip": return ipFamily == .ipv4
            case "ip6": return ipFamily == .ipv6
            case "inet", "bridge", "netdev":
                let v4 =
                    text.contains("meta nfproto ipv4") || text.contains("ip saddr") || text.contains("ip daddr") || text.contains("icmp type")
                    || text.contains("ip protocol")
                let v6 = text.contains("meta nfproto ipv6") || text.contains("ip6 ") || text.contains("icmpv6")
                if v4 && !v6 { return ipFamily == .ipv4 }
                if v6 && !v4 { return ipFamily == .ipv6 }
                return true
            default: return false
            }
        }
    }

    /// A base chain: the hook it is attached to and its policy.
    struct BaseChain: Equatable {
        var table: String
        var name: String
        var hook: String
        var policy: String

        /// Judged as an empty rule of its table would be.
        private var asRule: Rule { Rule(index: 0, table: table, chain: name, text: "") }
        var managedByIPTables: Bool { asRule.managedByIPTables }
        func applies(to ipFamily: IPFamily) -> Bool { asRule.applies(to: ipFamily) }
    }

    /// `type filter hook forward priority filter; policy drop;` under each chain that has one.
    static func baseChains(_ ruleset: String) -> [BaseChain] {
        var found: [BaseChain] = []
        walk(ruleset) { table, chain, line in
            guard line.hasPrefix("type "), line.contains(" hook ") else { return }
            let words = line.split(whereSeparator: { $0 == " " || $0 == ";" }).map(String.init)
            func value(_ key: String) -> String? { words.firstIndex(of: key).flatMap { $0 + 1 < words.count ? words[$0 + 1] : nil } }
            found.append(BaseChain(table: table, name: chain, hook: value("hook") ?? "", policy: value("policy") ?? "accept"))
        }
        return found
    }

    static func rules(_ ruleset: String) -> [Rule] {
        var rules: [Rule] = []
        walk(ruleset) { table, chain, line in
            guard !line.isEmpty, !line.hasPrefix("type "), !line.hasPrefix("policy "), !line.hasPrefix("comment "), !line.hasPrefix("#") else {
                return
            }
            rules.append(Rule(index: rules.count, table: table, chain: chain, text: line))
        }
        return rules
    }

    /// Calls `body` with each line inside a chain, and the table and chain it is in.
    private static func walk(_ ruleset: String, _ body: (_ table: String, _ chain: String, _ line: String) -> Void) {
        var table = "", chain = ""
        var depth = 0
        for raw in ruleset.split(separator: "\n") {
            let line = String(raw).trimmingSpaces
            if line.hasPrefix("table ") && line.hasSuffix("{") {
                table = String(line.dropFirst(6).dropLast()).trimmingSpaces
                depth = 1
            } else if line.hasPrefix("chain ") && line.hasSuffix("{") {
                chain = String(line.dropFirst(6).dropLast()).trimmingSpaces
                depth = 2
            } else if line == "}" {
                depth -= 1
            } else if depth == 2 {
                body(table, chain, line)
            }
        }
    }
}

/// `ip xfrm policy` / `ip xfrm state` text.
enum XFRM {
    /// "SRC -> DST" of each tunnel-mode policy (outbound or forward: where traffic enters an SA).
    static func tunnelPolicies(_ text: String) -> [String] {
        var found: [String] = []
        var selector: String?
        var direction: String?
        for raw in text.split(separator: "\n") {
            let line = String(raw).trimmingSpaces
            if line.hasPrefix("src ") {
                let words = line.split(separator: " ")
                selector = words.count >= 4 ? "\(words[1]) -> \(words[3])" : nil
                direction = nil
            } else if line.hasPrefix("dir ") {
                direction = line.split(separator: " ").dropFirst().first.map(String.init)
            } else if line.contains("mode tunnel"), let selector, direction == "out" || direction == "fwd", !found.contains(selector) {
                found.append(selector)
            }
        }
        return found
    }

    /// The calculator's stack for the SAs: AES-GCM (rfc4106), CBC with SHA1 or SHA256, and
    /// NAT-T (espinudp encapsulation).
    static func stack(_ states: String) -> String {
        var stack = "esp-gcm"
        if states.contains("cbc(aes)") { stack = states.contains("sha256") ? "esp-cbc-sha256" : "esp-cbc-sha1" }
        if states.contains("espinudp") { stack += "+nat-t" }
        return stack
    }
}

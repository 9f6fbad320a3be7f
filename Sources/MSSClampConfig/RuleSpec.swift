import MSSClampCore
import MSSClampTunnels

/// A rule as written, before validation: each value keeps the key or flag it came from and
/// its line, so every error can point at it. The config file and the command-line flags
/// both fill one of these and go through the same `rule()`, so they cannot drift apart.
public struct RuleSpec: Sendable {
    public struct Value: Sendable {
        public var text: String
        /// `rules[0].mss` or `--mss`.
        public var key: String
        public var line: Int?

        public init(_ text: String, key: String, line: Int? = nil) {
            self.text = text
            self.key = key
            self.line = line
        }
    }

    public var name: Value?
    public var family: Value?
    public var sources: Value?
    public var destinations: Value?
    public var inInterface: Value?
    public var outInterface: Value?
    /// `in`, `out` or `none`.
    public var ipsec: Value?
    public var direction: Value?
    /// `A:B`, `A`, or `any`.
    public var mss: Value?
    public var setMSS: Value?
    /// Overrides `setMSS` for IPv6.
    public var setMSSIPv6: Value?
    public var clampToPMTU: Value?
    public var clampToMTU: Value?
    /// An interface whose MTU, as it is now, the rule clamps to.
    public var clampToInterface: Value?
    /// `STACK[/ipv4|ipv6[/LINK-MTU]]`: set-mss with the values `mssclamp mss` computes.
    public var setMSSForTunnel: Value?
    public var insertMissing: Value?

    public init() {}

    /// True when no value at all was given (the CLI then uses the default policy).
    public var isEmpty: Bool {
        [
            name, family, sources, destinations, inInterface, outInterface, ipsec, direction, mss,
            setMSS, setMSSIPv6, clampToPMTU, clampToMTU, clampToInterface, setMSSForTunnel, insertMissing,
        ].allSatisfy { $0 == nil }
    }

    /// Validates and builds the rule.
    ///
    /// Defaults: with no action the rule is the default policy's (`--mss 1341:1536`,
    /// `--set-mss 1360 --set-mss-ipv6 1340`, ``Rule/tunnelDefault``);
    /// with an action and no `mss`, the rule matches every SYN (as a TCPMSS rule without
    /// `-m tcpmss` does), and never raises an MSS.
    public func rule(source: String) throws(ConfigError) -> Rule {
        do {
            return try build()
        } catch {
            var located = error
            located.source = source
            throw located
        }
    }

    private func build() throws(ConfigError) -> Rule {
        var rule = Rule.tunnelDefault
        rule.name = name?.text
        if let value = family { rule.family = try parse(value, ValueParsers.family) }
        if let value = sources { rule.sources = try parse(value, ValueParsers.prefixes) }
        if let value = destinations { rule.destinations = try parse(value, ValueParsers.prefixes) }
        if let value = inInterface { rule.inInterface = try parse(value, ValueParsers.interface) }
        if let value = outInterface { rule.outInterface = try parse(value, ValueParsers.interface) }
        if let value = ipsec { rule.ipsec = try parse(value, ValueParsers.ipsec) }
        if let value = direction { rule.direction = try parse(value, ValueParsers.direction) }
        rule.insertMissing = try insertMissing.map { value throws(ConfigError) in try parse(value, RuleSpec.bool) } ?? false

        let actions = [setMSS, clampToPMTU.flatMap { $0.text == "false" ? nil : $0 }, clampToMTU, clampToInterface, setMSSForTunnel].compactMap { $0 }
        if actions.count > 1 {
            throw error(
                actions[1],
                "choose one action: set-mss, clamp-mss-to-pmtu, clamp-to-mtu, clamp-to-interface or set-mss-for-tunnel (\(actions.map(\.key).joined(separator: ", ")) given)"
            )
        }
        if let value = setMSS {
            let v4 = try parse(value, { text throws(ValueError) in try ValueParsers.mss(text) })
            let v6 =
                try setMSSIPv6.map { value throws(ConfigError) in try parse(value, { text throws(ValueError) in try ValueParsers.mss(text) }) } ?? v4
            rule.action = .setMSS(ipv4: v4, ipv6: v6)
        } else if let value = setMSSIPv6 {
            throw error(value, "an IPv6 value needs set-mss for IPv4 as well")
        } else if let value = clampToPMTU, try parse(value, RuleSpec.bool) {
            rule.action = .clampToPathMTU
        } else if let value = clampToMTU {
            let mtu = try parse(value, ValueParsers.mtu)
            if mtu < 1280 && rule.family.includes(.ipv6) {
                throw error(
                    value,
                    "MTU \(mtu) is below 1280, the least every IPv6 link carries: give the rule family: ipv4 (--family ipv4), or an MTU of 1280 or more"
                )
            }
            rule.action = .clampToMTU(mtu)
        } else if let value = clampToInterface {
            rule.action = .clampToInterface(try parse(value, ValueParsers.followedInterface))
        } else if let value = setMSSForTunnel {
            rule.action = try parse(value, RuleSpec.tunnelAction)
        }

        if let value = mss {
            rule.mssRange = value.text.trimmingSpaces.lowercased() == "any" ? nil : try parse(value, ValueParsers.mssRange)
        } else if !actions.isEmpty {
            rule.mssRange = nil
        }

        if let value = insertMissing, rule.insertMissing, rule.mssRange != nil {
            throw error(
                value,
                "insert-missing cannot work with an mss range: the range matches only SYNs that carry an MSS option (drop the range or set it to 'any')"
            )
        }
        try checkFamilies(rule)
        return rule
    }

    private func checkFamilies(_ rule: Rule) throws(ConfigError) {
        for (value, prefixes) in [(sources, rule.sources), (destinations, rule.destinations)] {
            guard let value else { continue }
            if let wrong = prefixes.first(where: { !rule.family.includes($0.family) }) {
                throw error(value, "\(wrong.text) is \(wrong.family == .ipv4 ? "IPv4" : "IPv6") but the rule's family is \(rule.family.rawValue)")
            }
        }
        if let value = sources, let other = destinations,
            !rule.sources.isEmpty, !rule.destinations.isEmpty,
            Set(rule.sources.map(\.family)).isDisjoint(with: rule.destinations.map(\.family))
        {
            throw error(other, "sources (\(value.text)) and destinations (\(other.text)) share no address family: the rule could never match")
        }
    }

    /// The MSS per family for a tunnel stack, as `mssclamp mss` shows it.
    static func tunnelAction(_ text: String) throws(ValueError) -> Action {
        do {
            let (stack, mtu) = try TunnelStack.parseSpec(text.trimmingSpaces)
            let budget = try TunnelBudget(stack, linkMTU: mtu)
            return .setMSS(ipv4: UInt16(budget.mssIPv4), ipv6: UInt16(budget.mssIPv6))
        } catch {
            throw ValueError(error.description)
        }
    }

    private func parse<T>(_ value: Value, _ parser: (String) throws(ValueError) -> T) throws(ConfigError) -> T {
        do {
            return try parser(value.text)
        } catch {
            throw ConfigError(source: "", line: value.line, key: value.key, message: error.message)
        }
    }

    private func error(_ value: Value, _ message: String) -> ConfigError {
        ConfigError(source: "", line: value.line, key: value.key, message: message)
    }

    static func bool(_ text: String) throws(ValueError) -> Bool {
        switch text.trimmingSpaces.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw ValueError("'\(text)' must be true or false")
        }
    }
}

extension RuleSpec {
    /// A spec as the command line would give it (for tests and callers that build one).
    public static func flags(outInterface: String? = nil, setMSS: String? = nil) -> RuleSpec {
        var spec = RuleSpec()
        spec.outInterface = outInterface.map { Value($0, key: "--out-interface") }
        spec.setMSS = setMSS.map { Value($0, key: "--set-mss") }
        return spec
    }
}

import MSSClampCore

extension Policy {
    /// Why a rule can never change a packet, in words for the log: said at start and on
    /// every reload, because a policy that matches nothing looks exactly like a quiet
    /// network. `interfaces` are the names that exist now; interfaces come and go (`wg0`,
    /// `ppp+` appear when a tunnel does), so a missing one is a warning, never an error.
    public func warnings(interfaces: [String]) -> [String] {
        var warnings: [String] = []
        for (index, rule) in rules.enumerated() {
            let name = "rule \(index + 1)"
            for (flag, pattern) in [("-i", rule.inInterface), ("-o", rule.outInterface)] {
                guard let pattern, !interfaces.contains(where: pattern.matches) else { continue }
                let what =
                    pattern.isWildcard ? "no interface matches \(flag) \(pattern.name) now" : "interface \(pattern.name) (\(flag)) does not exist now"
                warnings.append(
                    "\(name): \(what), so the rule matches no SYN until it appears (interfaces: \(interfaces.sorted().joined(separator: ", ")))")
            }
            if let range = rule.mssRange {
                let targets = IPFamily.allCases.filter(rule.family.includes).compactMap { rule.action.fixedTarget($0) }
                if targets.count == IPFamily.allCases.filter(rule.family.includes).count, let lowest = targets.min(),
                    Int(range.upperBound) <= lowest
                {
                    warnings.append(
                        "\(name): every MSS in \(range.lowerBound):\(range.upperBound) is at or below the target (\(targets.map(String.init).joined(separator: "/"))) and an MSS is never raised, so the rule changes nothing"
                    )
                }
            }
        }
        return warnings
    }
}

import MSSClampCore

/// One rule of mssclamp's policy as its worker publishes it (`Rule.summary`):
/// `-6 -o wg0 -s 198.51.100.0/24 --tcp-flags SYN,RST SYN -m tcpmss --mss 1361:1536 -> set-mss 1360`.
struct PolicyLine: Equatable {
    var family: IPFamily?
    var inInterface: String?
    var outInterface: String?
    var action: [String]

    init?(_ text: String) {
        let halves = text.split(separator: " -> ", maxSplits: 1, omittingEmptySubsequences: false)
        guard halves.count == 2 else { return nil }
        let words = halves[0].split(separator: " ").map(String.init)
        func value(_ flag: String) -> String? { words.firstIndex(of: flag).flatMap { $0 + 1 < words.count ? words[$0 + 1] : nil } }
        family = words.contains("-4") ? .ipv4 : words.contains("-6") ? .ipv6 : nil
        inInterface = value("-i")
        outInterface = value("-o")
        action = halves[1].split(separator: " ").map(String.init)
    }

    /// Whether SYNs through `tunnel` can meet this rule: it is not pinned, by -i or -o, to
    /// another tunnel only (a rule for an uplink, `-o eth0`, reaches the tunnel's clients'
    /// SYNs on their way out).
    func reaches(_ tunnel: String, notPinnedTo others: [String]) -> Bool {
        for pattern in [inInterface, outInterface].compactMap({ $0 }) {
            let p = InterfacePattern(pattern)
            if !p.matches(tunnel) && others.contains(where: p.matches) { return false }
        }
        return true
    }

    /// The MSS the rule clamps to for `family`; nil when it follows a path MTU (no number
    /// to judge) or names an interface whose MTU is unknown.
    func target(_ family: IPFamily, mtu: (String) -> Int?) -> Int? {
        guard let verb = action.first else { return nil }
        let numbers = action.compactMap { Int($0) }
        switch verb {
        case "set-mss":
            guard let v4 = numbers.first else { return nil }
            return family == .ipv4 ? v4 : (numbers.count > 1 ? numbers[1] : v4)
        case "clamp-to-mtu":
            return numbers.first.map(family.mss(forMTU:))
        case "clamp-to-interface":
            return action.count > 1 ? mtu(action[1]).map(family.mss(forMTU:)) : nil
        default:
            return nil
        }
    }
}

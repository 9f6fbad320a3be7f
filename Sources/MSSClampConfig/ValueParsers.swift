import MSSClampCore

/// Parsers for the values a rule takes, shared by the config file and the command line so
/// that both accept exactly the same spellings (iptables' where iptables has one).
enum ValueParsers {
    /// `A:B` or `A` (meaning A:A), as `-m tcpmss --mss` takes it.
    static func mssRange(_ text: String) throws(ValueError) -> ClosedRange<UInt16> {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(parts.count) else {
            throw ValueError("'\(text)' is not a range: write A:B (e.g. 1361:1536) or a single value")
        }
        let low = try mss(parts[0], what: "range start")
        let high = parts.count == 2 ? try mss(parts[1], what: "range end") : low
        guard low <= high else { throw ValueError("'\(text)': range start \(low) is above its end \(high)") }
        return low...high
    }

    static func mss(_ text: String, what: String = "MSS") throws(ValueError) -> UInt16 {
        let trimmed = text.trimmingSpaces
        guard let value = Int(trimmed), trimmed.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "-") }) else {
            throw ValueError("\(what) '\(text)' is not a number")
        }
        guard (1...65535).contains(value) else { throw ValueError("\(what) \(value) is outside 1-65535") }
        return UInt16(value)
    }

    static func mtu(_ text: String) throws(ValueError) -> Int {
        let trimmed = text.trimmingSpaces
        guard let value = Int(trimmed), trimmed.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "-") }) else {
            throw ValueError("MTU '\(text)' is not a number")
        }
        // 576: every IPv4 host takes datagrams that large (RFC 791), so MSS 536 (RFC 879) is
        // the floor of a working path; below it a clamp breaks more than it mends.
        guard (576...65535).contains(value) else {
            throw ValueError("MTU \(value) is outside 576-65535 (576: the datagram every IPv4 host accepts, MSS 536)")
        }
        return value
    }

    /// A comma-separated list of prefixes, as `iptables -s a,b` takes it.
    static func prefixes(_ text: String) throws(ValueError) -> [CIDR] {
        var result: [CIDR] = []
        for part in text.split(separator: ",").map({ String($0).trimmingSpaces }) {
            guard let prefix = CIDR(text: part) else {
                throw ValueError("'\(part)' is not an address or prefix (e.g. 198.51.100.0/24, 2001:db8::/32)")
            }
            result.append(prefix)
        }
        guard !result.isEmpty else { throw ValueError("empty address list") }
        return result
    }

    /// An interface name (at most 15 bytes, IFNAMSIZ - 1), `+` allowed only at the end.
    static func interface(_ text: String) throws(ValueError) -> InterfacePattern {
        let name = text.trimmingSpaces
        guard !name.isEmpty, name.utf8.count <= 15 else {
            throw ValueError("interface '\(text)' must be 1-15 characters")
        }
        guard !name.contains(where: { $0 == "/" || $0 == " " || $0 == ":" }), !name.dropLast().contains("+") else {
            throw ValueError("interface '\(text)' has a character Linux does not allow ('/', ':', space) or a '+' before the end")
        }
        return InterfacePattern(name)
    }

    /// One interface whose MTU a rule follows: a name, not a `wg+` pattern.
    static func followedInterface(_ text: String) throws(ValueError) -> String {
        let pattern = try interface(text)
        guard !pattern.isWildcard else {
            throw ValueError("'\(text)': clamp-to-interface follows one interface's MTU; name it (wg0), not a pattern")
        }
        return pattern.name
    }

    static func family(_ text: String) throws(ValueError) -> FamilySelector {
        guard let family = FamilySelector(rawValue: text.trimmingSpaces.lowercased()) else {
            throw ValueError("family '\(text)' must be ipv4, ipv6 or both")
        }
        return family
    }

    static func direction(_ text: String) throws(ValueError) -> Direction {
        guard let direction = Direction(rawValue: text.trimmingSpaces.lowercased()) else {
            throw ValueError("direction '\(text)' must be syn, syn-ack or both")
        }
        return direction
    }

    static func ipsec(_ text: String) throws(ValueError) -> IPsecSelector {
        guard let selector = IPsecSelector(rawValue: text.trimmingSpaces.lowercased()) else {
            throw ValueError("ipsec '\(text)' must be in (came out of IPsec), out (goes into IPsec) or none (neither)")
        }
        return selector
    }
}

/// An ordered list of rules; the first rule whose matches all hold decides, as in an
/// iptables chain of TCPMSS rules each ending the evaluation.
public struct Policy: Hashable, Sendable {
    public var rules: [Rule]

    public init(rules: [Rule]) {
        self.rules = rules
    }

    /// What `mssclamp run` with no policy does, and what the package installs in
    /// /etc/mssclamp.yaml (a test holds the two equal): ``Rule/tunnelDefault``.
    public static let `default` = Policy(rules: [.tunnelDefault])
}

extension Rule {
    /// The default clamp: every SYN and SYN-ACK announcing more than a tunnel of MTU 1400
    /// carries gets 1360 (IPv4) / 1340 (IPv6). Not the classic 1361:1536 -> 1360 for both
    /// families: IPv6's header is 20 bytes larger, so 1360 would leave IPv6 black-holed
    /// through the very link the IPv4 value fits (`doctor` calls that trap
    /// clamp-ipv6-given-ipv4-value). MTU 1400 covers WireGuard (1420), GRE (1476), IPsec
    /// ESP (about 1440) and PPPoE (1492) as their tools create them.
    public static let tunnelDefault = Rule(
        name: "forwarded", mssRange: 1341...1536, action: .setMSS(ipv4: 1360, ipv6: 1340))
}

/// One clamping rule: iptables-like matches and a TCPMSS-like action.
public struct Rule: Hashable, Sendable {
    /// A label for logs, counters and rule comments; rules are also known by position.
    public var name: String?
    public var family: FamilySelector
    /// Any of these source prefixes; empty means any source.
    public var sources: [CIDR]
    /// Any of these destination prefixes; empty means any destination.
    public var destinations: [CIDR]
    public var inInterface: InterfacePattern?
    public var outInterface: InterfacePattern?
    /// `-m policy`: only SYNs that came out of IPsec, go into it, or neither. Nil: any.
    public var ipsec: IPsecSelector?
    public var direction: Direction
    /// `-m tcpmss --mss A:B`: the rule matches only packets whose MSS option is in range.
    /// Nil matches every SYN, with or without an MSS option.
    public var mssRange: ClosedRange<UInt16>?
    public var action: Action
    /// Insert an MSS option into SYNs that lack one (xt_TCPMSS does; nftables never does).
    public var insertMissing: Bool

    public init(
        name: String? = nil,
        family: FamilySelector = .both,
        sources: [CIDR] = [],
        destinations: [CIDR] = [],
        inInterface: InterfacePattern? = nil,
        outInterface: InterfacePattern? = nil,
        ipsec: IPsecSelector? = nil,
        direction: Direction = .both,
        mssRange: ClosedRange<UInt16>? = 1361...1536,
        action: Action = .setMSS(1360),
        insertMissing: Bool = false
    ) {
        self.name = name
        self.family = family
        self.sources = sources
        self.destinations = destinations
        self.inInterface = inInterface
        self.outInterface = outInterface
        self.ipsec = ipsec
        self.direction = direction
        self.mssRange = mssRange
        self.action = action
        self.insertMissing = insertMissing
    }
}

public enum FamilySelector: String, Hashable, Sendable, CaseIterable {
    case ipv4, ipv6, both

    @inlinable
    public func includes(_ family: IPFamily) -> Bool {
        switch self {
        case .both: return true
        case .ipv4: return family == .ipv4
        case .ipv6: return family == .ipv6
        }
    }
}

/// Where a rule stands on IPsec, as xt_policy sees it: policy-based IPsec (strongSwan's
/// default) has no tunnel interface to match, so "came out of IPsec" is how a rule finds
/// the SYNs of a road-warrior pool without listing its addresses.
public enum IPsecSelector: String, Hashable, Sendable, CaseIterable {
    /// `-m policy --dir in --pol ipsec`: decapsulated from an IPsec SA (strongSwan's own
    /// clamping rule matches this).
    case inbound = "in"
    /// `-m policy --dir out --pol ipsec`: about to be encapsulated by an IPsec policy.
    case outbound = "out"
    /// `--dir in --pol none` and `--dir out --pol none`: IPsec on neither side.
    case plain = "none"

    /// Whether a packet in `state` is selected; nil where the state does not say.
    @inlinable
    public func matches(_ state: IPsecState) -> Bool? {
        switch self {
        case .inbound: return state.inbound
        case .outbound: return state.outbound
        case .plain:
            if state.inbound == true || state.outbound == true { return false }
            guard let inbound = state.inbound, let outbound = state.outbound else { return nil }
            return !inbound && !outbound
        }
    }
}

/// Which handshake packets a rule sees.
public enum Direction: String, Hashable, Sendable, CaseIterable {
    /// `--syn`, i.e. `--tcp-flags SYN,RST,ACK,FIN SYN`: the client's SYN only.
    case syn
    /// `--tcp-flags SYN,RST,ACK SYN,ACK`: the server's SYN-ACK only.
    case synAck = "syn-ack"
    /// `--tcp-flags SYN,RST SYN`: SYN and SYN-ACK (and anything else with SYN but not RST).
    case both

    /// The iptables `--tcp-flags MASK COMP` pair, as TCP flag bits.
    public var flagMaskAndValue: (mask: UInt8, value: UInt8) {
        switch self {
        case .syn: return (TCPFlags.syn | TCPFlags.rst | TCPFlags.ack | TCPFlags.fin, TCPFlags.syn)
        case .synAck: return (TCPFlags.syn | TCPFlags.rst | TCPFlags.ack, TCPFlags.syn | TCPFlags.ack)
        case .both: return (TCPFlags.syn | TCPFlags.rst, TCPFlags.syn)
        }
    }

    @inlinable
    public func matches(flags: UInt8) -> Bool {
        let (mask, value) = flagMaskAndValue
        return flags & mask == value
    }
}

/// TCP header flag bits (byte 13).
public enum TCPFlags {
    public static let fin: UInt8 = 0x01
    public static let syn: UInt8 = 0x02
    public static let rst: UInt8 = 0x04
    public static let psh: UInt8 = 0x08
    public static let ack: UInt8 = 0x10
    public static let urg: UInt8 = 0x20
    public static let ece: UInt8 = 0x40
    public static let cwr: UInt8 = 0x80
}

/// What a matching rule does to the MSS.
public enum Action: Hashable, Sendable {
    /// `--set-mss N`, with a value per family (one number is not enough for a tunnel:
    /// MTU 1400 means 1360 for IPv4 but 1340 for IPv6).
    case setMSS(ipv4: UInt16, ipv6: UInt16)
    /// Clamp to a known MTU: MSS = MTU - 40 (IPv4) or - 60 (IPv6).
    case clampToMTU(Int)
    /// `--clamp-mss-to-pmtu`: MSS from the smaller of the route MTUs towards the destination
    /// and back to the source, supplied by a `PathMTUSource`.
    case clampToPathMTU
    /// Clamp to an interface's MTU as it is now (`clamp-to-interface: wg0`): WireGuard
    /// interfaces are recreated with other MTUs and PPPoE renegotiates, so the number
    /// follows the link, supplied by a `PathMTUSource`.
    case clampToInterface(String)

    /// The same value for both families.
    public static func setMSS(_ value: UInt16) -> Action { .setMSS(ipv4: value, ipv6: value) }
}

/// An interface name as iptables takes it: a trailing `+` matches any name with that prefix.
public struct InterfacePattern: Hashable, Sendable, CustomStringConvertible {
    public let name: String

    public init(_ name: String) {
        self.name = name
    }

    public var isWildcard: Bool { name.hasSuffix("+") }

    public func matches(_ interface: String) -> Bool {
        if isWildcard {
            return interface.hasPrefix(name.dropLast())
        }
        return interface == name
    }

    public var description: String { name }
}

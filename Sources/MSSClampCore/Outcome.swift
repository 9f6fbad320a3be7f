/// What the core did to one packet. Dry-run lines, counters and the worker's verdicts all
/// read this one type, so they cannot disagree about what happened.
public enum Outcome: Hashable, Sendable {
    /// The MSS option was lowered in place; packet length unchanged.
    case clamped(from: UInt16, to: UInt16)
    /// An MSS option with this value was inserted; the packet grew by 4 bytes.
    case inserted(UInt16)
    /// The packet was left as it was, for this reason.
    case unchanged(Reason)
    /// The kernel rule would drop this packet (NF_DROP or a match's hotdrop).
    case dropped(DropReason)

    /// True when the packet bytes were changed.
    public var isModified: Bool {
        switch self {
        case .clamped, .inserted: return true
        case .unchanged, .dropped: return false
        }
    }

    /// One word for the action, as in logs, JSON and metric labels.
    public var action: String {
        switch self {
        case .clamped: return "clamped"
        case .inserted: return "inserted"
        case .unchanged: return "unchanged"
        case .dropped: return "dropped"
        }
    }

    /// The reason's label, or nil for a change.
    public var reasonLabel: String? {
        switch self {
        case .clamped, .inserted: return nil
        case .unchanged(let reason): return reason.label
        case .dropped(let reason): return reason.label
        }
    }
}

/// Why a packet was left unchanged. Each case is something a user can act on, so each has
/// a label (stable: used in JSON and metrics) and a sentence.
public enum Reason: UInt8, CaseIterable, Sendable {
    case notIP
    case notTCP
    case nonFirstFragment
    case truncated
    case notSYN
    case noRuleMatched
    case interfaceUnknown
    case ipsecUnknown
    case outsideRange
    case noMSSOption
    case atOrBelowTarget
    case payloadPresent
    case noRoom
    case pathMTUUnknown
    case interfaceMTUUnknown

    public var label: String {
        switch self {
        case .notIP: return "not-ip"
        case .notTCP: return "not-tcp"
        case .nonFirstFragment: return "non-first-fragment"
        case .truncated: return "truncated"
        case .notSYN: return "not-syn"
        case .noRuleMatched: return "no-rule-matched"
        case .interfaceUnknown: return "interface-unknown"
        case .ipsecUnknown: return "ipsec-unknown"
        case .outsideRange: return "outside-range"
        case .noMSSOption: return "no-mss-option"
        case .atOrBelowTarget: return "at-or-below-target"
        case .payloadPresent: return "payload-present"
        case .noRoom: return "no-room"
        case .pathMTUUnknown: return "path-mtu-unknown"
        case .interfaceMTUUnknown: return "interface-mtu-unknown"
        }
    }

    public var explanation: String {
        switch self {
        case .notIP: return "not an IPv4 or IPv6 packet"
        case .notTCP: return "not TCP"
        case .nonFirstFragment: return "a non-first fragment carries no TCP header"
        case .truncated: return "packet shorter than its IP length (capture snaplen?); never modified"
        case .notSYN: return "not a SYN or SYN-ACK"
        case .noRuleMatched: return "no policy rule matched"
        case .interfaceUnknown: return "a rule matches on an interface the input does not name"
        case .ipsecUnknown: return "a rule matches on IPsec policy, which the input does not show"
        case .outsideRange: return "MSS outside the rule's --mss range"
        case .noMSSOption: return "no MSS option and insertion not enabled"
        case .atOrBelowTarget: return "MSS already at or below the target (never raised)"
        case .payloadPresent: return "no MSS option and the SYN carries data; cannot insert"
        case .noRoom: return "no MSS option and the TCP header is full (60 bytes)"
        case .pathMTUUnknown: return "path MTU unknown"
        case .interfaceMTUUnknown: return "the interface clamp-to-interface names is absent or down"
        }
    }
}

/// Why the kernel rule would drop the packet. mssclamp reports these and, in the worker,
/// drops too: being byte-for-byte the kernel includes what it refuses to forward.
public enum DropReason: UInt8, CaseIterable, Sendable {
    case malformedIPHeader
    case malformedExtensionHeaders
    case tcpHeaderTooShort
    case badDataOffset
    case optionsPastEnd
    case pathMTUTooSmall

    public var label: String {
        switch self {
        case .malformedIPHeader: return "malformed-ip-header"
        case .malformedExtensionHeaders: return "malformed-ipv6-extension-headers"
        case .tcpHeaderTooShort: return "tcp-header-too-short"
        case .badDataOffset: return "bad-data-offset"
        case .optionsPastEnd: return "options-past-end"
        case .pathMTUTooSmall: return "path-mtu-too-small"
        }
    }

    public var explanation: String {
        switch self {
        case .malformedIPHeader: return "IP header invalid (version, header length or total length)"
        case .malformedExtensionHeaders: return "IPv6 extension headers run past the packet"
        case .tcpHeaderTooShort: return "fewer than 20 bytes of TCP header"
        case .badDataOffset: return "TCP data offset below 5"
        case .optionsPastEnd: return "TCP options run past the end of the packet"
        case .pathMTUTooSmall: return "path MTU too small for any MSS"
        }
    }
}

/// The full result for one packet.
public struct Decision: Hashable, Sendable {
    public var outcome: Outcome
    /// Index (from 0) of the policy rule that decided, if one did.
    public var rule: Int?
    /// The MSS option value found in the packet before any change, if there was one.
    public var originalMSS: UInt16?
    /// The MSS the rule aimed for, when one was computed.
    public var target: UInt16?
    /// The packet's length after processing (grows by 4 on insertion).
    public var length: Int
    /// A learned ceiling (`MSSCeilingSource`) lowered the MSS below what the rules set.
    public var learned = false

    public init(outcome: Outcome, rule: Int? = nil, originalMSS: UInt16? = nil, target: UInt16? = nil, length: Int, learned: Bool = false) {
        self.outcome = outcome
        self.rule = rule
        self.originalMSS = originalMSS
        self.target = target
        self.length = length
        self.learned = learned
    }
}

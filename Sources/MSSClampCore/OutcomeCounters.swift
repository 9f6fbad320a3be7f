/// Counts of outcomes by action and reason, and of decisions by rule.
///
/// Storage is sized once at creation, so `record` allocates nothing: the worker counts into
/// a local instance per receive batch and publishes it once per batch; dry-run keeps one for
/// its summary.
public struct OutcomeCounters: Sendable, Equatable {
    /// Every outcome kind, in a fixed order: clamped, inserted, unchanged/<reason>…,
    /// dropped/<reason>…
    public static let kinds: [(action: String, reason: String?)] =
        [("clamped", nil), ("inserted", nil)]
        + Reason.allCases.map { ("unchanged", $0.label) }
        + DropReason.allCases.map { ("dropped", $0.label) }

    public private(set) var byKind: [UInt64]
    public private(set) var byRule: [UInt64]
    public private(set) var packets: UInt64 = 0

    public init(ruleCount: Int) {
        byKind = Array(repeating: 0, count: OutcomeCounters.kinds.count)
        byRule = Array(repeating: 0, count: ruleCount)
    }

    public static func kindIndex(_ outcome: Outcome) -> Int {
        switch outcome {
        case .clamped: return 0
        case .inserted: return 1
        case .unchanged(let reason): return 2 + Int(reason.rawValue)
        case .dropped(let reason): return 2 + Reason.allCases.count + Int(reason.rawValue)
        }
    }

    public mutating func record(_ decision: Decision) {
        packets &+= 1
        byKind[OutcomeCounters.kindIndex(decision.outcome)] &+= 1
        if let rule = decision.rule, rule < byRule.count {
            byRule[rule] &+= 1
        }
    }

    public func count(_ outcome: Outcome) -> UInt64 {
        byKind[OutcomeCounters.kindIndex(outcome)]
    }

    /// Zeroes every count, keeping the storage (no allocation).
    public mutating func reset() {
        packets = 0
        for index in byKind.indices { byKind[index] = 0 }
        for index in byRule.indices { byRule[index] = 0 }
    }

    /// Adds another set of counts (same policy shape) into this one.
    public mutating func merge(_ other: OutcomeCounters) {
        packets &+= other.packets
        for index in byKind.indices { byKind[index] &+= other.byKind[index] }
        for index in byRule.indices where index < other.byRule.count { byRule[index] &+= other.byRule[index] }
    }
}

import MSSClampCore
import MSSClampReport

/// Dry-run's closing JSON line: the totals.
extension JSONReport {
    struct Summary: Encodable {
        let summary: Body
        struct Body: Encodable {
            let frames: Int
            let nonIP: Int
            let linkType: String
            let outcomes: [String: UInt64]
            let rules: [UInt64]
            let written: Int?
            let rewritten: Int
            enum CodingKeys: String, CodingKey {
                case frames, outcomes, rules, written, rewritten
                case nonIP = "non_ip"
                case linkType = "link_type"
            }
        }
    }

    public static func summary(_ summary: DryRunSummary, writePath: String?) -> String {
        var outcomes: [String: UInt64] = [:]
        for (index, kind) in OutcomeCounters.kinds.enumerated() where summary.counters.byKind[index] > 0 {
            outcomes[kind.reason.map { "\(kind.action)/\($0)" } ?? kind.action] = summary.counters.byKind[index]
        }
        return encode(
            Summary(
                summary: .init(
                    frames: summary.frames, nonIP: summary.nonIP, linkType: summary.linkLayer.name, outcomes: outcomes,
                    rules: summary.counters.byRule, written: writePath == nil ? nil : summary.written, rewritten: summary.rewritten)))
    }
}

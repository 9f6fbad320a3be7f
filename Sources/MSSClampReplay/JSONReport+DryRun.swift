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
            /// Only when the capture shows stalled flows.
            let stalls: [Stall]?
            let wouldLearn: [Learned]?
            enum CodingKeys: String, CodingKey {
                case frames, outcomes, rules, written, rewritten, stalls
                case wouldLearn = "would_learn"
                case nonIP = "non_ip"
                case linkType = "link_type"
            }
        }
    }

    struct Stall: Encodable {
        let client: String
        let server: String
        let size: Int
        let copies: Int
        let seconds: Double
        /// Set when the client acknowledged packets this large shortly before: no black hole.
        let deliveredSize: Int?
        enum CodingKeys: String, CodingKey {
            case client, server, size, copies, seconds
            case deliveredSize = "delivered_size"
        }
    }

    struct Learned: Encodable {
        let host: String
        let mtu: Int
        let mss: Int
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
                    rules: summary.counters.byRule, written: writePath == nil ? nil : summary.written, rewritten: summary.rewritten,
                    stalls: summary.stalls.isEmpty
                        ? nil
                        : summary.stalls.map {
                            Stall(
                                client: "\($0.client.text).\($0.clientPort)", server: "\($0.server.text).\($0.serverPort)", size: $0.size,
                                copies: $0.copies, seconds: (($0.detected - $0.firstSeen) * 1000).rounded() / 1000,
                                deliveredSize: $0.delivered?.size)
                        },
                    wouldLearn: summary.stalls.isEmpty
                        ? nil : summary.wouldLearn.map { Learned(host: $0.host.text, mtu: $0.mtu, mss: Int($0.mss)) })))
    }
}

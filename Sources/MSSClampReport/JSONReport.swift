import FoundationEssentials
import MSSClampCore

/// One JSON object per line, for scripts: a line per handshake packet, then the summary.
public enum JSONReport {
    struct Line: Encodable {
        let frame: Int
        let time: Double
        let family: String
        let src: String
        let sport: UInt16
        let dst: String
        let dport: UInt16
        let flags: String
        let action: String
        let reason: String?
        let mssBefore: UInt16?
        let mssAfter: UInt16?
        let target: UInt16?
        let rule: Int?
        /// True when an assumed learned path MTU lowered it (absent otherwise).
        let learned: Bool?

        enum CodingKeys: String, CodingKey {
            case frame, time, family, src, sport, dst, dport, flags, action, reason, target, rule, learned
            case mssBefore = "mss_before"
            case mssAfter = "mss_after"
        }
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    public static func line(_ record: DryRunRecord) -> String {
        let decision = record.decision
        let before = decision.originalMSS ?? record.flow.mss
        var after = before
        switch decision.outcome {
        case .clamped(_, let to): after = to
        case .inserted(let value): after = value
        case .dropped: after = nil
        case .unchanged: break
        }
        return encode(
            Line(
                frame: record.frame, time: Double(record.seconds) + Double(record.microseconds) / 1e6,
                family: record.flow.family.description, src: record.flow.source.text, sport: record.flow.sourcePort,
                dst: record.flow.destination.text, dport: record.flow.destinationPort,
                flags: TextReport.flagLetters(record.flow.flags), action: decision.outcome.action,
                reason: decision.outcome.reasonLabel, mssBefore: before, mssAfter: after,
                target: decision.target, rule: decision.rule.map { $0 + 1 }, learned: decision.learned ? true : nil))
    }

    package static func encode<T: Encodable>(_ value: T) -> String {
        // Encoding these plain structs cannot fail.
        String(decoding: (try? encoder.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
    }
}

import Glibc
import MSSClampConfig
import MSSClampCore

/// tcpdump-like lines and a summary table, for people.
public enum TextReport {
    /// `08:26:37.123456 IP 192.0.2.1.40000 > 198.51.100.7.443: Flags [S], mss 1460 -> 1360, clamped (rule 1)`
    public static func line(_ record: DryRunRecord, showTime: Bool = true) -> String {
        let flow = record.flow
        let decision = record.decision
        var text = showTime ? timestamp(seconds: record.seconds, microseconds: record.microseconds) + " " : ""
        text += flow.family == .ipv4 ? "IP " : "IP6 "
        text += "\(flow.source.text).\(flow.sourcePort) > \(flow.destination.text).\(flow.destinationPort): "
        text += "Flags [\(flagLetters(flow.flags))], "
        let before = (decision.originalMSS ?? flow.mss).map { "mss \($0)" } ?? "no mss"
        let rule = decision.rule.map { " (rule \($0 + 1))" } ?? ""
        switch decision.outcome {
        case .clamped(_, let to):
            text += "\(before) -> \(to), clamped\(rule)"
        case .inserted(let value):
            text += "no mss -> \(value), inserted\(rule)"
        case .unchanged(let reason):
            let target = decision.target.map { ", target \($0)" } ?? ""
            text += "\(before), unchanged: \(reason.label)\(target)\(rule)"
        case .dropped(let reason):
            text += "dropped: \(reason.label)\(rule)"
        }
        return text
    }

    /// tcpdump's flag letters, in tcpdump's order (FIN SYN RST PSH ACK URG ECE CWR).
    public static func flagLetters(_ flags: UInt8) -> String {
        let letters: [(UInt8, Character)] = [
            (TCPFlags.fin, "F"), (TCPFlags.syn, "S"), (TCPFlags.rst, "R"), (TCPFlags.psh, "P"),
            (TCPFlags.ack, "."), (TCPFlags.urg, "U"), (TCPFlags.ece, "E"), (TCPFlags.cwr, "W"),
        ]
        let text = String(letters.filter { flags & $0.0 != 0 }.map(\.1))
        return text.isEmpty ? "none" : text
    }

    /// HH:MM:SS.uuuuuu in UTC (tcpdump prints local time; UTC keeps reports comparable
    /// between the router and the analyst's desk).
    public static func timestamp(seconds: Int, microseconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let micro = String(microseconds)
        return "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))."
            + String(repeating: "0", count: max(0, 6 - micro.count)) + micro
    }

    /// Lines that say what the policy is and what the capture cannot tell it.
    public static func header(policy: Policy, options: DryRunOptions) -> [String] {
        var lines = policy.rules.enumerated().map { "policy: rule \($0.offset + 1): \($0.element.summary)" }
        let needsIn = policy.rules.contains { $0.inInterface != nil } && options.metadata.inInterface == nil
        let needsOut = policy.rules.contains { $0.outInterface != nil } && options.metadata.outInterface == nil
        if needsIn || needsOut {
            let flags = [needsIn ? "--assume-in IFACE" : nil, needsOut ? "--assume-out IFACE" : nil].compactMap { $0 }
            lines.append("note: captures carry no interface names; rules matching on them report interface-unknown unless you give \(flags.joined(separator: " and "))")
        }
        if policy.rules.contains(where: { $0.action == .clampToPathMTU }) && options.pathMTU == nil {
            lines.append("note: captures carry no routes; clamp-mss-to-pmtu rules report path-mtu-unknown unless you give --assume-pmtu MTU")
        }
        return lines
    }

    public static func summary(_ summary: DryRunSummary, policy: Policy, writePath: String?) -> [String] {
        var lines = ["", "\(summary.frames) frames (\(summary.linkLayer.name)), \(summary.nonIP) not IPv4/IPv6"]
        let counters = summary.counters
        var rows: [(String, String, UInt64, String)] = []
        for (index, kind) in OutcomeCounters.kinds.enumerated() where counters.byKind[index] > 0 {
            rows.append((kind.action, kind.reason ?? "", counters.byKind[index], explanation(action: kind.action, reason: kind.reason)))
        }
        let width = max(6, rows.map(\.1.count).max() ?? 0)
        for row in rows {
            let count = String(row.2)
            lines.append("  " + pad(row.0, 10) + pad(row.1, width + 2) + String(repeating: " ", count: max(0, 7 - count.count)) + count + "  " + row.3)
        }
        for (index, rule) in policy.rules.enumerated() {
            lines.append("  rule \(index + 1): \(counters.byRule[index]) decided  \(rule.summary)")
        }
        if let writePath {
            lines.append("wrote \(writePath): \(summary.written) frames, \(summary.rewritten) rewritten")
        }
        return lines
    }

    static func explanation(action: String, reason: String?) -> String {
        if let reason, let found = Reason.allCases.first(where: { $0.label == reason }), action == "unchanged" {
            return found.explanation
        }
        if let reason, let found = DropReason.allCases.first(where: { $0.label == reason }) {
            return "the kernel rule drops it: " + found.explanation
        }
        return action == "clamped" ? "MSS lowered in place" : "MSS option added"
    }

    public static func pad(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(1, width - text.count))
    }
}

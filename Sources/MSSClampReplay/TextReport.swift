import Glibc
import MSSClampCore

/// tcpdump-like lines and a summary table, for people.
public enum TextReport {
    /// `08:26:37.123456 IP 192.0.2.1.40000 > 198.51.100.7.443: Flags [S], mss 1460 -> 1360, clamped (rule 1)`
    public static func line(_ record: DryRunRecord, showTime: Bool = true) -> String {
        var bytes: [UInt8] = []
        append(record, showTime: showTime, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The same line, appended as UTF-8 to `out` (no newline): a million-SYN replay spends
    /// its time here, so it writes bytes instead of building Strings.
    public static func append(_ record: DryRunRecord, showTime: Bool, to out: inout [UInt8]) {
        let flow = record.flow
        let decision = record.decision
        if showTime {
            appendTimestamp(seconds: record.seconds, microseconds: record.microseconds, to: &out)
            out.append(0x20)
        }
        out += flow.family == .ipv4 ? "IP ".utf8 : "IP6 ".utf8
        appendAddress(flow.source, to: &out)
        out.append(0x2e)
        appendDecimal(Int(flow.sourcePort), to: &out)
        out += " > ".utf8
        appendAddress(flow.destination, to: &out)
        out.append(0x2e)
        appendDecimal(Int(flow.destinationPort), to: &out)
        out += ": Flags [".utf8
        appendFlagLetters(flow.flags, to: &out)
        out += "], ".utf8
        func before() {
            if let mss = decision.originalMSS ?? flow.mss {
                out += "mss ".utf8
                appendDecimal(Int(mss), to: &out)
            } else {
                out += "no mss".utf8
            }
        }
        switch decision.outcome {
        case .clamped(_, let to):
            before()
            out += " -> ".utf8
            appendDecimal(Int(to), to: &out)
            out += ", clamped".utf8
        case .inserted(let value):
            out += "no mss -> ".utf8
            appendDecimal(Int(value), to: &out)
            out += ", inserted".utf8
        case .unchanged(let reason):
            before()
            out += ", unchanged: ".utf8
            out += reason.label.utf8
            if let target = decision.target {
                out += ", target ".utf8
                appendDecimal(Int(target), to: &out)
            }
        case .dropped(let reason):
            out += "dropped: ".utf8
            out += reason.label.utf8
        }
        if let rule = decision.rule {
            out += " (rule ".utf8
            appendDecimal(rule + 1, to: &out)
            if decision.learned { out += ", learned path MTU".utf8 }
            out.append(0x29)
        } else if decision.learned {
            out += " (learned path MTU)".utf8
        }
    }

    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        guard value >= 10 else { return out.append(0x30 + UInt8(truncatingIfNeeded: max(0, value))) }
        appendDecimal(value / 10, to: &out)
        out.append(0x30 + UInt8(truncatingIfNeeded: value % 10))
    }

    static func appendAddress(_ address: IPAddress, to out: inout [UInt8]) {
        guard case .v4(let value) = address else { return out += address.text.utf8 }
        for shift in stride(from: 24, through: 0, by: -8) {
            appendDecimal(Int((value >> UInt32(shift)) & 0xff), to: &out)
            if shift > 0 { out.append(0x2e) }
        }
    }

    /// (flag, letter) in tcpdump's order: FIN SYN RST PSH ACK URG ECE CWR.
    static let flagLetterTable: [(flag: UInt8, letter: UInt8)] = [
        (TCPFlags.fin, 0x46), (TCPFlags.syn, 0x53), (TCPFlags.rst, 0x52), (TCPFlags.psh, 0x50),
        (TCPFlags.ack, 0x2e), (TCPFlags.urg, 0x55), (TCPFlags.ece, 0x45), (TCPFlags.cwr, 0x57),
    ]

    static func appendFlagLetters(_ flags: UInt8, to out: inout [UInt8]) {
        var any = false
        for (flag, letter) in flagLetterTable where flags & flag != 0 {
            out.append(letter)
            any = true
        }
        if !any { out += "none".utf8 }
    }

    static func appendTimestamp(seconds: Int, microseconds: Int, to out: inout [UInt8]) {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        for (index, field) in [parts.tm_hour, parts.tm_min, parts.tm_sec].enumerated() {
            if index > 0 { out.append(0x3a) }
            out.append(0x30 + UInt8(truncatingIfNeeded: field / 10))
            out.append(0x30 + UInt8(truncatingIfNeeded: field % 10))
        }
        out.append(0x2e)
        var divisor = 100_000
        let micro = max(0, min(microseconds, 999_999))
        while divisor > 0 {
            out.append(0x30 + UInt8(truncatingIfNeeded: micro / divisor % 10))
            divisor /= 10
        }
    }

    /// tcpdump's flag letters, in tcpdump's order (FIN SYN RST PSH ACK URG ECE CWR).
    public static func flagLetters(_ flags: UInt8) -> String {
        var bytes: [UInt8] = []
        appendFlagLetters(flags, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// HH:MM:SS.uuuuuu in UTC (tcpdump prints local time; UTC keeps reports comparable
    /// between the router and the analyst's desk).
    public static func timestamp(seconds: Int, microseconds: Int) -> String {
        var bytes: [UInt8] = []
        appendTimestamp(seconds: seconds, microseconds: microseconds, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Lines that say what the policy is and what the capture cannot tell it.
    public static func header(policy: Policy, options: DryRunOptions) -> [String] {
        var lines = policy.rules.enumerated().map { "policy: rule \($0.offset + 1): \($0.element.summary)" }
        let needsIn = policy.rules.contains { $0.inInterface != nil } && options.metadata.inInterface == nil
        let needsOut = policy.rules.contains { $0.outInterface != nil } && options.metadata.outInterface == nil
        if needsIn || needsOut {
            let flags = [needsIn ? "--assume-in IFACE" : nil, needsOut ? "--assume-out IFACE" : nil].compactMap { $0 }
            lines.append(
                "note: captures carry no interface names; rules matching on them report interface-unknown unless you give \(flags.joined(separator: " and "))"
            )
        }
        if policy.matchesIPsec && options.metadata.ipsec.inbound == nil { lines.append(IPsecNote.text) }
        if policy.rules.contains(where: { $0.action == .clampToPathMTU }) && options.pathMTU == nil {
            lines.append("note: captures carry no routes; clamp-mss-to-pmtu rules report path-mtu-unknown unless you give --assume-pmtu MTU")
        }
        if policy.rules.contains(where: { $0.action.followedInterface != nil }) && options.pathMTU == nil {
            lines.append(
                "note: captures carry no interface MTUs; clamp-to-interface rules report interface-mtu-unknown unless you give --assume-pmtu MTU")
        }
        for (host, mtu) in options.learned.paths.sorted(by: { $0.key.text < $1.key.text }) {
            lines.append(
                "assumed learned: path MTU \(mtu) toward \(host.text): SYNs from it at most MSS \(host.family.mss(forMTU: mtu)) (as run --learn-pmtu)"
            )
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
            lines.append(
                "  " + pad(row.0, 10) + pad(row.1, width + 2) + String(repeating: " ", count: max(0, 7 - count.count)) + count + "  " + row.3)
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

/// Why `ipsec:` rules cannot be judged from packets alone, for dry-run and watch.
public enum IPsecNote {
    public static let text =
        "note: a capture does not show IPsec policy (decapsulated packets look like any other); ipsec: rules report ipsec-unknown unless you give --assume-ipsec in|out|none"
}

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

    public static func pad(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(1, width - text.count))
    }
}

/// Why `ipsec:` rules cannot be judged from packets alone, for dry-run and watch.
public enum IPsecNote {
    public static let text =
        "note: a capture does not show IPsec policy (decapsulated packets look like any other); ipsec: rules report ipsec-unknown unless you give --assume-ipsec in|out|none"

    /// What to say when the policy asks what a capture cannot show; nil when nothing.
    public static func note(_ policy: Policy, _ state: IPsecState) -> String? {
        policy.matchesIPsec && state.inbound == nil ? text : nil
    }
}

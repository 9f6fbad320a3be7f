import Glibc
import MSSClampCore
import MSSClampReport

/// What `dry-run` prints, in the order it prints it: the header (text only), a line per
/// SYN (text or JSON lines; none when quiet), then the counts. Lines are gathered as bytes
/// and written in chunks of about 64 KiB: a million-SYN replay must not spend its time in
/// `print`.
public struct DryRunPrinter {
    public enum Format: Sendable {
        case text(showTime: Bool)
        case json
    }

    let format: Format
    let quiet: Bool
    let writePath: String?
    let descriptor: Int32
    var pending: [UInt8] = []

    public init(format: Format, quiet: Bool, writePath: String?, descriptor: Int32 = STDOUT_FILENO) {
        self.format = format
        self.quiet = quiet
        self.writePath = writePath
        self.descriptor = descriptor
        pending.reserveCapacity(1 << 16)
    }

    /// Said once the capture has opened, before its first line.
    public mutating func header(policy: Policy, options: DryRunOptions) {
        guard case .text = format else { return }
        TextReport.header(policy: policy, options: options).forEach { append($0) }
    }

    /// Nil when quiet: the replay need not build records at all then.
    public var wantsRecords: Bool { !quiet }

    public mutating func record(_ record: DryRunRecord) {
        switch format {
        case .json: pending += JSONReport.line(record).utf8
        case .text(let showTime): TextReport.append(record, showTime: showTime, to: &pending)
        }
        pending.append(0x0a)
        if pending.count >= 60_000 { flush() }
    }

    /// The counts (also of a capture that could be read only in part), then everything out.
    public mutating func summary(_ summary: DryRunSummary, policy: Policy) {
        switch format {
        case .json: append(JSONReport.summary(summary, writePath: writePath))
        case .text: TextReport.summary(summary, policy: policy, writePath: writePath).forEach { append($0) }
        }
        flush()
    }

    mutating func append(_ line: String) {
        pending += line.utf8
        pending.append(0x0a)
    }

    /// Writes what is gathered; a closed output ends the writing, not the replay.
    public mutating func flush() {
        fflush(nil)  // whatever print() holds goes first
        pending.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { break }
                offset += written
            }
        }
        pending.removeAll(keepingCapacity: true)
    }
}

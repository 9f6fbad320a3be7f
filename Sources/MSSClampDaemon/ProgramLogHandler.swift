import Glibc
import Logging

/// swift-log's stderr handler, with every line naming the program (`[mssclamp]`) rather than
/// the module that wrote it: operators read and grep the journal by the program's name, and
/// the module layout is ours to change.
///
/// Under systemd, stderr is the journal's stream: there each line starts with the syslog
/// priority in sd-daemon(3)'s `<N>` form and no timestamp (the journal keeps its own), so
/// `journalctl -u mssclamp -p warning` shows the warnings. Without the prefix the journal
/// stored every line at info.
public struct ProgramLogHandler: LogHandler {
    var inner: StreamLogHandler

    public init(label: String, level: Logger.Level) {
        inner = StreamLogHandler.standardError(label: label)
        inner.logLevel = level
    }

    public func log(event: LogEvent) {
        guard Journal.isStandardError else {
            var event = event
            event.source = "mssclamp"
            inner.log(event: event)
            return
        }
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { $1 } }
        if let own = event.metadata { all.merge(own) { $1 } }
        let fields = all.isEmpty ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        Journal.write("<\(Journal.priority(event.level))>\(event.level) [mssclamp] \(event.message)\(fields)")
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }

    public var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    public var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }
}

/// systemd's journal as stderr (`JOURNAL_STREAM`, systemd.exec(5)).
public enum Journal {
    /// True when stderr is the stream systemd connected to the journal: JOURNAL_STREAM names
    /// its device and inode, and a redirected stderr no longer matches.
    public static let isStandardError: Bool = {
        guard let value = getenv("JOURNAL_STREAM").map({ String(cString: $0) }) else { return false }
        let parts = value.split(separator: ":")
        var info = stat()
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]), fstat(2, &info) == 0 else { return false }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
    }()

    /// sd-daemon(3)'s levels: 7 debug, 6 info, 5 notice, 4 warning, 3 error, 2 critical.
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    public static func write(_ line: String) {
        let text = line + "\n"
        _ = text.withCString { Glibc.write(2, $0, strlen($0)) }
    }
}

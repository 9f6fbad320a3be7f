import Logging

/// swift-log's stderr handler, with every line naming the program (`[mssclamp]`) rather than
/// the module that wrote it: operators read and grep the journal by the program's name, and
/// the module layout is ours to change.
struct ProgramLogHandler: LogHandler {
    var inner: StreamLogHandler

    init(label: String, level: Logger.Level) {
        inner = StreamLogHandler.standardError(label: label)
        inner.logLevel = level
    }

    func log(event: LogEvent) {
        var event = event
        event.source = "mssclamp"
        inner.log(event: event)
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }
}

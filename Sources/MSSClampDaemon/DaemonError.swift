/// Why the daemon could not start, reload or stop cleanly, in words for the operator.
/// `isConfiguration` separates a bad policy or setting (exit 2) from a runtime failure
/// (exit 1), as `mssclamp run` documents.
public struct DaemonError: Error, CustomStringConvertible {
    public let message: String
    public let isConfiguration: Bool

    public init(_ message: String, isConfiguration: Bool = false) {
        self.message = message
        self.isConfiguration = isConfiguration
    }

    public static func configuration(_ message: String) -> DaemonError { DaemonError(message, isConfiguration: true) }

    public var description: String { message }
}

/// A policy that cannot be used, with where it came from: a file and line and key, or a
/// command-line flag. The CLI prints `description` and exits 2.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    /// File path, or "command line".
    public var source: String
    public var line: Int?
    /// The key path (`rules[0].mss`) or flag (`--mss`) at fault.
    public var key: String?
    public var message: String

    public init(source: String, line: Int? = nil, key: String? = nil, message: String) {
        self.source = source
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        var text = source
        if let line { text += ":\(line)" }
        if let key { text += ": \(key)" }
        return text + ": " + message
    }
}

/// A value that does not parse; the caller adds where it was.
struct ValueError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

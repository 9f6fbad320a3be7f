/// A capture that cannot be opened, read, filtered or written, with libpcap's own words.
public struct CaptureError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String {
        // libpcap often names the file itself ("x.pcap: No such file or directory").
        message.hasPrefix(path) ? message : "\(path): \(message)"
    }
}

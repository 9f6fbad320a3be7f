import Glibc

/// Tells systemd how the service is doing (sd_notify(3)'s protocol, spoken directly: one
/// datagram of `KEY=value` lines to the socket in `$NOTIFY_SOCKET`).
///
/// Why: with `Type=notify`, systemd calls mssclamp started only when it says `READY=1`, and
/// mssclamp says it only once the queue is bound and read and the rules are in force. So
/// `systemctl start` returns, and units ordered after mssclamp start, when SYNs are clamped,
/// not at exec. Without `$NOTIFY_SOCKET` (run by hand, tests) every call does nothing.
///
/// libsystemd is not linked for this: the protocol is one `sendto`, stable and documented,
/// and the worker needs nothing else of that library.
public struct ServiceManager: Sendable {
    /// The socket's address as systemd gave it; nil when not started by a service manager.
    public let socketPath: String?

    /// Reads `$NOTIFY_SOCKET` once. The variable is left in place: a re-executed worker
    /// (see MSSClampPrivileges) must still find it, and it names a socket, not a secret.
    public init(environment: String? = ServiceManager.environmentSocket) {
        socketPath = environment.flatMap { $0.isEmpty ? nil : $0 }
    }

    public static var environmentSocket: String? {
        getenv("NOTIFY_SOCKET").map { String(cString: $0) }
    }

    public enum State: Sendable, Equatable {
        /// Clamping is in force (also after a reload: systemd ignores a repeat).
        case ready(status: String)
        /// A human-readable line for `systemctl status`.
        case status(String)
        /// Shutting down: rules going, queue draining.
        case stopping(status: String)

        /// The datagram's text.
        public var message: String {
            switch self {
            case .ready(let status): return "READY=1\nSTATUS=\(status)"
            case .status(let status): return "STATUS=\(status)"
            case .stopping(let status): return "STOPPING=1\nSTATUS=\(status)"
            }
        }
    }

    /// Sends one state; returns false when there is no service manager or it could not be
    /// told (systemd then times the start out and says so in its journal).
    @discardableResult
    public func notify(_ state: State) -> Bool {
        guard let socketPath else { return false }
        return ServiceManager.send(state.message, to: socketPath)
    }

    /// `@name` is an abstract socket (a leading NUL on the wire); anything else a path.
    static func send(_ message: String, to path: String) -> Bool {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !bytes.isEmpty, bytes.count < capacity, abstract || bytes.first == UInt8(ascii: "/") else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let sent = message.utf8CString.withUnsafeBufferPointer { text in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, text.baseAddress, text.count - 1, Int32(MSG_NOSIGNAL), $0, length)
                }
            }
        }
        return sent == message.utf8.count
    }
}

import FoundationEssentials
import Glibc

/// Where workers publish their state: one JSON file per worker in a run directory
/// (`/run/mssclamp`, systemd's RuntimeDirectory), named after the network namespace and the
/// first queue, so workers in several namespaces (a lab, containers) never collide and
/// `status` reads only its own namespace's. Readable by everyone (0644): the service user
/// and an operator without privileges can both ask.
///
/// A namespace is known by its cookie, not its inode number: the kernel hands a deleted
/// namespace's inode to the next one, whose `status` would otherwise show a stranger's
/// worker (seen: a new, empty namespace reporting a worker of one deleted before it).
public struct StatusStore: Sendable {
    public let directory: String
    public static let defaultDirectory = "/run/mssclamp"

    public init(directory: String = StatusStore.defaultDirectory) {
        self.directory = directory
    }

    /// This process's network namespace, as the kernel names it: `net:[4026531840]`.
    public static var currentNetns: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")) ?? "net:[unknown]"
    }

    /// Whether a worker's pid names a live process (EPERM: alive, another user's).
    public static func isAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 || errno == EPERM }

    /// The workers of this namespace that say they run and whose process is alive, newest
    /// first: what `reload` signals and whose policy `watch` judges by.
    public func running() -> [WorkerStatus] {
        read().filter { $0.state == .running && StatusStore.isAlive($0.pid) }
    }

    /// This process's network namespace cookie (SO_NETNS_COOKIE, Linux 5.14), read from a
    /// socket of its own; nil where the kernel has none.
    public static var currentCookie: UInt64? {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var cookie: UInt64 = 0
        var length = socklen_t(MemoryLayout<UInt64>.size)
        // SO_NETNS_COOKIE is 71 on every architecture (asm-generic/socket.h); Glibc's headers
        // on Debian 12 predate it.
        guard getsockopt(fd, SOL_SOCKET, 71, &cookie, &length) == 0, length == MemoryLayout<UInt64>.size else { return nil }
        return cookie
    }

    /// The namespace's part of a state file's name: the cookie where there is one.
    static func key(netns: String, cookie: UInt64?) -> String {
        cookie.map { "netns-c\($0)" } ?? "netns\(netns.filter(\.isNumber))"
    }

    public func path(netns: String, cookie: UInt64? = StatusStore.currentCookie, queue: UInt16) -> String {
        "\(directory)/\(StatusStore.key(netns: netns, cookie: cookie))-queue\(queue).json"
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()

    /// Writes atomically (a temporary file renamed over the old one).
    public func write(_ status: WorkerStatus) throws {
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o755])
        let target = path(netns: status.netns, cookie: status.netnsCookie, queue: status.queues.first ?? 0)
        let temporary = target + ".tmp\(status.pid)"
        let data = try StatusStore.encoder.encode(status)
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o644]) else {
            throw StatusStoreError(path: temporary, reason: "cannot create the file")
        }
        guard rename(temporary, target) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw StatusStoreError(path: target, reason: reason)
        }
    }

    /// Every worker state published for this network namespace, newest first. Files that
    /// do not parse are skipped (a reader must never fail on a writer's half-done upgrade).
    public func read(netns: String = StatusStore.currentNetns, cookie: UInt64? = StatusStore.currentCookie) -> [WorkerStatus] {
        let prefix = StatusStore.key(netns: netns, cookie: cookie) + "-"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }.compactMap { name in
            guard let data = FileManager.default.contents(atPath: "\(directory)/\(name)") else { return nil }
            return try? StatusStore.decoder.decode(WorkerStatus.self, from: data)
        }.filter { $0.netns == netns && $0.netnsCookie == cookie }.sorted { $0.updated > $1.updated }
    }

    /// Removes what no reader can use any more, at a worker's start: files of other
    /// namespaces whose worker is gone and that were last written over an hour ago (their
    /// namespace is most likely deleted; a cookie cannot be looked up), files in the old
    /// inode-named form, and temporary files of writers that died mid-write. This
    /// namespace's own files stay: a clean stop or a crash is what `status` reports.
    /// Returns the names removed.
    @discardableResult
    public func removeStale(
        now: Double, cookie: UInt64? = StatusStore.currentCookie, netns: String = StatusStore.currentNetns,
        isAlive: (Int32) -> Bool = StatusStore.isAlive
    ) -> [String] {
        let own = StatusStore.key(netns: netns, cookie: cookie) + "-"
        var removed: [String] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where !name.hasPrefix(own) && name.hasPrefix("netns") {
            let path = "\(directory)/\(name)"
            let stale: Bool
            if name.contains(".json.tmp"), let pid = name.split(separator: ".").last.flatMap({ Int32($0.dropFirst(3)) }) {
                stale = !isAlive(pid)
            } else if let data = FileManager.default.contents(atPath: path),
                let status = try? StatusStore.decoder.decode(WorkerStatus.self, from: data)
            {
                stale = status.netnsCookie == nil && cookie != nil || (!isAlive(status.pid) && now - status.updated > 3600)
            } else {
                stale = false
            }
            if stale && unlink(path) == 0 { removed.append(name) }
        }
        return removed
    }

    public static func json<T: Encodable>(_ value: T) -> String {
        String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self)
    }
}

/// A status file that could not be written: where, and why in the system's words.
public struct StatusStoreError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

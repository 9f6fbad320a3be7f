import FoundationEssentials
import Glibc

/// Where workers publish their state: one JSON file per worker in a run directory
/// (`/run/mssclamp`, systemd's RuntimeDirectory), named after the network namespace and the
/// first queue, so workers in several namespaces (a lab, containers) never collide and
/// `status` reads only its own namespace's. Readable by everyone (0644): the service user
/// and an operator without privileges can both ask.
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

    public func path(netns: String, queue: UInt16) -> String {
        let inode = netns.filter(\.isNumber)
        return "\(directory)/netns\(inode)-queue\(queue).json"
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
        let target = path(netns: status.netns, queue: status.queues.first ?? 0)
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
    public func read(netns: String = StatusStore.currentNetns) -> [WorkerStatus] {
        let inode = netns.filter(\.isNumber)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix("netns\(inode)-") && $0.hasSuffix(".json") }.compactMap { name in
            guard let data = FileManager.default.contents(atPath: "\(directory)/\(name)") else { return nil }
            return try? StatusStore.decoder.decode(WorkerStatus.self, from: data)
        }.filter { $0.netns == netns }.sorted { $0.updated > $1.updated }
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

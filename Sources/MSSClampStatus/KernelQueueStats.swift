import Glibc

/// The kernel's own view of our queues, from /proc/net/netfilter/nfnetlink_queue (per network
/// namespace): how many packets wait now, and how many it dropped because the queue was full
/// (without fail-open) or could not be sent to us. Packets accepted by fail-open are counted
/// nowhere in the kernel; a growing `waiting` near --queue-maxlen is the sign to watch.
public struct KernelQueueStats: Sendable, Equatable, Codable {
    public var queue: UInt16
    /// The netlink port of the socket bound to the queue (the worker's, usually its pid).
    public var portID: UInt32 = 0
    public var waiting: UInt64
    public var queueDropped: UInt64
    public var userDropped: UInt64

    public init(queue: UInt16, waiting: UInt64, queueDropped: UInt64, userDropped: UInt64) {
        self.queue = queue
        self.waiting = waiting
        self.queueDropped = queueDropped
        self.userDropped = userDropped
    }

    /// Parses the file's lines: queue, portid, waiting, copy mode, copy range, queue dropped,
    /// user dropped, last id, 1.
    public static func parse(_ text: String) -> [KernelQueueStats] {
        text.split(separator: "\n").compactMap { line in
            // By position: a field that is not a number makes the line unusable, never shifts.
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 7, let queue = UInt16(fields[0]), let portID = UInt32(fields[1]), let waiting = UInt64(fields[2]),
                let queueDropped = UInt64(fields[5]), let userDropped = UInt64(fields[6])
            else { return nil }
            var stats = KernelQueueStats(queue: queue, waiting: waiting, queueDropped: queueDropped, userDropped: userDropped)
            stats.portID = portID
            return stats
        }
    }

    /// Nil when the file cannot be read (it is root's, mode 0440): unknown, not empty.
    public static func readIfPermitted(path: String = "/proc/net/netfilter/nfnetlink_queue") -> [KernelQueueStats]? {
        guard access(path, R_OK) == 0 else { return nil }
        return read(path: path)
    }

    public static func read(path: String = "/proc/net/netfilter/nfnetlink_queue") -> [KernelQueueStats] {
        guard let file = fopen(path, "r") else { return [] }
        defer { fclose(file) }
        var text = ""
        var line = [CChar](repeating: 0, count: 512)
        while fgets(&line, Int32(line.count), file) != nil {
            text += String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return parse(text)
    }
}

import Foundation
import MSSClampStatus
import TestSupport
import Testing

/// The state file is the only channel from the worker to `status`: every field must come
/// back as written (snake_case JSON must not lose a field such as `lastSynTime`).
@Suite struct StatusStoreTests {
    @Test func writesAtomicallyAndReadsEveryFieldBack() throws {
        let directory = TestSupport.temporaryDirectory("state")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = StatusStore(directory: directory)
        let status = HealthTests.worker {
            $0.netns = StatusStore.currentNetns
            $0.rules = HealthTests.rules { $0.ipv6.steersSignals = true }
            $0.rulesChecked = 12.5
            $0.recent[Snapshot.unclampedFailOpen] = 3
            $0.counters.counts["pmtu-refused/rate-limited"] = 1
            $0.counters.learning = Snapshot.Learning(entries: 1, flows: 9)
            $0.counters.queues = [Snapshot.Queue(queue: 0, up: true, waiting: 2, queueDropped: 0, userDropped: nil)]
            $0.counters.rulesInForce = true
            $0.learning = WorkerStatus.Learning(
                lifetime: 600, entries: [.init(host: "2001:db8:1::1", mtu: 1400, mss: 1340, expires: 1e9)])
        }
        try store.write(status)
        #expect(store.read() == [status])
        // Only this namespace's workers are read.
        #expect(store.read(netns: "net:[1]").isEmpty)
        let mode = try FileManager.default.attributesOfItem(atPath: store.path(netns: status.netns, queue: 0))[.posixPermissions] as? Int
        #expect(mode == 0o644, "readable by the service user and by operators")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).count == 1, "no temporary file left")
    }
}

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
            $0.netnsCookie = StatusStore.currentCookie
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
        let mode =
            try FileManager.default.attributesOfItem(atPath: store.path(netns: status.netns, cookie: status.netnsCookie, queue: 0))[.posixPermissions]
            as? Int
        #expect(mode == 0o644, "readable by the service user and by operators")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).count == 1, "no temporary file left")
    }

    /// The kernel reuses a deleted namespace's inode number; its cookie never while the
    /// system runs. A worker of another namespace with the same inode is not ours.
    @Test func aReusedInodeIsNotOurNamespace() throws {
        let directory = TestSupport.temporaryDirectory("state")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = StatusStore(directory: directory)
        let cookie = try #require(StatusStore.currentCookie, "the kernel has SO_NETNS_COOKIE (5.14+)")
        let stranger = HealthTests.worker {
            $0.netns = StatusStore.currentNetns
            $0.netnsCookie = cookie &+ 1
        }
        try store.write(stranger)
        #expect(store.read().isEmpty, "same inode, another cookie: a namespace deleted before this one")
        let own = HealthTests.worker {
            $0.netns = StatusStore.currentNetns
            $0.netnsCookie = cookie
        }
        try store.write(own)
        #expect(store.read() == [own])
    }

    /// A worker's start removes what nobody can read any more: another namespace's files whose
    /// worker is gone and were last written over an hour ago, the old inode-named files, and
    /// temporary files of dead writers. This namespace's own files stay (status reports them).
    @Test func staleStateIsRemoved() throws {
        let directory = TestSupport.temporaryDirectory("state")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = StatusStore(directory: directory)
        let now = 1_000_000.0
        func write(_ cookie: UInt64?, pid: Int32, updated: Double, queue: UInt16) throws {
            try store.write(
                HealthTests.worker {
                    $0.netnsCookie = cookie
                    $0.pid = pid
                    $0.updated = updated
                    $0.queues = [queue]
                })
        }
        try write(7, pid: 100, updated: now - 7200, queue: 0)  // other namespace, dead, old: goes
        try write(8, pid: 101, updated: now - 60, queue: 0)  // other namespace, dead, recent: stays
        try write(9, pid: 102, updated: now - 7200, queue: 0)  // other namespace, alive: stays
        try write(nil, pid: 103, updated: now, queue: 0)  // the inode-named form: goes
        try write(5, pid: 104, updated: now - 7200, queue: 3)  // our own, dead, old: stays
        FileManager.default.createFile(atPath: directory + "/netns-c7-queue0.json.tmp100", contents: Data())
        let removed = store.removeStale(now: now, cookie: 5, netns: "net:[1]", isAlive: { $0 == 102 })
        #expect(Set(removed) == ["netns-c7-queue0.json", "netns1-queue0.json", "netns-c7-queue0.json.tmp100"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).count == 3)
    }
}

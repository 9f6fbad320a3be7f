import Foundation
import Glibc
import Logging
import MSSClampCore
import MSSClampDaemon
import MSSClampRules
import MSSClampStatus
import MSSClampWorker
import Testing

/// The daemon's life with a fake queue and a fake firewall behind the real interfaces: the
/// order that makes start and stop lossless, readiness, repair, reload and the counts, all
/// without root. (The namespace scripts and the VM lab run the same code for real.)
@Suite struct DaemonTests {
    static let policy = Policy(rules: [Rule(outInterface: InterfacePattern("eth0"), mssRange: 1361...1536, action: .setMSS(1360))])
    static let other = Policy(rules: [Rule(outInterface: InterfacePattern("eth0"), mssRange: 1301...1536, action: .setMSS(1300))])

    struct Lab {
        let journal = Journal()
        let queues: FakeQueues
        let firewall: FakeFirewall
        let daemon: Daemon
        let directory: String
        let notify: NotifySocket

        init(failing: [UInt16] = [], safetyNet: Bool = false, reload: (@Sendable () throws(DaemonError) -> Policy)? = nil) throws {
            queues = FakeQueues(policy: DaemonTests.policy, journal: journal, failing: failing)
            var options = SteeringOptions()
            options.safetyNet = safetyNet
            firewall = FakeFirewall(options: options, journal: journal)
            directory = NSTemporaryDirectory() + "mssclamp-daemon-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            notify = try NotifySocket()
            var settings = Daemon.Settings()
            settings.stateDirectory = directory
            settings.statsInterval = 0
            let journal = self.journal
            daemon = Daemon(
                queues: queues, firewall: firewall, settings: settings, logger: Logger(label: "test"),
                reloadPolicy: reload,
                otherBackends: {
                    journal.add("otherBackends")
                    return []
                },
                serviceManager: ServiceManager(environment: notify.path))
        }

        func published() -> WorkerStatus? { StatusStore(directory: directory).read().first }

        func cleanUp() {
            try? FileManager.default.removeItem(atPath: directory)
            notify.close()
        }
    }

    @Test func startReadsTheQueueBeforeTheRulesAndIsReadyOnlyAfterThem() async throws {
        let lab = try Lab()
        defer { lab.cleanUp() }
        let saidBeforeInstall = Journal()
        lab.firewall.onInstall.withLockedValue { [notify = lab.notify] in
            $0 = { saidBeforeInstall.add(notify.receive() ?? "nothing") }
        }
        try await lab.daemon.start()
        let order = lab.journal.all
        #expect(order == ["queues.start", "firewall.install \(Self.policy.digest)", "otherBackends"])
        #expect(saidBeforeInstall.all == ["nothing"], "READY must not precede the rules")
        #expect(lab.notify.receive()?.hasPrefix("READY=1\nSTATUS=clamping: queue 0, policy:\(Self.policy.digest)") == true)
        // Published at once, with the expectation the backend gives and the rules found whole.
        let status = try #require(lab.published())
        #expect(status.state == .running && status.expected == lab.firewall.expected(Self.policy))
        #expect(status.counters.rulesInForce == true)
    }

    @Test func aQueueThreadThatCannotStartInstallsNothing() async throws {
        let lab = try Lab(failing: [0])
        defer { lab.cleanUp() }
        await #expect(throws: DaemonError.self) { try await lab.daemon.start() }
        #expect(lab.journal.all == ["queues.start", "queues.stop"])
        #expect(lab.notify.receive() == nil, "never READY")
    }

    @Test func aRefusedInstallLeavesNothingBehind() async throws {
        let lab = try Lab()
        defer { lab.cleanUp() }
        lab.firewall.failInstall.withLockedValue { $0 = true }
        do {
            try await lab.daemon.start()
            Issue.record("start succeeded without rules")
        } catch {
            #expect(error.message.hasPrefix("installing rules: the fake refuses"))
        }
        #expect(lab.journal.all == ["queues.start", "firewall.install \(Self.policy.digest)", "queues.stop", "firewall.remove keepSafetyNet=false"])
    }

    @Test func flushedRulesArePutBackAndCounted() async throws {
        let lab = try Lab()
        defer { lab.cleanUp() }
        try await lab.daemon.start()
        lab.firewall.flush()
        await lab.daemon.handle(.rulesetChanged)
        #expect(lab.journal.all.filter { $0.hasPrefix("firewall.install") }.count == 2, "reinstalled")
        let snapshot = lab.daemon.snapshot()
        #expect(snapshot[Snapshot.rulesRepairs] == 1 && snapshot.rulesInForce == true)
        // Whole rules are left alone.
        await lab.daemon.handle(.rulesetChanged)
        #expect(lab.journal.all.filter { $0.hasPrefix("firewall.install") }.count == 2)
    }

    @Test func synsPastTheQueueAreCountedFromTheFirewallsCounters() async throws {
        let lab = try Lab()
        defer { lab.cleanUp() }
        try await lab.daemon.start()
        lab.firewall.bypassed(7)
        for _ in 0..<5 { await lab.daemon.handle(.tick) }  // the firewall is read every 5 ticks
        #expect(lab.daemon.snapshot()[Snapshot.unclampedFailOpen] == 7)
        let status = try #require(lab.published())
        #expect(status.counters[Snapshot.unclampedFailOpen] == 7)
        #expect(status.recent[Snapshot.unclampedFailOpen] == 7, "within the recent window")
    }

    @Test func reloadInstallsAGoodPolicyAndKeepsTheRunningOneOnABadOne() async throws {
        let next = NIOLockedPolicy(Self.other)
        let lab = try Lab(reload: { () throws(DaemonError) -> Policy in
            guard let policy = next.value else { throw DaemonError.configuration("line 3: not a policy") }
            return policy
        })
        defer { lab.cleanUp() }
        try await lab.daemon.start()
        await lab.daemon.handle(.reload)
        #expect(lab.queues.state.policy == Self.other)
        #expect(lab.journal.all.last == "firewall.install \(Self.other.digest)")
        #expect(lab.published()?.policyDigest == Self.other.digest)
        next.value = nil
        await lab.daemon.handle(.reload)
        #expect(lab.queues.state.policy == Self.other, "a bad file changes nothing")
        #expect(lab.journal.all.last == "firewall.install \(Self.other.digest)")
    }

    @Test(arguments: [false, true])
    func stopRemovesTheRulesBeforeDrainingAndSaysStopped(_ safetyNet: Bool) async throws {
        let lab = try Lab(safetyNet: safetyNet)
        defer { lab.cleanUp() }
        try await lab.daemon.start()
        _ = lab.notify.receive()
        try await lab.daemon.stop()
        let order = lab.journal.all
        #expect(Array(order.suffix(2)) == ["firewall.remove keepSafetyNet=\(safetyNet)", "queues.stop"])
        #expect(lab.notify.receive()?.hasPrefix("STOPPING=1") == true)
        #expect(lab.published()?.state == .stopped)
    }
}

/// A policy a test changes while the daemon's reload closure reads it.
final class NIOLockedPolicy: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Policy?
    init(_ policy: Policy?) { stored = policy }
    var value: Policy? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}

/// A datagram socket standing in for systemd's notify socket.
final class NotifySocket: @unchecked Sendable {
    let path: String
    let fd: Int32

    init() throws {
        path = "/tmp/mssclamp-daemon-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        try #require(fd >= 0 && bound == 0)
    }

    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        return count < 0 ? nil : String(decoding: buffer[..<count], as: UTF8.self)
    }

    func close() {
        Glibc.close(fd)
        unlink(path)
    }
}

import MSSClampCore
import MSSClampDaemon
import MSSClampRules
import MSSClampWorker
import NIOConcurrencyHelpers

/// What the fakes were asked to do, in order: the daemon's start and stop order is read
/// from here.
final class Journal: Sendable {
    private let entries = NIOLockedValueBox<[String]>([])
    func add(_ entry: String) { entries.withLockedValue { $0.append(entry) } }
    var all: [String] { entries.withLockedValue { $0 } }
    func index(of entry: String) -> Int? { all.firstIndex(of: entry) }
}

/// Queues that bind nothing: a real `WorkerState` (the policy, the counts) with no socket.
final class FakeQueues: PacketQueues {
    let state: WorkerState
    let queues: [UInt16]
    let journal: Journal
    /// Queues whose thread "cannot be made".
    let failing: [UInt16]

    init(policy: Policy, queues: [UInt16] = [0], journal: Journal, failing: [UInt16] = []) {
        state = WorkerState(policy: policy)
        self.queues = queues
        self.journal = journal
        self.failing = failing
    }

    func start(pinFailed: @escaping @Sendable (UInt16, Int) -> Void) -> [UInt16] {
        journal.add("queues.start")
        return failing
    }

    func stop(timeout: Double) -> Bool {
        journal.add("queues.stop")
        return true
    }
}

/// A firewall in memory: `install` makes `observe` show what the real backend's
/// expectation says (so the daemon's one diff is exercised for real), a test can flush it
/// or make the counters move, and every call is journaled.
final class FakeFirewall: Firewall, @unchecked Sendable {
    let options: SteeringOptions
    let journal: Journal
    /// The real backend whose rendering and expectation the fake borrows.
    let real: any Firewall
    var backend: Backend { real.backend }
    var location: String { "fake" }
    var safetyNetLocation: String { "fake net" }
    private let installed = NIOLockedValueBox<RulesObservation?>(nil)
    let failInstall = NIOLockedValueBox(false)
    /// Called inside install, before it returns (to look at what was said meanwhile).
    let onInstall = NIOLockedValueBox<(@Sendable () -> Void)?>(nil)

    init(options: SteeringOptions = SteeringOptions(), journal: Journal, backend: Backend = .nftables) {
        self.options = options
        self.journal = journal
        real = backend.firewall(options)
    }

    func rendered(_ policy: Policy) -> String { real.rendered(policy) }
    func expected(_ policy: Policy) -> RulesObservation { real.expected(policy) }

    func install(_ policy: Policy) async throws(FirewallError) -> [String] {
        journal.add("firewall.install \(policy.digest)")
        onInstall.withLockedValue { $0 }?()
        if failInstall.withLockedValue({ $0 }) { throw FirewallError("the fake refuses") }
        installed.withLockedValue { $0 = real.expected(policy) }
        return []
    }

    func remove(keepSafetyNet: Bool, policy: Policy?) async throws(FirewallError) -> [String] {
        journal.add("firewall.remove keepSafetyNet=\(keepSafetyNet)")
        installed.withLockedValue { $0 = nil }
        return []
    }

    func observe() async throws(FirewallError) -> RulesObservation {
        installed.withLockedValue { $0 } ?? RulesObservation(backend: backend)
    }

    func holdsOurs() async throws(FirewallError) -> Bool { try await !observe().isEmpty }
    func textDifferences(_ policy: Policy) async throws(FirewallError) -> [String] { [] }
    func preflight() throws(FirewallError) {}

    /// Someone flushed our rules.
    func flush() { installed.withLockedValue { $0 = nil } }

    /// The bypass counters saw `packets` more SYNs pass the queue (IPv4).
    func bypassed(_ packets: UInt64) {
        installed.withLockedValue { $0?.ipv4.bypassPackets += packets }
    }
}

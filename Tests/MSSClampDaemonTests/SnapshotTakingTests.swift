import MSSClampCore
import MSSClampLearning
import MSSClampStatus
import MSSClampWorker
import Testing

@testable import MSSClampDaemon

/// Where the worker's own storage meets the one declaration: every field the queue threads
/// or the control loop count into is mapped to a declared counter, exactly once.
@Suite struct SnapshotTakingTests {
    @Test func everyStoredCountIsMappedOnce() {
        #expect(
            Mirror(reflecting: TransportCounters()).children.count == Snapshot.transportFields.count,
            "a TransportCounters field without a declared counter")
        // FirewallCounts: every count, plus rulesInForce (a state, rendered as a gauge).
        #expect(
            Mirror(reflecting: FirewallCounts()).children.count == Snapshot.firewallFields.count + 1,
            "a FirewallCounts field without a declared counter")
        let mapped =
            Snapshot.transportFields.map(\.0.key) + Snapshot.firewallFields.map(\.0.key)
            + Snapshot.outcomes.map(\.key) + [
                Snapshot.pmtuLearned.key, Snapshot.pmtuClamped.key, Snapshot.stalledFlows.key, Snapshot.starvedFlows.key,
            ]
            + Snapshot.pmtuRefused.map(\.key)
        #expect(mapped.sorted() == Snapshot.counters.map(\.key).sorted(), "declared but never filled, or filled twice")
    }

    @Test func takenFromTheWorkerAndTheFirewall() {
        let state = WorkerState(policy: Policy(rules: [Rule(action: .setMSS(1360))]), learning: PathMTULearner.Limits())
        var firewall = FirewallCounts()
        firewall.failOpen = 3
        firewall.repairs = 2
        firewall.rulesInForce = false
        var kernel = KernelQueueStats(queue: 0, waiting: 5, queueDropped: 6, userDropped: 7)
        kernel.portID = 99
        let snapshot = Snapshot.taking(state, firewall: firewall, queues: [0, 1], kernel: [kernel])
        #expect(snapshot[Snapshot.unclampedFailOpen] == 3 && snapshot[Snapshot.rulesRepairs] == 2 && snapshot.rulesInForce == false)
        #expect(snapshot.learning == Snapshot.Learning(entries: 0, flows: 0))
        #expect(snapshot.byRule == [0])
        // No thread runs in this test: neither queue is up; the kernel's figures where it has them.
        #expect(
            snapshot.queues == [
                Snapshot.Queue(queue: 0, up: false, waiting: 5, queueDropped: 6, userDropped: 7),
                Snapshot.Queue(queue: 1, up: false),
            ])
        #expect(snapshot.line.contains("unclamped-fail-open=3") && snapshot.line.contains("pmtu-entries=0"))
    }
}

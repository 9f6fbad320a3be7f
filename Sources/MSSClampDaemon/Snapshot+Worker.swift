import MSSClampLearning
import MSSClampStatus
import MSSClampWorker

/// Where each declared counter (`Snapshot.counters`) is filled from. The storage the queue
/// threads count into stays theirs (fixed fields, no allocation); these tables are the only
/// place that maps it to the declaration, and a test checks they cover every field.
extension Snapshot {
    static let transportFields: [(Counter, KeyPath<TransportCounters, UInt64> & Sendable)] = [
        (overruns, \.overruns), (verdictErrors, \.verdictErrors), (sendErrors, \.sendErrors), (truncated, \.truncated),
    ]
    static let firewallFields: [(Counter, KeyPath<FirewallCounts, UInt64> & Sendable)] = [
        (unclampedFailOpen, \.failOpen), (unclampedNoWorker, \.whileUnbound), (safetyNetClamped, \.safetyNetClamped),
        (rulesRepairs, \.repairs),
    ]

    /// Everything counted now. `kernel`: the kernel's queue figures, nil when /proc cannot be
    /// read; `now`: the learner's clock.
    static func taking(
        _ state: WorkerState, firewall: FirewallCounts, queues: [UInt16], kernel: [KernelQueueStats]?,
        now: Double = WorkerState.now()
    ) -> Snapshot {
        var snapshot = Snapshot()
        let (outcomes, transport) = state.counters
        for (counter, count) in zip(Snapshot.outcomes, outcomes.byKind) { snapshot[counter] = count }
        snapshot.byRule = outcomes.byRule
        for (counter, field) in transportFields { snapshot[counter] = transport[keyPath: field] }
        for (counter, field) in firewallFields { snapshot[counter] = firewall[keyPath: field] }
        snapshot.rulesInForce = firewall.rulesInForce
        if let learner = state.learner {
            // Copied out under the lock the queue threads take once per SYN: keep it short.
            learner.withLockedValue { learner in
                snapshot[pmtuLearned] = UInt64(learner.learnedCount)
                for (counter, reason) in zip(pmtuRefused, PathMTULearner.Ignored.allCases) {
                    snapshot[counter] = UInt64(learner.ignored[reason] ?? 0)
                }
                snapshot[pmtuClamped] = UInt64(learner.clamps)
                snapshot[stalledFlows] = UInt64(learner.stalledFlows)
                snapshot[starvedFlows] = UInt64(learner.starvedFlows)
                snapshot.learning = Learning(
                    entries: learner.live(now: now).count, flows: learner.flowCount,
                    stallEntries: learner.watchesStalls ? learner.stallCeilings.count : nil)
            }
        }
        // Up: our threads run, and (where /proc is readable) the kernel has the queue bound.
        let threadsUp = state.runningThreads == queues.count
        snapshot.queues = queues.map { queue in
            let stats = kernel?.first { $0.queue == queue }
            return Queue(
                queue: queue, up: threadsUp && (kernel == nil || (stats?.portID ?? 0) != 0),
                waiting: stats?.waiting, queueDropped: stats?.queueDropped, userDropped: stats?.userDropped)
        }
        return snapshot
    }
}

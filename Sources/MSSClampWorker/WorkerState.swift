import Glibc
import MSSClampCore
import MSSClampLearning
import NIOConcurrencyHelpers
import Synchronization

/// Counts that are not about packets' contents but about the queue transport.
public struct TransportCounters: Sendable, Equatable {
    /// Receive buffer overruns (ENOBUFS): the kernel failed open or dropped meanwhile.
    public var overruns: UInt64 = 0
    /// Verdicts the kernel refused (ENOENT: the packet was already gone, e.g. a late verdict).
    public var verdictErrors: UInt64 = 0
    /// Verdict sends that failed outright.
    public var sendErrors: UInt64 = 0
    /// Packets the kernel sent truncated (never modified).
    public var truncated: UInt64 = 0

    public init() {}

    mutating func merge(_ other: TransportCounters) {
        overruns &+= other.overruns
        verdictErrors &+= other.verdictErrors
        sendErrors &+= other.sendErrors
        truncated &+= other.truncated
    }
}

/// What every queue thread shares: the policy (swapped whole on reload), the published
/// counters, and the stop flag. Threads take the policy once per batch and publish counts
/// once per batch, so the locks are touched twice per batch, never per packet. The locks
/// are NIO's (pthread mutexes) rather than Synchronization.Mutex, whose futex on Linux
/// ThreadSanitizer cannot see: `make sanitize` then reported every locked access as a race.
public final class WorkerState: Sendable {
    let policyBox: NIOLockedValueBox<Policy>
    let totals: NIOLockedValueBox<(outcomes: OutcomeCounters, transport: TransportCounters)>
    let stopping = Atomic<Bool>(false)
    /// Queue threads running now; fewer than the queues means a queue is bound but unread.
    let running = Atomic<Int>(0)
    /// Clamped/inserted packets sampled for debug logging (at most `sampleRate` a second per
    /// queue), drained by whoever logs them; empty and untouched unless `sampling`.
    let samples = NIOLockedValueBox<[(FlowInfo, Decision)]>([])
    public let sampling: Bool
    public static let sampleRate = 10
    /// `--learn-pmtu`: path MTUs learned from ICMP, shared by the queue threads (locked once
    /// per signal and once per SYN); nil when not learning, and then never touched.
    public let learner: NIOLockedValueBox<PathMTULearner>?

    public init(policy: Policy, sampling: Bool = false, learning: PathMTULearner.Limits? = nil) {
        self.sampling = sampling
        learner = learning.map { NIOLockedValueBox(PathMTULearner(limits: $0)) }
        policyBox = NIOLockedValueBox(policy)
        totals = NIOLockedValueBox((OutcomeCounters(ruleCount: policy.rules.count), TransportCounters()))
    }

    public var policy: Policy { policyBox.withLockedValue { $0 } }

    /// Swaps in a new policy; counts per rule restart, as rule numbers may mean other rules now.
    public func replace(policy: Policy) {
        policyBox.withLockedValue { $0 = policy }
        totals.withLockedValue { $0.outcomes = OutcomeCounters(ruleCount: policy.rules.count) }
    }

    public var counters: (outcomes: OutcomeCounters, transport: TransportCounters) {
        totals.withLockedValue { $0 }
    }

    func publish(_ outcomes: OutcomeCounters, _ transport: TransportCounters) {
        totals.withLockedValue { totals in
            if totals.outcomes.byRule.count == outcomes.byRule.count {
                totals.outcomes.merge(outcomes)
            }
            totals.transport.merge(transport)
        }
    }

    /// Takes the samples collected so far.
    public func drainSamples() -> [(FlowInfo, Decision)] {
        samples.withLockedValue { taken in
            defer { taken.removeAll(keepingCapacity: true) }
            return taken
        }
    }

    func addSample(_ flow: FlowInfo, _ decision: Decision) {
        samples.withLockedValue { if $0.count < 100 { $0.append((flow, decision)) } }
    }

    public var runningThreads: Int { running.load(ordering: .relaxed) }

    /// The learner's clock: monotonic seconds (wall-clock steps must not expire entries).
    public static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    public func requestStop() { stopping.store(true, ordering: .releasing) }
    var isStopping: Bool { stopping.load(ordering: .acquiring) }
}

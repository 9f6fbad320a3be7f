import MSSClampCore
import MSSClampLearning
import NIOConcurrencyHelpers

/// `--learn-pmtu` as the packet core asks for it: the learner every queue thread shares,
/// locked once per SYN. Every SYN is noted as a forwarded flow, so later ICMP quoting it
/// can be believed; the answer is the MSS learned toward the SYN's sender.
struct SharedLearner: MSSCeilingSource {
    let box: NIOLockedValueBox<PathMTULearner>
    /// The learner's clock (monotonic), read once per packet.
    let now: Double

    func ceiling(for flow: FlowInfo) -> UInt16? {
        box.withLockedValue { learner in
            learner.forwarded(flow, now: now)
            return learner.ceiling(from: flow.source, now: now)
        }
    }
}

import MSSClampCore
import MSSClampLearning
import MSSClampNFQueue

/// A queue thread's batch, without the socket: the very code `QueueWorker.run` executes
/// between a receive and the next (take the policy, decode the netlink messages, copy,
/// apply the policy, lower to a learned path MTU, batch the verdicts, publish the counts).
/// The verdicts are built and then discarded instead of sent.
///
/// For `bench/hotpath`: the proof that this path allocates nothing (make test) and its
/// instructions per SYN under callgrind (make bench).
public final class PacketPath {
    private let worker: QueueWorker
    public var state: WorkerState { worker.state }

    public init(policy: Policy, learning: PathMTULearner.Limits? = nil) {
        worker = QueueWorker(socket: nil, configuration: QueueConfiguration(number: 0), state: WorkerState(policy: policy, learning: learning))
    }

    /// One batch: `count` bytes of NFQNL_MSG_PACKET messages, as one receive would bring.
    public func handle(_ messages: UnsafeRawBufferPointer, count: Int) {
        let (policy, needsNames, classes) = worker.beginBatch()
        worker.handle(messages, count: count, policy: policy, needsNames: needsNames, classes: classes)
        worker.endBatch()
    }
}

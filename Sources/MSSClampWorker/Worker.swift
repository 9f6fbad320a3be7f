import Glibc
import MSSClampCore
import MSSClampLearning
import MSSClampNFQueue
import Synchronization

/// The queues and their threads. Order matters for losing nothing: bind before the rules
/// feed the queues; stop only after the rules are gone, and let each thread drain its queue
/// before unbinding (the kernel drops what is still queued when a queue goes away).
///
/// `@unchecked Sendable` for one reason the compiler cannot see: each `QueueSocket` is
/// read by its queue thread and unbound by `stop()` only after that thread finished (or its
/// drain timed out, when the process is about to exit). Everything else here is `let`,
/// `Atomic` or `WorkerState`, which is `Sendable` checked.
public final class Worker: @unchecked Sendable {
    public let state: WorkerState
    private let sockets: [QueueSocket]
    /// Queue threads started and not yet finished.
    private let unfinished = Atomic<Int>(0)

    /// Binds every queue; throws (and binds none) if one cannot be had.
    /// `learning`: learn path MTUs from the ICMP the rules steer in (`--learn-pmtu`).
    public init(policy: Policy, queues: [QueueConfiguration], sampling: Bool = false, learning: PathMTULearner.Limits? = nil) throws(NetlinkError) {
        state = WorkerState(policy: policy, sampling: sampling, learning: learning)
        var sockets: [QueueSocket] = []
        for queue in queues {
            sockets.append(try QueueSocket(queue))
        }
        self.sockets = sockets
    }

    /// The queues this worker holds.
    public var queues: [UInt16] { sockets.map(\.configuration.number) }

    /// Starts one thread per queue. `pinFailed(queue, cpu)` is called (on that thread) when
    /// a queue's thread could not be pinned to its CPU; it runs unpinned then. Returns the
    /// queues whose thread could not be made at all (bound, so the kernel holds their SYNs
    /// until they are unbound: the caller must stop).
    @discardableResult
    public func start(pinFailed: @escaping @Sendable (UInt16, Int) -> Void = { _, _ in }) -> [UInt16] {
        var unread: [UInt16] = []
        for socket in sockets {
            let worker = QueueWorker(socket: socket, configuration: socket.configuration, state: state)
            let configuration = socket.configuration
            unfinished.add(1, ordering: .sequentiallyConsistent)
            let started = QueueThread.start(name: "mssclamp-q\(configuration.number)", cpu: configuration.cpu) { [self] pinned in
                if pinned == false, let cpu = configuration.cpu { pinFailed(configuration.number, cpu) }
                worker.run()
                unfinished.subtract(1, ordering: .sequentiallyConsistent)
            }
            if !started {
                unfinished.subtract(1, ordering: .sequentiallyConsistent)
                unread.append(configuration.number)
            }
        }
        return unread
    }

    /// Asks the threads to finish once their queues are quiet, waits (bounded), unbinds.
    public func stop(timeout: Double = 10) -> Bool {
        state.requestStop()
        // Polled: stopping is rare and a 5 ms step costs nothing next to a drain.
        var drained = false
        for _ in 0..<max(1, Int(timeout * 200)) {
            drained = unfinished.load(ordering: .sequentiallyConsistent) == 0
            if drained { break }
            usleep(5_000)
        }
        for socket in sockets { try? socket.unbind() }
        return drained
    }
}

import Foundation
import MSSClampCore
import MSSClampLearning
import MSSClampNFQueue

/// The queues and their threads. Order matters for losing nothing: bind before the rules
/// feed the queues; stop only after the rules are gone, and let each thread drain its queue
/// before unbinding (the kernel drops what is still queued when a queue goes away).
public final class Worker: @unchecked Sendable {
    public let state: WorkerState
    private let sockets: [QueueSocket]
    private let finished = DispatchGroup()

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

    public func start() {
        for socket in sockets {
            let worker = QueueWorker(socket: socket, state: state)
            finished.enter()
            let thread = Thread { [finished] in
                worker.run()
                finished.leave()
            }
            thread.name = "mssclamp-queue-\(socket.configuration.number)"
            thread.start()
        }
    }

    /// Asks the threads to finish once their queues are quiet, waits (bounded), unbinds.
    public func stop(timeout: Double = 10) -> Bool {
        state.requestStop()
        let drained = finished.wait(timeout: .now() + timeout) == .success
        for socket in sockets { try? socket.unbind() }
        return drained
    }
}

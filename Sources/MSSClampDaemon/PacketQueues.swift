import MSSClampWorker

/// The queues the daemon runs: bound at creation, read once started, drained and unbound
/// at stop. `Worker` is the real thing; the daemon's tests put a fake behind the same
/// interface to check the start and stop order without root or a kernel queue.
public protocol PacketQueues: AnyObject, Sendable {
    /// What the queue threads share: the policy in force and their counts.
    var state: WorkerState { get }
    /// The queue numbers held.
    var queues: [UInt16] { get }
    /// Starts reading; returns the queues whose thread could not be made.
    func start(pinFailed: @escaping @Sendable (UInt16, Int) -> Void) -> [UInt16]
    /// Drains (bounded by `timeout` seconds) and unbinds; false when a thread did not finish.
    func stop(timeout: Double) -> Bool
}

extension Worker: PacketQueues {}

import MSSClampCore

/// Where and how the kernel hands candidate SYNs to the worker.
public struct SteeringOptions: Sendable, Equatable {
    /// Queues the worker reads; more than one is spread with `--queue-balance`.
    public var queues: ClosedRange<UInt16>
    /// The chain of our own in the mangle table: install and remove touch nothing else.
    public var chain = "MSSCLAMP"
    /// `--queue-bypass`: with no worker bound, packets pass unclamped instead of being dropped.
    public var bypass = true

    public init(queues: ClosedRange<UInt16> = 0...0) {
        self.queues = queues
    }

    /// The comment every rule carries, so a person reading `iptables -S` knows whose it is.
    public static let comment = "mssclamp"
}

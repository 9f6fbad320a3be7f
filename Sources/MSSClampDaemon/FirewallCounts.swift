/// What the daemon reads from the firewall rather than from the queue: SYNs the kernel let
/// past the queue (its bypass counters and safety net count them; the worker is never told),
/// and the daemon's own watch over its rules. Written by the control loop, read by whoever
/// renders a snapshot (the metrics server's threads): kept in a lock.
public struct FirewallCounts: Sendable, Equatable {
    /// Passed unclamped while this worker was bound: the queue full or our socket overrun,
    /// and the kernel failed open.
    public var failOpen: UInt64 = 0
    /// Passed unclamped by `--queue-bypass` while no worker was bound (counted before this
    /// worker started, from the rules a previous run left).
    public var whileUnbound: UInt64 = 0
    /// Of those, clamped after all by the kernel's safety net.
    public var safetyNetClamped: UInt64 = 0
    /// Times the rules were put back.
    public var repairs: UInt64 = 0
    /// Whether the last reading found the rules whole; nil until read, or when not ours.
    public var rulesInForce: Bool?

    public init() {}
}

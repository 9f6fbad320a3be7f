import MSSClampCore

/// Where and how the kernel hands candidate SYNs to the worker.
public struct SteeringOptions: Sendable, Equatable {
    /// Queues the worker reads; more than one is spread with `--queue-balance`.
    public var queues: ClosedRange<UInt16>
    /// The chain of our own in the mangle table: install and remove touch nothing else.
    public var chain = "MSSCLAMP"
    /// The safety net's chain, in mangle POSTROUTING.
    public var safetyNetChain = "MSSCLAMP_NET"
    /// Counters in mangle POSTROUTING for SYNs that passed the queue unclamped.
    public var bypassChain = "MSSCLAMP_BYPASS"
    /// The builtin chains that jump to ours.
    public var hooks: [Hook] = [.forward]
    /// `--queue-bypass`: with no worker bound, packets pass unclamped instead of being dropped.
    public var bypass = true
    /// Also install kernel TCPMSS rules in mangle POSTROUTING that clamp the SYNs the worker
    /// never saw (daemon down, queue full and failing open).
    public var safetyNet = false

    /// Whether the bypass counters can work: a SYN that bypasses a queue in POSTROUTING
    /// itself resumes past every mangle POSTROUTING rule, counters included.
    public var countsBypass: Bool { !hooks.contains(.postrouting) }

    public init(queues: ClosedRange<UInt16> = 0...0, hooks: [Hook] = [.forward], safetyNet: Bool = false) {
        self.queues = queues
        self.hooks = hooks
        self.safetyNet = safetyNet
    }

    /// The comment every rule carries, so a person reading `iptables -S` knows whose it is.
    public static let comment = "mssclamp"
    public static let nftTable = "mssclamp"
}

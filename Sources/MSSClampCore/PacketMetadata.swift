/// What the core knows about a packet besides its bytes. The worker fills it from netfilter
/// attributes; dry-run from the command line (captures carry no interface names).
public struct PacketMetadata: Sendable {
    /// Name of the interface the packet came in on; nil when unknown.
    public var inInterface: String?
    /// Name of the interface the packet leaves by; nil when unknown.
    public var outInterface: String?
    /// Whether the packet came out of IPsec and goes into it. The worker learns it from the
    /// queue the kernel rule chose (the rule carries `-m policy`); captures do not show it.
    public var ipsec: IPsecState

    public init(inInterface: String? = nil, outInterface: String? = nil, ipsec: IPsecState = IPsecState()) {
        self.inInterface = inInterface
        self.outInterface = outInterface
        self.ipsec = ipsec
    }
}

/// A packet's IPsec policy as xt_policy would judge it, each side nil when unknown.
public struct IPsecState: Hashable, Sendable {
    /// Decapsulated from an IPsec SA (`--dir in --pol ipsec`).
    public var inbound: Bool?
    /// Routed into an IPsec policy (`--dir out --pol ipsec`).
    public var outbound: Bool?

    public init(inbound: Bool? = nil, outbound: Bool? = nil) {
        self.inbound = inbound
        self.outbound = outbound
    }

    /// What a rule with `selector` needs to be true: dry-run's `--assume-ipsec`.
    public init(assuming selector: IPsecSelector) {
        switch selector {
        case .inbound: self.init(inbound: true, outbound: false)
        case .outbound: self.init(inbound: false, outbound: true)
        case .plain: self.init(inbound: false, outbound: false)
        }
    }
}

/// Supplies the MTU for `--clamp-mss-to-pmtu`: the smaller of the MTU of the route towards
/// `destination` and of the route back to `source`, as xt_TCPMSS computes it. The core asks
/// only when a matching rule needs it, so lookups cost nothing for other packets.
public protocol PathMTUSource {
    func pathMTU(family: IPFamily, source: IPAddress, destination: IPAddress) -> Int?
    /// The MTU of the interface `name` now; nil when it does not exist or is down
    /// (`clamp-to-interface` rules then report `interface-mtu-unknown`).
    func interfaceMTU(_ name: String) -> Int?
}

extension PathMTUSource {
    public func interfaceMTU(_ name: String) -> Int? { nil }
}

/// No route information: `--clamp-mss-to-pmtu` rules report `path-mtu-unknown`.
public struct NoPathMTU: PathMTUSource, Sendable {
    public init() {}
    public func pathMTU(family: IPFamily, source: IPAddress, destination: IPAddress) -> Int? { nil }
}

/// One MTU for every path and every interface, or none: dry-run's `--assume-pmtu`, and the
/// tests'.
public struct AssumedPathMTU: PathMTUSource, Sendable {
    public let mtu: Int?
    public init(_ mtu: Int?) { self.mtu = mtu }
    public func pathMTU(family: IPFamily, source: IPAddress, destination: IPAddress) -> Int? { mtu }
    public func interfaceMTU(_ name: String) -> Int? { mtu }
}

/// A ceiling on the MSS of SYNs from one host, learned rather than configured: `run
/// --learn-pmtu` learns path MTUs from ICMP (MSSClampLearning); dry-run and watch can assume
/// or learn them too. `Policy.apply` asks once for every readable SYN or SYN-ACK, MSS option
/// or not (so a learner can note the flow and later believe ICMP quoting it), after the
/// policy's rules; the answer only ever lowers.
public protocol MSSCeilingSource {
    /// The highest MSS SYNs like `flow` may carry now, or nil for no ceiling.
    func ceiling(for flow: FlowInfo) -> UInt16?
    /// True only for `NoCeiling`: `apply` then skips the second look at the packet.
    static var asksNothing: Bool { get }
}

extension MSSCeilingSource {
    public static var asksNothing: Bool { false }
}

/// No learned ceilings (no `--learn-pmtu`).
public struct NoCeiling: MSSCeilingSource, Sendable {
    public init() {}
    public func ceiling(for flow: FlowInfo) -> UInt16? { nil }
    public static var asksNothing: Bool { true }
}

/// How the TCP checksum is brought up to date after a change.
public enum ChecksumMode: Sendable {
    /// RFC 1624 update of the existing checksum: cheap, and keeps an already-wrong checksum
    /// wrong (the kernel's behaviour, which receivers rely on to drop corrupt segments).
    case incremental
    /// Recompute from scratch: needed when the field is not final (NFQA_SKB_CSUMNOTREADY).
    case recompute
}

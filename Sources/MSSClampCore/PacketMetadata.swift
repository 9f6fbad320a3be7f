/// What the core knows about a packet besides its bytes. The worker fills it from netfilter
/// attributes; dry-run from the command line (captures carry no interface names).
public struct PacketMetadata: Sendable {
    /// Name of the interface the packet came in on; nil when unknown.
    public var inInterface: String?
    /// Name of the interface the packet leaves by; nil when unknown.
    public var outInterface: String?

    public init(inInterface: String? = nil, outInterface: String? = nil) {
        self.inInterface = inInterface
        self.outInterface = outInterface
    }
}

/// Supplies the MTU for `--clamp-mss-to-pmtu`: the smaller of the MTU of the route towards
/// `destination` and of the route back to `source`, as xt_TCPMSS computes it. The core asks
/// only when a matching rule needs it, so lookups cost nothing for other packets.
public protocol PathMTUSource {
    func pathMTU(family: IPFamily, source: IPAddress, destination: IPAddress) -> Int?
}

/// No route information: `--clamp-mss-to-pmtu` rules report `path-mtu-unknown`.
public struct NoPathMTU: PathMTUSource, Sendable {
    public init() {}
    public func pathMTU(family: IPFamily, source: IPAddress, destination: IPAddress) -> Int? { nil }
}

/// One MTU for every path (dry-run's `--assume-pmtu`).
public struct FixedPathMTU: PathMTUSource, Sendable {
    public let mtu: Int
    public init(_ mtu: Int) { self.mtu = mtu }
    public func pathMTU(family: IPFamily, source: IPAddress, destination: IPAddress) -> Int? { mtu }
}

/// How the TCP checksum is brought up to date after a change.
public enum ChecksumMode: Sendable {
    /// RFC 1624 update of the existing checksum: cheap, and keeps an already-wrong checksum
    /// wrong (the kernel's behaviour, which receivers rely on to drop corrupt segments).
    case incremental
    /// Recompute from scratch: needed when the field is not final (NFQA_SKB_CSUMNOTREADY).
    case recompute
}

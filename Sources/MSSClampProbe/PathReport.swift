import MSSClampCore

/// What became of one transmission.
public enum Observation: Sendable, Equatable {
    case reached(from: IPAddress)
    /// Frag-needed / packet-too-big; `hop` from the TTL the router quoted.
    case tooBig(from: IPAddress, mtu: Int?, hop: Int?)
    case timeExceeded(from: IPAddress)
    case unreachable(from: IPAddress, code: UInt8)
    case silent
}

/// One probe (a size at a TTL) and what became of it after up to `tries` transmissions.
public struct ProbeRecord: Sendable, Equatable {
    public var size: Int
    public var ttl: Int
    public var method: ProbeMethod
    public var transmissions: Int
    public var observation: Observation
    public var roundTrip: Duration?

    public init(size: Int, ttl: Int, method: ProbeMethod, transmissions: Int, observation: Observation, roundTrip: Duration?) {
        self.size = size
        self.ttl = ttl
        self.method = method
        self.transmissions = transmissions
        self.observation = observation
        self.roundTrip = roundTrip
    }
}

/// The outcome of probing one destination.
public struct PathReport: Sendable, Equatable {
    public var target: ProbeTarget
    public var method: ProbeMethod
    public var port: UInt16?
    /// The largest size this host could send (the interface MTU, or --max).
    public var ceiling: Int
    /// True when `--max` set the ceiling below what the interface sends: a path that
    /// carries the ceiling may carry more, so its MTU is "at least", never "found".
    public var capped = false
    public var records: [ProbeRecord] = []
    public var largestReached: Int?
    public var smallestFailed: Int?
    /// Set when the search ended: every size up to it arrives, the next does not.
    public var pathMTU: Int?
    /// The router whose frag-needed / packet-too-big named the path MTU.
    public var announcedBy: Hop?
    /// Sizes that vanished without any ICMP.
    public var silentSizes: [Int] = []
    /// Where the TTL-limited walk placed the black hole, when there was one.
    public var silentHop: SilentHopWalk.Conclusion?
    /// Why the run ended early (a bound reached), if it did.
    public var stopped: String?

    public init(target: ProbeTarget, method: ProbeMethod, port: UInt16?, ceiling: Int) {
        self.target = target
        self.method = method
        self.port = port
        self.ceiling = ceiling
    }

    public var family: IPFamily { target.family }

    /// The MSS that fills a packet of the path MTU: what SYNs toward this destination
    /// should be clamped to. Nil when --max stopped the search below the path's own MTU.
    public var mss: Int? { reachedCap ? nil : pathMTU.map(family.mss(forMTU:)) }

    /// Every size up to a --max arrived: the path's MTU is that or more.
    public var reachedCap: Bool { capped && pathMTU == ceiling }

    /// A black hole: sizes vanished and no router named the MTU.
    public var isBlackHole: Bool { pathMTU != nil && !silentSizes.isEmpty && announcedBy == nil }

    public var transmissions: Int { records.reduce(0) { $0 + $1.transmissions } }
}

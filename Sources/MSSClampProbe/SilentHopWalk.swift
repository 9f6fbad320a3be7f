import MSSClampCore

/// A router on the path, as a TTL-limited probe found it.
public struct Hop: Sendable, Equatable {
    /// 1 for the first router.
    public var number: Int
    public var address: IPAddress

    public init(number: Int, address: IPAddress) {
        self.number = number
        self.address = address
    }
}

/// Locating the hop that swallows packets of a size without saying so, as scamper's PMTUD
/// does: probes of the failing size with TTL 1, 2, 3, ... The routers they expire at answer
/// "time exceeded" (Linux checks the TTL before the MTU, so a router answers even for a
/// packet too big for its next link). The first TTL whose large probe gets no answer, while
/// a small probe with the same TTL does, marks the link the large ones cannot cross: the
/// hop before it received them and neither forwarded them nor got a frag-needed back to us.
public struct SilentHopWalk: Sendable, Equatable {
    public enum Probe: Sendable, Equatable {
        /// The failing size, or the smallest one (to tell a hop that drops large packets
        /// from one that answers nothing).
        case large, small
    }

    public enum Answer: Sendable, Equatable {
        case timeExceeded(from: IPAddress)
        /// The destination answered (echo reply, SYN-ACK, RST).
        case reached(from: IPAddress)
        /// `hop` from the TTL the router quoted (nil: unknown, taken as this TTL's).
        case tooBig(from: IPAddress, mtu: Int?, hop: Int?)
        case silent
    }

    public enum Conclusion: Sendable, Equatable {
        /// Large probes reach `lastReceived` (nil: not even the first hop, so the link
        /// leaving this host) and never `firstMissing`. `unanswering` are hops in between
        /// that answer nothing at all.
        case located(lastReceived: Hop?, firstMissing: Hop, isDestination: Bool, unanswering: [Int])
        /// With a TTL limit, a router did announce an MTU (its rate limit or a filter may
        /// have hidden it before).
        case announced(hop: Hop, mtu: Int?)
        case unlocated(String)
    }

    public let maxHops: Int
    /// Consecutive hops that answer nothing before the walk gives up.
    public let maxUnanswering: Int
    public private(set) var ttl = 1
    public private(set) var probe: Probe = .large
    public private(set) var conclusion: Conclusion?
    private var lastReceived: Hop?
    private var unanswering: [Int] = []

    public init(maxHops: Int, maxUnanswering: Int = 3) {
        self.maxHops = maxHops
        self.maxUnanswering = maxUnanswering
    }

    /// The next probe (its kind and TTL); nil once concluded.
    public var next: (probe: Probe, ttl: Int)? { conclusion == nil ? (probe, ttl) : nil }

    public mutating func record(_ answer: Answer) {
        guard conclusion == nil else { return }
        switch (probe, answer) {
        case (.large, .timeExceeded(let from)):
            lastReceived = Hop(number: ttl, address: from)
            unanswering = []
            advance()
        case (.large, .reached):
            conclusion = .unlocated("a probe of the failing size arrived this time: the path changed, or the loss is not about size")
        case (_, .tooBig(let from, let mtu, let hop)):
            conclusion = .announced(hop: Hop(number: hop ?? ttl, address: from), mtu: mtu)
        case (.large, .silent):
            probe = .small
        case (.small, .timeExceeded(let from)):
            conclude(firstMissing: Hop(number: ttl, address: from), isDestination: false)
        case (.small, .reached(let from)):
            conclude(firstMissing: Hop(number: ttl, address: from), isDestination: true)
        case (.small, .silent):
            unanswering.append(ttl)
            if unanswering.count >= maxUnanswering {
                conclusion = .unlocated("hops \(unanswering.map(String.init).joined(separator: ", ")) answer no probe at all")
            } else {
                probe = .large
                advance()
            }
        }
    }

    private mutating func advance() {
        ttl += 1
        if ttl > maxHops { conclusion = .unlocated("every hop up to \(maxHops) received the failing size") }
    }

    private mutating func conclude(firstMissing: Hop, isDestination: Bool) {
        let after = lastReceived?.number ?? 0
        conclusion = .located(
            lastReceived: lastReceived, firstMissing: firstMissing, isDestination: isDestination,
            unanswering: unanswering.filter { $0 > after })
    }
}

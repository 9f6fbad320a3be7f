import MSSClampCore

/// What `run --learn-pmtu` will learn from ICMP frag-needed / packet-too-big: the path MTU
/// towards a host, from a router further along that path.
///
/// Hostile ICMP must not shrink traffic at will, so a signal is believed only when it quotes
/// a TCP flow whose SYN this router forwarded recently, announces at least the protocol's
/// floor (576 for IPv4, 1280 for IPv6) and arrives within a rate limit; the table is
/// bounded (the soonest to expire goes first) and every entry expires. Pure: time is passed
/// in, so it is tested without waiting. The worker holds one behind a lock, shared by its
/// queue threads; every operation a queued packet causes is O(1) (eviction of flows is
/// first-in first-out through a ring), so a SYN flood cannot make it slow.
public struct PathMTULearner: Sendable {
    public struct Limits: Sendable {
        public var maxEntries = 4096
        /// Like the kernel's PMTU cache (net.ipv4.route.mtu_expires): 10 minutes.
        public static let defaultLifetime: Double = 600
        public var lifetime = Self.defaultLifetime
        public var learnsPerSecond: Double = 20
        /// SYNs remembered, and for how long, to tie a signal to a forwarded flow.
        public var maxFlows = 16384
        public var flowLifetime: Double = 120
        public init() {}
    }

    public struct Entry: Sendable, Equatable {
        public var host: IPAddress
        public var mtu: Int
        public var expires: Double

        public init(host: IPAddress, mtu: Int, expires: Double) {
            self.host = host
            self.mtu = mtu
            self.expires = expires
        }

        /// The MSS a SYN from this host may announce.
        public var mss: UInt16 { UInt16(clamping: host.family.mss(forMTU: mtu)) }
    }

    /// The lowest path MTU believed: no real link is smaller (IPv4's minimum datagram every
    /// host must take, IPv6's minimum link MTU); a lower one is an attack on throughput.
    public static func floor(_ family: IPFamily) -> Int { family == .ipv4 ? 576 : 1280 }

    public enum Ignored: String, Sendable, CaseIterable {
        case belowFloor = "below-floor"
        case notTCP = "not-tcp"
        case unrelatedFlow = "unrelated-flow"
        case notLower = "not-lower"
        case rateLimited = "rate-limited"
    }

    public enum Verdict: Sendable, Equatable {
        case learned(Entry)
        case ignored(Ignored)
    }

    struct FlowKey: Hashable { var a: IPAddress, b: IPAddress, portA: UInt16, portB: UInt16 }

    public let limits: Limits
    public private(set) var entries: [IPAddress: Entry] = [:]
    public private(set) var ignored: [Ignored: Int] = [:]
    public private(set) var learnedCount = 0
    /// Signals looked at, and SYNs lowered by a learned entry (`noteClamp`).
    public private(set) var signals = 0
    public private(set) var clamps = 0
    /// Learned entries not yet logged (bounded; `drainLearned`).
    public private(set) var unlogged: [Entry] = []
    /// Flow → (expiry, its slot in `ring`). The ring holds keys in the order they were
    /// noted, so the oldest is evicted first without a search.
    private var flows: [FlowKey: (expires: Double, slot: Int)] = [:]
    private var ring: [FlowKey?]
    private var next = 0
    private var tokens: Double
    private var lastRefill: Double = 0

    public init(limits: Limits = Limits()) {
        self.limits = limits
        tokens = limits.learnsPerSecond
        ring = Array(repeating: nil, count: max(1, limits.maxFlows))
    }

    /// A SYN or SYN-ACK the router forwarded: later ICMP may quote this flow. When the
    /// table is full, the flow noted longest ago makes room.
    public mutating func forwarded(_ flow: FlowInfo, now: Double) {
        let key = FlowKey(a: flow.source, b: flow.destination, portA: flow.sourcePort, portB: flow.destinationPort)
        if let evicted = ring[next], flows[evicted]?.slot == next { flows[evicted] = nil }
        ring[next] = key
        flows[key] = (now + limits.flowLifetime, next)
        next = (next + 1) % ring.count
    }

    /// Flows remembered now (some may have expired and wait for their slot to come round).
    public var flowCount: Int { flows.count }

    /// Counts a SYN a learned entry lowered (the worker does the lowering).
    public mutating func noteClamp() { clamps += 1 }

    /// Takes the entries learned since the last call, for the log.
    public mutating func drainLearned() -> [Entry] {
        defer { unlogged.removeAll(keepingCapacity: true) }
        return unlogged
    }

    /// Believes or refuses one signal; learning keeps the lowest MTU seen for the host the
    /// quoted packet was going to.
    public mutating func observe(_ signal: PathMTUSignal, now: Double) -> Verdict {
        let verdict = judge(signal, now: now)
        signals += 1
        switch verdict {
        case .ignored(let reason): ignored[reason, default: 0] += 1
        case .learned(let entry):
            learnedCount += 1
            if unlogged.count < 100 { unlogged.append(entry) }
        }
        return verdict
    }

    private mutating func judge(_ signal: PathMTUSignal, now: Double) -> Verdict {
        let mtu = signal.mtu
        guard mtu >= PathMTULearner.floor(signal.family) else { return .ignored(.belowFloor) }
        guard let quoted = signal.quoted, quoted.protocolNumber == 6 else { return .ignored(.notTCP) }
        let host = quoted.destination
        // The quoted packet went from the far side to `host`; its SYN (or the SYN-ACK) passed here.
        let forward = FlowKey(a: quoted.source, b: quoted.destination, portA: quoted.sourcePort, portB: quoted.destinationPort)
        let reverse = FlowKey(a: quoted.destination, b: quoted.source, portA: quoted.destinationPort, portB: quoted.sourcePort)
        guard (flows[forward].map { $0.expires > now } ?? false) || (flows[reverse].map { $0.expires > now } ?? false) else {
            return .ignored(.unrelatedFlow)
        }
        if let current = entries[host], current.expires > now, current.mtu <= mtu { return .ignored(.notLower) }
        refill(now)
        guard tokens >= 1 else { return .ignored(.rateLimited) }
        tokens -= 1
        if entries[host] == nil && entries.count >= limits.maxEntries,
            let soonest = entries.min(by: { $0.value.expires < $1.value.expires })?.key
        {
            entries[soonest] = nil
        }
        let entry = Entry(host: host, mtu: mtu, expires: now + limits.lifetime)
        entries[host] = entry
        return .learned(entry)
    }

    private mutating func refill(_ now: Double) {
        tokens = min(limits.learnsPerSecond, tokens + (now - lastRefill) * limits.learnsPerSecond)
        lastRefill = now
    }

    /// The MSS a SYN from `host` may carry, if a live entry says less than the policy: the
    /// lower of what ICMP taught and what a stalled flow taught (`stallCeilings`).
    public func mss(from host: IPAddress, now: Double) -> UInt16? {
        lower(icmp: liveMSS(from: host, now: now), stall: stallCeilings.isEmpty ? nil : stallCeilings[host], host)
    }

    /// The same, for a SYN about to be judged: a stall ceiling that applies notes the time,
    /// so the stall learner can confirm its step once that flow goes without stalling. One
    /// lookup per table, allocation-free: the stall entry changes in place through its index
    /// (`make allocs`: the optional-chained subscript, `stallCeilings[host]?.clampedAt = now`,
    /// made 3 heap allocations per SYN).
    public mutating func ceiling(from host: IPAddress, now: Double) -> UInt16? {
        var stall: StallCeiling?
        if !stallCeilings.isEmpty, let index = stallCeilings.index(forKey: host) {
            stallCeilings.values[index].clampedAt = now
            stall = stallCeilings.values[index]
        }
        return lower(icmp: liveMSS(from: host, now: now), stall: stall, host)
    }

    private func liveMSS(from host: IPAddress, now: Double) -> UInt16? {
        guard let entry = entries[host], entry.expires > now else { return nil }
        return entry.mss
    }

    private func lower(icmp: UInt16?, stall: StallCeiling?, _ host: IPAddress) -> UInt16? {
        guard let stall else { return icmp }
        let fromStall = UInt16(clamping: host.family.mss(forMTU: stall.mtu))
        return min(icmp ?? fromStall, fromStall)
    }

    /// A path MTU learned from stalled flows, what `status` says of it, and the last SYN it
    /// applied to (the learner's clock).
    public struct StallCeiling: Sendable, Equatable {
        public var mtu: Int
        /// The smallest packet seen stalling toward the host.
        public var stalledAt: Int
        public var confirmed: Bool
        /// Wall-clock time of the next raise.
        public var raiseAt: Double
        public var clampedAt: Double?
        public init(mtu: Int, stalledAt: Int = 0, confirmed: Bool = false, raiseAt: Double = 0, clampedAt: Double? = nil) {
            self.mtu = mtu
            self.stalledAt = stalledAt
            self.confirmed = confirmed
            self.raiseAt = raiseAt
            self.clampedAt = clampedAt
        }
    }

    /// Flows the stall watch judged stalled, in all, and whether one watches (`--learn-stalls`).
    public var stalledFlows = 0
    /// Flows that looked stalled toward a client that acknowledged packets as large.
    public var starvedFlows = 0
    public var watchesStalls = false

    /// Host → the stall learner's path MTU (`--learn-stalls`), set whole by the daemon.
    public private(set) var stallCeilings: [IPAddress: StallCeiling] = [:]

    /// Takes the stall learner's table; the time a host's ceiling last applied is kept.
    public mutating func setStallCeilings(_ table: [IPAddress: StallCeiling]) {
        var next = table
        for (host, old) in stallCeilings where next[host] != nil { next[host]?.clampedAt = old.clampedAt }
        stallCeilings = next
    }

    /// The entries still in force, soonest to expire first (for status, metrics, the stats line).
    public func live(now: Double) -> [Entry] {
        entries.values.filter { $0.expires > now }.sorted { $0.expires < $1.expires }
    }

    /// Removes and returns the entries that have expired (for the log line); called about
    /// once a second, off the packet path. Expired flows just wait for their slot.
    public mutating func expire(now: Double) -> [Entry] {
        let gone = entries.values.filter { $0.expires <= now }
        for entry in gone { entries[entry.host] = nil }
        return gone.sorted { $0.expires < $1.expires }
    }
}

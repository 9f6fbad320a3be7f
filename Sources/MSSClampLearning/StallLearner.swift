import MSSClampCore

/// What the gateway learns from stalled flows: per client address, a path MTU to clamp
/// later SYNs from it to, found by stepping down a ladder the way RFC 8899 searches
/// (packetization-layer path MTU discovery), with no ICMP at all.
///
/// A stall at size S sets the first step below S. A stall of a flow already clamped to the
/// current step steps further down. A step is confirmed once a flow clamped by it has gone
/// the detection window without stalling. After `raiseAfter` seconds the next step up is
/// tried (RFC 8899's raise timer, 600 s); stalling there steps back down and doubles the
/// timer. The top step going back up removes the entry: the policy alone applies again.
/// Clamps only ever lower (the worker takes the smaller of policy and entry). Pure: time
/// is passed in; entries are bounded, the least recently changed goes first.
public struct StallLearner: Sendable {
    public struct Limits: Sendable, Equatable {
        public var maxEntries = 4096
        /// Seconds before a lower step is given up for the one above (RFC 8899: 600).
        public var raiseAfter: Double = 600
        /// The longest the raise timer grows to, doubling at each failed raise.
        public var longestRaise: Double = 4 * 3600
        /// Seconds a clamped flow must go without stalling to confirm its step.
        public var confirmAfter: Double = 30
        public init() {}
    }

    /// The MTUs tried, largest first: below 1500 Ethernet, the usual tunnels' 1420-1400,
    /// 1360 (IPsec, nested), 1280 (IPv6's minimum); IPv4 goes one step further.
    public static func ladder(_ family: IPFamily) -> [Int] { family == .ipv4 ? [1400, 1360, 1280, 1220] : [1400, 1360, 1280] }

    public struct Entry: Sendable, Equatable {
        public enum State: String, Sendable { case searching, confirmed }
        public var host: IPAddress
        /// The path MTU SYNs from `host` are clamped to (their MSS: `mss`).
        public var mtu: Int
        /// The smallest packet seen stalling toward it.
        public var stalledAt: Int
        public var state: State
        public var stalls: Int
        public var learned: Double
        public var changed: Double
        /// When the next step up is tried.
        public var raiseAt: Double
        public var raiseInterval: Double
        /// The last SYN clamped by this entry (confirmation waits for one).
        public var clampedAt: Double?
        /// The step was raised by the timer and has not stalled since.
        public var raised = false

        public var mss: UInt16 { UInt16(clamping: host.family.mss(forMTU: mtu)) }

        public init(
            host: IPAddress, mtu: Int, stalledAt: Int, state: State, stalls: Int, learned: Double, changed: Double, raiseAt: Double,
            raiseInterval: Double, clampedAt: Double? = nil, raised: Bool = false
        ) {
            self.host = host
            self.mtu = mtu
            self.stalledAt = stalledAt
            self.state = state
            self.stalls = stalls
            self.learned = learned
            self.changed = changed
            self.raiseAt = raiseAt
            self.raiseInterval = raiseInterval
            self.clampedAt = clampedAt
            self.raised = raised
        }
    }

    /// What an event changed, for the log and the metrics.
    public enum Change: Sendable, Equatable {
        case learned(Entry)
        case lowered(Entry, from: Int)
        case confirmed(Entry)
        case raised(Entry, from: Int)
        /// Back to the policy alone.
        case released(Entry)
        /// At the ladder's foot already: nothing lower to try.
        case atFloor(Entry)
    }

    public let limits: Limits
    public private(set) var entries: [IPAddress: Entry] = [:]

    public init(limits: Limits = Limits(), entries: [Entry] = []) {
        self.limits = limits
        for entry in entries.suffix(limits.maxEntries) { self.entries[entry.host] = entry }
    }

    /// A stalled flow toward `stall.client`. One that starved in a queue (its client
    /// acknowledged packets as large on another flow) teaches nothing.
    public mutating func stalled(_ stall: StallDetector.Stall, now: Double) -> Change? {
        guard stall.isBlackHole else { return nil }
        let host = stall.client
        let ladder = Self.ladder(host.family)
        guard var entry = entries[host] else {
            guard let step = ladder.first(where: { $0 < stall.size }) else { return nil }
            if entries.count >= limits.maxEntries, let oldest = entries.values.min(by: { $0.changed < $1.changed }) {
                entries[oldest.host] = nil
            }
            let entry = Entry(
                host: host, mtu: step, stalledAt: stall.size, state: .searching, stalls: 1, learned: now, changed: now,
                raiseAt: now + limits.raiseAfter, raiseInterval: limits.raiseAfter)
            entries[host] = entry
            return .learned(entry)
        }
        entry.stalls += 1
        entry.stalledAt = min(entry.stalledAt, stall.size)
        // A flow larger than the clamp was not clamped by it (its SYN came before, or the
        // policy does not queue it): it says nothing about this step.
        guard stall.size <= entry.mtu + Self.slack else {
            entries[host] = entry
            return nil
        }
        guard let lower = ladder.first(where: { $0 < entry.mtu }) else {
            entries[host] = entry
            return .atFloor(entry)
        }
        let from = entry.mtu
        let wasRaised = entry.raised
        entry.raised = false
        entry.mtu = lower
        entry.state = .searching
        entry.changed = now
        entry.clampedAt = nil
        // A raise that stalled: wait twice as long before the next.
        if wasRaised { entry.raiseInterval = min(limits.longestRaise, entry.raiseInterval * 2) }
        entry.raiseAt = now + entry.raiseInterval
        entries[host] = entry
        return .lowered(entry, from: from)
    }

    /// Packets a few bytes over the clamp's MTU still come from a flow it clamped (TCP
    /// options the MSS does not count, e.g. on the server's side).
    static let slack = 40

    /// A SYN from `host` clamped by its entry (the worker says so).
    public mutating func clamped(_ host: IPAddress, now: Double) {
        guard var entry = entries[host], entry.clampedAt == nil else { return }
        entry.clampedAt = now
        entries[host] = entry
    }

    /// Once a second or so: confirmations and raises that are due.
    public mutating func tick(now: Double) -> [Change] {
        var changes: [Change] = []
        for var entry in entries.values.sorted(by: { $0.changed < $1.changed }) {
            if entry.state == .searching, let clampedAt = entry.clampedAt, now - clampedAt >= limits.confirmAfter {
                entry.state = .confirmed
                entries[entry.host] = entry
                changes.append(.confirmed(entry))
            }
            guard now >= entry.raiseAt else { continue }
            let ladder = Self.ladder(entry.host.family)
            let from = entry.mtu
            guard let higher = ladder.last(where: { $0 > entry.mtu }) else {
                entries[entry.host] = nil
                changes.append(.released(entry))
                continue
            }
            entry.mtu = higher
            entry.raised = true
            entry.state = .searching
            entry.changed = now
            entry.clampedAt = nil
            entry.raiseAt = now + entry.raiseInterval
            entries[entry.host] = entry
            changes.append(.raised(entry, from: from))
        }
        return changes
    }

    /// Host → path MTU now (and what status says of it), for the worker's table.
    public var ceilings: [IPAddress: PathMTULearner.StallCeiling] {
        entries.mapValues {
            PathMTULearner.StallCeiling(mtu: $0.mtu, stalledAt: $0.stalledAt, confirmed: $0.state == .confirmed, raiseAt: $0.raiseAt)
        }
    }
}

import MSSClampCore

/// Notices a black hole that sends no ICMP at all, from what a gateway sees of the flows it
/// forwards: a large segment from the server sent again and again, with no newer data after
/// it. That is a sender whose retransmission timer fires while nothing it sends arrives;
/// random loss instead lets later data through, and the flow moves on.
///
/// Fed the first packets of flows the gateway saw open: the server's segments larger than
/// `baseSize`, and the client's packets (its acknowledgements), while the client has sent
/// only a handful. Pure: time is passed in. The tables are bounded, oldest first out, and
/// every entry expires.
///
/// Congestion can starve a new flow the same way (a tail-drop queue that other flows keep
/// full drops its first window and its retransmissions). What tells the two apart is the
/// client: an acknowledgement covering a large segment proves packets of that size reach it.
/// A stall toward a client that, on any flow, acknowledged packets as large within the last
/// `evidenceLifetime` seconds is said (`Stall.delivered`) but is no black hole.
public struct StallDetector: Sendable {
    public struct Limits: Sendable, Equatable {
        /// Segments no larger than this cross every path (IPv6's minimum MTU): never a sign.
        public var baseSize = 1280
        /// Transmissions of one segment (the first included), with nothing newer between
        /// them, that make a stall. Three: RFC 8899 counts lost probes, quinn lost bursts.
        public var copies = 3
        public var maxFlows = 16384
        /// A flow not heard of for this long is forgotten (a stall is judged within seconds).
        public var flowLifetime: Double = 120
        /// How long a client's acknowledgement of a large packet proves the path carries it.
        public var evidenceLifetime: Double = 30
        public init() {}
    }

    /// Packets of `size` bytes reached a client: it acknowledged one at `at`.
    public struct Delivery: Sendable, Equatable {
        public var size: Int
        public var at: Double
        public init(size: Int, at: Double) {
            self.size = size
            self.at = at
        }
    }

    /// A flow judged stalled.
    public struct Stall: Sendable, Equatable {
        public var family: IPFamily
        /// The host behind the black hole (the flow's client, the data's destination).
        public var client: IPAddress
        public var server: IPAddress
        public var clientPort: UInt16
        public var serverPort: UInt16
        /// The largest packet among the copies: a size the path does not carry.
        public var size: Int
        public var sequence: UInt32
        public var copies: Int
        /// When the flow's first large segment was seen, and when the stall was judged.
        public var firstSeen: Double
        public var detected: Double
        /// Set when the client acknowledged packets at least as large shortly before (on
        /// this flow or another): the path carries them, so this flow starved in a queue
        /// (congestion), not in a black hole. Nothing is to be learned from it.
        public var delivered: Delivery?
        public var isBlackHole: Bool { delivered == nil }
        /// Why a starved flow is no black hole, in the words every report uses.
        public var starvation: String? {
            delivered.map {
                "not a black hole: \(client.text) acknowledged \($0.size)-byte packets \(((detected - $0.at) * 10).rounded() / 10) s before (congestion starved this flow)"
            }
        }

        public init(
            family: IPFamily, client: IPAddress, server: IPAddress, clientPort: UInt16, serverPort: UInt16, size: Int, sequence: UInt32,
            copies: Int, firstSeen: Double, detected: Double, delivered: Delivery? = nil
        ) {
            self.family = family
            self.client = client
            self.server = server
            self.clientPort = clientPort
            self.serverPort = serverPort
            self.size = size
            self.sequence = sequence
            self.copies = copies
            self.firstSeen = firstSeen
            self.detected = detected
            self.delivered = delivered
        }
    }

    struct Key: Hashable {
        var client: IPAddress
        var server: IPAddress
        var clientPort: UInt16
        var serverPort: UInt16
    }

    struct Flow {
        /// The end of the newest data seen (sequence space).
        var highest: UInt32
        var firstSeen: Double
        var lastSeen: Double
        /// The segment being sent again, its transmissions seen, its largest packet.
        var repeated: UInt32?
        var copies = 0
        var size = 0
        var reported = false
        var slot: Int
        /// The largest packet the server sent, and where the first of that size ends: an
        /// acknowledgement reaching it proves such packets arrive.
        var largest = 0
        var largestEnd: UInt32 = 0
    }

    public let limits: Limits
    private var flows: [Key: Flow] = [:]
    /// Keys in the order their flows were first seen, so the oldest goes first.
    private var ring: [Key?]
    private var next = 0
    /// Per client, the largest packets it acknowledged lately (bounded like the flows).
    private var deliveries: [IPAddress: Delivery] = [:]
    /// Segments looked at, flows judged stalled (black holes), and flows that looked
    /// stalled toward a client that acknowledged packets as large (for the counters).
    public private(set) var segments = 0
    public private(set) var stalls = 0
    public private(set) var starved = 0

    public init(limits: Limits = Limits()) {
        self.limits = limits
        ring = Array(repeating: nil, count: max(1, limits.maxFlows))
    }

    /// Flows followed now.
    public var flowCount: Int { flows.count }

    /// One packet the watch copied: a server's large segment is judged (`observe`), anything
    /// else is the client's side of a flow, read for what it acknowledges.
    public mutating func see(_ segment: DataSegment, now: Double) -> Stall? {
        guard segment.packetLength > limits.baseSize, segment.payloadLength > 0 else {
            acknowledged(segment, now: now)
            return nil
        }
        return observe(segment, now: now)
    }

    /// One segment from a server to a client; a stall the first time the flow shows one.
    public mutating func observe(_ segment: DataSegment, now: Double) -> Stall? {
        guard segment.packetLength > limits.baseSize, segment.payloadLength > 0 else { return nil }
        segments += 1
        let key = Key(client: segment.destination, server: segment.source, clientPort: segment.destinationPort, serverPort: segment.sourcePort)
        let end = segment.sequence &+ UInt32(truncatingIfNeeded: segment.payloadLength)
        guard var flow = flows[key], flow.lastSeen + limits.flowLifetime > now else {
            remember(key, Flow(highest: end, firstSeen: now, lastSeen: now, copies: 0, slot: 0, largest: segment.packetLength, largestEnd: end))
            return nil
        }
        flow.lastSeen = now
        if segment.packetLength > flow.largest {
            flow.largest = segment.packetLength
            flow.largestEnd = end
        }
        if Self.after(end, flow.highest) {
            // Newer data: the sender is not stuck (it got acknowledgements to send it).
            flow.highest = end
            flow.repeated = nil
            flow.copies = 0
        } else if flow.repeated == segment.sequence {
            flow.copies += 1
            flow.size = max(flow.size, segment.packetLength)
        } else {
            // Sent before (its data lies below the newest): a retransmission, its first copy
            // having gone by already.
            flow.repeated = segment.sequence
            flow.copies = 2
            flow.size = segment.packetLength
        }
        var stall: Stall?
        if let sequence = flow.repeated, flow.copies >= limits.copies, !flow.reported {
            flow.reported = true
            let delivered = deliveries[key.client].flatMap { $0.size >= flow.size && now - $0.at <= limits.evidenceLifetime ? $0 : nil }
            if delivered == nil { stalls += 1 } else { starved += 1 }
            stall = Stall(
                family: segment.family, client: key.client, server: key.server, clientPort: key.clientPort, serverPort: key.serverPort,
                size: flow.size, sequence: sequence, copies: flow.copies, firstSeen: flow.firstSeen, detected: now, delivered: delivered)
        }
        flows[key] = flow
        return stall
    }

    /// A packet from the client (the steering rules copy its first handful): what it
    /// acknowledges arrived, so a segment being sent again is no longer stuck, and packets
    /// as large as the largest it covers reach this client.
    public mutating func acknowledged(_ segment: DataSegment, now: Double) {
        let key = Key(client: segment.source, server: segment.destination, clientPort: segment.sourcePort, serverPort: segment.destinationPort)
        guard var flow = flows[key], segment.flags & TCPFlags.ack != 0 else { return }
        if flow.largest > limits.baseSize, !Self.after(flow.largestEnd, segment.acknowledgement) {
            delivered(Delivery(size: flow.largest, at: now), to: key.client)
        }
        if let repeated = flow.repeated, Self.after(segment.acknowledgement, repeated) {
            flow.repeated = nil
            flow.copies = 0
            flows[key] = flow
        }
    }

    private mutating func delivered(_ delivery: Delivery, to client: IPAddress) {
        if let known = deliveries[client], known.size > delivery.size, delivery.at - known.at <= limits.evidenceLifetime { return }
        if deliveries[client] == nil, deliveries.count >= limits.maxFlows {
            deliveries = deliveries.filter { delivery.at - $0.value.at <= limits.evidenceLifetime }
            if deliveries.count >= limits.maxFlows { deliveries.removeAll(keepingCapacity: true) }
        }
        deliveries[client] = delivery
    }

    /// TCP's serial-number order (RFC 1982): `a` comes after `b`.
    static func after(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) > 0 }

    private mutating func remember(_ key: Key, _ flow: Flow) {
        var flow = flow
        if let existing = flows[key] {
            flow.slot = existing.slot
        } else {
            if let evicted = ring[next], flows[evicted]?.slot == next { flows[evicted] = nil }
            ring[next] = key
            flow.slot = next
            next = (next + 1) % ring.count
        }
        flows[key] = flow
    }
}

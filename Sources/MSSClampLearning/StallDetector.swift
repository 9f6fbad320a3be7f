import MSSClampCore

/// Notices a black hole that sends no ICMP at all, from what a gateway sees of the flows it
/// forwards: a large segment from the server sent again and again, with no newer data after
/// it. That is a sender whose retransmission timer fires while nothing it sends arrives;
/// random loss instead lets later data through, and the flow moves on.
///
/// Fed the reply direction of flows the gateway saw open (the server's segments to the
/// client): the steering rules copy only segments larger than `baseSize`, and only while the
/// client has sent a handful of packets (no acknowledgements coming back). Pure: time is
/// passed in. The table of flows is bounded, oldest first out, and every flow expires.
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
        public init() {}
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

        public init(
            family: IPFamily, client: IPAddress, server: IPAddress, clientPort: UInt16, serverPort: UInt16, size: Int, sequence: UInt32,
            copies: Int, firstSeen: Double, detected: Double
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
    }

    public let limits: Limits
    private var flows: [Key: Flow] = [:]
    /// Keys in the order their flows were first seen, so the oldest goes first.
    private var ring: [Key?]
    private var next = 0
    /// Segments looked at, and flows judged stalled (for the counters).
    public private(set) var segments = 0
    public private(set) var stalls = 0

    public init(limits: Limits = Limits()) {
        self.limits = limits
        ring = Array(repeating: nil, count: max(1, limits.maxFlows))
    }

    /// Flows followed now.
    public var flowCount: Int { flows.count }

    /// One segment from a server to a client; a stall the first time the flow shows one.
    public mutating func observe(_ segment: DataSegment, now: Double) -> Stall? {
        guard segment.packetLength > limits.baseSize, segment.payloadLength > 0 else { return nil }
        segments += 1
        let key = Key(client: segment.destination, server: segment.source, clientPort: segment.destinationPort, serverPort: segment.sourcePort)
        let end = segment.sequence &+ UInt32(truncatingIfNeeded: segment.payloadLength)
        guard var flow = flows[key], flow.lastSeen + limits.flowLifetime > now else {
            remember(key, Flow(highest: end, firstSeen: now, lastSeen: now, copies: 0, slot: 0))
            return nil
        }
        flow.lastSeen = now
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
            stalls += 1
            stall = Stall(
                family: segment.family, client: key.client, server: key.server, clientPort: key.clientPort, serverPort: key.serverPort,
                size: flow.size, sequence: sequence, copies: flow.copies, firstSeen: flow.firstSeen, detected: now)
        }
        flows[key] = flow
        return stall
    }

    /// An acknowledgement from the client (a capture shows them; the steering rules stop
    /// copying once the client sends more than a handful): what it acknowledges arrived.
    public mutating func acknowledged(_ segment: DataSegment) {
        let key = Key(client: segment.source, server: segment.destination, clientPort: segment.sourcePort, serverPort: segment.destinationPort)
        guard var flow = flows[key], segment.flags & TCPFlags.ack != 0, let repeated = flow.repeated else { return }
        if Self.after(segment.acknowledgement, repeated) {
            flow.repeated = nil
            flow.copies = 0
            flows[key] = flow
        }
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

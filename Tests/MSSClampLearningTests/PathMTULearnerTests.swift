import MSSClampCore
import MSSClampLearning
import Testing

/// The learner's rules, with time passed in: believed only for forwarded TCP flows, above
/// the floor, rate-limited, bounded, expiring.
@Suite struct PathMTULearnerTests {
    static let client = IPAddress.v4(0xc000_0201)   // 192.0.2.1
    static let server = IPAddress.v4(0xc633_6401)   // 198.51.100.1
    static let syn = FlowInfo(family: .ipv4, source: client, destination: server, sourcePort: 40000, destinationPort: 443, flags: TCPFlags.syn, mss: 1460)
    static let hop = IPAddress.v4(0xc633_64fe)      // 198.51.100.254
    /// What a hop quotes: the server's large segment towards the client.
    static let quote = PathMTUSignal.QuotedFlow(source: server, destination: client, protocolNumber: 6, sourcePort: 443, destinationPort: 40000)

    static func signal(_ mtu: Int, _ quoted: PathMTUSignal.QuotedFlow? = quote, family: IPFamily = .ipv4) -> PathMTUSignal {
        PathMTUSignal(family: family, from: hop, to: server, mtu: mtu, quoted: quoted)
    }

    @Test func learnsFromAForwardedFlowAndExpires() {
        var learner = PathMTULearner()
        learner.forwarded(Self.syn, now: 0)
        #expect(learner.observe(Self.signal(1400), now: 1) == .learned(.init(host: Self.client, mtu: 1400, expires: 601)))
        #expect(learner.mss(from: Self.client, now: 2) == 1360)
        #expect(learner.observe(Self.signal(1450), now: 3) == .ignored(.notLower))
        #expect(learner.expire(now: 600).isEmpty)
        #expect(learner.expire(now: 601).map(\.host) == [Self.client])
        #expect(learner.mss(from: Self.client, now: 602) == nil)
    }

    @Test func hostileSignalsAreRefusedAndCounted() {
        var learner = PathMTULearner()
        learner.forwarded(Self.syn, now: 0)
        #expect(learner.observe(Self.signal(300), now: 1) == .ignored(.belowFloor))
        #expect(learner.observe(Self.signal(1400, nil), now: 1) == .ignored(.notTCP))
        var other = Self.quote
        other.destinationPort = 40001
        #expect(learner.observe(Self.signal(1400, other), now: 1) == .ignored(.unrelatedFlow))
        // A flow forgotten after its lifetime no longer counts.
        #expect(learner.observe(Self.signal(1400), now: 500) == .ignored(.unrelatedFlow))
        #expect(learner.ignored[.belowFloor] == 1 && learner.ignored[.unrelatedFlow] == 2 && learner.learnedCount == 0)
        #expect(learner.observe(Self.signal(1279, nil, family: .ipv6), now: 1) == .ignored(.belowFloor))
    }

    @Test func aFloodIsRateLimitedAndTheTableBounded() {
        var limits = PathMTULearner.Limits()
        limits.maxEntries = 8
        limits.learnsPerSecond = 5
        var learner = PathMTULearner(limits: limits)
        var learned = 0, limited = 0
        for index in 0..<100 {
            let host = IPAddress.v4(0xc000_0200 + UInt32(index))
            learner.forwarded(FlowInfo(family: .ipv4, source: host, destination: Self.server, sourcePort: 40000, destinationPort: 443, flags: TCPFlags.syn, mss: 1460), now: 0)
            let quote = PathMTUSignal.QuotedFlow(source: Self.server, destination: host, protocolNumber: 6, sourcePort: 443, destinationPort: 40000)
            switch learner.observe(Self.signal(1400, quote), now: Double(index) * 0.05) {
            case .learned: learned += 1
            case .ignored(.rateLimited): limited += 1
            default: break
            }
        }
        // 5 s at 5 a second plus the initial burst of 5.
        #expect(learned <= 30 && learned >= 25 && limited == 100 - learned)
        #expect(learner.entries.count == 8)
    }
}

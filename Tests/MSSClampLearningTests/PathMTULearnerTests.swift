import MSSClampCore
import MSSClampLearning
import Testing

/// The learner's rules, with time passed in: believed only for forwarded TCP flows, above
/// the floor, rate-limited, bounded, expiring.
@Suite struct PathMTULearnerTests {
    static let client = IPAddress.v4(0xc000_0201)  // 192.0.2.1
    static let server = IPAddress.v4(0xc633_6401)  // 198.51.100.1
    static let syn = FlowInfo(
        family: .ipv4, source: client, destination: server, sourcePort: 40000, destinationPort: 443, flags: TCPFlags.syn, mss: 1460)
    static let hop = IPAddress.v4(0xc633_64fe)  // 198.51.100.254
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
        #expect(learner.live(now: 2).map(\.mss) == [1360] && learner.live(now: 601).isEmpty)
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
            learner.forwarded(
                FlowInfo(
                    family: .ipv4, source: host, destination: Self.server, sourcePort: 40000, destinationPort: 443, flags: TCPFlags.syn, mss: 1460),
                now: 0)
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

    @Test func theFlowTableForgetsTheOldestFirstAndStaysBounded() {
        var limits = PathMTULearner.Limits()
        limits.maxFlows = 4
        var learner = PathMTULearner(limits: limits)
        func flow(_ port: UInt16) -> FlowInfo {
            FlowInfo(
                family: .ipv4, source: Self.client, destination: Self.server, sourcePort: port, destinationPort: 443, flags: TCPFlags.syn, mss: 1460)
        }
        func quote(_ port: UInt16) -> PathMTUSignal.QuotedFlow {
            .init(source: Self.server, destination: Self.client, protocolNumber: 6, sourcePort: 443, destinationPort: port)
        }
        learner.forwarded(flow(1), now: 0)
        learner.forwarded(flow(2), now: 0)
        learner.forwarded(flow(1), now: 0)  // noted again: now the newest
        for port: UInt16 in 3...5 { learner.forwarded(flow(port), now: 0) }
        #expect(learner.flowCount == 4)
        // Flow 2 was the oldest; flow 1's older slot went but its newer one stands.
        #expect(learner.observe(Self.signal(1400, quote(2)), now: 1) == .ignored(.unrelatedFlow))
        #expect(learner.observe(Self.signal(1400, quote(1)), now: 1) == .learned(.init(host: Self.client, mtu: 1400, expires: 601)))
        // 100 000 SYNs later the table still holds 4.
        for index in 0..<100_000 { learner.forwarded(flow(UInt16(truncatingIfNeeded: index)), now: 2) }
        #expect(learner.flowCount == 4)
    }

    @Test func learnedEntriesAreHandedToTheLogOnceAndCounted() {
        var learner = PathMTULearner()
        learner.forwarded(Self.syn, now: 0)
        _ = learner.observe(Self.signal(300), now: 1)
        _ = learner.observe(Self.signal(1400), now: 1)
        #expect(learner.signals == 2)
        #expect(learner.drainLearned().map(\.mtu) == [1400])
        #expect(learner.drainLearned().isEmpty)
        learner.noteClamp()
        #expect(learner.clamps == 1)
    }

    @Test func signalsParseFromTheQueuesBytesAsFromArrays() {
        // ICMP frag-needed from 198.51.100.254 to 198.51.100.1, MTU 1400, quoting a TCP
        // segment 198.51.100.1:443 → 192.0.2.1:40000.
        var packet: [UInt8] = [0x45, 0, 0, 56, 0, 0, 0, 0, 64, 1, 0, 0, 198, 51, 100, 254, 198, 51, 100, 1]
        packet += [3, 4, 0, 0, 0, 0, 0x05, 0x78]
        packet += [0x45, 0, 5, 0xdc, 0, 0, 0x40, 0, 63, 6, 0, 0, 198, 51, 100, 1, 192, 0, 2, 1]
        packet += [0x01, 0xbb, 0x9c, 0x40, 0, 0, 0, 0]
        let signal = PathMTUSignal.parse(packet[...])
        #expect(signal == PathMTUSignal(family: .ipv4, from: Self.hop, to: Self.server, mtu: 1400, quoted: Self.quote))
        #expect(packet.withUnsafeBytes { PathMTUSignal.parse($0) } == signal)
        #expect(PathMTUSignal.parse(packet[..<27]) == nil)
    }
}

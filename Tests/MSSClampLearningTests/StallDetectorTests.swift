import MSSClampCore
import MSSClampLearning
import Testing

/// Stalls told from loss, segment by segment as a Linux sender sends them.
@Suite struct StallDetectorTests {
    static let client = IPAddress.v4(0xc000_0201)  // 192.0.2.1
    static let server = IPAddress.v4(0xc633_6401)  // 198.51.100.1
    static let mss = 1448

    /// Segment `n` (from 0) of the server's data: 1500-byte packets.
    static func segment(_ n: Int, port: UInt16 = 40000, base: UInt32 = 1000, size: Int = 1500) -> DataSegment {
        DataSegment(
            family: .ipv4, source: server, destination: client, sourcePort: 443, destinationPort: port,
            sequence: base &+ UInt32(n * mss), payloadLength: size - 52, packetLength: size)
    }

    @Test func aBlackHoleIsJudgedAtTheThirdCopyOfTheSameSegment() {
        var detector = StallDetector()
        // The initial window, all lost beyond the gateway.
        for n in 0..<10 { #expect(detector.observe(Self.segment(n), now: 0.01 * Double(n)) == nil) }
        // Tail loss probe: the last segment again. Then the retransmission timer: the first.
        #expect(detector.observe(Self.segment(9), now: 0.3) == nil)
        #expect(detector.observe(Self.segment(0), now: 0.5) == nil)
        let stall = detector.observe(Self.segment(0), now: 1.5)
        #expect(stall?.client == Self.client && stall?.server == Self.server)
        #expect(stall?.size == 1500 && stall?.copies == 3 && stall?.sequence == 1000)
        #expect(stall?.firstSeen == 0 && stall?.detected == 1.5)
        #expect(detector.observe(Self.segment(0), now: 3.5) == nil, "one stall per flow")
        #expect(detector.stalls == 1)
    }

    @Test func lossWithNewerDataBetweenIsNoStall() {
        var detector = StallDetector()
        for n in 0..<10 { _ = detector.observe(Self.segment(n), now: 0) }
        // Segment 3 lost once and again, but the sender keeps sending newer data between.
        for (round, n) in [3, 10, 3, 11, 3, 12, 13].enumerated() {
            #expect(detector.observe(Self.segment(n), now: Double(round)) == nil)
        }
    }

    @Test func anAcknowledgementPastTheSegmentClearsIt() {
        var detector = StallDetector()
        for n in 0..<4 { _ = detector.observe(Self.segment(n), now: 0) }
        _ = detector.observe(Self.segment(0), now: 1)
        var ack = DataSegment(
            family: .ipv4, source: Self.client, destination: Self.server, sourcePort: 40000, destinationPort: 443, sequence: 1,
            acknowledgement: 1000 + UInt32(Self.mss), payloadLength: 0, packetLength: 52)
        detector.acknowledged(ack, now: 1.5)
        #expect(detector.observe(Self.segment(0), now: 2) == nil, "the copies start again: 2 seen, not 3")
        ack.acknowledgement = 1000
        detector.acknowledged(ack, now: 2.5)
        #expect(detector.observe(Self.segment(0), now: 3) != nil)
    }

    /// The client's acknowledgement of `through` bytes of flow `port` (sequence base 1000).
    static func ack(port: UInt16 = 40000, through bytes: Int) -> DataSegment {
        DataSegment(
            family: .ipv4, source: client, destination: server, sourcePort: port, destinationPort: 443, sequence: 1,
            acknowledgement: 1000 &+ UInt32(bytes), payloadLength: 0, packetLength: 52)
    }

    /// Congestion's false alarm: a new flow whose first window and retransmissions all meet
    /// a full tail-drop queue, while another flow to the same client gets its 1500-byte
    /// packets through and acknowledged.
    @Test func aFlowStarvedBesideOneThatDeliversIsNoBlackHole() throws {
        var detector = StallDetector()
        for n in 0..<4 { #expect(detector.see(Self.segment(n, port: 40001), now: 0) == nil) }
        #expect(detector.see(Self.ack(port: 40001, through: 2 * Self.mss), now: 0.05) == nil)
        for n in 0..<10 { _ = detector.see(Self.segment(n), now: 0.1) }
        _ = detector.see(Self.segment(0), now: 0.4)
        let judged = detector.see(Self.segment(0), now: 0.9)
        let stall = try #require(judged)
        #expect(!stall.isBlackHole && stall.delivered == .init(size: 1500, at: 0.05))
        #expect(stall.starvation == "not a black hole: 192.0.2.1 acknowledged 1500-byte packets 0.9 s before (congestion starved this flow)")
        #expect(detector.stalls == 0 && detector.starved == 1)
        var learner = StallLearner()
        #expect(learner.stalled(stall, now: 1) == nil && learner.entries.isEmpty, "nothing learned from a starved flow")
    }

    /// What does not excuse a stall: smaller packets acknowledged (a flow clamped lower),
    /// an acknowledgement short of the large segment, or one older than the evidence lasts.
    @Test func onlyRecentDeliveryOfPacketsAsLargeExcusesAStall() throws {
        func stall(after prepare: (inout StallDetector) -> Void, at time: Double) throws -> StallDetector.Stall {
            var detector = StallDetector()
            prepare(&detector)
            for n in 0..<10 { _ = detector.see(Self.segment(n), now: time) }
            _ = detector.see(Self.segment(0), now: time + 0.3)
            let judged = detector.see(Self.segment(0), now: time + 0.8)
            return try #require(judged)
        }
        let smaller = try stall(
            after: { detector in
                _ = detector.see(Self.segment(0, port: 40001, size: 1400), now: 0)
                _ = detector.see(Self.ack(port: 40001, through: 1348), now: 0.05)
            }, at: 1)
        #expect(smaller.isBlackHole, "1400-byte packets arriving say nothing of 1500")
        let short = try stall(
            after: { detector in
                for n in 0..<2 { _ = detector.see(Self.segment(n, port: 40001), now: 0) }
                _ = detector.see(Self.ack(port: 40001, through: 0), now: 0.05)
            }, at: 1)
        #expect(short.isBlackHole, "an acknowledgement of nothing past the large segment")
        let old = try stall(
            after: { detector in
                _ = detector.see(Self.segment(0, port: 40001), now: 0)
                _ = detector.see(Self.ack(port: 40001, through: Self.mss), now: 0.05)
            }, at: 40)
        #expect(old.isBlackHole, "delivered 40 s before: past the evidence's 30 s")
    }

    @Test func smallSegmentsAndEmptyOnesAreNeverSigns() {
        var detector = StallDetector()
        for time in 0..<5 {
            #expect(detector.observe(Self.segment(0, size: 1280), now: Double(time)) == nil)
            var empty = Self.segment(1)
            empty.payloadLength = 0
            #expect(detector.observe(empty, now: Double(time)) == nil)
        }
        #expect(detector.segments == 0 && detector.flowCount == 0)
    }

    @Test func sequenceNumbersWrap() {
        var detector = StallDetector()
        let base = UInt32.max - 2000
        for n in 0..<3 { _ = detector.observe(Self.segment(n, base: base), now: 0) }
        _ = detector.observe(Self.segment(1, base: base), now: 1)
        #expect(detector.observe(Self.segment(1, base: base), now: 2)?.sequence == base &+ UInt32(Self.mss))
    }

    @Test func flowsAreBoundedAndExpire() {
        var limits = StallDetector.Limits()
        limits.maxFlows = 4
        limits.flowLifetime = 10
        var detector = StallDetector(limits: limits)
        for port in UInt16(1)...8 { _ = detector.observe(Self.segment(0, port: port), now: 0) }
        #expect(detector.flowCount == 4)
        // Port 8 is remembered; past its lifetime its retransmissions start a new flow.
        _ = detector.observe(Self.segment(1, port: 8), now: 1)
        _ = detector.observe(Self.segment(0, port: 8), now: 20)
        #expect(detector.observe(Self.segment(0, port: 8), now: 21) == nil, "forgotten, so two copies seen, not three")
    }

    @Test func readsIPv6SegmentsBehindExtensionHeaders() throws {
        // IPv6 + hop-by-hop (8 bytes) + TCP (20), payload length says 1440 bytes in all.
        var packet = [UInt8](repeating: 0, count: 68)
        packet[0] = 0x60
        packet[4] = 0x05
        packet[5] = 0xa0  // 1440
        packet[6] = 0  // hop-by-hop
        packet[7] = 64
        packet[8] = 0x20
        packet[8 + 15] = 1
        packet[24] = 0x20
        packet[24 + 15] = 2
        packet[40] = 6  // next: TCP
        let tcp = 48
        packet[tcp] = 0x01
        packet[tcp + 1] = 0xbb  // 443
        packet[tcp + 2] = 0x9c
        packet[tcp + 3] = 0x40  // 40000
        packet[tcp + 4] = 0x12
        packet[tcp + 5] = 0x34
        packet[tcp + 6] = 0x56
        packet[tcp + 7] = 0x78
        packet[tcp + 12] = 0x50
        packet[tcp + 13] = TCPFlags.ack
        let segment = try #require(packet.withUnsafeMutableBytes { DataSegment.inspect($0, length: $0.count) })
        #expect(segment.family == .ipv6 && segment.sourcePort == 443 && segment.destinationPort == 40000)
        #expect(segment.sequence == 0x1234_5678)
        #expect(segment.packetLength == 1480 && segment.payloadLength == 1480 - 48 - 20)
    }
}

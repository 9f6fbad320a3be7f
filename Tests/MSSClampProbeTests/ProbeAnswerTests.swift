import MSSClampCore
import MSSClampProbe
import Testing

/// Answers as routers and hosts send them, built byte by byte here.
@Suite struct ProbeAnswerTests {
    /// An IPv4 header as our probe left (quoted by routers): TTL, protocol, destination.
    static func ipv4(ttl: UInt8, protocolNumber: UInt8, destination: [UInt8]) -> [UInt8] {
        [0x45, 0, 0x05, 0xdc, 0, 0, 0x40, 0, ttl, protocolNumber, 0, 0, 198, 51, 100, 1] + destination
    }
    static let echoStart: [UInt8] = [8, 0, 0x12, 0x34, 0xab, 0xcd, 0x00, 0x07]
    static let synStart: [UInt8] = [0x9c, 0x41, 0x01, 0xbb, 0x9c, 0x41, 0x00, 0x07]

    static func parse(_ bytes: [UInt8], _ family: IPFamily, _ proto: UInt8) -> ProbeAnswer? {
        bytes.withUnsafeBytes { ProbeAnswer.parse($0, family: family, protocolNumber: proto) }
    }

    @Test func fragNeededQuotingAnEcho() {
        let message: [UInt8] = [3, 4, 0, 0, 0, 0, 0x05, 0x78] + Self.ipv4(ttl: 63, protocolNumber: 1, destination: [192, 0, 2, 1]) + Self.echoStart
        let quote = ProbeAnswer.Quote(destination: .v4(0xc000_0201), protocolNumber: 1, ttl: 63, identifier: 0xabcd, tag: 7, port: 0)
        #expect(Self.parse(message, .ipv4, 1) == .error(.tooBig(mtu: 1400), quote: quote))
        // An old router's frag-needed without the MTU.
        var old = message
        old[6] = 0
        old[7] = 0
        #expect(Self.parse(old, .ipv4, 1) == .error(.tooBig(mtu: nil), quote: quote))
        // Through a whole IPv4 packet, as the raw socket delivers it.
        let packet: [UInt8] = [0x45, 0, 0, 0, 0, 0, 0, 0, 62, 1, 0, 0, 203, 0, 113, 1, 198, 51, 100, 1] + message
        let transport = packet.withUnsafeBytes { raw in ProbeAnswer.transport(ofIPv4: raw).map { ($0.protocolNumber, $0.source, Array($0.payload)) } }
        #expect(transport?.0 == 1 && transport?.1 == .v4(0xcb00_7101) && transport?.2 == message)
    }

    @Test func timeExceededAndUnreachableQuotingASYN() {
        let quoted = Self.ipv4(ttl: 1, protocolNumber: 6, destination: [192, 0, 2, 1]) + Self.synStart
        let quote = ProbeAnswer.Quote(destination: .v4(0xc000_0201), protocolNumber: 6, ttl: 1, identifier: 40001, tag: 7, port: 443)
        #expect(Self.parse([11, 0, 0, 0, 0, 0, 0, 0] + quoted, .ipv4, 1) == .error(.timeExceeded, quote: quote))
        #expect(Self.parse([3, 13, 0, 0, 0, 0, 0, 0] + quoted, .ipv4, 1) == .error(.unreachable(code: 13), quote: quote))
    }

    @Test func packetTooBigAndTimeExceededV6() {
        let header: [UInt8] =
            [0x60, 0, 0, 0, 0x05, 0x8c, 58, 62] + [UInt8](repeating: 0, count: 16) + [0x20, 0x01, 0x0d, 0xb8, 0, 1] + [UInt8](repeating: 0, count: 9)
            + [1]
        let quoted = header + [128, 0, 0, 0, 0xab, 0xcd, 0, 7]
        let quote = ProbeAnswer.Quote(destination: .v6(0x2001_0db8_0001_0000, 1), protocolNumber: 58, ttl: 62, identifier: 0xabcd, tag: 7, port: 0)
        #expect(Self.parse([2, 0, 0, 0, 0, 0, 0x05, 0x78] + quoted, .ipv6, 58) == .error(.tooBig(mtu: 1400), quote: quote))
        #expect(Self.parse([3, 0, 0, 0, 0, 0, 0, 0] + quoted, .ipv6, 58) == .error(.timeExceeded, quote: quote))
        #expect(Self.parse([129, 0, 0, 0, 0xab, 0xcd, 0, 7], .ipv6, 58) == .echoReply(identifier: 0xabcd, sequence: 7))
    }

    @Test func tcpAnswersAreSYNACKsAndRSTsOnly() {
        var segment: [UInt8] = [0x01, 0xbb, 0x9c, 0x41, 0, 0, 0, 0, 0x9c, 0x41, 0x00, 0x08, 0x50, 0x12, 0, 0] + [0, 0, 0, 0]
        #expect(Self.parse(segment, .ipv4, 6) == .tcp(sourcePort: 443, destinationPort: 40001, acknowledgement: 0x9c41_0008))
        segment[13] = 0x14  // RST+ACK
        #expect(Self.parse(segment, .ipv4, 6) != nil)
        segment[13] = 0x10  // a plain ACK: someone else's traffic
        #expect(Self.parse(segment, .ipv4, 6) == nil)
    }

    @Test func truncatedAndForeignMessagesAreNotAnswers() {
        let message: [UInt8] = [3, 4, 0, 0, 0, 0, 0x05, 0x78] + Self.ipv4(ttl: 63, protocolNumber: 1, destination: [192, 0, 2, 1]) + Self.echoStart
        for length in 0..<message.count { #expect(Self.parse(Array(message[..<length]), .ipv4, 1) == nil, "\(length) bytes") }
        #expect(Self.parse([8, 0, 0, 0, 0, 0, 0, 0], .ipv4, 1) == nil, "an echo request is no answer")
        var udp = message
        udp[8 + 9] = 17
        #expect(Self.parse(udp, .ipv4, 1) == nil, "a quote of some UDP packet")
        let short: [UInt8] = [0x45, 0, 0]
        #expect(short.withUnsafeBytes { ProbeAnswer.transport(ofIPv4: $0) } == nil)
    }
}

/// Unreachable codes in words (ping's and traceroute's), the number kept.
@Suite struct UnreachableNameTests {
    @Test func namesTheCodes() {
        #expect(ProbeAnswer.ICMPError.unreachableName(code: 13, family: .ipv4) == "communication administratively prohibited, ICMP code 13")
        #expect(ProbeAnswer.ICMPError.unreachableName(code: 0, family: .ipv4) == "network unreachable, ICMP code 0")
        #expect(ProbeAnswer.ICMPError.unreachableName(code: 3, family: .ipv6) == "address unreachable, ICMPv6 code 3")
        #expect(ProbeAnswer.ICMPError.unreachableName(code: 99, family: .ipv6) == "destination unreachable, ICMPv6 code 99")
    }
}

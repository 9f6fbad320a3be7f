import MSSClampCore

/// What came back to a probe socket, read from the bytes after the IP header (an IPv6 raw
/// socket delivers only those; for IPv4 see `transport(ofIPv4:)`).
public enum ProbeAnswer: Sendable, Equatable {
    /// An echo reply.
    case echoReply(identifier: UInt16, sequence: UInt16)
    /// A TCP segment toward our port: a SYN-ACK (something listens) or a RST (nothing
    /// does): either way the probe arrived. `acknowledgement` says which probe it answers.
    case tcp(sourcePort: UInt16, destinationPort: UInt16, acknowledgement: UInt32)
    /// An ICMP error quoting one of our packets.
    case error(ICMPError, quote: Quote)

    public enum ICMPError: Sendable, Equatable {
        /// Frag-needed (IPv4 type 3 code 4) or packet-too-big (ICMPv6 type 2). `mtu` is nil
        /// when a pre-RFC 1191 router left the field zero.
        case tooBig(mtu: Int?)
        /// TTL / hop limit exceeded in transit.
        case timeExceeded
        /// Any other destination-unreachable, with its code.
        case unreachable(code: UInt8)
    }

    /// The start of our packet as the ICMP error quotes it.
    public struct Quote: Sendable, Equatable {
        public var destination: IPAddress
        public var protocolNumber: UInt8
        /// The TTL or hop limit the packet had when it reached the router that answered.
        /// Linux (and most routers) quote the packet before decrementing it, so the hop
        /// number is the initial TTL minus this, plus one.
        public var ttl: UInt8
        /// Echo identifier and sequence, or TCP source port and the low half of the
        /// sequence number: where `ProbePacket` puts its identifier and tag.
        public var identifier: UInt16
        public var tag: UInt16
        /// The TCP destination port (0 for echo).
        public var port: UInt16

        public init(destination: IPAddress, protocolNumber: UInt8, ttl: UInt8, identifier: UInt16, tag: UInt16, port: UInt16) {
            self.destination = destination
            self.protocolNumber = protocolNumber
            self.ttl = ttl
            self.identifier = identifier
            self.tag = tag
            self.port = port
        }
    }

    /// Reads an answer; nil for anything that is none of ours to look at.
    public static func parse(_ p: UnsafeRawBufferPointer, family: IPFamily, protocolNumber: UInt8) -> ProbeAnswer? {
        if protocolNumber == 6 {
            guard p.count >= 20, p[13] & 0x04 != 0 || p[13] & 0x12 == 0x12 else { return nil }  // RST, or SYN+ACK
            return .tcp(sourcePort: p.u16(0), destinationPort: p.u16(2), acknowledgement: p.u32(8))
        }
        guard p.count >= 8 else { return nil }
        let type = p[0]
        let code = p[1]
        let error: ICMPError
        switch (family, type) {
        case (.ipv4, 0), (.ipv6, 129):
            return .echoReply(identifier: p.u16(4), sequence: p.u16(6))
        case (.ipv4, 3) where code == 4:
            let mtu = Int(p.u16(6))
            error = .tooBig(mtu: mtu == 0 ? nil : mtu)
        case (.ipv4, 3), (.ipv6, 1):
            error = .unreachable(code: code)
        case (.ipv6, 2):
            error = .tooBig(mtu: Int(p.u32(4)))
        case (.ipv4, 11), (.ipv6, 3):
            error = .timeExceeded
        default:
            return nil
        }
        guard let quote = quote(UnsafeRawBufferPointer(rebasing: p[8...]), family: family) else { return nil }
        return .error(error, quote: quote)
    }

    static func quote(_ q: UnsafeRawBufferPointer, family: IPFamily) -> Quote? {
        let header: Int
        let destination: IPAddress
        let protocolNumber: UInt8
        let ttl: UInt8
        switch family {
        case .ipv4:
            guard q.count >= 20, q[0] >> 4 == 4 else { return nil }
            header = Int(q[0] & 15) * 4
            guard header >= 20 else { return nil }
            destination = .v4(q.u32(16))
            protocolNumber = q[9]
            ttl = q[8]
        case .ipv6:
            guard q.count >= 40, q[0] >> 4 == 6 else { return nil }
            header = 40
            destination = .v6(q.u64(24), q.u64(32))
            protocolNumber = q[6]
            ttl = q[7]
        }
        // RFC 792 promises 8 bytes of the quoted payload: enough for both methods' tags.
        guard q.count >= header + 8 else { return nil }
        let t = header
        switch protocolNumber {
        case 1, 58:
            return Quote(destination: destination, protocolNumber: protocolNumber, ttl: ttl, identifier: q.u16(t + 4), tag: q.u16(t + 6), port: 0)
        case 6:
            return Quote(
                destination: destination, protocolNumber: protocolNumber, ttl: ttl, identifier: q.u16(t), tag: q.u16(t + 6), port: q.u16(t + 2))
        default:
            return nil
        }
    }

    /// The bytes after an IPv4 header (an IPv4 raw socket delivers the whole packet), with
    /// its protocol; nil when the header is malformed.
    public static func transport(ofIPv4 p: UnsafeRawBufferPointer) -> (payload: UnsafeRawBufferPointer, protocolNumber: UInt8, source: IPAddress)? {
        guard p.count >= 20, p[0] >> 4 == 4 else { return nil }
        let header = Int(p[0] & 15) * 4
        guard header >= 20, p.count >= header else { return nil }
        return (UnsafeRawBufferPointer(rebasing: p[header...]), p[9], .v4(p.u32(12)))
    }
}

extension ProbeAnswer.ICMPError {
    /// A destination-unreachable code in words, as ping and traceroute print them
    /// (RFC 792 and RFC 1812 for IPv4, RFC 4443 §3.1 for IPv6), with the number kept.
    public static func unreachableName(code: UInt8, family: IPFamily) -> String {
        let names: [UInt8: String] =
            family == .ipv4
            ? [
                0: "network unreachable", 1: "host unreachable", 2: "protocol unreachable", 3: "port unreachable",
                5: "source route failed", 6: "destination network unknown", 7: "destination host unknown",
                9: "network administratively prohibited", 10: "host administratively prohibited",
                13: "communication administratively prohibited",
            ]
            : [
                0: "no route to destination", 1: "communication administratively prohibited", 2: "beyond scope of source address",
                3: "address unreachable", 4: "port unreachable", 5: "source address failed ingress/egress policy", 6: "reject route to destination",
            ]
        return "\(names[code] ?? "destination unreachable"), ICMP\(family == .ipv4 ? "" : "v6") code \(code)"
    }
}

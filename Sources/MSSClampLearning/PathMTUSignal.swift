import MSSClampCore

/// An ICMP "fragmentation needed" (type 3 code 4) or ICMPv6 "packet too big": a router on
/// the path saying how large a packet may be, and quoting the start of the packet that was
/// too large. The quoted flow is what ties the signal to a TCP connection.
public struct PathMTUSignal: Sendable, Equatable {
    public var family: IPFamily
    /// The router that sent it, and to whom (the sender of the large packet).
    public var from: IPAddress
    public var to: IPAddress
    public var mtu: Int
    public var quoted: QuotedFlow?

    public init(family: IPFamily, from: IPAddress, to: IPAddress, mtu: Int, quoted: QuotedFlow?) {
        self.family = family
        self.from = from
        self.to = to
        self.mtu = mtu
        self.quoted = quoted
    }

    public struct QuotedFlow: Sendable, Equatable {
        public init(source: IPAddress, destination: IPAddress, protocolNumber: UInt8, sourcePort: UInt16, destinationPort: UInt16) {
            self.source = source
            self.destination = destination
            self.protocolNumber = protocolNumber
            self.sourcePort = sourcePort
            self.destinationPort = destinationPort
        }

        public var source: IPAddress
        public var destination: IPAddress
        public var protocolNumber: UInt8
        /// Zero when the quote is too short to hold them.
        public var sourcePort: UInt16
        public var destinationPort: UInt16
    }

    /// Reads one from an IP packet; nil for anything else. IPv6 extension headers before
    /// the ICMPv6 header are not walked (routers send PTB without them).
    public static func parse(_ packet: ArraySlice<UInt8>) -> PathMTUSignal? {
        packet.withUnsafeBytes { parse($0) }
    }

    /// The same, on the queue's bytes without copying them.
    public static func parse(_ p: UnsafeRawBufferPointer) -> PathMTUSignal? {
        guard let first = p.first else { return nil }
        switch first >> 4 {
        case 4:
            let ihl = Int(first & 15) * 4
            guard ihl >= 20, p.count >= ihl + 8, p[9] == 1, p[ihl] == 3, p[ihl + 1] == 4 else { return nil }
            let mtu = Int(p.u16(ihl + 6))
            return PathMTUSignal(
                family: .ipv4, from: .v4(p.u32(12)), to: .v4(p.u32(16)), mtu: mtu,
                quoted: quote(p, at: ihl + 8))
        case 6:
            guard p.count >= 48, p[6] == 58, p[40] == 2, p[41] == 0 else { return nil }
            return PathMTUSignal(
                family: .ipv6, from: .v6(p.u64(8), p.u64(16)), to: .v6(p.u64(24), p.u64(32)),
                mtu: Int(p.u32(44)), quoted: quote(p, at: 48))
        default:
            return nil
        }
    }

    static func quote(_ p: UnsafeRawBufferPointer, at start: Int) -> QuotedFlow? {
        guard start < p.count else { return nil }
        switch p[start] >> 4 {
        case 4:
            let ihl = Int(p[start] & 15) * 4
            guard ihl >= 20, p.count >= start + 20 else { return nil }
            let ports = p.count >= start + ihl + 4
            return QuotedFlow(
                source: .v4(p.u32(start + 12)), destination: .v4(p.u32(start + 16)), protocolNumber: p[start + 9],
                sourcePort: ports ? p.u16(start + ihl) : 0, destinationPort: ports ? p.u16(start + ihl + 2) : 0)
        case 6:
            guard p.count >= start + 40 else { return nil }
            let ports = p.count >= start + 44
            return QuotedFlow(
                source: .v6(p.u64(start + 8), p.u64(start + 16)), destination: .v6(p.u64(start + 24), p.u64(start + 32)),
                protocolNumber: p[start + 6],
                sourcePort: ports ? p.u16(start + 40) : 0, destinationPort: ports ? p.u16(start + 42) : 0)
        default:
            return nil
        }
    }

}

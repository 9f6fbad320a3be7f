/// The two address families mssclamp clamps.
public enum IPFamily: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case ipv4 = 4
    case ipv6 = 6

    /// Bytes of IP and TCP header that an MSS excludes: the MSS for an MTU M is M minus
    /// this (RFC 879 for IPv4, RFC 8200 §8.3 for IPv6).
    public var headerOverhead: Int { self == .ipv4 ? 40 : 60 }

    /// The MSS that fills a packet of `mtu` bytes: the one place the arithmetic lives
    /// (clamp-to-MTU, path MTUs, learned ones, tunnels, rendered rules).
    public func mss(forMTU mtu: Int) -> Int { mtu - headerOverhead }

    /// The value the kernel puts in an inserted MSS option when it is lower than the target:
    /// RFC 1122's default send MSS for IPv4, and IPv6's 1280-byte minimum MTU minus 60.
    public var defaultMSS: UInt16 { self == .ipv4 ? 536 : 1220 }

    public var description: String { self == .ipv4 ? "ipv4" : "ipv6" }
}

/// An IPv4 or IPv6 address as plain integers, so that matching allocates nothing.
public enum IPAddress: Hashable, Sendable {
    case v4(UInt32)
    case v6(UInt64, UInt64)

    public var family: IPFamily {
        if case .v4 = self { return .ipv4 }
        return .ipv6
    }
}

/// An address prefix such as 198.51.100.0/24 or 2001:db8::/32.
public struct CIDR: Hashable, Sendable {
    public let address: IPAddress
    public let prefixLength: Int

    /// Creates a prefix; host bits of `address` are cleared, as iptables does.
    public init?(address: IPAddress, prefixLength: Int) {
        let bits = address.family == .ipv4 ? 32 : 128
        guard (0...bits).contains(prefixLength) else { return nil }
        self.prefixLength = prefixLength
        switch address {
        case .v4(let value):
            self.address = .v4(value & CIDR.mask32(prefixLength))
        case .v6(let high, let low):
            let (maskHigh, maskLow) = CIDR.mask128(prefixLength)
            self.address = .v6(high & maskHigh, low & maskLow)
        }
    }

    public var family: IPFamily { address.family }

    @inlinable
    public func contains(_ other: IPAddress) -> Bool {
        switch (address, other) {
        case (.v4(let net), .v4(let value)):
            return value & CIDR.mask32(prefixLength) == net
        case (.v6(let netHigh, let netLow), .v6(let high, let low)):
            let (maskHigh, maskLow) = CIDR.mask128(prefixLength)
            return high & maskHigh == netHigh && low & maskLow == netLow
        default:
            return false
        }
    }

    @usableFromInline
    static func mask32(_ length: Int) -> UInt32 {
        length == 0 ? 0 : ~UInt32(0) << UInt32(32 - length)
    }

    @usableFromInline
    static func mask128(_ length: Int) -> (UInt64, UInt64) {
        if length == 0 { return (0, 0) }
        if length <= 64 { return (~UInt64(0) << UInt64(64 - length), 0) }
        if length == 128 { return (~0, ~0) }
        return (~0, ~UInt64(0) << UInt64(128 - length))
    }
}

import Glibc
import MSSClampCore

/// Reading addresses: the policy's job (their text form is printed by the core).
extension IPAddress {
    /// Parses a textual IPv4 or IPv6 address with the C library's inet_pton, which knows
    /// every legal spelling (`::`, embedded IPv4, leading zeros refused).
    public init?(text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self = .v4(UInt32(bigEndian: v4.s_addr))
            return
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        self = .v6(IPAddress.word64(bytes, 0), IPAddress.word64(bytes, 8))
    }

    static func word64(_ bytes: [UInt8], _ start: Int) -> UInt64 {
        bytes[start..<(start + 8)].reduce(0) { $0 << 8 | UInt64($1) }
    }
}

extension CIDR {
    /// `198.51.100.0/24`, `2001:db8::/32`, or a bare address (a host prefix).
    public init?(text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress(text: String(parts[0])) else { return nil }
        let bits = address.family == .ipv4 ? 32 : 128
        var length = bits
        if parts.count == 2 {
            guard let value = Int(parts[1]), parts[1].allSatisfy(\.isASCII), parts[1].allSatisfy(\.isNumber) else { return nil }
            length = value
        }
        self.init(address: address, prefixLength: length)
    }
}

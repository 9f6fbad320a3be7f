import MSSClampCore

/// How probes travel: ICMP echo, which most hosts answer, or a TCP SYN to a port, for hosts
/// and firewalls that filter echo. Either way the probe is padded to the size under test
/// and sent with Don't-Fragment; what comes back (an answer, an ICMP error, or nothing)
/// says whether a packet of that size reached the destination.
public enum ProbeMethod: String, Sendable, Codable {
    case echo = "icmp-echo"
    case tcpSYN = "tcp-syn"

    public var description: String { self == .echo ? "ICMP echo" : "TCP SYN" }
}

/// The bytes of one probe after the IP header the kernel adds: an echo request or a SYN
/// carrying data, padded so that the whole IP packet is `size` bytes.
///
/// Every transmission gets its own `tag`, carried where answers and ICMP quotes return it:
/// the echo sequence number, or the low half of the SYN's sequence number (its high half is
/// the run's identifier). A late answer to an earlier probe can then never be taken for an
/// answer to the current one.
public struct ProbePacket: Sendable, Equatable {
    public var method: ProbeMethod
    public var family: IPFamily
    /// Echo identifier, or TCP source port: the same for a whole run.
    public var identifier: UInt16
    /// TCP destination port (unused for echo).
    public var port: UInt16
    public var tag: UInt16
    public var size: Int

    public init(method: ProbeMethod, family: IPFamily, identifier: UInt16, port: UInt16, tag: UInt16, size: Int) {
        self.method = method
        self.family = family
        self.identifier = identifier
        self.port = port
        self.tag = tag
        self.size = size
    }

    /// Bytes of IP header the kernel puts in front (no options, no extension headers).
    public static func ipHeaderLength(_ family: IPFamily) -> Int { family == .ipv4 ? 20 : 40 }

    /// The smallest probe of each method: headers and no padding.
    public static func minimumSize(_ method: ProbeMethod, _ family: IPFamily) -> Int {
        ipHeaderLength(family) + (method == .echo ? 8 : 20)
    }

    /// The SYN's sequence number: the run's identifier, then the tag.
    public var sequence: UInt32 { UInt32(identifier) << 16 | UInt32(tag) }

    /// Bytes after the transport header.
    public var paddingLength: Int { size - Self.minimumSize(method, family) }

    /// The transport bytes. `source` and `destination` feed the TCP pseudo-header; ICMPv6
    /// checksums are the kernel's (it fills them in on raw ICMPv6 sockets, RFC 3542 §3.1).
    public func bytes(source: IPAddress, destination: IPAddress) -> [UInt8] {
        precondition(paddingLength >= 0, "probe smaller than its headers")
        var out: [UInt8] = []
        out.reserveCapacity(size - Self.ipHeaderLength(family))
        switch method {
        case .echo:
            out += [family == .ipv4 ? 8 : 128, 0, 0, 0]
            out.append(identifier, tag)
        case .tcpSYN:
            out.append(identifier, port)
            out.append(sequence)
            out.append(UInt32(0))  // acknowledgement
            out += [5 << 4, 0x02]  // data offset 5 words; SYN
            out.append(UInt16(1024), UInt16(0), UInt16(0))  // window, checksum, urgent
        }
        // A recognisable, non-zero pattern: compressing links cannot shrink it much, and a
        // capture shows at once whose packet it is.
        for index in 0..<paddingLength { out.append(UInt8(truncatingIfNeeded: 0x6d + index)) }
        switch (method, family) {
        case (.echo, .ipv4):
            out.store(Self.checksum(out, pseudoSum: 0), at: 2)
        case (.echo, .ipv6):
            break
        case (.tcpSYN, _):
            out.store(Self.checksum(out, pseudoSum: Self.pseudoHeaderSum(source, destination, protocolNumber: 6, length: out.count)), at: 16)
        }
        return out
    }

    static func checksum(_ bytes: [UInt8], pseudoSum: UInt64) -> UInt16 {
        ~InternetChecksum.fold(bytes.withUnsafeBytes { InternetChecksum.add($0, to: pseudoSum) })
    }

    /// RFC 793 / RFC 8200 §8.1: both addresses, the protocol and the transport length.
    static func pseudoHeaderSum(_ source: IPAddress, _ destination: IPAddress, protocolNumber: UInt8, length: Int) -> UInt64 {
        func words(_ address: IPAddress) -> UInt64 {
            switch address {
            case .v4(let value):
                return UInt64(value >> 16) + UInt64(value & 0xffff)
            case .v6(let high, let low):
                return [high, low].reduce(0) { sum, half in
                    sum + (half >> 48) + (half >> 32 & 0xffff) + (half >> 16 & 0xffff) + (half & 0xffff)
                }
            }
        }
        return words(source) + words(destination) + UInt64(protocolNumber) + UInt64(length)
    }
}

extension Array where Element == UInt8 {
    fileprivate mutating func append(_ words: UInt16...) {
        for word in words { append(contentsOf: [UInt8(word >> 8), UInt8(word & 0xff)]) }
    }

    fileprivate mutating func append(_ value: UInt32) {
        append(UInt16(value >> 16), UInt16(value & 0xffff))
    }

    fileprivate mutating func store(_ word: UInt16, at offset: Int) {
        self[offset] = UInt8(word >> 8)
        self[offset + 1] = UInt8(word & 0xff)
    }
}

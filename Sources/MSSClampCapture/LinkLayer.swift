/// The link-layer headers dry-run understands, by DLT value (libpcap's numbering), and where
/// in a frame the IP packet starts. Pure Swift: no libpcap needed to decode a frame.
public enum LinkLayer: Equatable, Sendable {
    case ethernet
    case linuxCooked
    case linuxCooked2
    case raw
    case bsdLoopback
    case openBSDLoopback
    case other(Int32)

    /// DLT numbers as libpcap reports them on Linux (`pcap_datalink`).
    public init(dlt: Int32) {
        switch dlt {
        case 1: self = .ethernet
        case 113: self = .linuxCooked
        case 276: self = .linuxCooked2
        case 12, 14, 101, 228, 229: self = .raw  // DLT_RAW (12 on Linux, 14 on OpenBSD), LINKTYPE_RAW, IPV4, IPV6
        case 0: self = .bsdLoopback
        case 108: self = .openBSDLoopback
        default: self = .other(dlt)
        }
    }

    public var name: String {
        switch self {
        case .ethernet: return "Ethernet"
        case .linuxCooked: return "Linux cooked (SLL)"
        case .linuxCooked2: return "Linux cooked v2 (SLL2)"
        case .raw: return "raw IP"
        case .bsdLoopback: return "BSD loopback"
        case .openBSDLoopback: return "OpenBSD loopback"
        case .other(let dlt): return "link type \(dlt)"
        }
    }

    public var isSupported: Bool {
        if case .other = self { return false }
        return true
    }

    /// Offset of the IP header in `frame`, or nil when the frame does not carry IPv4/IPv6.
    public func networkOffset(_ frame: UnsafeRawBufferPointer) -> Int? {
        func u16(_ at: Int) -> UInt16? {
            at + 2 <= frame.count ? UInt16(frame[at]) << 8 | UInt16(frame[at + 1]) : nil
        }
        switch self {
        case .ethernet:
            // Skip 802.1Q / 802.1ad / old QinQ tags, each 4 bytes; a frame ends the loop.
            var offset = 12
            while let type = u16(offset), type == 0x8100 || type == 0x88a8 || type == 0x9100 {
                offset += 4
            }
            return LinkLayer.ipEthertype(u16(offset)) ? offset + 2 : nil
        case .linuxCooked:
            return LinkLayer.ipEthertype(u16(14)) ? 16 : nil
        case .linuxCooked2:
            return LinkLayer.ipEthertype(u16(0)) && frame.count >= 20 ? 20 : nil
        case .raw:
            guard let first = frame.first, first >> 4 == 4 || first >> 4 == 6 else { return nil }
            return 0
        case .bsdLoopback, .openBSDLoopback:
            guard frame.count >= 4 else { return nil }
            // DLT_NULL's family is in the capturing host's byte order; DLT_LOOP's in network
            // order. Try both: the values cannot be confused.
            let big = UInt32(frame[0]) << 24 | UInt32(frame[1]) << 16 | UInt32(frame[2]) << 8 | UInt32(frame[3])
            let little = big.byteSwapped
            let inet6: Set<UInt32> = [10, 24, 28, 30]  // Linux, NetBSD/OpenBSD, FreeBSD, macOS
            return [big, little].contains(where: { $0 == 2 || inet6.contains($0) }) ? 4 : nil
        case .other:
            return nil
        }
    }

    static func ipEthertype(_ type: UInt16?) -> Bool {
        type == 0x0800 || type == 0x86dd
    }
}

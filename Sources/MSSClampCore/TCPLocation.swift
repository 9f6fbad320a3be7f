/// Where an IP packet's TCP header is, as found by a per-family front end. Everything past
/// the front end is family-neutral and reads only this.
struct TCPLocation {
    var family: IPFamily
    var source: IPAddress
    var destination: IPAddress
    /// Destination for the checksum's pseudo-header: differs from `destination` only for an
    /// IPv6 packet with a routing header that still has segments left (RFC 8200 §8.1).
    var pseudoHeaderDestination: IPAddress
    /// Offset of the TCP header from the start of the IP header.
    var tcpStart: Int
    /// End of the IP packet by its own length field (capture padding lies beyond).
    var end: Int
}

/// A front end's verdict on an IP packet.
enum Located {
    case tcp(TCPLocation)
    case skip(Reason)
    case drop(DropReason)

    /// The TCP header of an IP packet, through the front end its version nibble names: the
    /// one dispatch every reader of packets (policy, ceiling, reports) goes through.
    @inline(__always)
    static func find(_ bytes: UnsafeMutableRawBufferPointer, length: Int, lenient: Bool = false) -> Located {
        switch length > 0 ? bytes[0] >> 4 : 0 {
        case 4: return IPv4Header.locate(bytes, length: length, lenient: lenient)
        case 6: return IPv6Header.locate(bytes, length: length, lenient: lenient)
        default: return .skip(length > 0 ? .notIP : .truncated)
        }
    }
}

/// The IPv6 front end: walks the extension-header chain to TCP, the way the kernel's
/// `ipv6_skip_exthdr` does (hop-by-hop, routing, fragment, destination options, AH).
///
/// Written here rather than taken from libnetfilter_queue, whose 1.0.5 helper loops forever
/// on some chains. Each step advances at least 8 bytes, so the walk ends within the packet.
enum IPv6Header {
    static let headerLength = 40

    /// `lenient` (reports only) accepts a packet cut short by a capture's snaplen and stops
    /// at the bytes present.
    static func locate(_ bytes: UnsafeMutableRawBufferPointer, length: Int, lenient: Bool = false) -> Located {
        guard length >= headerLength else { return .skip(.truncated) }
        guard bytes[0] >> 4 == 6 else { return .drop(.malformedIPHeader) }
        let payloadLength = Int(bytes.u16(4))
        // Zero with a hop-by-hop header first means a jumbogram (RFC 2675), which carries no
        // SYN a router forwards. Zero otherwise means no payload: the kernel trims the packet
        // to its 40-byte header, and a TCP match then finds no header and drops it (found
        // by fuzzing against the reference walk).
        guard payloadLength > 0 || bytes[6] != 0 else { return .skip(.notTCP) }
        var end = headerLength + payloadLength
        if end > length {
            guard lenient else { return .skip(.truncated) }
            end = length
        }

        let source = IPAddress.v6(bytes.u64(8), bytes.u64(16))
        let destination = IPAddress.v6(bytes.u64(24), bytes.u64(32))
        var pseudoDestination = destination
        var next = bytes[6]
        var offset = headerLength
        while isExtensionHeader(next) {
            guard offset + 8 <= end else { return .drop(.malformedExtensionHeaders) }
            let step: Int
            switch next {
            case 44:  // Fragment: fixed 8 bytes; offset in the top 13 bits of bytes 2-3.
                guard bytes.u16(offset + 2) & 0xfff8 == 0 else { return .skip(.nonFirstFragment) }
                step = 8
            case 51:  // Authentication header counts 4-byte units, minus 2.
                step = (Int(bytes[offset + 1]) + 2) * 4
            default:  // Hop-by-hop, routing, destination options: 8-byte units, minus 1.
                step = (Int(bytes[offset + 1]) + 1) * 8
                if next == 43, let final = finalDestination(bytes, routingHeader: offset, end: end) {
                    pseudoDestination = final
                }
            }
            next = bytes[offset]
            offset += step
            guard offset <= end else { return .drop(.malformedExtensionHeaders) }
        }
        guard next == IPv4Header.protocolTCP else { return .skip(.notTCP) }
        return .tcp(
            TCPLocation(
                family: .ipv6, source: source, destination: destination,
                pseudoHeaderDestination: pseudoDestination, tcpStart: offset, end: end))
    }

    static func isExtensionHeader(_ next: UInt8) -> Bool {
        next == 0 || next == 43 || next == 44 || next == 51 || next == 60
    }

    /// The address a routing header with segments left will finally deliver to: the last
    /// listed address for types 0 and 2, the first (Segment List[0]) for SRH (type 4).
    static func finalDestination(_ bytes: UnsafeMutableRawBufferPointer, routingHeader offset: Int, end: Int) -> IPAddress? {
        let addresses = Int(bytes[offset + 1]) / 2
        let type = bytes[offset + 2]
        let segmentsLeft = bytes[offset + 3]
        guard segmentsLeft > 0, addresses > 0, type == 0 || type == 2 || type == 4 else { return nil }
        let index = type == 4 ? 0 : addresses - 1
        let at = offset + 8 + index * 16
        guard at + 16 <= end else { return nil }
        return .v6(bytes.u64(at), bytes.u64(at + 8))
    }

    /// After an insertion: payload length +4 (IPv6 has no header checksum).
    static func grow(_ bytes: UnsafeMutableRawBufferPointer, by delta: UInt16) {
        bytes.setU16(bytes.u16(4) &+ delta, at: 4)
    }
}

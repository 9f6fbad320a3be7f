/// The IPv4 front end: validates the header against the bytes present and finds TCP.
enum IPv4Header {
    static let protocolTCP: UInt8 = 6

    /// `lenient` (reports only) accepts a packet cut short by a capture's snaplen and stops
    /// at the bytes present.
    static func locate(_ bytes: UnsafeMutableRawBufferPointer, length: Int, lenient: Bool = false) -> Located {
        guard length >= 20 else { return .skip(.truncated) }
        let headerLength = Int(bytes[0] & 0x0f) * 4
        guard bytes[0] >> 4 == 4, headerLength >= 20 else { return .drop(.malformedIPHeader) }
        var totalLength = Int(bytes.u16(2))
        guard totalLength >= headerLength, headerLength <= length else {
            return totalLength < headerLength ? .drop(.malformedIPHeader) : .skip(.truncated)
        }
        if totalLength > length {
            guard lenient else { return .skip(.truncated) }
            totalLength = length
        }
        guard bytes[9] == protocolTCP else { return .skip(.notTCP) }
        // Fragment offset (low 13 bits): a non-first fragment has no TCP header; xt_tcp
        // never matches it and xt_TCPMSS leaves it alone.
        guard bytes.u16(6) & 0x1fff == 0 else { return .skip(.nonFirstFragment) }
        let destination = IPAddress.v4(bytes.u32(16))
        return .tcp(
            TCPLocation(
                family: .ipv4, source: .v4(bytes.u32(12)), destination: destination,
                pseudoHeaderDestination: destination, tcpStart: headerLength, end: totalLength))
    }

    /// After an insertion: total length +4 and the header checksum patched to match.
    static func grow(_ bytes: UnsafeMutableRawBufferPointer, by delta: UInt16) {
        let old = bytes.u16(2)
        let new = old &+ delta
        bytes.setU16(new, at: 2)
        bytes.setU16(InternetChecksum.update(bytes.u16(10), old: old, new: new), at: 10)
    }
}

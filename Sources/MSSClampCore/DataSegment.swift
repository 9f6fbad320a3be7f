/// A TCP segment as the stall watch reads it: from the first bytes of a packet (NFLOG's
/// header copy, a capture's snaplen), its flow, sequence number, how much data it carries
/// and how large the whole packet is. The packet's size comes from its own length field,
/// since the copy stops long before the data.
public struct DataSegment: Sendable, Equatable {
    public var family: IPFamily
    public var source: IPAddress
    public var destination: IPAddress
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var sequence: UInt32
    public var acknowledgement: UInt32
    public var flags: UInt8
    /// Bytes of TCP data the segment carries.
    public var payloadLength: Int
    /// The whole IP packet, headers included: the size a link on the path must carry.
    public var packetLength: Int

    public init(
        family: IPFamily, source: IPAddress, destination: IPAddress, sourcePort: UInt16, destinationPort: UInt16, sequence: UInt32,
        acknowledgement: UInt32 = 0, flags: UInt8 = TCPFlags.ack, payloadLength: Int, packetLength: Int
    ) {
        self.family = family
        self.source = source
        self.destination = destination
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.sequence = sequence
        self.acknowledgement = acknowledgement
        self.flags = flags
        self.payloadLength = payloadLength
        self.packetLength = packetLength
    }

    /// The segment in the first `length` bytes of an IP packet (IPv6 extension headers are
    /// walked as for SYNs); nil when it is not TCP or its TCP header is not all there.
    public static func inspect(_ bytes: UnsafeMutableRawBufferPointer, length: Int) -> DataSegment? {
        guard case .tcp(let location) = Located.find(bytes, length: length, lenient: true) else { return nil }
        let start = location.tcpStart
        guard location.end - start >= TCPSegment.fixedHeaderLength else { return nil }
        let declared: Int
        switch location.family {
        case .ipv4: declared = Int(bytes.u16(2))
        case .ipv6: declared = IPv6Header.headerLength + Int(bytes.u16(4))
        }
        let headerLength = Int(bytes[start + 12] >> 4) * 4
        guard headerLength >= TCPSegment.fixedHeaderLength, declared >= start + headerLength else { return nil }
        return DataSegment(
            family: location.family, source: location.source, destination: location.destination, sourcePort: bytes.u16(start),
            destinationPort: bytes.u16(start + 2), sequence: bytes.u32(start + 4), acknowledgement: bytes.u32(start + 8),
            flags: bytes[start + 13], payloadLength: declared - start - headerLength, packetLength: declared)
    }
}

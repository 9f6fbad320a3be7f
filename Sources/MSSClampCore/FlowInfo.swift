/// The addresses, ports and flags of a TCP packet, for reports and logs (not the fast path).
public struct FlowInfo: Hashable, Sendable {
    public var family: IPFamily
    public var source: IPAddress
    public var destination: IPAddress
    /// Zero when the packet is too short to hold them.
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var flags: UInt8
    /// The MSS option's value, found by the kernel's walk over the bytes present; reported
    /// even when no rule got as far as reading options.
    public var mss: UInt16?

    public init(family: IPFamily, source: IPAddress, destination: IPAddress, sourcePort: UInt16, destinationPort: UInt16, flags: UInt8, mss: UInt16?)
    {
        self.family = family
        self.source = source
        self.destination = destination
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.flags = flags
        self.mss = mss
    }

    /// Reads the flow of an IP packet through the same front ends as `Policy.apply`, so a
    /// report names exactly the packet the core judged; a packet cut short by a capture is
    /// read as far as it goes. Nil when it is not TCP.
    public static func inspect(_ bytes: UnsafeMutableRawBufferPointer, length: Int) -> FlowInfo? {
        guard case .tcp(let location) = Located.find(bytes, length: length, lenient: true) else { return nil }
        let start = location.tcpStart
        let available = location.end - start
        let segment = TCPSegment(bytes: bytes, location: location)
        var mss: UInt16?
        if available >= TCPSegment.fixedHeaderLength, segment.headerLength >= TCPSegment.fixedHeaderLength,
            let option = segment.findMSSOption(limit: available)
        {
            mss = segment.mssValue(at: option)
        }
        return FlowInfo(
            family: location.family, source: location.source, destination: location.destination,
            sourcePort: available >= 4 ? bytes.u16(start) : 0,
            destinationPort: available >= 4 ? bytes.u16(start + 2) : 0,
            flags: available >= 14 ? bytes[start + 13] : 0, mss: mss)
    }
}

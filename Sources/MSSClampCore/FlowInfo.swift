/// The addresses, ports and flags of a TCP packet, for reports and logs (not the fast path).
public struct FlowInfo: Hashable, Sendable {
    public var family: IPFamily
    public var source: IPAddress
    public var destination: IPAddress
    /// Zero when the packet is too short to hold them.
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var flags: UInt8

    /// Reads the flow of an IP packet through the same front ends as `Policy.apply`, so a
    /// report names exactly the packet the core judged. Nil when it is not TCP.
    public static func inspect(_ bytes: UnsafeMutableRawBufferPointer, length: Int) -> FlowInfo? {
        let located: Located
        switch length > 0 ? bytes[0] >> 4 : 0 {
        case 4: located = IPv4Header.locate(bytes, length: length)
        case 6: located = IPv6Header.locate(bytes, length: length)
        default: return nil
        }
        guard case .tcp(let location) = located else { return nil }
        let start = location.tcpStart
        let available = location.end - start
        return FlowInfo(
            family: location.family, source: location.source, destination: location.destination,
            sourcePort: available >= 4 ? bytes.u16(start) : 0,
            destinationPort: available >= 4 ? bytes.u16(start + 2) : 0,
            flags: available >= 14 ? bytes[start + 13] : 0)
    }
}

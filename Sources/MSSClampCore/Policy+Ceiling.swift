extension Policy {
    /// A second, narrower pass after `apply`: lowers the MSS option of a SYN or SYN-ACK to a
    /// ceiling that depends on who sent it (`run --learn-pmtu`: the path MTU learned toward
    /// that host). Never raises, never inserts, never drops: a packet it cannot read, or
    /// without an MSS option, is left to what the policy decided. Returns the MSS it
    /// replaced, or nil when it changed nothing.
    ///
    /// `ceiling` is asked once for every readable SYN or SYN-ACK, MSS option or not (the
    /// learner also notes the flow, so later ICMP quoting it can be believed); no
    /// allocation, no I/O.
    public static func lowerMSS(
        in bytes: UnsafeMutableRawBufferPointer,
        length: Int,
        checksum: ChecksumMode = .incremental,
        ceiling: (FlowInfo) -> UInt16?
    ) -> (from: UInt16, to: UInt16)? {
        guard case .tcp(let location) = Located.find(bytes, length: length) else { return nil }
        let segment = TCPSegment(bytes: bytes, location: location)
        guard segment.segmentLength >= TCPSegment.fixedHeaderLength,
              segment.flags & (TCPFlags.syn | TCPFlags.rst) == TCPFlags.syn,
              segment.headerLength >= TCPSegment.fixedHeaderLength, segment.headerLength <= segment.segmentLength
        else { return nil }
        let option = segment.findMSSOption()
        let mss = option.map(segment.mssValue(at:))
        let start = location.tcpStart
        let flow = FlowInfo(family: location.family, source: location.source, destination: location.destination,
                            sourcePort: bytes.u16(start), destinationPort: bytes.u16(start + 2), flags: segment.flags, mss: mss)
        guard let limit = ceiling(flow), let option, let mss, mss > limit else { return nil }
        segment.setMSS(limit, at: option)
        if case .recompute = checksum { segment.checksum = segment.computeChecksum() }
        return (mss, limit)
    }
}

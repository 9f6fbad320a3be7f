extension Policy {
    /// After the rules: a learned ceiling for the SYN's sender (see `MSSCeilingSource`) may
    /// lower the MSS further, never raise it, never insert, never drop. A packet it cannot
    /// read, or one without an MSS option, keeps what the rules decided. The decision then
    /// says `learned`, and its outcome is the packet's final MSS.
    static func lower<C: MSSCeilingSource>(
        _ decision: inout Decision, in bytes: UnsafeMutableRawBufferPointer, ceiling: C, checksum: ChecksumMode
    ) {
        if case .dropped = decision.outcome { return }
        guard case .tcp(let location) = Located.find(bytes, length: decision.length) else { return }
        let segment = TCPSegment(bytes: bytes, location: location)
        guard segment.segmentLength >= TCPSegment.fixedHeaderLength,
            segment.flags & (TCPFlags.syn | TCPFlags.rst) == TCPFlags.syn,
            segment.headerLength >= TCPSegment.fixedHeaderLength, segment.headerLength <= segment.segmentLength
        else { return }
        let option = segment.findMSSOption()
        let mss = option.map(segment.mssValue(at:))
        let start = location.tcpStart
        let flow = FlowInfo(
            family: location.family, source: location.source, destination: location.destination,
            sourcePort: bytes.u16(start), destinationPort: bytes.u16(start + 2), flags: segment.flags, mss: mss)
        guard let limit = ceiling.ceiling(for: flow), let option, let mss, mss > limit else { return }
        segment.setMSS(limit, at: option)
        if case .recompute = checksum { segment.checksum = segment.computeChecksum() }
        decision.learned = true
        decision.target = limit
        if case .inserted = decision.outcome {
            decision.outcome = .inserted(limit)
        } else {
            decision.outcome = .clamped(from: decision.originalMSS ?? mss, to: limit)
            decision.originalMSS = decision.originalMSS ?? mss
        }
    }
}

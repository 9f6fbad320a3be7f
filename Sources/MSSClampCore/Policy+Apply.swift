extension Policy {
    /// The fast path: decides and, where a rule says so, rewrites one IP packet in place.
    ///
    /// `bytes` holds the packet from its IP header; `length` is how many bytes of it are
    /// valid (a capture's link-layer trailer may follow the IP packet and is preserved).
    /// An insertion needs 4 bytes of room after `length`; the result's `length` says how
    /// long the packet is afterwards. No allocation, no I/O: `pathMTU` is asked only when
    /// a matching rule clamps to the path MTU.
    ///
    /// The order of checks is the kernel's for `-p tcp --tcp-flags … -m tcpmss … -j TCPMSS`:
    /// rules whose selectors do not match never look at the options, so a malformed header
    /// is dropped only where a kernel rule would have examined it. Then `ceiling` (learned
    /// path MTUs) may lower the result; it is asked for every readable SYN.
    public func apply<P: PathMTUSource, C: MSSCeilingSource>(
        to bytes: UnsafeMutableRawBufferPointer,
        length: Int,
        metadata: PacketMetadata = PacketMetadata(),
        pathMTU: P,
        ceiling: C,
        checksum: ChecksumMode = .incremental
    ) -> Decision {
        var decision = decide(bytes, length: length, metadata: metadata, pathMTU: pathMTU, checksum: checksum)
        if !C.asksNothing { Policy.lower(&decision, in: bytes, ceiling: ceiling, checksum: checksum) }
        return decision
    }

    /// `apply` without learned ceilings.
    public func apply<P: PathMTUSource>(
        to bytes: UnsafeMutableRawBufferPointer,
        length: Int,
        metadata: PacketMetadata = PacketMetadata(),
        pathMTU: P,
        checksum: ChecksumMode = .incremental
    ) -> Decision {
        decide(bytes, length: length, metadata: metadata, pathMTU: pathMTU, checksum: checksum)
    }

    /// The rules, first match wins.
    @inline(__always)
    private func decide<P: PathMTUSource>(
        _ bytes: UnsafeMutableRawBufferPointer, length: Int, metadata: PacketMetadata, pathMTU: P, checksum: ChecksumMode
    ) -> Decision {
        precondition(length <= bytes.count, "length exceeds the buffer")
        let location: TCPLocation
        switch Located.find(bytes, length: length) {
        case .tcp(let found): location = found
        case .skip(let reason): return Decision(outcome: .unchanged(reason), length: length)
        case .drop(let reason): return Decision(outcome: .dropped(reason), length: length)
        }

        let segment = TCPSegment(bytes: bytes, location: location)
        // xt_tcp hot-drops a packet whose fixed TCP header it cannot read.
        guard segment.segmentLength >= TCPSegment.fixedHeaderLength else {
            return Decision(outcome: .dropped(.tcpHeaderTooShort), length: length)
        }
        let flags = segment.flags
        guard flags & (TCPFlags.syn | TCPFlags.rst) == TCPFlags.syn else {
            return Decision(outcome: .unchanged(.notSYN), length: length)
        }

        var miss = Miss.noRuleMatched
        var headerChecked = false
        var mssOption: Int?
        var mss: UInt16?
        // Rules are read in place (rules[index].field), never copied: a copy of a Rule
        // retains and releases each of its arrays and strings, per rule, per packet.
        for index in rules.indices {
            guard rules[index].family.includes(location.family), rules[index].direction.matches(flags: flags),
                Policy.matches(rules[index].sources, location.source),
                Policy.matches(rules[index].destinations, location.destination)
            else { continue }
            switch (
                Policy.matches(rules[index].inInterface, metadata.inInterface),
                Policy.matches(rules[index].outInterface, metadata.outInterface)
            ) {
            case (.yes, .yes): break
            case (.no, _), (_, .no): continue
            default:
                miss = max(miss, .interfaceUnknown)
                continue
            }
            if let selector = rules[index].ipsec {
                guard let selected = selector.matches(metadata.ipsec) else {
                    miss = max(miss, .ipsecUnknown)
                    continue
                }
                guard selected else { continue }
            }

            // Both xt_tcpmss and xt_TCPMSS validate the header before reading options.
            if !headerChecked {
                let header = segment.headerLength
                guard header >= TCPSegment.fixedHeaderLength else {
                    return Decision(outcome: .dropped(.badDataOffset), rule: index, length: length)
                }
                guard header <= segment.segmentLength else {
                    return Decision(outcome: .dropped(.optionsPastEnd), rule: index, length: length)
                }
                mssOption = segment.findMSSOption()
                mss = mssOption.map(segment.mssValue(at:))
                headerChecked = true
            }
            if let range = rules[index].mssRange {
                guard let value = mss else {
                    miss = max(miss, .noMSSOption)
                    continue
                }
                guard range.contains(value) else {
                    miss = max(miss, .outsideRange)
                    continue
                }
            }
            return execute(
                rules[index].action, insertMissing: rules[index].insertMissing, index: index, segment: segment, option: mssOption, mss: mss,
                length: length, pathMTU: pathMTU, checksum: checksum)
        }
        return Decision(outcome: .unchanged(miss.reason), originalMSS: headerChecked ? mss : nil, length: length)
    }

    /// `apply` for callers without route information.
    public func apply(
        to bytes: UnsafeMutableRawBufferPointer,
        length: Int,
        metadata: PacketMetadata = PacketMetadata(),
        checksum: ChecksumMode = .incremental
    ) -> Decision {
        apply(to: bytes, length: length, metadata: metadata, pathMTU: NoPathMTU(), checksum: checksum)
    }

    /// The TCPMSS target, once a rule has matched.
    private func execute<P: PathMTUSource>(
        _ action: Action, insertMissing: Bool, index: Int, segment: TCPSegment, option: Int?, mss: UInt16?,
        length: Int, pathMTU: P, checksum: ChecksumMode
    ) -> Decision {
        let family = segment.location.family
        var decision = Decision(outcome: .unchanged(.atOrBelowTarget), rule: index, originalMSS: mss, length: length)
        let target: UInt16
        switch Policy.target(of: action, family: family, location: segment.location, pathMTU: pathMTU) {
        case .success(let value): target = value
        case .failure(let early):
            decision.outcome = early.outcome
            return decision
        }
        decision.target = target

        if let option, let mss {
            // Never raise: a host that announced less knows something we do not.
            guard mss > target else { return decision }
            segment.setMSS(target, at: option)
            decision.outcome = .clamped(from: mss, to: target)
        } else {
            guard insertMissing else {
                decision.outcome = .unchanged(.noMSSOption)
                return decision
            }
            // Data after the header (TCP Fast Open) would have to move, and the SYN could
            // outgrow the path; the kernel accepts it unmodified, so do we.
            guard segment.segmentLength == segment.headerLength else {
                decision.outcome = .unchanged(.payloadPresent)
                return decision
            }
            // Data offset is 4 bits: 15 words is the most a header can be.
            guard segment.headerLength < 60 else {
                decision.outcome = .unchanged(.noRoom)
                return decision
            }
            guard segment.bytes.count - length >= 4 else {
                decision.outcome = .unchanged(.noRoom)
                return decision
            }
            let value = min(target, family.defaultMSS)
            segment.insertMSS(value, bufferLength: length)
            switch family {
            case .ipv4: IPv4Header.grow(segment.bytes, by: 4)
            case .ipv6: IPv6Header.grow(segment.bytes, by: 4)
            }
            decision.outcome = .inserted(value)
            decision.length = length + 4
        }
        if case .recompute = checksum {
            segment.checksum = segment.computeChecksum(extra: decision.length - length)
        }
        return decision
    }

    /// The MSS a rule aims for, or the outcome when there is none to aim for.
    static func target<P: PathMTUSource>(
        of action: Action, family: IPFamily, location: TCPLocation, pathMTU: P
    ) -> Result<UInt16, OutcomeError> {
        let mtu: Int
        switch action {
        case .setMSS(let v4, let v6):
            return .success(family == .ipv4 ? v4 : v6)
        case .clampToMTU(let value):
            mtu = value
        case .clampToPathMTU:
            guard let value = pathMTU.pathMTU(family: family, source: location.source, destination: location.destination) else {
                return .failure(OutcomeError(.unchanged(.pathMTUUnknown)))
            }
            mtu = value
        case .clampToInterface(let name):
            guard let value = pathMTU.interfaceMTU(name) else { return .failure(OutcomeError(.unchanged(.interfaceMTUUnknown))) }
            mtu = value
        }
        // xt_TCPMSS drops when the MTU leaves no room for any segment.
        guard mtu > family.headerOverhead else { return .failure(OutcomeError(.dropped(.pathMTUTooSmall))) }
        return .success(UInt16(clamping: family.mss(forMTU: mtu)))
    }

    @inline(__always)
    static func matches(_ prefixes: [CIDR], _ address: IPAddress) -> Bool {
        if prefixes.isEmpty { return true }
        for prefix in prefixes where prefix.contains(address) { return true }
        return false
    }

    enum Tristate { case yes, no, unknown }

    @inline(__always)
    static func matches(_ pattern: InterfacePattern?, _ name: String?) -> Tristate {
        guard let pattern else { return .yes }
        guard let name else { return .unknown }
        return pattern.matches(name) ? .yes : .no
    }

    /// How far the best near-miss got, so an unmatched packet reports the most useful reason.
    enum Miss: Int, Comparable {
        case noRuleMatched, interfaceUnknown, ipsecUnknown, noMSSOption, outsideRange

        var reason: Reason {
            switch self {
            case .noRuleMatched: return .noRuleMatched
            case .interfaceUnknown: return .interfaceUnknown
            case .ipsecUnknown: return .ipsecUnknown
            case .noMSSOption: return .noMSSOption
            case .outsideRange: return .outsideRange
            }
        }

        static func < (lhs: Miss, rhs: Miss) -> Bool { lhs.rawValue < rhs.rawValue }
    }
}

/// An outcome that ends processing early, as an Error so it can ride in a Result.
struct OutcomeError: Error {
    let outcome: Outcome
    init(_ outcome: Outcome) { self.outcome = outcome }
}

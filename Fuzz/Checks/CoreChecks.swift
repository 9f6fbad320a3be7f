import MSSClampCore
import MSSClampLearning

/// The packet core's properties, checked on any bytes (the list, in order):
/// no trap; the output parses (and is a fixed point); the length changes by 0 or +4 only;
/// the MSS is never raised; a valid checksum stays valid and the incremental result equals
/// a full recomputation; and the decision agrees with `ReferenceWalk`, the spec's walk
/// written out plainly, wherever it can locate the TCP header itself.
///
/// Input layout: 7 control bytes (flags, target MSS, range low, range span), then the IP packet.
/// Flag bits: 0 insert missing, 1 range, 2-3 direction, 4 unused, 5 clamp to a path MTU given
/// by the target bytes (instead of setting the target).
public enum CoreChecks {
    public static func check(_ data: [UInt8]) -> [String] {
        guard data.count >= 7 else { return [] }
        let control = data[0]
        let target = max(1, UInt16(data[1]) << 8 | UInt16(data[2]))
        let low = UInt16(data[3]) << 8 | UInt16(data[4])
        let high = UInt16(min(Int(UInt16.max), Int(low) + Int(UInt16(data[5]) << 8 | UInt16(data[6]))))
        let range: ClosedRange<UInt16>? = control & 2 != 0 ? low...high : nil
        let insert = control & 1 != 0
        let direction = Direction.allCases[Int(control >> 2) % Direction.allCases.count]
        let packet = Array(data[7...])
        let pathMTU: Int? = control & 0x20 != 0 ? Int(target) : nil
        let action: Action = pathMTU == nil ? .setMSS(ipv4: target, ipv6: target) : .clampToPathMTU
        let policy = Policy(rules: [Rule(direction: direction, mssRange: range, action: action, insertMissing: insert)])

        var problems: [String] = []
        func expect(_ condition: Bool, _ what: @autoclosure () -> String) { if !condition { problems.append(what()) } }

        let (incremental, out) = run(policy, packet, .incremental, pathMTU: pathMTU)
        let (recomputed, outRecomputed) = run(policy, packet, .recompute, pathMTU: pathMTU)
        expect(incremental.outcome == recomputed.outcome, "checksum mode changed the decision: \(incremental.outcome) vs \(recomputed.outcome)")

        // Length: +4 for an insertion, otherwise unchanged; untouched bytes when not modified.
        switch incremental.outcome {
        case .inserted: expect(incremental.length == packet.count + 4, "insertion length \(incremental.length) for \(packet.count)")
        default: expect(incremental.length == packet.count, "length changed to \(incremental.length) from \(packet.count) by \(incremental.outcome)")
        }
        if !incremental.outcome.isModified { expect(out == packet, "bytes changed by \(incremental.outcome)") }

        if incremental.outcome.isModified {
            // The output parses as TCP and is a fixed point of the same policy.
            let (again, _) = run(policy, out, .incremental, pathMTU: pathMTU)
            expect(!again.outcome.isModified, "output not a fixed point: second pass \(again.outcome)")
            if case .dropped = again.outcome { problems.append("output no longer parses: \(again.outcome)") }
        }
        if case .clamped(let from, let to) = incremental.outcome {
            expect(to < from, "raised or kept: \(from) -> \(to)")
        }

        lowerChecks(out, ceiling: target, expect: expect)
        _ = packet.withUnsafeBytes { PathMTUSignal.parse($0) }  // any bytes: no trap

        // Against the reference, where it can find the TCP header on its own.
        guard let reference = ReferenceWalk(packet) else { return problems }
        let expected = reference.decide(direction: direction, range: range, target: target, insert: insert, pathMTU: pathMTU)
        expect(ReferenceWalk.agrees(expected, incremental.outcome), "core \(incremental.outcome), reference \(expected)")
        if let before = reference.mss, let after = ReferenceWalk(out)?.mss {
            expect(after <= before, "MSS raised \(before) -> \(after)")
        }
        if reference.checksumValid && incremental.outcome.isModified {
            let check = ReferenceWalk(out)
            expect(check?.checksumValid == true, "valid checksum made invalid by \(incremental.outcome)")
            if reference.ipv4HeaderValid == true {
                expect(check?.ipv4HeaderValid == true, "IPv4 header checksum made invalid")
            }
            expect(out == outRecomputed, "incremental checksum differs from a full recomputation")
        }
        return problems
    }

    /// A learned ceiling (the `--learn-pmtu` pass of `Policy.apply`) over a policy that
    /// matches nothing: lowers to the ceiling or changes nothing, keeps the length, keeps a
    /// valid checksum valid, and a second pass changes nothing.
    static func lowerChecks(_ packet: [UInt8], ceiling: UInt16, expect: (Bool, @autoclosure () -> String) -> Void) {
        let none = Policy(rules: [])
        var bytes = packet + [0, 0, 0, 0]
        let decision = bytes.withUnsafeMutableBytes {
            none.apply(to: $0, length: packet.count, pathMTU: NoPathMTU(), ceiling: FixedCeiling(mss: ceiling))
        }
        bytes = Array(bytes[0..<decision.length])
        guard decision.learned, case .clamped(let from, let to) = decision.outcome else {
            expect(bytes == packet, "the ceiling changed bytes without saying so")
            return
        }
        expect(decision.length == packet.count, "the ceiling changed the length")
        expect(to == ceiling && from > ceiling, "ceiling pass \(from) -> \(to) with ceiling \(ceiling)")
        if let before = ReferenceWalk(packet), let after = ReferenceWalk(bytes) {
            expect(after.mss == ceiling, "ceiling pass left MSS \(after.mss.map(String.init) ?? "none"), not \(ceiling)")
            if before.checksumValid { expect(after.checksumValid, "ceiling pass made a valid checksum invalid") }
        }
        var again = bytes + [0, 0, 0, 0]
        let second = again.withUnsafeMutableBytes {
            none.apply(to: $0, length: bytes.count, pathMTU: NoPathMTU(), ceiling: FixedCeiling(mss: ceiling))
        }
        expect(!second.learned, "ceiling pass not a fixed point")
    }

    /// Whether the reference walk can judge this input (tests use it to show it does).
    public static func comparedWithReference(_ data: [UInt8]) -> Bool {
        data.count >= 7 && ReferenceWalk(Array(data[7...])) != nil
    }

    static func run(_ policy: Policy, _ packet: [UInt8], _ mode: ChecksumMode, pathMTU: Int? = nil) -> (Decision, [UInt8]) {
        var buffer = packet + [0, 0, 0, 0]
        let decision = buffer.withUnsafeMutableBytes {
            policy.apply(to: $0, length: packet.count, pathMTU: AssumedPathMTU(pathMTU ?? 0), checksum: mode)
        }
        return (decision, Array(buffer[0..<decision.length]))
    }
}

/// The spec's semantics written out the plain way, for unfragmented IPv4 and for IPv6 whose
/// first header is TCP, with lengths that match the bytes exactly (everything else is left
/// to the general properties).
struct ReferenceWalk {
    let packet: [UInt8]
    let tcp: Int
    let isIPv4: Bool

    init?(_ packet: [UInt8]) {
        self.packet = packet
        guard let first = packet.first else { return nil }
        if first >> 4 == 4 {
            let ihl = Int(first & 15) * 4
            guard packet.count >= 20, ihl >= 20, ihl <= packet.count,
                Int(packet[2]) << 8 | Int(packet[3]) == packet.count, packet[9] == 6,
                (Int(packet[6]) & 0x3f) << 8 | Int(packet[7]) == 0
            else { return nil }
            tcp = ihl
            isIPv4 = true
        } else if first >> 4 == 6 {
            guard packet.count >= 40, Int(packet[4]) << 8 | Int(packet[5]) + 40 == packet.count, packet[6] == 6 else { return nil }
            tcp = 40
            isIPv4 = false
        } else {
            return nil
        }
    }

    enum Expected: CustomStringConvertible {
        case clamped(UInt16, UInt16)
        case inserted(UInt16)
        case unchanged, dropped
        var description: String {
            switch self {
            case .clamped(let a, let b): return "clamped \(a)->\(b)"
            case .inserted(let v): return "inserted \(v)"
            case .unchanged: return "unchanged"
            case .dropped: return "dropped"
            }
        }
    }

    var segmentLength: Int { packet.count - tcp }
    var headerLength: Int { Int(packet[tcp + 12] >> 4) * 4 }

    /// Offset (in the TCP header) of the MSS option, by the spec's walk.
    var mssOffset: Int? {
        guard segmentLength >= 20, headerLength >= 20, headerLength <= segmentLength else { return nil }
        var i = 20
        while i <= headerLength - 4 {
            let kind = packet[tcp + i], length = packet[tcp + i + 1]
            if kind == 2 && length == 4 { return i }
            i += (kind <= 1 || length == 0) ? 1 : Int(length)
        }
        return nil
    }

    var mss: UInt16? { mssOffset.map { UInt16(packet[tcp + $0 + 2]) << 8 | UInt16(packet[tcp + $0 + 3]) } }

    func decide(direction: Direction, range: ClosedRange<UInt16>?, target setTarget: UInt16, insert: Bool, pathMTU: Int?) -> Expected {
        guard segmentLength >= 20 else { return .dropped }
        let flags = packet[tcp + 13]
        guard flags & (TCPFlags.syn | TCPFlags.rst) == TCPFlags.syn else { return .unchanged }
        let (mask, value) = direction.flagMaskAndValue
        guard flags & mask == value else { return .unchanged }
        guard headerLength >= 20, headerLength <= segmentLength else { return .dropped }
        if let range {
            guard let mss, range.contains(mss) else { return .unchanged }
        }
        // --clamp-mss-to-pmtu: MTU minus the IP and TCP headers; no room at all is a drop.
        let overhead = isIPv4 ? 40 : 60
        if let pathMTU, pathMTU <= overhead { return .dropped }
        let target = pathMTU.map { UInt16($0 - overhead) } ?? setTarget
        if let mss { return mss > target ? .clamped(mss, target) : .unchanged }
        guard insert, segmentLength == headerLength, headerLength < 60 else { return .unchanged }
        return .inserted(min(target, isIPv4 ? 536 : 1220))
    }

    static func agrees(_ expected: Expected, _ outcome: Outcome) -> Bool {
        switch (expected, outcome) {
        case (.clamped(let a, let b), .clamped(let from, let to)): return a == from && b == to
        case (.inserted(let v), .inserted(let value)): return v == value
        case (.unchanged, .unchanged), (.dropped, .dropped): return true
        default: return false
        }
    }

    /// The TCP checksum over the pseudo-header, the plain way.
    var checksumValid: Bool {
        var sum = 0
        func add(_ bytes: ArraySlice<UInt8>) {
            var index = bytes.startIndex
            while index < bytes.endIndex {
                sum += Int(bytes[index]) << 8 | (index + 1 < bytes.endIndex ? Int(bytes[index + 1]) : 0)
                index += 2
            }
        }
        if isIPv4 { add(packet[12..<20]) } else { add(packet[8..<40]) }
        sum += 6 + segmentLength
        add(packet[tcp...])
        while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
        return sum == 0xffff
    }

    var ipv4HeaderValid: Bool? {
        guard isIPv4 else { return nil }
        var sum = 0
        for index in stride(from: 0, to: tcp, by: 2) { sum += Int(packet[index]) << 8 | Int(packet[index + 1]) }
        while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
        return sum == 0xffff
    }
}

/// One ceiling for every host.
struct FixedCeiling: MSSCeilingSource {
    let mss: UInt16
    func ceiling(for flow: FlowInfo) -> UInt16? { mss }
}

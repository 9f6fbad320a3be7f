import MSSClampCapture
import MSSClampCore
import MSSClampLearning
import MSSClampReplay
import MSSClampReport

/// What `mssclamp watch` saw in one frame.
public enum WatchEvent: Sendable {
    /// A SYN or SYN-ACK, with what the policy would do to it (decided on a copy).
    case handshake(DryRunRecord)
    /// ICMP frag-needed / ICMPv6 packet-too-big, and with `--learn-pmtu` what the worker's
    /// learner would make of it.
    case pathMTU(seconds: Int, microseconds: Int, PathMTUSignal, PathMTULearner.Verdict?)
    /// With `--learn-stalls`: a flow judged stalled (no ICMP), and what would be learned.
    case stall(seconds: Int, microseconds: Int, StallDetector.Stall, StallLearner.Change?)
}

/// Turns captured frames into events and keeps the MSS histogram. Changes nothing: the
/// policy runs on a copy of each SYN.
public struct Watcher: Sendable {
    /// The kernel-side filter: SYN or SYN-ACK (IPv4; IPv6 without extension headers),
    /// frag-needed and packet-too-big. libpcap cannot index IPv6 TCP headers, hence ip6[53].
    public static let filter =
        "(tcp[tcpflags] & tcp-syn != 0) or (ip6 and ip6[6] == 6 and ip6[53] & 2 != 0)"
        + " or (icmp[icmptype] == 3 and icmp[icmpcode] == 4) or (ip6 and ip6[6] == 58 and ip6[40] == 2)"

    /// With `--learn-stalls`: every TCP segment too (the large ones are judged, the
    /// acknowledgements clear them): heavier, for a watch of limited length.
    public static let stallFilter = filter + " or tcp or (ip6 and ip6[6] == 6)"

    public let policy: Policy
    public var metadata: PacketMetadata
    public private(set) var histogram = MSSHistogram()
    public private(set) var frames = 0
    /// `--learn-pmtu`: a learner like the worker's, fed the ICMP seen here; its ceilings
    /// judge later SYNs (through the same `Policy.apply` as the worker's). Its clock is the
    /// capture's.
    public private(set) var learner: PathMTULearner?
    /// `--learn-stalls`: the stall watch's judgement over the segments seen, and what it
    /// would learn (the capture's clock).
    public private(set) var stalls: (detector: StallDetector, learner: StallLearner)?

    public init(
        policy: Policy, metadata: PacketMetadata = PacketMetadata(), learning: PathMTULearner.Limits? = nil, learnStalls: Bool = false
    ) {
        self.policy = policy
        self.metadata = metadata
        learner = learning.map { PathMTULearner(limits: $0) }
        stalls = learnStalls ? (StallDetector(), StallLearner()) : nil
    }

    public mutating func observe(_ frame: CapturedFrame, linkLayer: LinkLayer) -> WatchEvent? {
        frames += 1
        guard let offset = frame.bytes.withUnsafeBytes({ linkLayer.networkOffset($0) }), offset < frame.bytes.count else { return nil }
        let now = Double(frame.seconds) + Double(frame.microseconds) / 1e6
        if let signal = PathMTUSignal.parse(frame.bytes[offset...]) {
            let verdict = learner?.observe(signal, now: now)
            return .pathMTU(seconds: frame.seconds, microseconds: frame.microseconds, signal, verdict)
        }
        let length = frame.bytes.count - offset
        var copy = Array(frame.bytes[offset...]) + [0, 0, 0, 0]
        if stalls != nil, let event = judgeSegment(&copy, length: length, frame: frame, now: now) { return event }
        let policy = self.policy, metadata = self.metadata
        let result: (FlowInfo, Decision)? = copy.withUnsafeMutableBytes { raw in
            guard let flow = FlowInfo.inspect(raw, length: length), flow.flags & TCPFlags.syn != 0 else { return nil }
            // Taken out while it judges and put back, so it is never copied.
            guard var judging = learner.take() else {
                return (flow, policy.apply(to: raw, length: length, metadata: metadata, pathMTU: NoPathMTU()))
            }
            defer { learner = judging }
            return withUnsafeMutablePointer(to: &judging) { learner in
                (
                    flow,
                    policy.apply(
                        to: raw, length: length, metadata: metadata, pathMTU: NoPathMTU(),
                        ceiling: LearnerCeiling(learner: learner, now: now))
                )
            }
        }
        guard let (flow, decision) = result else { return nil }
        histogram.add(flow)
        return .handshake(DryRunRecord(frame: frames, seconds: frame.seconds, microseconds: frame.microseconds, flow: flow, decision: decision))
    }

    /// A data segment (not a SYN) through the stall watch: an event when it completes a
    /// stall; nil for a SYN (judged by the policy as before) and for anything else.
    private mutating func judgeSegment(_ copy: inout [UInt8], length: Int, frame: CapturedFrame, now: Double) -> WatchEvent?? {
        // Taken out while it judges and put back, so the tables are never copied.
        guard var (detector, learner) = stalls.take() else { return nil }
        defer { stalls = (detector, learner) }
        guard let segment = copy.withUnsafeMutableBytes({ DataSegment.inspect($0, length: length) }), segment.flags & TCPFlags.syn == 0 else {
            return nil
        }
        guard let stall = detector.see(segment, now: now) else { return .some(nil) }
        return .some(.stall(seconds: frame.seconds, microseconds: frame.microseconds, stall, learner.stalled(stall, now: now)))
    }

    /// tcpdump-like: the dry-run's line for SYNs, an ICMP line for the rest.
    public static func text(_ event: WatchEvent) -> String {
        switch event {
        case .handshake(let record):
            return TextReport.line(record)
        case .pathMTU(let seconds, let microseconds, let signal, let verdict):
            let kind =
                signal.family == .ipv4
                ? "IP \(signal.from.text) > \(signal.to.text): ICMP frag-needed"
                : "IP6 \(signal.from.text) > \(signal.to.text): ICMP6 packet-too-big"
            var text = TextReport.timestamp(seconds: seconds, microseconds: microseconds) + " \(kind), mtu \(signal.mtu)"
            if let quoted = signal.quoted {
                let name = quoted.protocolNumber == 6 ? "TCP" : quoted.protocolNumber == 17 ? "UDP" : "proto \(quoted.protocolNumber)"
                text += ", quoting \(name) \(quoted.source.text).\(quoted.sourcePort) > \(quoted.destination.text).\(quoted.destinationPort)"
            } else {
                text += ", quoting nothing readable"
            }
            switch verdict {
            case .learned(let entry)?: text += "; learned: SYNs from \(entry.host.text) at most MSS \(entry.mss)"
            case .ignored(let reason)?: text += "; not learned: \(reason.rawValue)"
            case nil: break
            }
            return text
        case .stall(let seconds, let microseconds, let stall, let change):
            let elapsed = ((stall.detected - stall.firstSeen) * 10).rounded() / 10
            var text =
                TextReport.timestamp(seconds: seconds, microseconds: microseconds)
                + " \(stall.family == .ipv4 ? "IP" : "IP6") \(stall.server.text).\(stall.serverPort) > \(stall.client.text).\(stall.clientPort): stalled, a \(stall.size)-byte segment sent \(stall.copies) times in \(elapsed) s, nothing newer"
            switch change {
            case .learned(let entry)?, .lowered(let entry, _)?:
                text += "; --learn-stalls would clamp SYNs from \(entry.host.text) to MSS \(entry.mss) (path MTU \(entry.mtu))"
            default: break
            }
            if let starvation = stall.starvation { text += "; " + starvation }
            return text
        }
    }
}

/// The learner as `Policy.apply` asks it, inside one `observe` (the pointer never escapes).
struct LearnerCeiling: MSSCeilingSource {
    let learner: UnsafeMutablePointer<PathMTULearner>
    let now: Double

    func ceiling(for flow: FlowInfo) -> UInt16? {
        learner.pointee.forwarded(flow, now: now)
        return learner.pointee.mss(from: flow.source, now: now)
    }
}

/// MSS values announced, per source subnet (/24, /64) and packet kind.
public struct MSSHistogram: Sendable {
    public struct Key: Hashable, Sendable, Comparable {
        public var subnet: String
        public var kind: String
        public static func < (a: Key, b: Key) -> Bool { (a.subnet, a.kind) < (b.subnet, b.kind) }
    }

    /// Counts by MSS ("none" for a SYN without the option).
    public private(set) var counts: [Key: [String: Int]] = [:]

    mutating func add(_ flow: FlowInfo) {
        let prefix = CIDR(address: flow.source, prefixLength: flow.family == .ipv4 ? 24 : 64)
        let key = Key(
            subnet: prefix.map { "\($0.address.text)/\($0.prefixLength)" } ?? flow.source.text,
            kind: flow.flags & TCPFlags.ack != 0 ? "SYN-ACK" : "SYN")
        counts[key, default: [:]][flow.mss.map(String.init) ?? "none", default: 0] += 1
    }

    public var lines: [String] {
        guard !counts.isEmpty else { return ["no SYN seen"] }
        return ["MSS announced, by source subnet:"]
            + counts.sorted { $0.key < $1.key }.map { key, byMSS in
                let values = byMSS.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                let text = values.map { "\($0.key) x\($0.value)" }.joined(separator: ", ")
                return "  " + TextReport.pad(key.subnet, 22) + TextReport.pad(key.kind, 9) + text
            }
    }
}

import MSSClampCapture
import MSSClampCore
import MSSClampLearning
import MSSClampReport

/// What dry-run needs besides the capture: the policy, and what a capture cannot tell.
public struct DryRunOptions: Sendable {
    public var policy: Policy
    /// Interface names to assume (captures carry none).
    public var metadata: PacketMetadata
    /// MTU to assume for `clamp-mss-to-pmtu` rules (captures carry no routes).
    public var pathMTU: Int?
    /// tcpdump/BPF filter applied while reading.
    public var filter: String?
    /// Where to write every frame, rewritten where the policy applies.
    public var writePath: String?
    /// Path MTUs to assume learned (`--assume-learned HOST=MTU`), as `run --learn-pmtu`
    /// would have them: SYNs from HOST are lowered to that MTU's MSS.
    public var learned = AssumedLearned()

    public init(
        policy: Policy, metadata: PacketMetadata = PacketMetadata(), pathMTU: Int? = nil,
        filter: String? = nil, writePath: String? = nil
    ) {
        self.policy = policy
        self.metadata = metadata
        self.pathMTU = pathMTU
        self.filter = filter
        self.writePath = writePath
    }
}

/// Totals for the summary.
public struct DryRunSummary: Sendable {
    public var linkLayer: LinkLayer
    public var frames = 0
    /// Frames whose link layer carries no IPv4/IPv6.
    public var nonIP = 0
    public var counters: OutcomeCounters
    public var written = 0
    public var rewritten = 0
    /// Flows that stalled in the capture (a large segment sent again and again with nothing
    /// newer and no acknowledgement), and what `run --learn-stalls` would have learned.
    public var stalls: [StallDetector.Stall] = []
    public var wouldLearn: [StallLearner.Entry] = []

    init(linkLayer: LinkLayer, ruleCount: Int) {
        self.linkLayer = linkLayer
        counters = OutcomeCounters(ruleCount: ruleCount)
    }
}

public enum DryRunError: Error, CustomStringConvertible {
    case open(CaptureError)
    case unsupportedLinkType(path: String, LinkLayer)
    /// The capture broke off: what was read before is in the summary.
    case read(CaptureError, DryRunSummary)
    case write(CaptureError)

    public var description: String {
        switch self {
        case .open(let error), .write(let error): return error.description
        case .unsupportedLinkType(let path, let link):
            return "\(path): \(link.name) is not supported (Ethernet, Linux cooked SLL/SLL2, raw IP and BSD loopback are)"
        case .read(let error, let summary):
            return "\(error.description) (after \(summary.frames) frames)"
        }
    }
}

/// Replays a capture through the packet core, as the worker would see those packets.
public enum DryRun {
    /// The most a frame can carry that libpcap reads (its largest snapshot length).
    static let largestFrame = 262_144

    /// Outcomes not worth a line: the packet is no handshake packet at all. They are counted.
    public static func isReported(_ outcome: Outcome) -> Bool {
        switch outcome {
        case .unchanged(.notIP), .unchanged(.notTCP), .unchanged(.notSYN), .unchanged(.nonFirstFragment): return false
        default: return true
        }
    }

    public static func run(
        capture path: String, options: DryRunOptions, onOpen: () -> Void = {}, onRecord: ((DryRunRecord) -> Void)?
    ) throws(DryRunError) -> DryRunSummary {
        let reader: CaptureReader
        do {
            reader = try CaptureReader(path: path, filter: options.filter)
        } catch {
            throw .open(error)
        }
        guard reader.linkLayer.isSupported else { throw .unsupportedLinkType(path: path, reader.linkLayer) }
        let writer: CaptureWriter?
        do {
            writer = try options.writePath.map { out throws(CaptureError) in
                try CaptureWriter(path: out, dlt: reader.dlt, snapshotLength: min(reader.snapshotLength + 4, 262_144))
            }
        } catch {
            throw .write(error)
        }
        onOpen()
        var summary = DryRunSummary(linkLayer: reader.linkLayer, ruleCount: options.policy.rules.count)
        try replay(reader, into: writer, options: options, summary: &summary, onRecord: onRecord)
        do {
            try writer?.finish()
        } catch {
            throw .write(error)
        }
        return summary
    }

    /// The loop over every frame. Its own function so that `reader` and `writer` arrive
    /// borrowed: a local reference held across calls into another module is retained and
    /// released around each call (two pairs per frame, a sixth of a `-q` replay's time).
    @inline(never)
    private static func replay(
        _ reader: CaptureReader, into writer: CaptureWriter?, options: DryRunOptions,
        summary: inout DryRunSummary, onRecord: ((DryRunRecord) -> Void)?
    ) throws(DryRunError) {
        let pathMTU = AssumedPathMTU(options.pathMTU)
        let policy = options.policy
        let metadata = options.metadata
        let learned = options.learned
        // The stall watch's judgement over every TCP segment, as the gateway would make it.
        var detector = StallDetector()
        var learner = StallLearner()
        defer { summary.wouldLearn = learner.entries.values.sorted { $0.learned < $1.learned } }
        // One buffer for every frame, rewritten in place: 4 spare bytes for an inserted
        // option; nothing is allocated per frame but what is reported.
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: DryRun.largestFrame + 4, alignment: 8)
        defer { scratch.deallocate() }
        while true {
            let next: FrameInPlace?
            do {
                next = try reader.nextInPlace()
            } catch {
                throw .read(error, summary)
            }
            guard let frame = next else { break }
            summary.frames += 1
            // libpcap caps captured lengths well below this; a longer one is cut, not trusted.
            var captured = min(frame.bytes.count, DryRun.largestFrame)
            scratch.copyMemory(from: UnsafeRawBufferPointer(rebasing: frame.bytes[0..<captured]))
            scratch.storeBytes(of: 0, toByteOffset: captured, as: UInt32.self)
            var originalLength = frame.originalLength
            if let offset = reader.linkLayer.networkOffset(UnsafeRawBufferPointer(rebasing: scratch[0..<captured])) {
                let length = captured - offset
                let packet = UnsafeMutableRawBufferPointer(rebasing: scratch[offset..<(captured + 4)])
                let flow = onRecord == nil ? nil : FlowInfo.inspect(packet, length: length)
                let decision =
                    learned.paths.isEmpty
                    ? policy.apply(to: packet, length: length, metadata: metadata, pathMTU: pathMTU)
                    : policy.apply(to: packet, length: length, metadata: metadata, pathMTU: pathMTU, ceiling: learned)
                summary.counters.record(decision)
                // Data segments: not SYNs, or cut short by the snaplen (headers are enough here).
                if decision.outcome == .unchanged(.notSYN) || decision.outcome == .unchanged(.truncated),
                    frame.originalLength - offset > detector.limits.baseSize || detector.flowCount > 0,
                    let segment = DataSegment.inspect(packet, length: length), segment.flags & TCPFlags.syn == 0
                {
                    let now = Double(frame.seconds) + Double(frame.microseconds) / 1e6
                    if let stall = detector.see(segment, now: now) {
                        summary.stalls.append(stall)
                        _ = learner.stalled(stall, now: now)
                    }
                }
                if decision.outcome.isModified {
                    originalLength += decision.length - length
                    captured = offset + decision.length
                    summary.rewritten += 1
                }
                if let flow, let onRecord, isReported(decision.outcome) {
                    onRecord(
                        DryRunRecord(
                            frame: summary.frames, seconds: frame.seconds, microseconds: frame.microseconds,
                            flow: flow, decision: decision))
                }
            } else {
                summary.nonIP += 1
            }
            if writer != nil {  // not `if let`: the binding copy costs a retain/release per frame
                writer.unsafelyUnwrapped.write(
                    seconds: frame.seconds, microseconds: frame.microseconds,
                    bytes: UnsafeRawBufferPointer(rebasing: scratch[0..<captured]), originalLength: originalLength)
                summary.written += 1
            }
        }
    }
}

/// Path MTUs taken as learned, host by host: dry-run's `--assume-learned`, run through the
/// same pass of `Policy.apply` as the worker's learner.
public struct AssumedLearned: MSSCeilingSource, Sendable {
    /// Host -> path MTU toward it.
    public var paths: [IPAddress: Int] = [:]

    public init(paths: [IPAddress: Int] = [:]) {
        self.paths = paths
    }

    public func ceiling(for flow: FlowInfo) -> UInt16? {
        paths[flow.source].map { UInt16(clamping: max(0, flow.family.mss(forMTU: $0))) }
    }
}

import Glibc
import MSSClampCore

/// Probes one destination: a first small probe (is it answering, by which method, how far
/// away in time), the MTU search, and when larger sizes vanished without a word, the walk
/// that finds where. One probe is in flight at a time, paced by the rate, counted against
/// the bound.
public final class Prober {
    public let target: ProbeTarget
    public let options: ProbeOptions
    private let socket: ProbeSocket
    /// Echo identifier / TCP source port for this run.
    private let identifier = UInt16.random(in: 33000...60999)
    private var nextTag = UInt16.random(in: 0...UInt16.max)
    private var lastSend: ContinuousClock.Instant?
    private var wait: Duration
    private var report: PathReport

    private struct Exhausted: Error {}

    public init(target: ProbeTarget, options: ProbeOptions) throws {
        self.target = target
        self.options = options
        socket = try ProbeSocket(family: target.family, source: target.source, destination: target.address)
        wait = options.timeout
        let ceiling = min(options.maximum ?? target.interfaceMTU ?? 1500, ProbeOptions.sizes.upperBound)
        report = PathReport(
            target: target, method: options.method == .tcp ? .tcpSYN : .echo, port: options.method == .icmp ? nil : options.port,
            ceiling: ceiling)
        report.capped = options.maximum.map { $0 < min(target.interfaceMTU ?? 1500, ProbeOptions.sizes.upperBound) } ?? false
        if options.method == .tcp { try socket.openTCP(source: target.source) }
    }

    /// The smallest probe: 68 bytes for IPv4 (the MTU every IPv4 link carries, RFC 791), 1280
    /// for IPv6 (RFC 8200 §5). It answers whether the destination answers at all.
    public static func baseSize(_ family: IPFamily) -> Int { family == .ipv4 ? 68 : 1280 }

    public func run() throws -> PathReport {
        do {
            try search()
        } catch is Exhausted {
            report.stopped = "stopped after \(report.transmissions) probes (--max-probes \(options.maxProbes))"
        }
        if report.method == .echo { report.port = nil }
        return report
    }

    private func search() throws {
        let base = min(Self.baseSize(target.family), report.ceiling)
        var first = try probe(size: base, ttl: options.initialTTL)
        if !first.isReached, options.method == .auto, !first.isRefusal {
            report.method = .tcpSYN
            try socket.openTCP(source: target.source)
            first = try probe(size: base, ttl: options.initialTTL)
        }
        guard first.isReached else { throw ProbeError.failed(unanswered(first, size: base)) }
        report.largestReached = base
        var search = PathMTUSearch(reached: base, ceiling: report.ceiling)
        while let size = search.nextSize {
            let observation = try probe(size: size, ttl: options.initialTTL)
            switch observation {
            case .reached:
                search.record(size: size, .reached)
            case .tooBig(_, let mtu, _):
                search.record(size: size, .tooBig(mtu: mtu))
            case .timeExceeded, .unreachable, .silent:
                search.record(size: size, .silent)
            }
            report.largestReached = search.largestReached
            report.smallestFailed = search.smallestFailed
        }
        report.pathMTU = search.pathMTU
        report.silentSizes = search.silentSizes
        report.announcedBy = announcement(of: search.largestReached)
        if report.isBlackHole, let failing = report.smallestFailed {
            report.silentHop = try walk(failing: failing, base: base)
        }
    }

    /// The router whose frag-needed named `mtu` (the last one that did).
    private func announcement(of mtu: Int) -> Hop? {
        for record in report.records.reversed() {
            if case .tooBig(let from, mtu, let hop) = record.observation { return Hop(number: hop ?? 0, address: from) }
        }
        return nil
    }

    private func walk(failing: Int, base: Int) throws -> SilentHopWalk.Conclusion? {
        var walk = SilentHopWalk(maxHops: options.maxHops)
        while let (kind, ttl) = walk.next {
            let observation = try probe(size: kind == .large ? failing : base, ttl: ttl)
            switch observation {
            case .reached(let from): walk.record(.reached(from: from))
            case .timeExceeded(let from): walk.record(.timeExceeded(from: from))
            case .tooBig(let from, let mtu, let hop): walk.record(.tooBig(from: from, mtu: mtu, hop: hop))
            case .unreachable, .silent: walk.record(.silent)
            }
        }
        return walk.conclusion
    }

    private func unanswered(_ observation: Observation, size: Int) -> String {
        let how =
            report.method == .echo
            ? "ICMP echo" : (options.method == .auto ? "ICMP echo nor TCP SYN to port \(options.port)" : "TCP SYN to port \(options.port)")
        switch observation {
        case .unreachable(let from, let code):
            return
                "\(from.text) answers that \(target.address.text) is unreachable (\(ProbeAnswer.ICMPError.unreachableName(code: code, family: target.family))): no path to measure"
        case .timeExceeded(let from):
            return "\(from.text) answers that the TTL ran out before \(target.address.text) (a routing loop?)"
        case .tooBig(let from, let mtu, _):
            return
                "\(from.text) says even \(size) bytes are too big (MTU \(mtu.map(String.init) ?? "unknown")): that breaks the minimum every link must carry"
        default:
            return "\(target.address.text) does not answer \(size)-byte probes (\(how)): nothing to measure with"
                + (options.method == .icmp ? "; try --method tcp --port N with a port it serves" : "")
        }
    }

    /// One probe: up to `tries` transmissions, each waiting for an answer that quotes it.
    private func probe(size: Int, ttl: Int) throws -> Observation {
        var tags: [UInt16: (ProbePacket, ContinuousClock.Instant)] = [:]
        for attempt in 1...options.tries {
            guard report.transmissions + attempt <= options.maxProbes else { throw Exhausted() }
            let packet = ProbePacket(
                method: report.method, family: target.family, identifier: identifier, port: options.port, tag: nextTag, size: size)
            nextTag &+= 1
            pace()
            let sent = ContinuousClock.now
            try socket.send(packet.bytes(source: target.source, destination: target.address), method: packet.method, ttl: ttl)
            lastSend = sent
            tags[packet.tag] = (packet, sent)
            let deadline = sent + wait
            while let (answer, from) = socket.receive(until: deadline) {
                guard let (tag, observation) = match(answer, from: from, tags: tags, ttl: ttl) else { continue }
                let roundTrip = ContinuousClock.now - (tags[tag]?.1 ?? sent)
                if case .reached = observation, wait == options.timeout {
                    // The first answer shows how far away the destination is in time.
                    wait = min(options.timeout, max(options.shortestWait, roundTrip * 4))
                }
                report.records.append(
                    ProbeRecord(size: size, ttl: ttl, method: packet.method, transmissions: attempt, observation: observation, roundTrip: roundTrip))
                return observation
            }
        }
        report.records.append(
            ProbeRecord(size: size, ttl: ttl, method: report.method, transmissions: options.tries, observation: .silent, roundTrip: nil))
        return .silent
    }

    /// Waits until the rate allows the next transmission.
    private func pace() {
        guard let lastSend else { return }
        let gap = Duration.seconds(1 / options.rate)
        let left = lastSend + gap - ContinuousClock.now
        if left > .zero {
            let (seconds, attoseconds) = left.components
            usleep(UInt32(seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
        }
    }

    /// Which transmission an answer belongs to, and what it says; nil if none of ours.
    private func match(_ answer: ProbeAnswer, from: IPAddress, tags: [UInt16: (ProbePacket, ContinuousClock.Instant)], ttl: Int)
        -> (UInt16, Observation)?
    {
        switch answer {
        case .echoReply(let id, let sequence):
            guard report.method == .echo, id == identifier, from == target.address, tags[sequence] != nil else { return nil }
            return (sequence, .reached(from: from))
        case .tcp(let sourcePort, let destinationPort, let acknowledgement):
            guard report.method == .tcpSYN, sourcePort == options.port, destinationPort == identifier, from == target.address else { return nil }
            // A SYN-ACK acknowledges the SYN only; a RST also the data (RFC 793's reset
            // acknowledges every byte of the segment it answers).
            let hit = tags.first { _, value in
                let sequence = value.0.sequence
                return acknowledgement == sequence &+ 1 || acknowledgement == sequence &+ 1 &+ UInt32(value.0.paddingLength)
            }
            return hit.map { ($0.key, .reached(from: from)) }
        case .error(let error, let quote):
            let expected: UInt8 = report.method == .tcpSYN ? 6 : (target.family == .ipv4 ? 1 : 58)
            guard quote.destination == target.address, quote.protocolNumber == expected, quote.identifier == identifier, tags[quote.tag] != nil,
                report.method == .echo || quote.port == options.port
            else { return nil }
            switch error {
            case .tooBig(let mtu):
                let hop = ttl - Int(quote.ttl) + 1
                return (quote.tag, .tooBig(from: from, mtu: mtu, hop: (1...ttl).contains(hop) ? hop : nil))
            case .timeExceeded:
                return (quote.tag, .timeExceeded(from: from))
            case .unreachable(let code):
                // An unreachable from the destination itself (a port or a REJECT) means
                // the probe arrived.
                return (quote.tag, from == target.address ? .reached(from: from) : .unreachable(from: from, code: code))
            }
        }
    }
}

extension Observation {
    var isReached: Bool {
        if case .reached = self { return true }
        return false
    }

    /// A router's explicit no (unreachable): no point trying another method.
    var isRefusal: Bool {
        if case .unreachable = self { return true }
        return false
    }
}

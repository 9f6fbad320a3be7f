import MSSClampCore

extension PathReport {
    /// The report as the terminal shows it: one line per probe, tracepath-like, then the
    /// verdict and the MSS to clamp to.
    public var textLines: [String] {
        let familyName = family == .ipv4 ? "IPv4" : "IPv6"
        let via = target.interface.map { " via \($0)" } ?? ""
        let named = target.name == target.address.text ? target.address.text : "\(target.name) (\(target.address.text))"
        let port = method == .tcpSYN ? " to port \(port ?? 0)" : ""
        var lines = ["probe \(named), \(familyName), by \(method.description)\(port), from \(target.source.text)\(via), up to \(ceiling) bytes"]
        let width = String(records.map(\.size).max() ?? 0).count
        for record in records {
            let size = String(repeating: " ", count: max(0, width - String(record.size).count)) + String(record.size)
            let ttl = record.ttl == records.first?.ttl ? "" : " ttl \(record.ttl)"
            // The method only where it is not the run's (echo tried first, then TCP).
            let how = record.method == method ? "" : " by \(record.method.description)"
            lines.append("  \(size) bytes\(ttl)\(how): \(Self.describe(record, family: family))")
        }
        lines += verdictLines
        return lines
    }

    var verdictLines: [String] {
        var lines: [String] = []
        guard let pathMTU else {
            let between = largestReached.map { low in smallestFailed.map { " (between \(low) and \($0 - 1))" } ?? " (at least \(low))" } ?? ""
            lines.append("path MTU not found\(between): \(stopped ?? "the search did not end")")
            return lines
        }
        let tooBigName = family == .ipv4 ? "frag-needed" : "packet-too-big"
        if reachedCap {
            // --max stopped the search: larger sizes were never tried.
            lines.append("path MTU at least \(pathMTU): every size up to --max \(ceiling) arrived; larger sizes were not tried")
            lines.append("MSS: not concluded (probe without --max, or with a larger one, to find the path's MTU)")
            return lines
        }
        if let hop = announcedBy {
            lines.append("path MTU \(pathMTU): \(Self.name(hop)) announced it (\(tooBigName))")
        } else if isBlackHole {
            lines.append("path MTU \(pathMTU): larger packets vanish and no \(tooBigName) comes back: a black hole")
        } else if pathMTU == ceiling {
            lines.append("path MTU \(pathMTU): the whole path carries what this host can send")
        } else {
            lines.append("path MTU \(pathMTU)")
        }
        if let silentHop { lines.append(Self.describe(silentHop, size: smallestFailed ?? pathMTU + 1, tooBigName: tooBigName)) }
        let familyName = family == .ipv4 ? "IPv4" : "IPv6"
        // --clamp-to-mtu gives each family its own MSS from the one MTU.
        lines.append("MSS for \(familyName) SYNs on this path: \(family.mss(forMTU: pathMTU)) (mssclamp run --clamp-to-mtu \(pathMTU))")
        return lines
    }

    static func name(_ hop: Hop) -> String {
        hop.number > 0 ? "hop \(hop.number) (\(hop.address.text))" : hop.address.text
    }

    static func describe(_ record: ProbeRecord, family: IPFamily) -> String {
        let tries = record.transmissions > 1 ? ", try \(record.transmissions)" : ""
        switch record.observation {
        case .reached(let from):
            return "arrived (answer from \(from.text)\(record.roundTrip.map { ", " + milliseconds($0) } ?? "")\(tries))"
        case .tooBig(let from, let mtu, let hop):
            let who = hop.map { "hop \($0) (\(from.text))" } ?? from.text
            return "too big: \(family == .ipv4 ? "frag-needed" : "packet-too-big") from \(who), MTU \(mtu.map(String.init) ?? "not given")"
        case .timeExceeded(let from):
            return "time exceeded at hop \(record.ttl) (\(from.text))"
        case .unreachable(let from, let code):
            return "unreachable (\(ProbeAnswer.ICMPError.unreachableName(code: code, family: family))) from \(from.text)"
        case .silent:
            return "no answer (\(record.transmissions) tries)"
        }
    }

    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let hundredths = seconds * 100_000 + attoseconds / 10_000_000_000_000
        let fraction = String(hundredths % 100)
        return "\(hundredths / 100).\(fraction.count == 1 ? "0" + fraction : fraction) ms"
    }

    static func describe(_ conclusion: SilentHopWalk.Conclusion, size: Int, tooBigName: String) -> String {
        switch conclusion {
        case .located(let last, let missing, let isDestination, let unanswering):
            let next = isDestination ? "\(name(missing)), the destination," : name(missing)
            let quiet = unanswering.isEmpty ? "" : " (hops \(unanswering.map(String.init).joined(separator: ", ")) answer nothing)"
            guard let last else {
                return "black hole at the first link: \(next) never receives \(size)-byte packets from this host: "
                    + "the link carries less than this host's MTU (an MTU mismatch on the wire)\(quiet)"
            }
            return "black hole after \(name(last)): it receives \(size)-byte packets, \(next) never does; "
                + "hop \(last.number) sends no \(tooBigName) for them, or something drops it on the way back\(quiet)"
        case .announced(let hop, let mtu):
            return "\(name(hop)) announced MTU \(mtu.map(String.init) ?? "(not given)") to a TTL-limited probe: "
                + "its \(tooBigName) for the full-TTL probes was rate-limited or dropped on the way"
        case .unlocated(let why):
            return "black hole not located: \(why)"
        }
    }
}

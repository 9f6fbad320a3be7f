import MSSClampCore
import MSSClampReport

/// Dry-run's own lines around the per-packet ones: what the policy is and what a capture
/// cannot tell it, and the totals.
extension TextReport {
    /// Lines that say what the policy is and what the capture cannot tell it.
    public static func header(policy: Policy, options: DryRunOptions) -> [String] {
        var lines = policy.rules.enumerated().map { "policy: rule \($0.offset + 1): \($0.element.summary)" }
        let needsIn = policy.rules.contains { $0.inInterface != nil } && options.metadata.inInterface == nil
        let needsOut = policy.rules.contains { $0.outInterface != nil } && options.metadata.outInterface == nil
        if needsIn || needsOut {
            let flags = [needsIn ? "--assume-in IFACE" : nil, needsOut ? "--assume-out IFACE" : nil].compactMap { $0 }
            lines.append(
                "note: captures carry no interface names; rules matching on them report interface-unknown unless you give \(flags.joined(separator: " and "))"
            )
        }
        if policy.matchesIPsec && options.metadata.ipsec.inbound == nil { lines.append(IPsecNote.text) }
        if policy.rules.contains(where: { $0.action == .clampToPathMTU }) && options.pathMTU == nil {
            lines.append("note: captures carry no routes; clamp-mss-to-pmtu rules report path-mtu-unknown unless you give --assume-pmtu MTU")
        }
        if policy.rules.contains(where: { $0.action.followedInterface != nil }) && options.pathMTU == nil {
            lines.append(
                "note: captures carry no interface MTUs; clamp-to-interface rules report interface-mtu-unknown unless you give --assume-pmtu MTU")
        }
        for (host, mtu) in options.learned.paths.sorted(by: { $0.key.text < $1.key.text }) {
            lines.append(
                "assumed learned: path MTU \(mtu) toward \(host.text): SYNs from it at most MSS \(host.family.mss(forMTU: mtu)) (as run --learn-pmtu)"
            )
        }
        return lines
    }

    public static func summary(_ summary: DryRunSummary, policy: Policy, writePath: String?) -> [String] {
        var lines = ["", "\(summary.frames) frames (\(summary.linkLayer.name)), \(summary.nonIP) not IPv4/IPv6"]
        let counters = summary.counters
        var rows: [(String, String, UInt64, String)] = []
        for (index, kind) in OutcomeCounters.kinds.enumerated() where counters.byKind[index] > 0 {
            rows.append((kind.action, kind.reason ?? "", counters.byKind[index], explanation(action: kind.action, reason: kind.reason)))
        }
        let width = max(6, rows.map(\.1.count).max() ?? 0)
        for row in rows {
            let count = String(row.2)
            lines.append(
                "  " + pad(row.0, 10) + pad(row.1, width + 2) + String(repeating: " ", count: max(0, 7 - count.count)) + count + "  " + row.3)
        }
        for (index, rule) in policy.rules.enumerated() {
            lines.append("  rule \(index + 1): \(counters.byRule[index]) decided  \(rule.summary)")
        }
        if !summary.stalls.isEmpty {
            lines.append("\(summary.stalls.count) flow(s) stalled (a large segment sent again and again, nothing newer, no acknowledgement):")
            for stall in summary.stalls {
                let seconds = ((stall.detected - stall.firstSeen) * 10).rounded() / 10
                lines.append(
                    "  \(endpoint(stall.client, stall.clientPort)) < \(endpoint(stall.server, stall.serverPort)): a \(stall.size)-byte segment sent \(stall.copies) times in \(seconds) s"
                        + (stall.starvation.map { "; " + $0 } ?? ""))
            }
            lines.append("run --learn-stalls would have learned:" + (summary.wouldLearn.isEmpty ? " nothing" : ""))
            for entry in summary.wouldLearn {
                lines.append("  \(entry.host.text): path MTU \(entry.mtu) -> MSS \(entry.mss) (stalled at \(entry.stalledAt))")
            }
        }
        if let writePath {
            lines.append("wrote \(writePath): \(summary.written) frames, \(summary.rewritten) rewritten")
        }
        return lines
    }

    static func endpoint(_ address: IPAddress, _ port: UInt16) -> String { "\(address.text).\(port)" }

    static func explanation(action: String, reason: String?) -> String {
        if let reason, let found = Reason.allCases.first(where: { $0.label == reason }), action == "unchanged" {
            return found.explanation
        }
        if let reason, let found = DropReason.allCases.first(where: { $0.label == reason }) {
            return "the kernel rule drops it: " + found.explanation
        }
        return action == "clamped" ? "MSS lowered in place" : "MSS option added"
    }
}

import MSSClampConfig
import MSSClampCore

/// Renders a policy as iptables / ip6tables rules in iptables-restore syntax.
///
/// Only candidates are queued: each rule's NFQUEUE line carries the rule's own matches, and
/// a `-m tcpmss` range that leaves out SYNs already at or below the target, so those never
/// leave the kernel.
public enum IPTablesRenderer {
    /// The jump from FORWARD into our chain (arguments after `-A FORWARD`).
    public static func jump(_ options: SteeringOptions) -> [String] {
        ["-p", "tcp", "--tcp-flags", "SYN,RST", "SYN", "-m", "comment", "--comment", SteeringOptions.comment, "-j", options.chain]
    }

    /// The rules of our chain for one family (arguments after `-A CHAIN`), in policy order.
    public static func chainRules(_ policy: Policy, family: IPFamily, options: SteeringOptions) -> [[String]] {
        var lines: [[String]] = []
        for (index, rule) in policy.rules.enumerated() {
            guard rule.family.includes(family) else { continue }
            let sources = rule.sources.filter { $0.family == family }
            let destinations = rule.destinations.filter { $0.family == family }
            // A rule whose prefixes are all of the other family can never match here.
            if !rule.sources.isEmpty && sources.isEmpty { continue }
            if !rule.destinations.isEmpty && destinations.isEmpty { continue }

            var words = ["-p", "tcp"]
            if let inInterface = rule.inInterface { words += ["-i", inInterface.name] }
            if let outInterface = rule.outInterface { words += ["-o", outInterface.name] }
            if !sources.isEmpty { words += ["-s", sources.map(\.text).joined(separator: ",")] }
            if !destinations.isEmpty { words += ["-d", destinations.map(\.text).joined(separator: ",")] }
            switch rule.direction {
            case .both: words += ["--tcp-flags", "SYN,RST", "SYN"]
            case .syn: words += ["--syn"]
            case .synAck: words += ["--tcp-flags", "SYN,RST,ACK", "SYN,ACK"]
            }
            if let range = candidateRange(rule, family: family) {
                words += ["-m", "tcpmss", "--mss", range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound):\(range.upperBound)"]
            }
            let label = rule.name.map { "\(SteeringOptions.comment) rule \(index + 1) \($0)" } ?? "\(SteeringOptions.comment) rule \(index + 1)"
            words += ["-m", "comment", "--comment", label, "-j", "NFQUEUE"]
            if options.queues.count == 1 {
                words += ["--queue-num", "\(options.queues.lowerBound)"]
            } else {
                words += ["--queue-balance", "\(options.queues.lowerBound):\(options.queues.upperBound)"]
            }
            if options.bypass { words.append("--queue-bypass") }
            lines.append(words)
        }
        return lines
    }

    /// The MSS values worth queueing: the rule's range, raised past a fixed target (an MSS
    /// at or below it is never changed). Nil when every SYN must go to the worker (insertion
    /// needs the SYNs without MSS; a path-MTU target is only known per packet).
    static func candidateRange(_ rule: Rule, family: IPFamily) -> ClosedRange<UInt16>? {
        if rule.insertMissing { return nil }
        var target: Int?
        switch rule.action {
        case .setMSS(let v4, let v6): target = Int(family == .ipv4 ? v4 : v6)
        case .clampToMTU(let mtu): target = mtu - family.headerOverhead
        case .clampToPathMTU: target = nil
        }
        let range = rule.mssRange ?? 0...UInt16.max
        guard let target else { return rule.mssRange }
        let low = max(Int(range.lowerBound), target + 1)
        guard low <= Int(range.upperBound) else { return rule.mssRange }  // nothing to clamp: keep it visible
        return UInt16(low)...range.upperBound
    }

    /// One iptables-restore script (for `--noflush`): declares (and so empties) our chain,
    /// fills it, and adds the jump when it is not there yet.
    public static func restoreScript(_ policy: Policy, family: IPFamily, options: SteeringOptions, addJump: Bool) -> String {
        var lines = ["*mangle", ":\(options.chain) - [0:0]"]
        lines += chainRules(policy, family: family, options: options).map { "-A \(options.chain) " + quote($0) }
        if addJump { lines.append("-A FORWARD " + quote(jump(options))) }
        lines.append("COMMIT")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The script that takes our rules out again; parts already gone are left out, so it
    /// also cleans up a half-installed state.
    public static func removalScript(options: SteeringOptions, jumpPresent: Bool, chainPresent: Bool) -> String? {
        var lines = ["*mangle"]
        if jumpPresent { lines.append("-D FORWARD " + quote(jump(options))) }
        if chainPresent { lines += ["-F \(options.chain)", "-X \(options.chain)"] }
        guard lines.count > 1 else { return nil }
        lines.append("COMMIT")
        return lines.joined(separator: "\n") + "\n"
    }

    /// iptables-restore splits on spaces and honours double quotes.
    static func quote(_ words: [String]) -> String {
        words.map { $0.contains(" ") ? "\"\($0)\"" : $0 }.joined(separator: " ")
    }
}

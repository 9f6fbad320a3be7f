import MSSClampCore

/// Renders a policy as iptables / ip6tables rules (iptables-restore syntax for the chains,
/// whole commands for the kernel-only equivalent). One function, `matches`, turns a policy
/// rule into iptables matches; every renderer below uses it, so they cannot disagree.
public enum IPTablesRenderer {
    /// The iptables matches for one policy rule in one family and hook, without any MSS
    /// range; nil when the rule cannot match there (other family, or `-i` where no input
    /// interface exists).
    /// Without `selector`, the rule's `ipsec:` is left to the caller (a queueing line says
    /// it through its class instead).
    public static func matches(_ rule: Rule, family: IPFamily, hook: Hook = .forward, selector: Bool = true) -> [String]? {
        guard rule.family.includes(family) else { return nil }
        let sources = rule.sources.filter { $0.family == family }
        let destinations = rule.destinations.filter { $0.family == family }
        // A rule whose prefixes are all of the other family can never match here.
        if !rule.sources.isEmpty && sources.isEmpty { return nil }
        if !rule.destinations.isEmpty && destinations.isEmpty { return nil }
        if rule.inInterface != nil && !hook.allowsInInterface { return nil }
        if let ipsec = rule.ipsec, !hook.allows(ipsec) { return nil }
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
        if let ipsec = rule.ipsec, selector { words += ipsec.policyWords }
        return words
    }

    static func mssWords(_ range: ClosedRange<UInt16>?) -> [String] {
        guard let range else { return [] }
        return ["-m", "tcpmss", "--mss", range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound):\(range.upperBound)"]
    }

    /// `mssclamp[ suffix] rule N[ policy:DIGEST][ name]`: whose rule, which policy rule, and
    /// (for installed rules) which policy, values included.
    static func comment(_ rule: Rule, index: Int, suffix: String = "", digest: String? = nil) -> [String] {
        ["-m", "comment", "--comment", label(rule, index: index, suffix: suffix, digest: digest)]
    }

    static func label(_ rule: Rule, index: Int, suffix: String = "", digest: String? = nil) -> String {
        ["\(SteeringOptions.comment)\(suffix) rule \(index + 1)", digest.map { "policy:\($0)" }, rule.name]
            .compactMap { $0 }.joined(separator: " ")
    }

    /// The jump from a builtin chain into ours (arguments after `-A CHAIN`).
    public static func jump(to chain: String, label: String = SteeringOptions.comment) -> [String] {
        ["-p", "tcp", "--tcp-flags", "SYN,RST", "SYN", "-m", "comment", "--comment", label, "-j", chain]
    }

    /// The NFQUEUE rules of our chain for one family (arguments after `-A CHAIN`).
    ///
    /// Only candidates are queued: each line carries the rule's own matches and a
    /// `-m tcpmss` range that leaves out SYNs already at or below the target. Learning
    /// path MTUs queues the ICMP signals first, the policy's lines with only the rules' own
    /// ranges (kept for their counters), then every other SYN: a learned MTU can lower any
    /// SYN from its host, and every forwarded flow must be known to believe a signal.
    public static func chainRules(_ policy: Policy, family: IPFamily, options: SteeringOptions) -> [[String]] {
        var lines: [[String]] = []
        let digest = policy.digest
        let learning = options.learnPathMTU
        let learnLabel = ["-m", "comment", "--comment", "\(SteeringOptions.learnComment) policy:\(digest)"]
        let classes = IPsecClasses(policy)
        if learning { lines.append(signalMatch(family) + learnLabel + queue(options)) }
        for (index, rule) in policy.rules.enumerated() {
            guard let words = matches(rule, family: family, selector: false) else { continue }
            let range = learning ? rule.mssRange : candidateRange(rule, family: family)
            for number in classes.classes where classes.admits(rule.ipsec, ofClass: number) {
                lines.append(
                    words + classWords(classes, number) + mssWords(range) + comment(rule, index: index, digest: digest)
                        + queue(options, block: number))
            }
        }
        if learning {
            for number in classes.classes {
                lines.append(
                    ["-p", "tcp", "--tcp-flags", "SYN,RST", "SYN"] + classWords(classes, number) + learnLabel + queue(options, block: number))
            }
        }
        return lines
    }

    /// The `-m policy` matches that put a packet in class `number` (nothing without classes).
    static func classWords(_ classes: IPsecClasses, _ number: Int) -> [String] {
        var words: [String] = []
        if classes.inbound { words += ["-m", "policy", "--dir", "in", "--pol", number & 1 != 0 ? "ipsec" : "none"] }
        if classes.outbound { words += ["-m", "policy", "--dir", "out", "--pol", number & 2 != 0 ? "ipsec" : "none"] }
        return words
    }

    /// The NFQUEUE target with the options' queues, or with those of IPsec class `block`.
    static func queue(_ options: SteeringOptions, block: Int = 0) -> [String] {
        let queues = options.queues(block: block)
        var words = ["-j", "NFQUEUE"]
        if queues.count == 1 {
            words += ["--queue-num", "\(queues.lowerBound)"]
        } else {
            words += ["--queue-balance", "\(queues.lowerBound):\(queues.upperBound)"]
        }
        if options.bypass { words.append("--queue-bypass") }
        return words
    }

    /// ICMP "fragmentation needed" / ICMPv6 "packet too big": the path-MTU signals.
    static func signalMatch(_ family: IPFamily) -> [String] {
        family == .ipv4
            ? ["-p", "icmp", "-m", "icmp", "--icmp-type", "fragmentation-needed"]
            : ["-p", "ipv6-icmp", "-m", "icmp6", "--icmpv6-type", "packet-too-big"]
    }

    /// The TCPMSS target for a rule's action in one family.
    static func target(_ rule: Rule, family: IPFamily) -> [String] {
        switch rule.action {
        case .setMSS(let v4, let v6): return ["-j", "TCPMSS", "--set-mss", "\(family == .ipv4 ? v4 : v6)"]
        case .clampToMTU(let mtu): return ["-j", "TCPMSS", "--set-mss", "\(family.mss(forMTU: mtu))"]
        // The nearest kernel form of an interface's live MTU: the route's (notes say so).
        case .clampToPathMTU, .clampToInterface: return ["-j", "TCPMSS", "--clamp-mss-to-pmtu"]
        }
    }

    /// Safety-net rules for mangle POSTROUTING: the kernel clamps what the worker did not.
    /// A SYN the worker already clamped sits at the target, below the candidate range, so
    /// it no longer matches. Rules matching an input interface cannot be expressed there
    /// and are left out (`skipped` lists them).
    public static func safetyNetRules(_ policy: Policy, family: IPFamily) -> (rules: [[String]], skipped: [Int]) {
        postrouting(policy, family: family) { rule, index, words, digest in
            // An interface's live MTU has no kernel form: left to the worker.
            guard rule.action.followedInterface == nil else { return nil }
            return words + mssWords(candidateRange(rule, family: family)) + comment(rule, index: index, suffix: " safety-net", digest: digest)
                + target(rule, family: family)
        }
    }

    /// Counting rules for mangle POSTROUTING, one per policy rule with a fixed target: a SYN
    /// that reaches POSTROUTING still inside the candidate range was never clamped by the
    /// worker. It was let through by `--queue-bypass` (no worker bound) or by fail-open (the
    /// queue full or our socket overrun); both resume at the next table, skipping the rest
    /// of the queueing chain, so the count has to be taken here. They have no target:
    /// their packet counters are the figure. Path-MTU and insertion rules queue every SYN
    /// and leave no range to tell clamped from unclamped; they are skipped.
    public static func bypassRules(_ policy: Policy, family: IPFamily) -> (rules: [[String]], skipped: [Int]) {
        postrouting(policy, family: family) { rule, index, words, digest in
            guard let range = countableRange(rule, family: family) else { return nil }
            return words + mssWords(range) + comment(rule, index: index, suffix: " bypass", digest: digest)
        }
    }

    /// The candidate range when it tells clamped from unclamped SYNs (a fixed target below
    /// it), else nil.
    static func countableRange(_ rule: Rule, family: IPFamily) -> ClosedRange<UInt16>? {
        guard !rule.insertMissing, rule.action.fixedTarget(family) != nil, let range = candidateRange(rule, family: family) else { return nil }
        return range
    }

    /// One line per policy rule that can be written in POSTROUTING (no input interface).
    private static func postrouting(
        _ policy: Policy, family: IPFamily, _ line: (Rule, Int, [String], String) -> [String]?
    ) -> (rules: [[String]], skipped: [Int]) {
        var lines: [[String]] = []
        var skipped: [Int] = []
        let digest = policy.digest
        for (index, rule) in policy.rules.enumerated() {
            guard matches(rule, family: family, hook: .forward) != nil else { continue }
            guard let words = matches(rule, family: family, hook: .postrouting), let rendered = line(rule, index, words, digest) else {
                skipped.append(index)
                continue
            }
            lines.append(rendered)
        }
        return (lines, skipped)
    }

    /// The kernel-only equivalent: whole iptables commands doing the job with no daemon.
    /// A rule without insertion gets a range that needs an MSS option, because a bare
    /// TCPMSS rule would insert one.
    public static func kernelEquivalent(_ policy: Policy, family: IPFamily, hook: Hook = .forward) -> [String] {
        let tool = family == .ipv4 ? "iptables" : "ip6tables"
        var lines: [String] = []
        for (index, rule) in policy.rules.enumerated() {
            guard let words = matches(rule, family: family, hook: hook) else { continue }
            var range = rule.mssRange
            if range == nil && !rule.insertMissing { range = candidateRange(rule, family: family) ?? 1...65535 }
            let line = ["-t", "mangle", "-A", hook.chain] + words + mssWords(range) + comment(rule, index: index) + target(rule, family: family)
            lines.append(tool + " " + shellQuote(line))
        }
        return lines
    }

    /// The MSS values worth queueing: the rule's range, raised past a fixed target (an MSS
    /// at or below it is never changed). Nil when every SYN must go to the worker (insertion
    /// needs the SYNs without MSS; a path-MTU target is only known per packet).
    static func candidateRange(_ rule: Rule, family: IPFamily) -> ClosedRange<UInt16>? {
        if rule.insertMissing { return nil }
        let target = rule.action.fixedTarget(family)
        let range = rule.mssRange ?? 0...UInt16.max
        guard let target else { return rule.mssRange }
        let low = max(Int(range.lowerBound), target + 1)
        guard low <= Int(range.upperBound) else { return rule.mssRange }  // nothing to clamp: keep it visible
        return UInt16(low)...range.upperBound
    }

    /// One iptables-restore script (for `--noflush`): declares (and so empties) our chains,
    /// fills them, adds the jumps `missingJumps` names, and ends with `reconcile` (removal
    /// lines for leftovers of an earlier install) before the COMMIT.
    public static func restoreScript(
        _ policy: Policy, family: IPFamily, options: SteeringOptions, missingJumps: [(chain: String, rule: [String])],
        reconcile: [String] = []
    ) -> String {
        var lines = ["*mangle", ":\(options.chain) - [0:0]"]
        if options.countsBypass { lines.append(":\(options.bypassChain) - [0:0]") }
        if options.safetyNet { lines.append(":\(options.safetyNetChain) - [0:0]") }
        if options.learnStalls { lines.append(":\(options.stallChain) - [0:0]") }
        lines += chainRules(policy, family: family, options: options).map { "-A \(options.chain) " + quote($0) }
        if options.learnStalls { lines += stallRules(options, digest: policy.digest).map { "-A \(options.stallChain) " + quote($0) } }
        if options.countsBypass {
            lines += bypassRules(policy, family: family).rules.map { "-A \(options.bypassChain) " + quote($0) }
        }
        if options.safetyNet {
            lines += safetyNetRules(policy, family: family).rules.map { "-A \(options.safetyNetChain) " + quote($0) }
        }
        lines += missingJumps.map { "-A \($0.chain) " + quote($0.rule) }
        lines += reconcile
        lines.append("COMMIT")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Every jump the options call for in one family: (builtin chain, rule). The bypass
    /// counters come before the safety net in POSTROUTING: once the net has clamped a SYN it
    /// is out of range. Learning adds the signals' jumps (the SYN jumps are family-neutral).
    public static func jumps(_ options: SteeringOptions, family: IPFamily) -> [(chain: String, rule: [String])] {
        var result = options.hooks.map { ($0.chain, jump(to: options.chain)) }
        if options.learnPathMTU {
            result += SteeringOptions.signalHooks.map { ($0.chain, signalJump(to: options.chain, family: family)) }
        }
        if options.learnStalls { result.append(("FORWARD", stallJump(options))) }
        if options.countsBypass {
            result.append(("POSTROUTING", jump(to: options.bypassChain, label: "\(SteeringOptions.comment) bypass")))
        }
        if options.safetyNet {
            result.append(("POSTROUTING", jump(to: options.safetyNetChain, label: "\(SteeringOptions.comment) safety-net")))
        }
        return result
    }

    /// The stall watch's jump: the first packets of a flow this gateway saw open
    /// (ESTABLISHED: it saw both sides), while its client has sent only a handful. Every
    /// match is the kernel's; nothing is queued, the chain only copies (`stallRules`).
    public static func stallJump(_ options: SteeringOptions) -> [String] {
        [
            "-p", "tcp", "-m", "conntrack", "--ctstate", "ESTABLISHED",
            "-m", "connbytes", "--connbytes", "0:\(SteeringOptions.stallClientPackets)", "--connbytes-mode", "packets", "--connbytes-dir", "original",
            "-m", "connbytes", "--connbytes", "0:\(SteeringOptions.stallServerPackets)", "--connbytes-mode", "packets", "--connbytes-dir", "reply",
            "-m", "comment", "--comment", SteeringOptions.stallComment, "-j", options.stallChain,
        ]
    }

    /// The stall chain's two rules, header copies to the worker's NFLOG group, batched: the
    /// server's segments larger than the base size (what stalls), and the client's packets
    /// once the server has sent data (what it acknowledges: proof that large packets reach
    /// it, which tells congestion from a black hole).
    public static func stallRules(_ options: SteeringOptions, digest: String) -> [[String]] {
        let copy = [
            "-j", "NFLOG", "--nflog-group", "\(options.stallLogGroup)", "--nflog-size", "\(SteeringOptions.stallCopyRange)",
            "--nflog-threshold", "\(SteeringOptions.stallThreshold)",
        ]
        return [
            ["-m", "conntrack", "--ctdir", "REPLY", "-m", "length", "--length", "\(SteeringOptions.stallBaseSize + 1):65535"]
                + ["-m", "comment", "--comment", "\(SteeringOptions.stallComment) policy:\(digest)"] + copy,
            [
                "-m", "conntrack", "--ctdir", "ORIGINAL", "-m", "connbytes", "--connbytes", "2:\(SteeringOptions.stallServerPackets)",
                "--connbytes-mode", "packets", "--connbytes-dir", "reply", "-m", "comment", "--comment",
                "\(SteeringOptions.stallComment) acks policy:\(digest)",
            ] + copy,
        ]
    }

    /// The jump that brings one family's path-MTU signals into our chain.
    public static func signalJump(to chain: String, family: IPFamily) -> [String] {
        signalMatch(family) + ["-m", "comment", "--comment", SteeringOptions.learnComment, "-j", chain]
    }

    /// Every jump any options could have installed: what removal and reconciling look for.
    public static func allJumps(_ options: SteeringOptions, family: IPFamily) -> [(chain: String, rule: [String])] {
        var everything = options
        everything.hooks = Hook.allCases
        everything.safetyNet = true
        everything.learnPathMTU = true
        everything.learnStalls = true
        return jumps(everything, family: family) + [("POSTROUTING", jump(to: options.bypassChain, label: "\(SteeringOptions.comment) bypass"))]
    }

    /// The script that takes our rules out again; parts already gone are left out, so it
    /// also cleans up a half-installed state.
    public static func removalScript(presentJumps: [(chain: String, rule: [String])], presentChains: [String]) -> String? {
        var lines = ["*mangle"]
        lines += presentJumps.map { "-D \($0.chain) " + quote($0.rule) }
        lines += presentChains.map { "-F \($0)" }
        lines += presentChains.map { "-X \($0)" }
        guard lines.count > 1 else { return nil }
        lines.append("COMMIT")
        return lines.joined(separator: "\n") + "\n"
    }

    /// iptables-restore splits on spaces and honours double quotes.
    static func quote(_ words: [String]) -> String {
        words.map { $0.contains(" ") ? "\"\($0)\"" : $0 }.joined(separator: " ")
    }

    /// For printed commands a person pastes into a shell.
    static func shellQuote(_ words: [String]) -> String {
        words.map { word in
            word.allSatisfy({ $0.isLetter || $0.isNumber || "-_.,:/+=".contains($0) }) ? word : "'\(word)'"
        }.joined(separator: " ")
    }
}

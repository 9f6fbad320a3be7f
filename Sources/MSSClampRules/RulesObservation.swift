import MSSClampCore

/// What of mssclamp's stands in the firewall now, read in one pass (`iptables-save -c` per
/// family, or `nft list table`): which hooks jump to the queueing chain, which policy the
/// rules carry (the digest in their comments), and the packet counters of the bypass
/// counters and the safety net. Cheap enough to take every few seconds; `status`, the
/// worker's watch and the install notes all read it.
public struct RulesObservation: Sendable, Equatable, Codable {
    public struct Family: Sendable, Equatable, Codable {
        /// Builtin chains (FORWARD, OUTPUT, POSTROUTING) that jump to the queueing chain.
        public var hooks: [String] = []
        /// Rules in the queueing chain.
        public var queueRules = 0
        /// Whether path-MTU signals are steered to the queue (`--learn-pmtu`).
        public var steersSignals = false
        /// Whether the stall watch copies servers' large segments (`--learn-stalls`): its
        /// jump and its NFLOG rule both there. Nil (false) in state files of earlier versions.
        public var watchesStalls: Bool?
        /// Policy digests found in the comments of our rules.
        public var digests: [String] = []
        /// Whether the bypass counters are in place (chain and jump).
        public var bypassCounting = false
        /// Bypass counting rules, and the SYNs they counted.
        public var bypassRules = 0
        public var bypassPackets: UInt64 = 0
        /// Safety-net rules, and the SYNs they clamped.
        public var safetyNetRules = 0
        public var safetyNetPackets: UInt64 = 0

        public init() {}

        /// Anything of ours at all.
        public var isEmpty: Bool { hooks.isEmpty && queueRules == 0 && bypassRules == 0 && safetyNetRules == 0 }
    }

    public var backend: Backend
    public var ipv4 = Family()
    public var ipv6 = Family()

    public init(backend: Backend) {
        self.backend = backend
    }

    public subscript(family: IPFamily) -> Family {
        get { family == .ipv4 ? ipv4 : ipv6 }
        set { if family == .ipv4 { ipv4 = newValue } else { ipv6 = newValue } }
    }

    public var isEmpty: Bool { ipv4.isEmpty && ipv6.isEmpty }
    public var digests: Set<String> { Set(ipv4.digests + ipv6.digests) }
    public var hasSafetyNet: Bool { ipv4.safetyNetRules + ipv6.safetyNetRules > 0 }
    public var bypassPackets: UInt64 { ipv4.bypassPackets + ipv6.bypassPackets }
    public var safetyNetPackets: UInt64 { ipv4.safetyNetPackets + ipv6.safetyNetPackets }

    /// The `policy:XXXXXXXX` digest in a rule line's comment, if any.
    public static func digest(inRule line: String) -> String? {
        guard let range = line.firstRange(of: "policy:") else { return nil }
        let digest = line[range.upperBound...].prefix { $0.isHexDigit }
        return digest.count == 8 ? String(digest) : nil
    }

    /// Reads `iptables-save -c -t mangle` output for one family.
    public static func parse(iptablesSave text: String, options: SteeringOptions) -> Family {
        var seen = Family()
        var digests: Set<String> = []
        var stallJump = false, stallRule = false
        for rule in IPTablesListing.rules(text) where rule.isOurs {
            if let digest = RulesObservation.digest(inRule: rule.text) { digests.insert(digest) }
            switch rule.chain {
            case options.chain: seen.queueRules += 1
            case options.bypassChain:
                seen.bypassRules += 1
                seen.bypassPackets += rule.packets
            case options.safetyNetChain:
                seen.safetyNetRules += 1
                seen.safetyNetPackets += rule.packets
            case options.stallChain:
                stallRule = true
            default:
                if rule.target == options.stallChain {
                    stallJump = true
                } else if rule.text.contains(SteeringOptions.learnComment) {
                    seen.steersSignals = true
                } else if rule.target == options.chain {
                    seen.hooks.append(rule.chain)
                }
                if rule.target == options.bypassChain { seen.bypassCounting = true }
            }
        }
        seen.digests = digests.sorted()
        if stallJump && stallRule { seen.watchesStalls = true }
        return seen
    }

    /// Reads `nft list table inet mssclamp` output (or the script that makes it). Both
    /// families share the table: a rule counts for the families it applies to
    /// (`NFTListing.Rule.families`), a rule serving both counts its packets once (the
    /// totals add families up).
    public mutating func read(nftTable text: String) {
        var digests: Set<String> = []
        for rule in NFTListing.rules(text) where rule.isOurs {
            if let digest = RulesObservation.digest(inRule: rule.text) { digests.insert(digest) }
            for (index, family) in rule.families.enumerated() {
                count(rule.text, chain: rule.chain, packets: index == 0 ? rule.packets : 0, in: family)
            }
        }
        ipv4.digests = digests.sorted()
        ipv6.digests = digests.sorted()
    }

    /// One rule line in one family's figures.
    private mutating func count(_ line: String, chain: String, packets: UInt64, in family: IPFamily) {
        var seen = self[family]
        switch chain {
        case "bypass":
            seen.bypassRules += 1
            seen.bypassPackets += packets
            seen.bypassCounting = true
        case "safety_net":
            seen.safetyNetRules += 1
            seen.safetyNetPackets += packets
        case NFTablesRenderer.stallChain:
            seen.watchesStalls = true
        default:
            seen.queueRules += 1
            if line.contains(SteeringOptions.learnComment) {
                // Learning's lines stand for no hook of their own (`output` may hold only them).
                seen.steersSignals = true
            } else if !seen.hooks.contains(chain.uppercased()) {
                seen.hooks.append(chain.uppercased())
            }
        }
        self[family] = seen
    }
}

extension RulesObservation {
    /// The one "installed vs expected" diff: what of `expected` (a firewall's `expected(_:)`
    /// for the policy in force) is missing from this reading, one sentence per problem.
    /// `rules check`, the daemon's repair and `status` all judge with it, so they can never
    /// disagree about whether the rules are whole. Counters are not compared.
    public func problems(expected: RulesObservation) -> [String] {
        var problems: [String] = []
        for family in IPFamily.allCases {
            let want = expected[family], found = self[family]
            guard want.queueRules > 0 else { continue }
            for hook in want.hooks where !found.hooks.contains(hook) {
                problems.append("rules (\(family)): the jump from \(hook) to the queueing chain is missing, so no SYN reaches the worker")
            }
            if found.queueRules != want.queueRules {
                problems.append("rules (\(family)): \(found.queueRules) queueing rule(s) installed, the policy needs \(want.queueRules)")
            }
            if want.steersSignals && !found.steersSignals {
                problems.append(
                    "rules (\(family)): the jumps that bring ICMP frag-needed / packet-too-big to the worker are missing, so --learn-pmtu learns nothing"
                )
            }
            if want.watchesStalls == true && found.watchesStalls != true {
                problems.append(
                    "rules (\(family)): the stall watch (the jump to \(SteeringOptions.stallComment) and its NFLOG rule) is missing, so --learn-stalls notices nothing"
                )
            }
            if want.bypassCounting && !found.bypassCounting {
                problems.append("rules (\(family)): the bypass counters are missing, so SYNs that pass the queue unclamped go uncounted")
            }
            if want.safetyNetRules > 0 && found.safetyNetRules == 0 {
                problems.append("rules (\(family)): the safety net is missing")
            }
        }
        let others = digests.subtracting(expected.digests)
        if !others.isEmpty {
            problems.append(
                "rules: installed for another policy (policy:\(others.sorted().joined(separator: ","))); the running policy is policy:\(expected.digests.sorted().joined(separator: ","))"
            )
        }
        return problems
    }
}

import MSSClampCore

/// Words around the rendered rules that `mssclamp rules print` shows: the queues, why a
/// rule has no safety net, and the kernel-only equivalent of a policy in both syntaxes.
public enum RulesText {
    public static func queues(_ options: SteeringOptions) -> String {
        options.queues.count == 1 ? "queue \(options.queues.lowerBound)" : "queues \(options.queues.lowerBound)-\(options.queues.upperBound)"
    }

    public static func notes(_ policy: Policy, options: SteeringOptions) -> [String] {
        var notes: [String] = []
        if options.safetyNet {
            for family in IPFamily.allCases {
                for index in IPTablesRenderer.safetyNetRules(policy, family: family).skipped {
                    let rule = policy.rules[index]
                    let why =
                        if let name = rule.action.followedInterface {
                            "follows \(name)'s live MTU, which no kernel rule can"
                        } else if rule.inInterface != nil {
                            "matches an input interface; POSTROUTING cannot"
                        } else {
                            "asks whether a SYN came out of IPsec; POSTROUTING cannot"
                        }
                    notes.append("# note: rule \(index + 1) \(why), so it has no \(family) safety net")
                }
            }
            if policy.rules.count > 1 {
                notes.append("# note: TCPMSS does not end the chain: where several safety-net rules match, the lowest target wins")
            }
        }
        return notes
    }

    public static func kernelEquivalent(_ policy: Policy, hook: Hook) -> String {
        var lines = ["# Kernel-only equivalent (no daemon), iptables / ip6tables:"]
        for name in Set(policy.rules.compactMap(\.action.followedInterface)).sorted() {
            lines.append(
                "# note: clamp-to-interface \(name) has no kernel form; --clamp-mss-to-pmtu (nft: rt mtu) below gives the same only to SYNs routed out of \(name)"
            )
        }
        for family in IPFamily.allCases { lines += IPTablesRenderer.kernelEquivalent(policy, family: family, hook: hook) }
        lines += ["", "# nftables (nft -f FILE):"]
        lines.append(String(NFTablesRenderer.kernelEquivalent(policy, hook: hook).dropLast()))
        return lines.joined(separator: "\n")
    }
}

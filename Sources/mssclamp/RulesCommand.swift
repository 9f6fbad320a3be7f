import ArgumentParser
import MSSClampConfig
import MSSClampCore
import MSSClampNFQueue
import MSSClampRules

struct RulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Render, install, remove or check the steering rules for a policy (without running the worker).",
        subcommands: [Print.self, Install.self, Remove.self, Check.self]
    )

    struct Print: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the rules `install` would apply, or with --kernel-equivalent the TCPMSS / nftables rules that do the job with no daemon."
        )

        @OptionGroup(title: "Policy") var policy: PolicyOptions
        @OptionGroup(title: "Steering") var steering: SteeringArguments

        @Flag(name: .customLong("kernel-equivalent"), help: "The kernel-only equivalent: iptables TCPMSS commands and an nftables table.")
        var kernelEquivalent = false

        func run() async throws {
            let policy = try self.policy.policy()
            if kernelEquivalent {
                print(RulesText.kernelEquivalent(policy, hook: try steering.options().hooks[0]))
                return
            }
            let firewall = try await steering.firewall(for: policy)
            do { try firewall.validate(policy) } catch { throw CommandFailure.config(error.description) }
            print("# mssclamp steering rules, backend \(firewall.backend.rawValue)")
            print(firewall.rendered(policy), terminator: "")
            for note in RulesText.notes(policy, options: firewall.options) { print(note) }
        }
    }

    struct Install: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install the rules atomically; again changes nothing; reconciles what a crash left.")

        @OptionGroup(title: "Policy") var policy: PolicyOptions
        @OptionGroup(title: "Steering") var steering: SteeringArguments

        func run() async throws {
            let policy = try self.policy.policy()
            let firewall = try await steering.firewall(for: policy)
            do { try firewall.validate(policy) } catch { throw CommandFailure.config(error.description) }
            do {
                for note in try await firewall.install(policy) { print("note: \(note)") }
            } catch {
                throw CommandFailure.runtime(error.description)
            }
            print("installed (\(firewall.backend.rawValue)): \(policy.rules.count) rule(s) queueing to \(RulesText.queues(firewall.options))")
            // What `run` warns of at start (a missing interface, a range that changes nothing).
            for warning in policy.warnings(interfaces: InterfaceNames.current()) { FileHandleOutput.standardError("mssclamp: warning: \(warning)") }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove every rule mssclamp installed, and nothing else.",
            discussion: """
                Takes every flag `install` takes, so an install line becomes a remove line by \
                changing one word. None of them narrows what goes: every chain, jump and safety \
                net carrying the mssclamp comment is removed, whatever policy put it there. \
                --backend chooses the firewall to clean; with auto (the default) every backend \
                that holds mssclamp rules is cleaned (iptables-nft, nftables, and \
                iptables-legacy where its mangle table exists). The policy flags only name \
                rules of another policy in the notes printed. Exit 4 when a firewall \
                could not be read (no privilege): "nothing to remove" is said only after looking.
                """)

        @OptionGroup(title: "Policy") var policy: PolicyOptions
        @OptionGroup(title: "Steering") var steering: SteeringArguments

        func run() async throws {
            let policy = try self.policy.policy()
            let named = self.policy.spec.isEmpty && self.policy.config == nil ? nil : policy
            var firewalls: [any Firewall] = []
            if steering.backend.chosen == nil {
                let options = try steering.options()
                let survey = await Backend.survey(options: options)
                firewalls = survey.holding.map { $0.firewall(options) }
                for what in survey.unreadable { print("could not read: \(what)") }
                if firewalls.isEmpty && survey.unreadable.isEmpty {
                    print("nothing to remove: no mssclamp rules in iptables-nft, nftables or iptables-legacy")
                    return
                }
                if firewalls.isEmpty {
                    throw CommandFailure.couldNotLook(
                        "could not look: nothing removed; reading and changing the firewall needs root (or CAP_NET_ADMIN)")
                }
                try await Self.remove(firewalls, policy: named)
                // What could not be read may hold rules still: never "all gone" without looking.
                if !survey.unreadable.isEmpty {
                    throw CommandFailure.couldNotLook(
                        "could not look at every firewall: removed from \(firewalls.map(\.backend.rawValue).joined(separator: ", ")); run as root to look at the rest"
                    )
                }
                return
            } else {
                firewalls = [try await steering.firewall(for: policy)]
            }
            try await Self.remove(firewalls, policy: named)
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Exit 0 when the installed rules match the policy; otherwise print the differences and exit 1 (4: could not read the firewall).",
            discussion: """
                Compares the whole policy, values included: every installed rule carries the \
                policy's digest (policy:XXXXXXXX in its comment), so rules that queue the same \
                SYNs for another target are told apart. Takes every flag `install` takes.
                """)

        @OptionGroup(title: "Policy") var policy: PolicyOptions
        @OptionGroup(title: "Steering") var steering: SteeringArguments

        func run() async throws {
            let policy = try self.policy.policy()
            let firewall = try await steering.firewall(for: policy)
            let differences: [String]
            do {
                differences = try await firewall.check(policy)
            } catch  where error.reason == .denied {
                throw CommandFailure.couldNotLook("could not look: \(error.description)")
            } catch {
                throw CommandFailure.runtime(error.description)
            }
            if differences.isEmpty {
                print("ok: the installed rules match the policy (\(firewall.backend.rawValue))")
                return
            }
            differences.forEach { print($0) }
            print("rules: the installed rules differ from the policy")
            throw CommandFailure.verdict(ExitStatus.problem)
        }
    }
}

/// Words around the rendered rules.
enum RulesText {
    static func queues(_ options: SteeringOptions) -> String {
        options.queues.count == 1 ? "queue \(options.queues.lowerBound)" : "queues \(options.queues.lowerBound)-\(options.queues.upperBound)"
    }

    static func notes(_ policy: Policy, options: SteeringOptions) -> [String] {
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

    static func kernelEquivalent(_ policy: Policy, hook: Hook) -> String {
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

extension RulesCommand.Remove {
    static func remove(_ firewalls: [any Firewall], policy: Policy?) async throws(CommandFailure) {
        for firewall in firewalls {
            do {
                for note in try await firewall.remove(keepSafetyNet: false, policy: policy) { print("note: \(note)") }
            } catch {
                throw CommandFailure.runtime(error.description)
            }
            print("removed (\(firewall.backend.rawValue))")
        }
    }
}

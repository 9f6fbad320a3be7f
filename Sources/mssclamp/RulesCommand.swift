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
            do {
                guard steering.backend.chosen == nil else {
                    try await RulesRemoval.remove([try await steering.firewall(for: policy)], policy: named) { print($0) }
                    return
                }
                let verdict = try await RulesRemoval.everywhere(options: try steering.options(), policy: named) { print($0) }
                if case .couldNotLook(let message) = verdict { throw CommandFailure.couldNotLook(message) }
            } catch let error as FirewallError {
                throw CommandFailure.runtime(error.description)
            }
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

import MSSClampCore
import Subprocess

/// A firewall change that failed, with the tool's own words.
public struct FirewallError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Applies the steering rules with the iptables tools: atomically (`*-restore --noflush`,
/// one transaction per family), idempotently (our chain is declared, so re-installing
/// replaces its contents; the jump is added only when missing), and without a shell.
public struct Firewall: Sendable {
    public var options: SteeringOptions

    public init(options: SteeringOptions) {
        self.options = options
    }

    static func tools(_ family: IPFamily) -> (command: String, restore: String) {
        family == .ipv4 ? ("iptables", "iptables-restore") : ("ip6tables", "ip6tables-restore")
    }

    /// The families the policy has rules for.
    public static func families(_ policy: Policy, options: SteeringOptions) -> [IPFamily] {
        IPFamily.allCases.filter { !IPTablesRenderer.chainRules(policy, family: $0, options: options).isEmpty }
    }

    public func install(_ policy: Policy) async throws(FirewallError) {
        for family in IPFamily.allCases {
            let rules = IPTablesRenderer.chainRules(policy, family: family, options: options)
            guard !rules.isEmpty else {
                try await remove(family: family)
                continue
            }
            let jumpPresent = try await isPresent(family, ["-C", "FORWARD"] + IPTablesRenderer.jump(options))
            let script = IPTablesRenderer.restoreScript(policy, family: family, options: options, addJump: !jumpPresent)
            try await restore(family, script)
        }
    }

    public func remove() async throws(FirewallError) {
        for family in IPFamily.allCases { try await remove(family: family) }
    }

    func remove(family: IPFamily) async throws(FirewallError) {
        let jumpPresent = try await isPresent(family, ["-C", "FORWARD"] + IPTablesRenderer.jump(options))
        let chainPresent = try await isPresent(family, ["-n", "-L", options.chain])
        guard let script = IPTablesRenderer.removalScript(options: options, jumpPresent: jumpPresent, chainPresent: chainPresent) else { return }
        try await restore(family, script)
    }

    func restore(_ family: IPFamily, _ script: String) async throws(FirewallError) {
        let tool = Firewall.tools(family).restore
        let result = try await Firewall.execute(tool, ["-w", "--noflush"], input: script)
        guard result.status == 0 else {
            throw FirewallError("\(tool) failed (exit \(result.status)): \(result.error.trimmingCharacters())\nscript was:\n\(script)")
        }
    }

    /// Whether `iptables -t mangle ARGS` succeeds (a `-C` check or a chain listing).
    func isPresent(_ family: IPFamily, _ arguments: [String]) async throws(FirewallError) -> Bool {
        let tool = Firewall.tools(family).command
        let result = try await Firewall.execute(tool, ["-w", "-t", "mangle"] + arguments, input: nil)
        switch result.status {
        case 0: return true
        case 1, 2: return false
        default: throw FirewallError("\(tool) failed (exit \(result.status)): \(result.error.trimmingCharacters())")
        }
    }

    public struct Output: Sendable {
        public var status: Int32
        public var output: String
        public var error: String
    }

    /// Runs a tool by name (PATH), never through a shell.
    public static func execute(_ tool: String, _ arguments: [String], input: String?) async throws(FirewallError) -> Output {
        do {
            let result = try await Subprocess.run(
                .name(tool), arguments: Arguments(arguments),
                input: .string(input ?? ""), output: .string(limit: 1 << 22), error: .string(limit: 1 << 20))
            let status: Int32
            switch result.terminationStatus {
            case .exited(let code): status = code
            case .signaled(let signal): status = 128 + signal
            }
            return Output(status: status, output: result.standardOutput, error: result.standardError)
        } catch {
            throw FirewallError("cannot run \(tool): \(error) (is the iptables package installed?)")
        }
    }
}

extension String {
    func trimmingCharacters() -> String {
        var slice = Substring(self)
        while slice.last?.isWhitespace == true { slice.removeLast() }
        while slice.first?.isWhitespace == true { slice.removeFirst() }
        return String(slice)
    }
}

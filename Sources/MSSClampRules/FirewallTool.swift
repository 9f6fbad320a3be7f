import Subprocess

/// Runs the firewall's own tools (iptables*, nft) by name from PATH, never through a shell:
/// the one place a backend starts a process.
public enum FirewallTool {
    public struct Output: Sendable {
        public var status: Int32
        public var output: String
        public var error: String
    }

    public static func run(_ tool: String, _ arguments: [String], input: String? = nil) async throws(FirewallError) -> Output {
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
            throw FirewallError("cannot run \(tool): \(error) (is it installed? Debian: apt-get install iptables nftables)", reason: .notInstalled)
        }
    }

    /// Whether a tool's error text says the process lacked a privilege.
    public static func denied(_ stderr: String) -> Bool {
        stderr.contains("ermission denied") || stderr.contains("not permitted")
    }
}

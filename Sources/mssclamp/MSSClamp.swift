import ArgumentParser
import Glibc
import MSSClampDaemon

@main
struct MSSClamp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mssclamp",
        abstract: "Clamp the TCP MSS of SYNs crossing a VPN router, so tunnels stop black-holing TLS.",
        discussion: """
            The default policy (the packaged /etc/mssclamp.yaml too): SYN and SYN-ACK announcing \
            more than MSS 1340 get 1360 (IPv4) / 1340 (IPv6), what a tunnel of MTU 1400 \
            carries. Rule flags are named like iptables'; --config takes a YAML policy.
            """,
        version: "0.1.0",
        subcommands: [
            RunCommand.self, StatusCommand.self, RulesCommand.self, DryRunCommand.self, MSSCommand.self, WatchCommand.self, DoctorCommand.self,
            ProbeCommand.self, ReloadCommand.self,
        ]
    )

    /// Like iptables, every usage or policy problem exits 2 (ArgumentParser would say 64).
    static func main() async {
        do {
            var command = try parseAsRoot()
            // MSSCLAMP_CHECK_ONLY=1: parse and validate (a policy too), run nothing. The
            // README's recipes are held to today's binary this way (README test).
            if getenv("MSSCLAMP_CHECK_ONLY") != nil {
                if let run = command as? RunCommand { _ = try run.policy.policy() }
                if let rules = command as? RulesCommand.Install { _ = try rules.policy.policy() }
                if let rules = command as? RulesCommand.Print { _ = try rules.policy.policy() }
                if let rules = command as? RulesCommand.Check { _ = try rules.policy.policy() }
                if let watch = command as? WatchCommand, watch.policy.config != nil || !watch.policy.spec.isEmpty { _ = try watch.policy.policy() }
                Glibc.exit(0)
            }
            if var asynchronous = command as? AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let error as CommandFailure {
            // A verdict already printed on stdout is not said again on stderr.
            if let message = error.message { FileHandleOutput.standardError("mssclamp: \(message)") }
            Glibc.exit(error.code)
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                print(message)
                Glibc.exit(0)
            }
            FileHandleOutput.standardError(uniformPrefix(message))
            Glibc.exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }

    /// Every error line starts `mssclamp: `, ArgumentParser's (`Error: ...`) too.
    static func uniformPrefix(_ message: String) -> String {
        message.hasPrefix("Error: ") ? "mssclamp: " + message.dropFirst(7) : message
    }
}

/// A failure the command already explained; `code` is the exit status (one meaning each,
/// for every command: see `ExitStatus`).
struct CommandFailure: Error {
    /// Nil when the command's own output already said it (a verdict line on stdout).
    let message: String?
    let code: Int32

    init(message: String?, code: Int32) {
        self.message = message
        self.code = code
    }

    static func config(_ message: String) -> CommandFailure { CommandFailure(message: message, code: ExitStatus.usage) }
    static func runtime(_ message: String) -> CommandFailure { CommandFailure(message: message, code: ExitStatus.problem) }
    /// What a verdict depends on could not be read (no privilege): never "all clear".
    static func couldNotLook(_ message: String?) -> CommandFailure { CommandFailure(message: message, code: ExitStatus.couldNotLook) }
    /// The verdict is on stdout already; only the status remains.
    static func verdict(_ code: Int32) -> CommandFailure { CommandFailure(message: nil, code: code) }
}

/// Exit statuses shared by every command (README, man pages): like iptables, usage and
/// policy errors are 2; like LSB's `status` (3 not running, 4 unknown), 4 means the
/// command could not look.
enum ExitStatus {
    static let ok: Int32 = 0
    /// Findings to fix, a degraded worker, rules that differ, a failed action.
    static let problem: Int32 = 1
    static let usage: Int32 = 2
    /// `status`: stopped cleanly, or nothing installed.
    static let notRunning: Int32 = 3
    /// What the verdict depends on could not be read (run it as root / with CAP_NET_ADMIN).
    static let couldNotLook: Int32 = 4
}

enum FileHandleOutput {
    static func standardError(_ text: String) {
        // Write(2) directly: stdout is flushed first so lines come out in order.
        fflush(nil)
        // In the journal an error line is an error (`<3>`), not info.
        let line = (Journal.isStandardError ? "<3>" : "") + text + "\n"
        _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
    }
}

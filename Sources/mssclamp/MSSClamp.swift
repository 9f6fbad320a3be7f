import ArgumentParser
import Glibc

@main
struct MSSClamp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mssclamp",
        abstract: "Clamp the TCP MSS of SYNs crossing a VPN router, so tunnels stop black-holing TLS.",
        discussion: """
            The default policy is the classic rule: SYN and SYN-ACK with MSS 1361-1536 get 1360, \
            for IPv4 and IPv6. Rule flags are named like iptables'; --config takes a YAML policy.
            """,
        version: "0.1.0",
        subcommands: [
            RunCommand.self, StatusCommand.self, RulesCommand.self, DryRunCommand.self, MSSCommand.self, WatchCommand.self, DoctorCommand.self,
            ProbeCommand.self,
        ]
    )

    /// Like iptables, every usage or policy problem exits 2 (ArgumentParser would say 64).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let error as CommandFailure {
            FileHandleOutput.standardError("mssclamp: \(error.message)")
            Glibc.exit(error.code)
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                print(message)
                Glibc.exit(0)
            }
            FileHandleOutput.standardError(message)
            Glibc.exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}

/// A failure the command already explained; `code` is the exit status.
struct CommandFailure: Error {
    let message: String
    let code: Int32

    static func config(_ message: String) -> CommandFailure { CommandFailure(message: message, code: 2) }
    static func runtime(_ message: String) -> CommandFailure { CommandFailure(message: message, code: 1) }
}

enum FileHandleOutput {
    static func standardError(_ text: String) {
        // Write(2) directly: stdout is flushed first so lines come out in order.
        fflush(nil)
        let line = text + "\n"
        _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
    }
}

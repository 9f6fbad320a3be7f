import ArgumentParser
import MSSClampStatus

struct ReloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Reload the running worker's policy file and wait until it is in force, or refused (the unit's ExecReload).",
        discussion: """
            Sends SIGHUP to the worker that publishes its state here, then waits for the \
            worker's confirmation. Exit status: 0 the new policy is in force; 1 the worker \
            refused it and keeps the running policy (the reason is printed), or no worker \
            answered in time; 2 bad usage.
            """
    )

    @Option(
        name: .customLong("pid"), help: ArgumentHelp("The worker's pid (systemd's $MAINPID); default: the running worker here.", valueName: "pid"))
    var pid: Int32?

    @Option(name: .customLong("state-dir"), help: ArgumentHelp("Where workers publish their state.", valueName: "dir"))
    var stateDirectory = StatusStore.defaultDirectory

    @Option(name: .customLong("timeout"), help: ArgumentHelp("Seconds to wait for the worker's confirmation.", valueName: "seconds"))
    var timeout: Double = 60

    func validate() throws {
        guard timeout > 0 && timeout <= 3600 else { throw ValidationError("--timeout: \(timeout) must be 0-3600 seconds") }
        if let pid, pid <= 0 { throw ValidationError("--pid: \(pid) must be a process id") }
    }

    func run() async throws {
        let reloader = Reloader(store: StatusStore(directory: stateDirectory), timeout: timeout)
        let outcome: Reloader.Outcome
        do {
            outcome = try await reloader.reload(pid: pid)
        } catch {
            throw CommandFailure.runtime("reload: \(error.description)")
        }
        switch outcome {
        case .applied(let reload):
            print("reloaded: policy:\(reload.digest), \(reload.rules) rule(s) in force")
        case .refused(let reload):
            throw CommandFailure.runtime("reload refused; the running policy (policy:\(reload.digest)) stays: \(reload.message)")
        }
    }
}

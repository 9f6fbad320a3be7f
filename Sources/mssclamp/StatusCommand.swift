import ArgumentParser
import FoundationEssentials
import Glibc
import MSSClampNFQueue
import MSSClampRules
import MSSClampStatus

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Is mssclamp working here? The worker, its queues, recent SYNs, the rules, and every problem found.",
        discussion: """
            Reads the state the worker publishes in --state-dir (every second), the kernel's \
            queues (/proc/net/netfilter/nfnetlink_queue, root only) and the firewall \
            (CAP_NET_ADMIN; otherwise the worker's own reading is shown). Run it in the \
            network namespace of the worker.

            The first line is the verdict: OK (exit 0); DEGRADED or CRASHED (1, each reason \
            on a line of its own); STOPPED (cleanly) or NOT RUNNING (nothing of mssclamp's \
            here) (3, as LSB's status); UNKNOWN: could not look (4: no worker state and the \
            firewall unreadable; run as root). 2 is bad usage.
            """
    )

    @Flag(name: .customLong("json"), help: "One JSON object instead of text.")
    var json = false

    @Option(name: .customLong("state-dir"), help: ArgumentHelp("Where workers publish their state.", valueName: "dir"))
    var stateDirectory = StatusStore.defaultDirectory

    @Option(
        name: .customLong("backend"), help: ArgumentHelp("Firewall backend to read when no worker says which (default: auto).", valueName: "name"))
    var backend: BackendName?

    func run() async throws {
        let health = await Health.gather(stateDirectory: stateDirectory, backend: backend?.chosen)
        if json {
            print(StatusText.json(health))
        } else {
            StatusText.lines(health).forEach { print($0) }
        }
        if health.verdict.exitStatus != 0 { throw CommandFailure.verdict(health.verdict.exitStatus) }
    }
}

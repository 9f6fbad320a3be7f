import ArgumentParser
import FoundationEssentials
import MSSClampCore
import MSSClampProbe

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Find a path's MTU, the hop that black-holes larger packets, and the MSS to clamp to.",
        usage: "mssclamp probe <dest> [-4|-6] [--method auto|icmp|tcp] [--port <n>]",
        discussion: """
            Sends probes with Don't-Fragment set, one at a time, and searches for the largest \
            size that reaches DEST: ICMP echo, or TCP SYNs (carrying data) to --port where \
            echo is filtered. A router's frag-needed or packet-too-big names the MTU, and the \
            hop that sent it; where larger probes only vanish (a black hole), probes of the \
            failing size with TTL 1, 2, ... find the hop that receives them and does not \
            pass them on. A name is probed for each family it resolves to.

            Needs CAP_NET_RAW. Never sends more than --max-probes probes, nor faster than \
            --rate per second.

            Exit status: 0 path MTU found; 1 DEST does not answer, or a bound was reached; \
            2 bad usage (sizes, a name that does not resolve, no route, no CAP_NET_RAW).
            """
    )

    @Argument(help: ArgumentHelp("Address or name to probe.", valueName: "dest"))
    var destination: String

    @Option(name: .customLong("port"), help: ArgumentHelp("TCP port for SYN probes.", valueName: "n"))
    var port: Int = 443

    @Option(name: .customLong("method"), help: ArgumentHelp("auto (echo, then TCP SYN if echo is not answered), icmp or tcp.", valueName: "m"))
    var method: String = "auto"

    @Flag(name: .customShort("4"), help: "IPv4 only.")
    var ipv4Only = false

    @Flag(name: .customShort("6"), help: "IPv6 only.")
    var ipv6Only = false

    @Option(name: .customLong("max"), help: ArgumentHelp("Largest size to try (default: the outgoing interface's MTU).", valueName: "bytes"))
    var maximum: Int?

    @Option(name: .customLong("tries"), help: ArgumentHelp("Transmissions of a size before its silence counts.", valueName: "n"))
    var tries = 2

    @Option(name: .customLong("timeout"), help: ArgumentHelp("Longest wait for one answer, in seconds.", valueName: "s"))
    var timeout = 2.0

    @Option(name: .customLong("rate"), help: ArgumentHelp("Probes per second at most.", valueName: "n"))
    var rate = 20.0

    @Option(name: .customLong("max-probes"), help: ArgumentHelp("Probes in all (per family) at most.", valueName: "n"))
    var maxProbes = 100

    @Option(name: .customLong("max-hops"), help: ArgumentHelp("Farthest hop the black-hole walk looks at.", valueName: "n"))
    var maxHops = 30

    @Flag(name: .customLong("json"), help: "One JSON object: {\"paths\": [...]} with every probe.")
    var json = false

    func validate() throws {
        do { _ = try options() } catch { throw ValidationError(error.description) }
        guard !(ipv4Only && ipv6Only) else { throw ValidationError("-4 and -6 exclude each other") }
        guard !destination.isEmpty, !destination.hasPrefix("-") else { throw ValidationError("dest: '\(destination)' is not an address or a name") }
    }

    func options() throws(ProbeError) -> ProbeOptions {
        try ProbeOptions(
            method: method, port: port, maximum: maximum, tries: tries, timeout: timeout, rate: rate, maxProbes: maxProbes, maxHops: maxHops)
    }

    func run() throws {
        let families: [IPFamily] = ipv4Only ? [.ipv4] : ipv6Only ? [.ipv6] : [.ipv4, .ipv6]
        let plan: ProbePlan
        let outcome: ProbeOutcome
        do {
            plan = try ProbePlan(destination: destination, families: families, maximum: maximum)
            for note in plan.skipped { FileHandleOutput.standardError("mssclamp: probe: skipped \(note)") }
            var shown = 0
            outcome = try Prober.probe(plan, options: try options()) { report in
                guard !json else { return }
                if shown > 0 { print("") }
                report.textLines.forEach { print($0) }
                shown += 1
            }
        } catch {
            throw CommandFailure.config(error.description)
        }
        if json { print(outcome.json) }
        if !outcome.failures.isEmpty {
            // Each failure said once, on stderr (and in the JSON's "failures" with --json).
            outcome.failures.forEach { FileHandleOutput.standardError("mssclamp: probe: \($0)") }
            throw CommandFailure.verdict(ExitStatus.problem)
        }
    }
}

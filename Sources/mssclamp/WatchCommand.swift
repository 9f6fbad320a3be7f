import ArgumentParser
import Glibc
import MSSClampCapture
import MSSClampConfig
import MSSClampCore
import MSSClampLearning
import MSSClampReplay
import MSSClampReport
import MSSClampStatus
import MSSClampWatch

struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Show, live, the MSS that SYNs announce and the path-MTU ICMP crossing an interface.",
        usage: "mssclamp watch -i <iface> [--seconds N] [--count N] [--json] [policy]",
        discussion: """
            Captures on IFACE with libpcap (a kernel BPF filter: SYN, SYN-ACK, ICMP \
            fragmentation-needed, ICMPv6 packet-too-big) and changes nothing: one line per \
            SYN or SYN-ACK with the MSS seen and what the policy would do, one line per \
            frag-needed / packet-too-big with the MTU it announces and the flow it quotes. \
            On exit (SIGINT, SIGTERM, --seconds, --count) a histogram of the MSS values per \
            source subnet (/24, /64). Watch the interface clients come in by to see what they \
            send. Needs CAP_NET_RAW only.

            Exit status: 0 done; 1 the capture could not be opened or read; 2 bad usage.
            """
    )

    @Option(name: [.customShort("i"), .customLong("interface")], help: ArgumentHelp("The interface to capture on.", valueName: "iface"))
    var interface: String

    @OptionGroup(title: "Policy (default: the running worker's, else the default policy)")
    var policy: RuleFlags

    @Option(name: .customLong("state-dir"), help: ArgumentHelp("Where workers publish their state (for their policy).", valueName: "dir"))
    var stateDirectory = StatusStore.defaultDirectory

    @Option(
        name: .customLong("assume-ipsec"),
        help: ArgumentHelp("Take every SYN as having come out of IPsec (in), going into it (out), or neither (none).", valueName: "in|out|none"))
    var assumeIPsec: String?

    @Option(name: .customLong("seconds"), help: ArgumentHelp("Stop after this many seconds.", valueName: "N"))
    var seconds: Int?

    @Option(name: .customLong("count"), help: ArgumentHelp("Stop after this many lines.", valueName: "N"))
    var count: Int?

    @Flag(name: .customLong("json"), help: "JSON lines, then the histogram as one JSON object.")
    var json = false

    @Flag(name: .customLong("learn-pmtu"), help: "Learn path MTUs from the ICMP seen, as `run --learn-pmtu` would, and judge later SYNs with them.")
    var learnPathMTU = false

    func validate() throws {
        if let seconds, seconds < 1 { throw ValidationError("--seconds: \(seconds) must be 1 or more") }
        if let count, count < 1 { throw ValidationError("--count: \(count) must be 1 or more") }
    }

    /// The policy to judge by: the one given; else the running worker's here (as it
    /// publishes it), so `watch` says what the worker does; else the default. Said on stderr.
    func judgingPolicy() throws(CommandFailure) -> (Policy, String) {
        if policy.config != nil || !policy.spec.isEmpty { return (try policy.policy(), "the policy given") }
        guard let worker = StatusStore(directory: stateDirectory).running().first, let source = worker.policySource else {
            return (.default, "the default policy (no running worker publishes one here)")
        }
        let options: PolicyOptions
        do {
            options = try PolicyOptions.parse(source)
        } catch {
            throw CommandFailure.runtime("the running worker's policy arguments (\(source.joined(separator: " "))) do not parse: \(error)")
        }
        let found = try options.policy()
        guard found.digest == worker.policyDigest else {
            return (
                found,
                "the running worker's policy source as it reads now (policy:\(found.digest)); the worker (pid \(worker.pid)) runs policy:\(worker.policyDigest): reload it"
            )
        }
        return (found, "the running worker's policy (pid \(worker.pid), policy:\(found.digest))")
    }

    func run() throws {
        let (policy, judgedBy) = try judgingPolicy()
        let capture: LiveCapture
        do {
            capture = try LiveCapture(interface: interface, filter: Watcher.filter)
        } catch {
            throw CommandFailure.runtime(error.description)
        }
        let ipsec = try AssumedIPsec.parse(assumeIPsec)
        var watcher = Watcher(policy: policy, metadata: PacketMetadata(ipsec: ipsec), learning: learnPathMTU ? PathMTULearner.Limits() : nil)
        // Said in JSON mode too: stderr is not the JSON stream, and a script waits for it.
        FileHandleOutput.standardError("watching \(interface) (\(capture.linkLayer.name)), judging by \(judgedBy); ^C to stop")
        if let note = AssumedIPsec.note(policy, ipsec) { FileHandleOutput.standardError(note) }
        do {
            try watcher.run(capture, until: WatchLimits(seconds: seconds, count: count)) { event in
                print(json ? WatchJSON.line(event) : Watcher.text(event))
                fflush(nil)
            }
        } catch {
            throw CommandFailure.runtime(error.description)
        }
        if json {
            print(WatchJSON.histogram(watcher.histogram, dropped: capture.kernelDropped))
        } else {
            print("")
            watcher.histogram.lines.forEach { print($0) }
            if capture.kernelDropped > 0 { print("\(capture.kernelDropped) packets dropped by the kernel (not read in time)") }
        }
    }
}

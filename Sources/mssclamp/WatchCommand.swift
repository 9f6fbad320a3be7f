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

    @Flag(
        name: .customLong("learn-stalls"),
        help: "Also judge stalled flows as `run --learn-stalls` would (captures every TCP segment: heavier; for a watch of limited length).")
    var learnStalls = false

    func validate() throws {
        if let seconds, seconds < 1 { throw ValidationError("--seconds: \(seconds) must be 1 or more") }
        if let count, count < 1 { throw ValidationError("--count: \(count) must be 1 or more") }
    }

    func run() throws {
        let judging: JudgingPolicy
        do {
            let given = policy.config != nil || !policy.spec.isEmpty ? try RuleFlags.source(config: policy.config, spec: policy.spec) : nil
            judging = try JudgingPolicy(given: given, stateDirectory: stateDirectory)
        } catch let error as ConfigError {
            // The worker's own arguments not parsing is not this command's usage.
            throw error.source.hasPrefix("the running worker's")
                ? CommandFailure.runtime(error.description) : CommandFailure.config(error.description)
        }
        let policy = judging.policy, judgedBy = judging.judgedBy
        let capture: LiveCapture
        do {
            capture = try LiveCapture(interface: interface, filter: learnStalls ? Watcher.stallFilter : Watcher.filter)
        } catch {
            throw CommandFailure.runtime(error.description)
        }
        let ipsec = try AssumedIPsec.parse(assumeIPsec)
        var watcher = Watcher(
            policy: policy, metadata: PacketMetadata(ipsec: ipsec), learning: learnPathMTU ? PathMTULearner.Limits() : nil, learnStalls: learnStalls)
        // Said in JSON mode too: stderr is not the JSON stream, and a script waits for it.
        FileHandleOutput.standardError("watching \(interface) (\(capture.linkLayer.name)), judging by \(judgedBy); ^C to stop")
        if let note = IPsecNote.note(policy, ipsec) { FileHandleOutput.standardError(note) }
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

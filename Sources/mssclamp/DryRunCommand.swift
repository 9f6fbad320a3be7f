import ArgumentParser
import Glibc
import MSSClampConfig
import MSSClampCore
import MSSClampReplay
import MSSClampReport

struct DryRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dry-run",
        abstract: "Replay recorded SYNs from a pcap/pcapng and show what the policy would change, and why.",
        discussion: """
            Reads Ethernet (with VLAN tags), Linux cooked (SLL, SLL2), raw IP and BSD loopback \
            captures. Prints one tcpdump-like line per SYN / SYN-ACK (times in UTC), then counts.

            Exit status: 0 read to the end; 1 the capture could not be read or written; 2 bad policy.
            """
    )

    @Argument(help: ArgumentHelp("The capture to replay.", valueName: "capture"))
    var capture: String

    @OptionGroup(title: "Policy")
    var policy: PolicyOptions

    @Option(
        name: [.customShort("w"), .customLong("write")],
        help: ArgumentHelp("Write every frame, rewritten where the policy applies, to this pcap.", valueName: "file"))
    var write: String?

    @Flag(name: .customLong("json"), help: "JSON lines instead of text.")
    var json = false

    @Option(name: .customLong("filter"), help: ArgumentHelp("Only frames matching this tcpdump filter expression.", valueName: "bpf"))
    var filter: String?

    @Option(name: .customLong("assume-in"), help: ArgumentHelp("Input interface name to assume for every frame.", valueName: "iface"))
    var assumeIn: String?

    @Option(name: .customLong("assume-out"), help: ArgumentHelp("Output interface name to assume for every frame.", valueName: "iface"))
    var assumeOut: String?

    @Option(
        name: .customLong("assume-ipsec"),
        help: ArgumentHelp("Take every frame as having come out of IPsec (in), going into it (out), or neither (none).", valueName: "in|out|none"))
    var assumeIPsec: String?

    @Option(
        name: .customLong("assume-pmtu"),
        help: ArgumentHelp("Path MTU to assume for --clamp-mss-to-pmtu, and interface MTU for --clamp-to-interface.", valueName: "MTU"))
    var assumePMTU: Int?

    @Option(
        name: .customLong("assume-learned"),
        help: ArgumentHelp(
            "A path MTU `run --learn-pmtu` would have learned toward HOST: SYNs from HOST are lowered to its MSS (repeatable).",
            valueName: "host=MTU"))
    var assumeLearned: [String] = []

    @Flag(name: .customShort("t"), help: "Do not print timestamps (as tcpdump -t).")
    var noTime = false

    @Flag(name: [.customShort("q"), .customLong("quiet")], help: "Only the policy and the counts, no line per packet (big captures with -w).")
    var quiet = false

    mutating func run() throws {
        let policy = try self.policy.policy()
        if let assumePMTU, !(68...65535).contains(assumePMTU) {
            throw CommandFailure.config("--assume-pmtu: MTU \(assumePMTU) is outside 68-65535")
        }
        var options = DryRunOptions(
            policy: policy, metadata: PacketMetadata(inInterface: assumeIn, outInterface: assumeOut, ipsec: try AssumedIPsec.parse(assumeIPsec)),
            pathMTU: assumePMTU, filter: filter, writePath: write)
        for entry in assumeLearned {
            do throws(ConfigError) {
                let path = try LearnedPathText(entry)
                options.learned.paths[path.host] = path.mtu
            } catch {
                throw CommandFailure.config(error.description)
            }
        }
        var printer = DryRunPrinter(format: json ? .json : .text(showTime: !noTime), quiet: quiet, writePath: write)
        do {
            let summary = try DryRun.run(
                capture: capture, options: options, onOpen: { printer.header(policy: policy, options: options) },
                onRecord: printer.wantsRecords ? { printer.record($0) } : nil)
            printer.summary(summary, policy: policy)
        } catch {
            if case .read(_, let partial) = error { printer.summary(partial, policy: policy) } else { printer.flush() }
            throw CommandFailure.runtime(error.description)
        }
    }
}

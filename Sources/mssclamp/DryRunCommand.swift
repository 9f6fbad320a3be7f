import ArgumentParser
import Glibc
import MSSClampConfig
import MSSClampCore
import MSSClampLearning
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
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let host = IPAddress(text: parts[0]), let mtu = Int(parts[1]) else {
                throw CommandFailure.config("--assume-learned: '\(entry)' must be HOST=MTU (192.0.2.1=1400, 2001:db8::1=1400)")
            }
            // The learner's own limits: below them it refuses the ICMP as hostile.
            let floor = PathMTULearner.floor(host.family)
            guard (floor...65535).contains(mtu) else {
                throw CommandFailure.config(
                    "--assume-learned: MTU \(mtu) for \(parts[0]) is outside \(floor)-65535 (what --learn-pmtu would ever believe)")
            }
            options.learned.paths[host] = mtu
        }
        let json = self.json
        let noTime = self.noTime
        let quiet = self.quiet
        // Lines are gathered as bytes and written in 64 KiB chunks: a million-SYN replay
        // must not spend its time in print.
        var pending: [UInt8] = []
        pending.reserveCapacity(1 << 16)
        func flush() {
            fflush(nil)  // whatever print() holds goes first
            pending.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = Glibc.write(STDOUT_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                    if written < 0 && errno == EINTR { continue }
                    guard written > 0 else { break }  // stdout closed: nothing more to say there
                    offset += written
                }
            }
            pending.removeAll(keepingCapacity: true)
        }
        do {
            let summary = try DryRun.run(
                capture: capture, options: options,
                onOpen: {
                    if !json { TextReport.header(policy: policy, options: options).forEach { print($0) } }
                },
                onRecord: quiet
                    ? nil
                    : { record in
                        if json { pending += JSONReport.line(record).utf8 } else { TextReport.append(record, showTime: !noTime, to: &pending) }
                        pending.append(0x0a)
                        if pending.count >= 60_000 { flush() }
                    })
            flush()
            printSummary(summary, policy: policy)
        } catch {
            flush()
            if case .read(_, let partial) = error {
                printSummary(partial, policy: policy)
            }
            throw CommandFailure.runtime(error.description)
        }
    }

    func printSummary(_ summary: DryRunSummary, policy: Policy) {
        if json {
            print(JSONReport.summary(summary, writePath: write))
        } else {
            TextReport.summary(summary, policy: policy, writePath: write).forEach { print($0) }
        }
    }
}

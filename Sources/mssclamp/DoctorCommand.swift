import ArgumentParser
import MSSClampDoctor
import MSSClampStatus

struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Read this gateway and name every MTU trap found, each with its exact fix (read-only).",
        discussion: """
            Reads the sysctls that matter, the iptables / ip6tables rules (iptables-save) and \
            the nftables ruleset, the IPsec policies and SAs, and the links. Reports rules that drop ICMP frag-needed or \
            ICMPv6 packet-too-big, clamping that covers one family only or gives IPv6 the \
            IPv4 value, two clampers on the same SYNs, tunnel interfaces with nothing \
            clamping, and sysctls that defeat path-MTU discovery. Without root it does what \
            it can and says what it could not read. Changes nothing.

            Exit status: 0 nothing to fix (notes only); 1 findings to fix; 2 bad usage; \
            4 could not look (something was unreadable, run it as root) and nothing found in \
            the rest.
            """
    )

    @Flag(name: .customLong("json"), help: "One JSON object: findings (id, severity, summary, fix) and what could not be read.")
    var json = false

    @Option(name: .customLong("state-dir"), help: ArgumentHelp("Where mssclamp workers publish their state.", valueName: "dir"))
    var stateDirectory = StatusStore.defaultDirectory

    func run() async throws {
        let report = await Doctor.examine(stateDirectory: stateDirectory)
        if json { print(report.json) } else { report.text.forEach { print($0) } }
        if report.exitStatus != 0 { throw CommandFailure.verdict(report.exitStatus) }
    }
}

import ArgumentParser
import FoundationEssentials
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
        var facts = await GatewayFacts.read()
        // mssclamp's own worker, judged as `status` judges it (none publishing: nothing to say).
        let health = await Health.gather(stateDirectory: stateDirectory)
        if let running = health.inputs.workers.first(where: { $0.state == .running }) {
            facts.worker = .init(healthy: health.isHealthy, reasons: health.reasons, policy: running.policy)
        }
        let report = Doctor.examine(facts)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            report.text.forEach { print($0) }
        }
        if report.exitStatus != 0 { throw CommandFailure.verdict(report.exitStatus) }
    }
}

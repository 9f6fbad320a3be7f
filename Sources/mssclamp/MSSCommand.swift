import ArgumentParser
import FoundationEssentials
import MSSClampCore
import MSSClampTunnels

struct MSSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mss",
        abstract: "The MTU inside a tunnel and the MSS to clamp to, with the arithmetic shown.",
        usage: "mssclamp mss --tunnel <stack> [--outer ipv4|ipv6] [--link-mtu N] [--json]",
        discussion: """
            STACK lists the encapsulations from the inside out, joined by '+': pppoe, gre, \
            ipip, wireguard, vxlan, l2tp, openvpn (-gcm, -chacha, -cbc-sha1, -cbc-sha256), \
            esp-gcm, esp-cbc-sha1, esp-cbc-sha256 (tunnel mode; add -transport for transport \
            mode), and nat-t after an esp layer. Examples: wireguard, gre+esp-gcm-transport, \
            l2tp+esp-cbc-sha1-transport+nat-t, wireguard+pppoe.

            Padding is counted at its worst for the largest packet; every delivery IP header \
            is of the --outer family. The same numbers are what --set-mss-for-tunnel \
            STACK/OUTER[/MTU] puts in a rule.
            """
    )

    @Option(name: .customLong("tunnel"), help: ArgumentHelp("The tunnel's layers, inside first.", valueName: "stack"))
    var tunnel: String

    @Option(name: .customLong("outer"), help: ArgumentHelp("The network the tunnel runs over: ipv4 or ipv6.", valueName: "family"))
    var outer: String = "ipv4"

    @Option(name: .customLong("link-mtu"), help: ArgumentHelp("MTU of the link the tunnel leaves by.", valueName: "bytes"))
    var linkMTU: Int = 1500

    @Flag(name: .customLong("json"), help: "One JSON object instead of text.")
    var json = false

    func validate() throws {
        guard outer == "ipv4" || outer == "ipv6" else { throw ValidationError("--outer: '\(outer)' must be ipv4 or ipv6") }
        guard (576...65535).contains(linkMTU) else { throw ValidationError("--link-mtu: \(linkMTU) must be 576-65535") }
    }

    func run() throws {
        let budget: TunnelBudget
        do {
            budget = try TunnelBudget(TunnelStack(tunnel, outer: outer == "ipv6" ? .ipv6 : .ipv4), linkMTU: linkMTU)
        } catch {
            throw ValidationError("--tunnel: \(error.description)")
        }
        print(json ? Self.json(budget) : Self.text(budget, outer: outer), terminator: "")
    }

    static func text(_ budget: TunnelBudget, outer: String) -> String {
        var lines = ["\(budget.stack), link MTU \(budget.linkMTU)", "  \(pad(budget.linkMTU, 6))  link MTU"]
        lines += budget.steps.map { "  - \(pad($0.bytes, 4))  \($0.what)" }
        lines.append("  ------")
        lines.append("  \(pad(budget.innerMTU, 6))  MTU inside the tunnel")
        lines.append("")
        lines.append("MSS for IPv4 traffic: \(budget.innerMTU) - 20 (IPv4) - 20 (TCP) = \(budget.mssIPv4)")
        lines.append("MSS for IPv6 traffic: \(budget.innerMTU) - 40 (IPv6) - 20 (TCP) = \(budget.mssIPv6)")
        lines += budget.notes.map { "note: \($0)" }
        lines += budget.warnings.map { "warning: \($0)" }
        let spec =
            budget.stack.text + (outer == "ipv4" && budget.linkMTU == 1500 ? "" : "/\(outer)") + (budget.linkMTU == 1500 ? "" : "/\(budget.linkMTU)")
        lines.append("")
        lines.append("mssclamp run -o IFACE --set-mss \(budget.mssIPv4) --set-mss-ipv6 \(budget.mssIPv6)")
        lines.append("  (or: --set-mss-for-tunnel \(spec); in YAML: set-mss-for-tunnel: \(spec))")
        return lines.joined(separator: "\n") + "\n"
    }

    /// A number right-aligned in `width` columns (printf's %6d).
    static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: " ", count: max(0, width - text.count)) + text
    }

    struct Report: Encodable {
        struct Step: Encodable {
            let bytes: Int
            let what: String
        }
        let tunnel: String, outer: String, linkMTU: Int, steps: [Step], innerMTU: Int, mssIPv4: Int, mssIPv6: Int, notes: [String], warnings: [String]
        enum CodingKeys: String, CodingKey {
            case tunnel, outer, steps, notes, warnings
            case linkMTU = "link_mtu"
            case innerMTU = "inner_mtu"
            case mssIPv4 = "mss_ipv4"
            case mssIPv6 = "mss_ipv6"
        }
    }

    static func json(_ budget: TunnelBudget) -> String {
        let report = Report(
            tunnel: budget.stack.text, outer: budget.stack.outer == .ipv4 ? "ipv4" : "ipv6", linkMTU: budget.linkMTU,
            steps: budget.steps.map { Report.Step(bytes: $0.bytes, what: $0.what) },
            innerMTU: budget.innerMTU, mssIPv4: budget.mssIPv4, mssIPv6: budget.mssIPv6, notes: budget.notes,
            warnings: budget.warnings)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(report)) ?? Data(), as: UTF8.self) + "\n"
    }
}

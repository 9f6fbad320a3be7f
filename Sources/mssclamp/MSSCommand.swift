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

    @Option(
        name: .customLong("link-mtu"),
        help: ArgumentHelp("MTU of the link the tunnel's packets leave by (eth0's, not the tunnel's own).", valueName: "bytes"))
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
        print(json ? budget.json : budget.text, terminator: "")
    }
}

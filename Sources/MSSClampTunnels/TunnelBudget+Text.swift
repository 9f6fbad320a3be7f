import FoundationEssentials
import MSSClampCore

/// `mssclamp mss`'s output: the arithmetic, the MSS per family, and the command that fits
/// the stack as operators build it.
extension TunnelBudget {
    /// `STACK[/OUTER[/MTU]]` as `--set-mss-for-tunnel` takes it, defaults left out.
    public var spec: String {
        let outer = stack.outer == .ipv4 ? "ipv4" : "ipv6"
        return stack.text + (stack.outer == .ipv4 && linkMTU == 1500 ? "" : "/\(outer)") + (linkMTU == 1500 ? "" : "/\(linkMTU)")
    }

    /// The command to run for this stack, and why that one.
    ///
    /// Policy-based IPsec (strongSwan's and libreswan's default) has no interface and its
    /// route says 1500: the rule selects SYNs that came out of IPsec (`--ipsec in`). A tunnel
    /// whose tools give its interface an MTU the encapsulation carries (WireGuard, GRE,
    /// IP-in-IP, PPPoE) is best followed live (`--clamp-to-interface`), which stays right
    /// when the MTU is changed. Otherwise (OpenVPN's and VXLAN's interfaces are made 1500 and
    /// fragment outside; ESP under GRE is not in GRE's MTU) the fixed numbers.
    public var recipe: (command: String, lines: [String]) {
        let fixed = "--set-mss-for-tunnel \(spec)"
        let numbers = "(MSS \(mssIPv4) / \(mssIPv6))"
        if stack.layers.contains(where: \.isESPTunnelMode) {
            let command = "mssclamp run --ipsec in \(fixed)"
            return (command, ["\(command)   \(numbers)", "  policy-based IPsec has no interface: the rule takes the SYNs that came out of an SA"])
        }
        let esp = stack.layers.contains { if case .esp = $0 { return true } else { return false } }
        if !esp, let inner = stack.layers.first, let name = inner.followableInterface {
            let command = "mssclamp run -o eth0 --clamp-to-interface \(name)"
            return (
                command,
                [
                    command, "  eth0: your uplink; \(name): the tunnel; the MSS follows \(name)'s MTU as it is now",
                    "  or fixed: mssclamp run -o eth0 \(fixed)   \(numbers)",
                ]
            )
        }
        let command = "mssclamp run -o eth0 \(fixed)"
        return (command, ["\(command)   \(numbers)", "  eth0: your uplink, where the SYNs from the tunnel leave"])
    }

    public var text: String {
        var lines = ["\(stack), link MTU \(linkMTU)", "  \(Self.pad(linkMTU, 6))  link MTU"]
        lines += steps.map { "  - \(Self.pad($0.bytes, 4))  \($0.what)" }
        lines.append("  ------")
        lines.append("  \(Self.pad(innerMTU, 6))  MTU inside the tunnel")
        if let limit = interfaceLimit, limit.mtu < innerMTU {
            lines.append("  \(Self.pad(limit.mtu, 6))  \(limit.why): the limit")
        }
        lines.append("")
        lines.append("MSS for IPv4 traffic: \(clampMTU) - 20 (IPv4) - 20 (TCP) = \(mssIPv4)")
        lines.append("MSS for IPv6 traffic: \(clampMTU) - 40 (IPv6) - 20 (TCP) = \(mssIPv6)")
        lines += notes.map { "note: \($0)" }
        lines += warnings.map { "warning: \($0)" }
        lines.append("")
        lines += recipe.lines
        lines.append("  (in YAML: set-mss-for-tunnel: \(spec))")
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
        let tunnel: String, outer: String, linkMTU: Int, steps: [Step], innerMTU: Int, interfaceMTU: Int?, clampMTU: Int
        let mssIPv4: Int, mssIPv6: Int, notes: [String], warnings: [String], command: String
        enum CodingKeys: String, CodingKey {
            case tunnel, outer, steps, notes, warnings, command
            case linkMTU = "link_mtu"
            case innerMTU = "inner_mtu"
            case interfaceMTU = "interface_mtu"
            case clampMTU = "clamp_mtu"
            case mssIPv4 = "mss_ipv4"
            case mssIPv6 = "mss_ipv6"
        }
    }

    public var json: String {
        let report = Report(
            tunnel: stack.text, outer: stack.outer == .ipv4 ? "ipv4" : "ipv6", linkMTU: linkMTU,
            steps: steps.map { Report.Step(bytes: $0.bytes, what: $0.what) },
            innerMTU: innerMTU, interfaceMTU: interfaceLimit?.mtu, clampMTU: clampMTU, mssIPv4: mssIPv4, mssIPv6: mssIPv6, notes: notes,
            warnings: warnings, command: recipe.command)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(report)) ?? Data(), as: UTF8.self) + "\n"
    }
}

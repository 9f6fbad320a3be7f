import FoundationEssentials
import Glibc
import MSSClampCore
import MSSClampRules

extension GatewayFacts {
    /// A tool's error text on one line ("netlink: Error: ...\nDump terminated" reads as one).
    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { String($0).trimmingSpaces }.filter { !$0.isEmpty }.joined(separator: "; ")
    }

    /// Reads the gateway (this network namespace). Without root some of it cannot be read:
    /// that is recorded in `unread` and the checks that need it are skipped, not guessed.
    public static func read() async -> GatewayFacts {
        var facts = GatewayFacts()
        for key in sysctlKeys {
            let path = "/proc/sys/" + key.replacing(".", with: "/")
            if let value = try? String(contentsOfFile: path, encoding: .utf8) {
                facts.sysctls[key] = value.trimmingSpaces
            } else {
                facts.unread.append("sysctl \(key): cannot read \(path)")
            }
        }
        for family in IPFamily.allCases {
            let tool = family == .ipv4 ? "iptables-save" : "ip6tables-save"
            do {
                let output = try await FirewallTool.run(tool, [])
                if output.status == 0 {
                    facts.iptables[family] = output.output
                } else {
                    facts.unread.append("\(tool): \(oneLine(output.error))")
                }
            } catch  where error.reason == .notInstalled {
                continue  // no iptables here: no rules of its kind to read
            } catch {
                facts.unread.append("\(tool): \(error)")
            }
        }
        do {
            let output = try await FirewallTool.run("nft", ["list", "ruleset"])
            if output.status == 0 { facts.nftables = output.output } else { facts.unread.append("nft list ruleset: \(oneLine(output.error))") }
        } catch  where error.reason == .notInstalled {
            // no nft here: nothing to read (iptables-nft's rules are read through iptables-save)
        } catch {
            facts.unread.append("nft list ruleset: \(error)")
        }
        do {
            let output = try await FirewallTool.run("ip", ["-details", "-json", "link", "show"])
            if output.status == 0, let links = parseLinks(json: output.output) {
                facts.links = links
            } else {
                facts.unread.append("ip -details -json link show: \(oneLine(output.error))")
            }
        } catch {
            facts.unread.append("ip link: \(error)")
        }
        for (what, keyPath) in [("policy", \GatewayFacts.xfrmPolicies), ("state", \GatewayFacts.xfrmStates)] {
            do {
                let output = try await FirewallTool.run("ip", ["xfrm", what])
                if output.status == 0 {
                    facts[keyPath: keyPath] = output.output
                } else {
                    facts.unread.append("ip xfrm \(what): \(oneLine(output.error))")
                }
            } catch {
                facts.unread.append("ip xfrm \(what): \(error)")
            }
        }
        return facts
    }

    /// `ip -details -json link show`, the fields the checks use.
    static func parseLinks(json: String) -> [Link]? {
        struct Entry: Decodable {
            var ifname: String
            var mtu: Int
            var flags: [String]
            var linkinfo: Info?
            struct Info: Decodable { var info_kind: String? }
        }
        guard let entries = try? JSONDecoder().decode([Entry].self, from: Data(json.utf8)) else { return nil }
        return entries.map { Link(name: $0.ifname, kind: $0.linkinfo?.info_kind, mtu: $0.mtu, up: $0.flags.contains("UP")) }
    }
}

import MSSClampCore
import MSSClampTunnels
import Testing

/// The calculator against figures published by the protocols' authors and vendors, each
/// with its source, then the arithmetic of the composed stacks.
@Suite struct TunnelBudgetTests {
    func budget(_ stack: String, _ outer: IPFamily = .ipv4, mtu: Int = 1500) throws -> TunnelBudget {
        try TunnelBudget(TunnelStack(stack, outer: outer), linkMTU: mtu)
    }

    struct Published: Sendable, CustomTestStringConvertible {
        let stack: String, outer: IPFamily, innerMTU: Int, mss4: Int, mss6: Int, source: String
        var testDescription: String { "\(stack)/\(outer): \(source)" }
    }

    static let published: [Published] = [
        // RFC 2516 §4 (6-byte PPPoE header, 2-byte PPP protocol) and RFC 4638 §1: the
        // 1492-byte PPPoE MTU; MSS 1452 is the clamp every DSL router applies.
        Published(stack: "pppoe", outer: .ipv4, innerMTU: 1492, mss4: 1452, mss6: 1432, source: "RFC 2516, RFC 4638"),
        // Cisco, "Resolve IPv4 Fragmentation, MTU, MSS, and PMTUD Issues with GRE and IPsec":
        // GRE tunnel MTU 1476, `ip tcp adjust-mss 1436`; RFC 2784 (4-byte header).
        Published(stack: "gre", outer: .ipv4, innerMTU: 1476, mss4: 1436, mss6: 1416, source: "Cisco GRE/IPsec MTU guide, RFC 2784"),
        // WireGuard (wg-quick(8)): 60 bytes over IPv4 leave 1440, but wg-quick and the kernel
        // make the interface 1420 whatever the endpoint: the MSS is for 1420.
        Published(stack: "wireguard", outer: .ipv4, innerMTU: 1440, mss4: 1380, mss6: 1360, source: "wg-quick(8) overhead 60/80, MTU 1420"),
        Published(stack: "wireguard", outer: .ipv6, innerMTU: 1420, mss4: 1380, mss6: 1360, source: "wg-quick(8) default MTU 1420"),
        // Linux's ip6gre (ip6_gre.c: header + GRE + the 8-byte encapsulation limit option
        // of RFC 2473 unless `encaplimit none`): default MTU 1448 on a 1500 link.
        Published(stack: "gre", outer: .ipv6, innerMTU: 1448, mss4: 1408, mss6: 1388, source: "Linux ip6gre default MTU 1448"),
        // RFC 7348 §4.3: 50 bytes of VXLAN overhead on an IPv4 underlay, so 1450.
        Published(stack: "vxlan", outer: .ipv4, innerMTU: 1450, mss4: 1410, mss6: 1390, source: "RFC 7348"),
    ]

    @Test(arguments: published)
    func matchesPublishedFigures(_ case_: Published) throws {
        let result = try budget(case_.stack, case_.outer)
        #expect(result.innerMTU == case_.innerMTU)
        #expect(result.mssIPv4 == case_.mss4 && result.mssIPv6 == case_.mss6)
        // Every byte is accounted for in the steps shown.
        #expect(result.linkMTU - result.steps.reduce(0) { $0 + $1.bytes } == result.innerMTU)
    }

    /// Where a software default, not the encapsulation, sets the limit, the budget says so:
    /// WireGuard's interfaces are 1420 whatever the endpoint's family. IPv6 tunnels in Linux
    /// carry the 8-byte encapsulation limit option (measured in the VM lab's tunnel scenario).
    @Test func softwareDefaults() throws {
        #expect(try budget("wireguard").notes.count == 1)
        #expect(try budget("wireguard").notes.first?.contains("MSS 1380 (IPv4) / 1360 (IPv6)") == true)
        #expect(try budget("wireguard").clampMTU == 1420)
        #expect(try budget("wireguard", .ipv6).notes.isEmpty)
        // wg-quick takes the uplink's MTU - 80: PPPoE's 1492 gives 1412, below 1420.
        #expect(try budget("wireguard", mtu: 1492).clampMTU == 1412)
        #expect(try budget("wireguard+pppoe").clampMTU == 1412)
        // A jumbo uplink: `ip link add type wireguard` still makes 1420.
        #expect(try budget("wireguard", mtu: 9000).clampMTU == 1420)
        #expect(try budget("gre").clampMTU == 1476)
        #expect(try budget("gre").notes.isEmpty)
        #expect(try budget("gre+esp-gcm", .ipv6).steps.contains { $0.bytes == 8 && $0.what.contains("encapsulation limit") })
    }

    /// QUIC's 1200-byte UDP payload needs 1228 bytes of IPv4 and 1248 of IPv6 inside the
    /// tunnel (RFC 9000 §14, 8 of UDP, 20 / 40 of IP): below either, the budget warns.
    @Test func warnsWhereQUICCannotPass() throws {
        #expect(try budget("wireguard").warnings.isEmpty)
        // 1308 - 60 = 1248: exactly enough for both.
        #expect(try budget("wireguard", mtu: 1308).warnings.isEmpty)
        // 1307 - 60 = 1247: IPv6 only.
        let v6 = try budget("wireguard", mtu: 1307).warnings
        #expect(v6.count == 1 && v6[0].contains("carries 1247, so QUIC over IPv6 fails"))
        // 1287 - 60 = 1227: both families.
        #expect(try budget("wireguard", mtu: 1287).warnings.first?.contains("QUIC over IPv4 and IPv6 fails") == true)
        #expect(try budget("wireguard", mtu: 1288).warnings.first?.contains("QUIC over IPv6 fails") == true)
    }

    /// ESP, worked by hand from RFC 4303 (8-byte header, 2-byte trailer, 4-byte alignment),
    /// RFC 4106 (GCM: 8-byte IV, 16-byte ICV), RFC 3602 (CBC: 16-byte IV and blocks),
    /// RFC 2404 / RFC 4868 (12- / 16-byte ICV) and RFC 3948 (NAT-T: 8-byte UDP).
    @Test func espArithmetic() throws {
        // 1500 - 20 - 8 - 8 - 16 = 1448 (a multiple of 4) - 2 = 1446.
        #expect(try budget("esp-gcm").innerMTU == 1446)
        // 1500 - 20 - 8 - 16 - 12 = 1444 -> 1440 in 16-byte blocks - 2 = 1438.
        #expect(try budget("esp-cbc-sha1").innerMTU == 1438)
        // ... - 16 (SHA256-128) = 1440 - 2 = 1438; over IPv6: 1500 - 40 - 8 - 16 - 16 = 1420 -> 1408 - 2.
        #expect(try budget("esp-cbc-sha256").innerMTU == 1438)
        #expect(try budget("esp-cbc-sha256", .ipv6).innerMTU == 1406)
        // NAT-T: 8 more: 1500 - 20 - 8 - 8 - 8 - 16 = 1440 - 2 = 1438.
        #expect(try budget("esp-gcm+nat-t").innerMTU == 1438)
        // GRE over IPsec transport (the classic Cisco DMVPN shape): GRE's IP header stays in
        // front: 1500 - 20 - 8 - 8 - 16 = 1448 - 2 = 1446 for GRE + inner; - 4 GRE = 1442.
        #expect(try budget("gre+esp-gcm-transport").innerMTU == 1442)
        // GRE over IPsec tunnel mode: a second IP header: 1446 - 20 - 4 = 1422.
        #expect(try budget("gre+esp-gcm").innerMTU == 1422)
        // L2TP over IPsec transport with NAT-T (Windows/macOS L2TP VPN):
        // 1500 - 20 - 8 - 8 - 16 - 12 = 1436 -> 1424 - 2 = 1422, - 8 UDP - 8 L2TP - 4 PPP = 1402.
        #expect(try budget("l2tp+esp-cbc-sha1-transport+nat-t").innerMTU == 1402)
    }

    @Test func otherStacks() throws {
        #expect(try budget("ipip").innerMTU == 1480)
        // ip6tnl: 1500 - 40 - 8 (encapsulation limit option) = 1452, Linux's default MTU.
        #expect(try budget("ipip", .ipv6).innerMTU == 1452)
        // OpenVPN GCM over IPv4: 1500 - 20 - 8 - 4 - 4 - 16 = 1448.
        #expect(try budget("openvpn").innerMTU == 1448)
        #expect(try budget("openvpn-chacha", .ipv6).innerMTU == 1428)
        // CBC + SHA1: 1500 - 20 - 8 - 4 - 20 - 16 = 1432 -> 1424 in 16-byte blocks - 4 - 1 = 1419.
        #expect(try budget("openvpn-cbc-sha1").innerMTU == 1419)
        // GRE over a PPPoE link: 1492 - 20 - 4.
        #expect(try budget("gre+pppoe").innerMTU == 1468)
        // WireGuard on a 1492 link given as the link MTU instead.
        #expect(try budget("wireguard", mtu: 1492).innerMTU == 1432)
    }

    @Test func badStacksAreExplained() {
        let unknown = #expect(throws: TunnelError.self) { try TunnelStack("wireguard+ipsec") }
        #expect(unknown?.description.contains("unknown layer 'ipsec'") == true)
        let natt = #expect(throws: TunnelError.self) { try TunnelStack("gre+nat-t") }
        #expect(natt?.description.contains("must follow an esp") == true)
        let pppoe = #expect(throws: TunnelError.self) { try TunnelStack("pppoe+gre") }
        #expect(pppoe?.description.contains("must come last") == true)
        let transport = #expect(throws: TunnelError.self) { try TunnelStack("esp-gcm-transport") }
        #expect(transport?.description.contains("transport mode") == true)
        #expect(throws: TunnelError.self) { try TunnelBudget(TunnelStack("gre"), linkMTU: 120) }
    }

    @Test func specsAsRulesTakeThem() throws {
        let (stack, mtu) = try TunnelStack.parseSpec("wireguard/ipv6")
        #expect(stack.outer == .ipv6 && mtu == 1500 && stack.layers == [.wireguard])
        let (gre, link) = try TunnelStack.parseSpec("gre+esp-gcm/ipv4/1492")
        #expect(gre.layers.count == 2 && link == 1492)
        #expect(throws: TunnelError.self) { try TunnelStack.parseSpec("wireguard/ipv5") }
        #expect(throws: TunnelError.self) { try TunnelStack.parseSpec("wireguard/ipv4/100") }
    }

    /// The command `mss` suggests fits the stack: `--ipsec in` for policy-based IPsec (no
    /// interface), `--clamp-to-interface` where the tools give the interface an MTU the
    /// encapsulation carries, fixed numbers where they do not (OpenVPN's and VXLAN's 1500).
    @Test func recipeFitsTheStack() throws {
        #expect(try budget("esp-gcm").recipe.command == "mssclamp run --ipsec in --set-mss-for-tunnel esp-gcm")
        #expect(try budget("esp-cbc-sha1+nat-t", .ipv6).recipe.command == "mssclamp run --ipsec in --set-mss-for-tunnel esp-cbc-sha1+nat-t/ipv6")
        #expect(try budget("wireguard").recipe.command == "mssclamp run -o eth0 --clamp-to-interface wg0")
        #expect(try budget("gre").recipe.command == "mssclamp run -o eth0 --clamp-to-interface gre1")
        #expect(try budget("openvpn").recipe.command == "mssclamp run -o eth0 --set-mss-for-tunnel openvpn")
        #expect(try budget("vxlan", mtu: 9000).recipe.command == "mssclamp run -o eth0 --set-mss-for-tunnel vxlan/ipv4/9000")
        // ESP under GRE is not in GRE's interface MTU: fixed numbers.
        #expect(try budget("gre+esp-gcm-transport").recipe.command == "mssclamp run -o eth0 --set-mss-for-tunnel gre+esp-gcm-transport")
        #expect(try budget("wireguard").recipe.lines.contains { $0.contains("--set-mss-for-tunnel wireguard   (MSS 1380 / 1360)") })
    }

    /// An operator who writes "ipsec" is told which names mean IPsec.
    @Test func ipsecPointsToTheESPStacks() {
        #expect(throws: TunnelError.self) { try TunnelStack("ipsec") }
        do {
            _ = try TunnelStack("ipsec")
        } catch {
            #expect(error.description.contains("IPsec is ESP with its cipher: esp-gcm"))
        }
    }
}

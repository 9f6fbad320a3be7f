import Foundation
import TestSupport
import Testing

/// `mssclamp mss` and `--set-mss-for-tunnel` through the real binary.
@Suite struct MSSCommandTests {
    @Test func showsTheArithmeticAndTheRule() {
        let result = TestSupport.run(TestSupport.binary, ["mss", "--tunnel", "wireguard", "--outer", "ipv6"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "wireguard over IPv6, link MTU 1500")
        #expect(lines.contains("  -   40  IPv6 header (WireGuard delivery)"))
        #expect(lines.contains("    1420  MTU inside the tunnel"))
        #expect(lines.contains("MSS for IPv4 traffic: 1420 - 20 (IPv4) - 20 (TCP) = 1380"))
        #expect(lines.contains("MSS for IPv6 traffic: 1420 - 40 (IPv6) - 20 (TCP) = 1360"))
        #expect(result.stdout.contains("--set-mss-for-tunnel wireguard/ipv6"))
    }

    @Test func jsonForMachines() throws {
        let result = TestSupport.run(TestSupport.binary, ["mss", "--tunnel", "gre+esp-gcm+nat-t", "--link-mtu", "1492", "--json"])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        // 1492 - 20 - 8 - 8 - 8 - 16 = 1432 -> - 2 = 1430; - 20 - 4 (GRE in ESP tunnel) = 1406.
        #expect(object["inner_mtu"] as? Int == 1406)
        #expect(object["mss_ipv4"] as? Int == 1366 && object["mss_ipv6"] as? Int == 1346)
        #expect((object["steps"] as? [[String: Any]])?.count == 8, "1432 is whole 4-byte units: no rounding step")
    }

    /// WireGuard over IPv4 carries 1440, but its interfaces default to 1420: the output says so
    /// (text and JSON), and nothing is said where the default is the answer.
    @Test func notesWhereASoftwareDefaultDecides() throws {
        let text = TestSupport.run(TestSupport.binary, ["mss", "--tunnel", "wireguard"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("note: the encapsulation leaves 1440, but wg0's MTU as wg-quick"))
        #expect(text.stdout.contains("MSS 1380 (IPv4) / 1360 (IPv6)"))
        #expect(
            text.stdout.contains("    1420  wg0's MTU as wg-quick (link 1500 - 80 = 1420) and `ip link add type wireguard` (1420) make it: the limit")
        )
        #expect(text.stdout.contains("MSS for IPv4 traffic: 1420 - 20 (IPv4) - 20 (TCP) = 1380"))
        #expect(text.stdout.contains("mssclamp run -o eth0 --clamp-to-interface wg0"))
        #expect(!text.stdout.contains("-o IFACE"))
        let v6 = TestSupport.run(TestSupport.binary, ["mss", "--tunnel", "wireguard", "--outer", "ipv6", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(v6.stdout.utf8)) as? [String: Any])
        #expect((object["notes"] as? [String])?.isEmpty == true)
        let v4 = TestSupport.run(TestSupport.binary, ["mss", "--tunnel", "wireguard", "--json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(v4.stdout.utf8)) as? [String: Any])
        #expect((json["notes"] as? [String])?.count == 1)
        #expect(json["inner_mtu"] as? Int == 1440 && json["clamp_mtu"] as? Int == 1420 && json["mss_ipv4"] as? Int == 1380)
        #expect(json["command"] as? String == "mssclamp run -o eth0 --clamp-to-interface wg0")
    }

    /// The Quick start's fixed recipe is safe for wg0 as wg-quick makes it (MTU 1420).
    @Test func wireguardRecipeFitsWgQuick() {
        let result = TestSupport.run(TestSupport.binary, ["rules", "print", "-o", "eth0", "--set-mss-for-tunnel", "wireguard"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("--mss 1381:65535"), "IPv4 above 1380 queued")
        #expect(result.stdout.contains("--mss 1361:65535"), "IPv6 above 1360 queued")
        let esp = TestSupport.run(TestSupport.binary, ["mss", "--tunnel", "esp-gcm"])
        #expect(esp.stdout.contains("mssclamp run --ipsec in --set-mss-for-tunnel esp-gcm"))
    }

    /// A tunnel too narrow for QUIC says so, in text and JSON; a roomy one says nothing.
    @Test func warnsWhereQUICCannotPass() throws {
        let text = TestSupport.run(TestSupport.binary, ["mss", "--tunnel", "gre+esp-cbc-sha256+pppoe", "--link-mtu", "1320"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("warning: QUIC (HTTP/3) needs 1228 bytes inside the tunnel over IPv4 and 1248 over IPv6"))
        let json = TestSupport.run(TestSupport.binary, ["mss", "--tunnel", "wireguard", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect((object["warnings"] as? [String])?.isEmpty == true)
    }

    @Test func badStacksAreUsageErrors() {
        let result = TestSupport.run(TestSupport.binary, ["mss", "--tunnel", "wireguard+ipsec"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("unknown layer 'ipsec'"))
        #expect(TestSupport.run(TestSupport.binary, ["mss", "--tunnel", "gre", "--outer", "ipx"]).status == 2)
    }

    @Test func rulesTakeTheTunnelsNumbers() {
        let result = TestSupport.run(TestSupport.binary, ["rules", "print", "-o", "wg0", "--set-mss-for-tunnel", "wireguard/ipv6"])
        #expect(result.status == 0, "\(result.stderr)")
        // The steering rules queue only SYNs above each family's target.
        #expect(result.stdout.contains("-o wg0 --tcp-flags SYN,RST SYN -m tcpmss --mss 1381:65535"))
        #expect(result.stdout.contains("-o wg0 --tcp-flags SYN,RST SYN -m tcpmss --mss 1361:65535"))
        let bad = TestSupport.run(TestSupport.binary, ["rules", "print", "--set-mss-for-tunnel", "wireguard/ipv9"])
        #expect(bad.status == 2 && bad.stderr.contains("--set-mss-for-tunnel"))
    }
}

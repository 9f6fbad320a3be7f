import Foundation
import MSSClampConfig
import MSSClampCore
import TestSupport
import Testing

@Suite struct PolicyFileTests {
    @Test func fullRule() throws {
        let policy = try PolicyFile.parse(
            """
            # VPN pool out to the WAN
            rules:
              - name: vpn-to-wan
                family: both
                source: [198.51.100.0/24, "2001:db8:100::/56"]
                out-interface: eth0
                in-interface: wg+
                direction: syn
                mss: 1361:1536
                set-mss: { ipv4: 1360, ipv6: 1340 }
              - clamp-mss-to-pmtu: true
                insert-missing: true
            """, source: "t.yaml")
        #expect(policy.rules.count == 2)
        let first = policy.rules[0]
        #expect(first.name == "vpn-to-wan")
        #expect(first.sources.map(\.text) == ["198.51.100.0/24", "2001:db8:100::/56"])
        #expect(first.outInterface == InterfacePattern("eth0"))
        #expect(first.inInterface?.isWildcard == true)
        #expect(first.direction == .syn)
        #expect(first.mssRange == 1361...1536)
        #expect(first.action == .setMSS(ipv4: 1360, ipv6: 1340))
        #expect(
            first.summary
                == "-i wg+ -o eth0 -s 198.51.100.0/24,2001:db8:100::/56 --syn -m tcpmss --mss 1361:1536 -> set-mss 1360 (IPv4) / 1340 (IPv6)")
        let second = policy.rules[1]
        #expect(second.action == .clampToPathMTU && second.mssRange == nil && second.insertMissing)
    }

    /// A file rule must say what it does: a forgotten action is an error naming the rule,
    /// not a silent clamp to 1360 (the command line takes the default policy's rule).
    @Test func ruleWithoutActionIsAnError() throws {
        #expect(
            throws: ConfigError(
                source: "t.yaml", line: 2, key: "rules[0]",
                message: "no action: give set-mss, clamp-mss-to-pmtu, clamp-to-mtu, clamp-to-interface or set-mss-for-tunnel")
        ) {
            try PolicyFile.parse("rules:\n  - out-interface: eth0\n", source: "t.yaml")
        }
        #expect(throws: ConfigError.self) { try PolicyFile.parse("rules:\n  - mss: any\n    set-mss: 1300\n  - mss: any\n", source: "t.yaml") }
        let flags = try RuleSpec.flags(outInterface: "eth0").rule(source: "command line")
        #expect(flags.mssRange == 1341...1536 && flags.action == .setMSS(ipv4: 1360, ipv6: 1340))
    }

    @Test func lintNamesMissingInterfacesAndDeadRanges() throws {
        let policy = try PolicyFile.parse(
            """
            rules:
              - out-interface: wan
                set-mss: 1360
              - in-interface: wg+
                mss: 1000:1300
                set-mss: 1360
              - out-interface: eth0
                mss: 1361:1536
                set-mss: 1360
            """, source: "t.yaml")
        let warnings = policy.warnings(interfaces: ["lo", "eth0"])
        #expect(warnings.count == 3, "\(warnings)")
        #expect(warnings[0].hasPrefix("rule 1: interface wan (-o) does not exist now"))
        #expect(warnings[1].hasPrefix("rule 2: no interface matches -i wg+ now"))
        #expect(warnings[2].hasPrefix("rule 2: every MSS in 1000:1300 is at or below the target (1360/1360)"))
        #expect(policy.warnings(interfaces: ["eth0", "wan", "wg0"]).count == 1)
    }

    struct Bad: CustomTestStringConvertible, Sendable {
        let yaml: String
        let expected: String
        var testDescription: String { expected }
    }

    static let bad: [Bad] = [
        Bad(yaml: "rules:\n  - mss: 1536:1361\n", expected: "t.yaml:2: rules[0].mss: '1536:1361': range start 1536 is above its end 1361"),
        Bad(
            yaml: "rules:\n  - out_interface: eth0\n",
            expected:
                "t.yaml:2: rules[0].out_interface: unknown key (known: clamp-mss-to-pmtu, clamp-to-interface, clamp-to-mtu, destination, direction, family, in-interface, insert-missing, ipsec, mss, name, out-interface, set-mss, set-mss-for-tunnel, source)"
        ),
        Bad(yaml: "rules:\n  - name: a\n    set-mss: 70000\n", expected: "t.yaml:3: rules[0].set-mss: MSS 70000 is outside 1-65535"),
        Bad(
            yaml: "rules:\n  - set-mss: 1360\n    clamp-mss-to-pmtu: true\n",
            expected:
                "t.yaml:3: rules[0].clamp-mss-to-pmtu: choose one action: set-mss, clamp-mss-to-pmtu, clamp-to-mtu, clamp-to-interface or set-mss-for-tunnel (rules[0].set-mss, rules[0].clamp-mss-to-pmtu given)"
        ),
        Bad(
            yaml: "rules:\n  - source: 198.51.100.0/33\n",
            expected: "t.yaml:2: rules[0].source: '198.51.100.0/33' is not an address or prefix (e.g. 198.51.100.0/24, 2001:db8::/32)"),
        Bad(
            yaml: "rules:\n  - family: ipv4\n    source: 2001:db8::/32\n",
            expected: "t.yaml:3: rules[0].source: 2001:db8::/32 is IPv6 but the rule's family is ipv4"),
        Bad(
            yaml: "rules:\n  - out-interface: averyveryverylongname\n",
            expected: "t.yaml:2: rules[0].out-interface: interface 'averyveryverylongname' must be 1-15 characters"),
        Bad(
            yaml: "rules:\n  - mss: 1361:1536\n    insert-missing: true\n",
            expected:
                "t.yaml:3: rules[0].insert-missing: insert-missing cannot work with an mss range: the range matches only SYNs that carry an MSS option (drop the range or set it to 'any')"
        ),
        Bad(yaml: "rules: []\n", expected: "t.yaml:1: rules: must be a non-empty list of rules"),
        Bad(yaml: "rule:\n  - mss: 1\n", expected: "t.yaml:1: rule: unknown key (known: rules)"),
        Bad(yaml: "rules:\n  - mss: [1\n", expected: "t.yaml:3: not valid YAML: did not find expected ',' or ']'"),
        Bad(yaml: "rules:\n  - direction: out\n", expected: "t.yaml:2: rules[0].direction: direction 'out' must be syn, syn-ack or both"),
        Bad(
            yaml: "rules:\n  - clamp-to-mtu: 40\n",
            expected: "t.yaml:2: rules[0].clamp-to-mtu: MTU 40 is outside 576-65535 (576: the datagram every IPv4 host accepts, MSS 536)"),
        // It was accepted, giving MSS 60 / 40.
        Bad(
            yaml: "rules:\n  - clamp-to-mtu: 100\n",
            expected: "t.yaml:2: rules[0].clamp-to-mtu: MTU 100 is outside 576-65535 (576: the datagram every IPv4 host accepts, MSS 536)"),
        Bad(
            yaml: "rules:\n  - clamp-to-mtu: 1000\n",
            expected:
                "t.yaml:2: rules[0].clamp-to-mtu: MTU 1000 is below 1280, the least every IPv6 link carries: give the rule family: ipv4 (--family ipv4), or an MTU of 1280 or more"
        ),
        Bad(yaml: "rules:\n  - set-mss: -5\n", expected: "t.yaml:2: rules[0].set-mss: MSS -5 is outside 1-65535"),
        Bad(yaml: "rules:\n  - set-mss: { ipv4: 1360, ipv7: 1 }\n", expected: "t.yaml:2: rules[0].set-mss.ipv7: unknown key (known: ipv4, ipv6)"),
        Bad(
            yaml: "rules:\n  - ipsec: yes\n",
            expected: "t.yaml:2: rules[0].ipsec: ipsec 'yes' must be in (came out of IPsec), out (goes into IPsec) or none (neither)"),
    ]

    @Test(arguments: bad)
    func errorsNameFileLineAndKey(_ item: Bad) {
        #expect(throws: ConfigError.self) { try PolicyFile.parse(item.yaml, source: "t.yaml") }
        do {
            _ = try PolicyFile.parse(item.yaml, source: "t.yaml")
        } catch {
            #expect(error.description == item.expected)
        }
    }

    @Test func missingFile() {
        do {
            _ = try PolicyFile.load(path: "/nonexistent/mssclamp.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "/nonexistent/mssclamp.yaml: cannot read the file: No such file or directory")
        }
    }
}

/// The policy the package installs, and the example beside it, must stay valid.
@Suite struct DeployExampleTests {
    static func load(_ name: String) throws -> Policy {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return try PolicyFile.load(path: url.path + "/deploy/" + name)
    }

    @Test func installedPolicyClampsEveryForwardedSYNPerFamily() throws {
        let policy = try Self.load("mssclamp.yaml")
        #expect(policy.rules.count == 1)
        #expect(policy.rules[0].action == .setMSS(ipv4: 1360, ipv6: 1340) && policy.rules[0].mssRange == 1341...1536)
        #expect(policy.rules[0].outInterface == nil && policy.rules[0].sources.isEmpty, "matches on any host as installed")
        #expect(policy.warnings(interfaces: ["lo"]).isEmpty, "status is healthy right after install")
    }

    @Test func vpnGatewayExampleLoads() throws {
        let policy = try Self.load("examples/vpn-gateway.yaml")
        #expect(policy.rules.count == 2)
        #expect(policy.rules[0].action == .setMSS(ipv4: 1360, ipv6: 1340))
        #expect(policy.rules[1].action == .clampToPathMTU && policy.rules[1].inInterface?.name == "wg+")
    }
}

/// A rule's action given as a tunnel: the same numbers `mssclamp mss` shows.
@Suite struct TunnelActionTests {
    @Test func yamlAndFlagsTakeATunnel() throws {
        let policy = try PolicyFile.parse("rules:\n  - out-interface: wg0\n    set-mss-for-tunnel: wireguard/ipv6\n", source: "t.yaml")
        #expect(policy.rules.first?.action == .setMSS(ipv4: 1380, ipv6: 1360))
        #expect(policy.rules.first?.mssRange == nil)
        var spec = RuleSpec()
        spec.setMSSForTunnel = RuleSpec.Value("gre+esp-gcm-transport/ipv4/1500", key: "--set-mss-for-tunnel")
        #expect(try spec.rule(source: "command line").action == .setMSS(ipv4: 1402, ipv6: 1382))
    }

    @Test func aBadTunnelNamesTheKeyAndTheLayer() {
        let error = #expect(throws: ConfigError.self) {
            try PolicyFile.parse("rules:\n  - set-mss-for-tunnel: wireguard+foo\n", source: "t.yaml")
        }
        #expect(error?.description.contains("t.yaml:2: rules[0].set-mss-for-tunnel: 'wireguard+foo': unknown layer 'foo'") == true)
        #expect(throws: ConfigError.self) {
            try PolicyFile.parse("rules:\n  - set-mss: 1360\n    set-mss-for-tunnel: wireguard\n", source: "t.yaml")
        }
    }
}

/// `ipsec:` as the file and the flag give it.
@Suite struct IPsecKeyTests {
    @Test func fileAndFlagTakeTheSelector() throws {
        let policy = try PolicyFile.parse(
            "rules:\n  - ipsec: in\n    set-mss-for-tunnel: esp-gcm\n  - ipsec: NONE\n    set-mss: 1400\n  - ipsec: out\n    clamp-to-mtu: 1400\n",
            source: "t.yaml")
        #expect(policy.rules.map(\.ipsec) == [.inbound, .plain, .outbound])
        #expect(policy.rules[0].action == .setMSS(ipv4: 1406, ipv6: 1386))
        var spec = RuleSpec()
        spec.ipsec = RuleSpec.Value("out", key: "--ipsec")
        #expect(try spec.rule(source: "command line").ipsec == .outbound)
        #expect(!spec.isEmpty)
    }
}

/// `clamp-to-interface:` as the file and the flag give it.
@Suite struct ClampToInterfaceKeyTests {
    @Test func fileAndFlag() throws {
        let policy = try PolicyFile.parse("rules:\n  - out-interface: wg0\n    clamp-to-interface: wg0\n", source: "t.yaml")
        #expect(policy.rules.first?.action == .clampToInterface("wg0"))
        #expect(policy.rules.first?.mssRange == nil)
        var spec = RuleSpec()
        spec.clampToInterface = RuleSpec.Value("ppp0", key: "--clamp-to-interface")
        #expect(try spec.rule(source: "command line").action == .clampToInterface("ppp0"))
    }

    @Test func aPatternOrASecondActionIsRefused() {
        let pattern = #expect(throws: ConfigError.self) { try PolicyFile.parse("rules:\n  - clamp-to-interface: wg+\n", source: "t.yaml") }
        #expect(
            pattern?.description
                == "t.yaml:2: rules[0].clamp-to-interface: 'wg+': clamp-to-interface follows one interface's MTU; name it (wg0), not a pattern")
        #expect(throws: ConfigError.self) { try PolicyFile.parse("rules:\n  - clamp-to-interface: wg0\n    set-mss: 1300\n", source: "t.yaml") }
    }

    /// One default: `mssclamp run` with no policy and the packaged /etc/mssclamp.yaml are
    /// the same rule, and it gives IPv6 the IPv4 value minus 20 (the trap `doctor` names
    /// clamp-ipv6-given-ipv4-value is not the default's).
    @Test func builtInDefaultIsThePackagedPolicy() throws {
        let packaged = try PolicyFile.load(path: TestSupport.packageRoot + "/deploy/mssclamp.yaml")
        #expect(packaged == Policy.default)
        guard case .setMSS(let v4, let v6) = Policy.default.rules[0].action else {
            Issue.record("the default sets a fixed MSS")
            return
        }
        #expect(Int(v4) - Int(v6) == 20)
        #expect(Policy.default.rules[0].direction == .both && Policy.default.rules[0].family == .both)
    }
}

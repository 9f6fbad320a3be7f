import ArgumentParser
import Glibc
import MSSClampConfig
import MSSClampCore
import MSSClampReplay
import MSSClampReport

/// The policy, from a file or from one rule's worth of iptables-named flags: what every
/// subcommand that judges SYNs accepts, in the same words. `PolicyOptions` adds the
/// interfaces (`-i`, `-o`); `watch`, whose `-i` is the interface it captures on, takes
/// these alone.
struct RuleFlags: ParsableArguments {
    @Option(name: .customLong("config"), help: ArgumentHelp("YAML policy file (a list of rules; first match wins).", valueName: "file"))
    var config: String?

    @Option(
        name: .customLong("mss"), parsing: .unconditional,
        help: ArgumentHelp("Match only SYNs whose MSS is in this range (-m tcpmss --mss), or 'any'.", valueName: "A:B"))
    var mss: String?

    @Option(name: .customLong("set-mss"), parsing: .unconditional, help: ArgumentHelp("Clamp to this MSS (TCPMSS --set-mss).", valueName: "N"))
    var setMSS: String?

    @Option(
        name: .customLong("set-mss-ipv6"), parsing: .unconditional,
        help: ArgumentHelp("A different --set-mss for IPv6 (its header is 20 bytes larger).", valueName: "N"))
    var setMSSIPv6: String?

    @Option(
        name: .customLong("set-mss-for-tunnel"),
        help: ArgumentHelp(
            "Clamp to the MSS a tunnel needs, per family (see `mssclamp mss`).", valueName: "stack[/outer[/mtu]]"))
    var setMSSForTunnel: String?

    @Flag(name: .customLong("clamp-mss-to-pmtu"), help: "Clamp to the path MTU minus 40 (IPv4) or 60 (IPv6).")
    var clampToPMTU = false

    @Option(
        name: .customLong("clamp-to-mtu"), parsing: .unconditional,
        help: ArgumentHelp("Clamp as for a link of this MTU (MTU minus 40 or 60).", valueName: "MTU"))
    var clampToMTU: String?

    @Option(
        name: .customLong("clamp-to-interface"),
        help: ArgumentHelp("Clamp to this interface's MTU as it is now, followed as it changes (MTU minus 40 or 60).", valueName: "IF"))
    var clampToInterface: String?

    @Option(name: [.customShort("s"), .customLong("source")], help: ArgumentHelp("Source prefixes, comma-separated.", valueName: "cidr[,cidr]"))
    var source: String?

    @Option(
        name: [.customShort("d"), .customLong("destination")], help: ArgumentHelp("Destination prefixes, comma-separated.", valueName: "cidr[,cidr]"))
    var destination: String?

    @Option(name: .customLong("family"), help: ArgumentHelp("ipv4, ipv6 or both.", valueName: "family"))
    var family: String?

    @Option(name: .customLong("direction"), help: ArgumentHelp("syn (--syn), syn-ack, or both (--tcp-flags SYN,RST SYN).", valueName: "dir"))
    var direction: String?

    @Flag(name: .customLong("insert-missing"), help: "Insert an MSS option into SYNs without one (536 / 1220 at most), as xt_TCPMSS does.")
    var insertMissing = false

    /// The rule the flags describe, each value tagged with its flag for error messages.
    var spec: RuleSpec {
        var spec = RuleSpec()
        func value(_ text: String?, _ flag: String) -> RuleSpec.Value? { text.map { RuleSpec.Value($0, key: flag) } }
        spec.mss = value(mss, "--mss")
        spec.setMSS = value(setMSS, "--set-mss")
        spec.setMSSIPv6 = value(setMSSIPv6, "--set-mss-ipv6")
        spec.clampToPMTU = clampToPMTU ? RuleSpec.Value("true", key: "--clamp-mss-to-pmtu") : nil
        spec.clampToMTU = value(clampToMTU, "--clamp-to-mtu")
        spec.clampToInterface = value(clampToInterface, "--clamp-to-interface")
        spec.setMSSForTunnel = value(setMSSForTunnel, "--set-mss-for-tunnel")
        spec.sources = value(source, "--source")
        spec.destinations = value(destination, "--destination")
        spec.family = value(family, "--family")
        spec.direction = value(direction, "--direction")
        spec.insertMissing = insertMissing ? RuleSpec.Value("true", key: "--insert-missing") : nil
        return spec
    }

    /// The policy: the file, the flags' one rule, or the default.
    func policy() throws(CommandFailure) -> Policy {
        try RuleFlags.policy(config: config, spec: spec)
    }

    static func policy(config: String?, spec: RuleSpec) throws(CommandFailure) -> Policy {
        do throws(ConfigError) {
            return try PolicySource(config: config, flags: spec).load()
        } catch {
            throw CommandFailure.config(error.description)
        }
    }

    /// Where the policy comes from; a file and rule flags together are a usage error.
    static func source(config: String?, spec: RuleSpec) throws(CommandFailure) -> PolicySource {
        do throws(ConfigError) {
            return try PolicySource(config: config, flags: spec)
        } catch {
            throw CommandFailure.config(error.description)
        }
    }
}

/// The policy flags with the interfaces a rule can match: `run`, `rules` and `dry-run`.
struct PolicyOptions: ParsableArguments {
    @OptionGroup var rule: RuleFlags

    @Option(
        name: [.customShort("i"), .customLong("in-interface")], help: ArgumentHelp("Input interface ('+' suffix for a prefix).", valueName: "name"))
    var inInterface: String?

    @Option(
        name: [.customShort("o"), .customLong("out-interface")], help: ArgumentHelp("Output interface ('+' suffix for a prefix).", valueName: "name"))
    var outInterface: String?

    @Option(
        name: .customLong("ipsec"),
        help: ArgumentHelp(
            "in: SYNs that came out of IPsec; out: going into it; none: neither (-m policy; policy-based IPsec has no interface).",
            valueName: "in|out|none"))
    var ipsec: String?

    var config: String? { rule.config }

    /// The rule the flags describe, each value tagged with its flag for error messages.
    var spec: RuleSpec {
        var spec = rule.spec
        spec.inInterface = inInterface.map { RuleSpec.Value($0, key: "--in-interface") }
        spec.outInterface = outInterface.map { RuleSpec.Value($0, key: "--out-interface") }
        spec.ipsec = ipsec.map { RuleSpec.Value($0, key: "--ipsec") }
        return spec
    }

    func policy() throws(CommandFailure) -> Policy {
        try RuleFlags.policy(config: config, spec: spec)
    }

    /// Where the policy comes from: the daemon reloads and publishes it.
    func source() throws(CommandFailure) -> PolicySource { try RuleFlags.source(config: config, spec: spec) }
}

/// `--assume-ipsec` of `dry-run` and `watch`.
enum AssumedIPsec {
    static func parse(_ text: String?) throws(CommandFailure) -> IPsecState {
        do throws(ConfigError) { return try IPsecState(assuming: text) } catch { throw CommandFailure.config(error.description) }
    }
}

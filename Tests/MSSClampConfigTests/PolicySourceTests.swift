import Glibc
import MSSClampConfig
import MSSClampCore
import Testing

/// The value the daemon reloads from and publishes: it must give the same policy again.
@Suite struct PolicySourceTests {
    @Test func flagsGiveTheirArgumentsBackAndTheSamePolicy() throws {
        var spec = RuleSpec()
        spec.outInterface = RuleSpec.Value("eth0", key: "--out-interface")
        spec.mss = RuleSpec.Value("any", key: "--mss")
        spec.setMSS = RuleSpec.Value("1360", key: "--set-mss")
        spec.insertMissing = RuleSpec.Value("true", key: "--insert-missing")
        let source = PolicySource.flags(spec)
        #expect(source.arguments == ["--out-interface", "eth0", "--mss", "any", "--set-mss", "1360", "--insert-missing"])
        #expect(!source.reloads, "flags read again give the same policy: nothing to reload")
        let policy = try source.load()
        let again = try source.load()
        #expect(policy.rules.count == 1 && policy.digest == again.digest)
        #expect(policy.digest != Policy.default.digest)
    }

    @Test func nothingGivenIsTheDefault() throws {
        let source = PolicySource.flags(RuleSpec())
        #expect(source.arguments.isEmpty && !source.reloads)
        let policy = try source.load()
        #expect(policy.digest == Policy.default.digest)
    }

    @Test func aFileIsReadAgainByItsAbsolutePath() throws {
        let directory = "/tmp/mssclamp-policysource-\(getpid())"
        mkdir(directory, 0o700)
        defer {
            unlink(directory + "/p.yaml")
            rmdir(directory)
        }
        let write = { (text: String) in
            let file = fopen(directory + "/p.yaml", "w")
            fputs(text, file)
            fclose(file)
        }
        write("rules:\n  - set-mss: 1360\n")
        var saved = [CChar](repeating: 0, count: Int(PATH_MAX))
        getcwd(&saved, saved.count)
        chdir(directory)
        let source = PolicySource.file(resolving: "p.yaml")
        chdir(saved)
        #expect(source.arguments == ["--config", directory + "/p.yaml"], "absolute: a reload does not depend on the working directory")
        #expect(source.reloads)
        let first = try source.load()
        write("rules:\n  - set-mss: 1300\n")
        let second = try source.load()
        #expect(first.digest != second.digest, "read again, the changed file")
        write("rules:\n  - set-mss: 13OO\n")
        #expect(throws: ConfigError.self) { try source.load() }
    }
}

/// What a worker publishes, read back as `watch` reads it: the same policy.
@Suite struct PublishedArgumentsTests {
    @Test func everyFlagRoundTrips() throws {
        var spec = RuleSpec()
        spec.family = RuleSpec.Value("ipv4", key: "--family")
        spec.sources = RuleSpec.Value("192.0.2.0/24", key: "--source")
        spec.outInterface = RuleSpec.Value("wg0", key: "--out-interface")
        spec.mss = RuleSpec.Value("any", key: "--mss")
        spec.setMSS = RuleSpec.Value("1360", key: "--set-mss")
        spec.setMSSIPv6 = RuleSpec.Value("1340", key: "--set-mss-ipv6")
        spec.insertMissing = RuleSpec.Value("true", key: "--insert-missing")
        let published = PolicySource.flags(spec)
        let read = try PolicySource(arguments: published.arguments)
        #expect(read.arguments == published.arguments)
        #expect(try read.load().digest == published.load().digest)
        let pmtu = try PolicySource(arguments: ["--clamp-mss-to-pmtu", "--out-interface", "eth0"])
        #expect(pmtu.arguments == ["--out-interface", "eth0", "--clamp-mss-to-pmtu"])
    }

    @Test func aFileAndTheDefault() throws {
        #expect(try PolicySource(arguments: ["--config", "/etc/mssclamp.yaml"]).arguments == ["--config", "/etc/mssclamp.yaml"])
        #expect(try PolicySource(arguments: []).load().digest == Policy.default.digest)
    }

    @Test func whatIsNotARuleFlagIsSaid() {
        #expect(throws: ConfigError(source: "published policy arguments", message: "'--queue' is not a rule flag")) {
            try PolicySource(arguments: ["--queue", "3"])
        }
        #expect(throws: ConfigError(source: "published policy arguments", message: "'--set-mss' has no value")) {
            try PolicySource(arguments: ["--set-mss"])
        }
    }
}

/// `--config` or the rule flags, and `--assume-ipsec`, as every command takes them.
@Suite struct CommandLineSourceTests {
    @Test func aFileOrFlagsNotBoth() throws {
        var spec = RuleSpec()
        #expect(try PolicySource(config: nil, flags: spec).load().digest == Policy.default.digest)
        #expect(try PolicySource(config: "/etc/mssclamp.yaml", flags: spec).arguments == ["--config", "/etc/mssclamp.yaml"])
        spec.setMSS = RuleSpec.Value("1300", key: "--set-mss")
        #expect(try PolicySource(config: nil, flags: spec).arguments == ["--set-mss", "1300"])
        #expect(
            throws: ConfigError(source: "command line", message: "give either --config or rule flags (--mss, --set-mss, -o, …), not both")
        ) { try PolicySource(config: "/etc/mssclamp.yaml", flags: spec) }
    }

    @Test func assumedIPsec() throws {
        #expect(try IPsecState(assuming: nil).inbound == nil)
        #expect(try IPsecState(assuming: "IN") == IPsecState(assuming: .inbound))
        #expect(throws: ConfigError(source: "--assume-ipsec", message: "'sideways' must be in, out or none")) {
            try IPsecState(assuming: "sideways")
        }
    }
}

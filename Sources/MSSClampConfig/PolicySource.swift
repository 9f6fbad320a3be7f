import Glibc
import MSSClampCore

/// Where a policy comes from: a file, one rule given as flags, or the built-in default.
///
/// A value, not a closure: the daemon reads a file again at SIGHUP from it, and publishes
/// its arguments so that `watch` in another process judges by the same policy, without
/// either reaching back into the command line's parser.
public enum PolicySource: Sendable {
    /// A YAML policy file, by absolute path (a reload must not depend on the working directory).
    case file(path: String)
    /// One rule's worth of flags (`--mss`, `--set-mss`, `-o` ...).
    case rule(RuleSpec)
    /// Nothing given: ``Policy/default``.
    case builtin

    /// A file source, its path made absolute against the working directory now.
    public static func file(resolving path: String) -> PolicySource {
        if path.hasPrefix("/") { return .file(path: path) }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
        let directory = getcwd(&buffer, buffer.count).map { String(cString: $0) } ?? "."
        return .file(path: directory + "/" + path)
    }

    /// Flags, or the default when none were given.
    public static func flags(_ spec: RuleSpec) -> PolicySource { spec.isEmpty ? .builtin : .rule(spec) }

    /// `--config FILE` or the rule flags (or neither: the default); both is a usage error.
    public init(config: String?, flags spec: RuleSpec) throws(ConfigError) {
        guard let config else {
            self = .flags(spec)
            return
        }
        guard spec.isEmpty else {
            throw ConfigError(source: "command line", message: "give either --config or rule flags (--mss, --set-mss, -o, …), not both")
        }
        self = .file(resolving: config)
    }

    /// Reads the policy (again: a file may have changed since).
    public func load() throws(ConfigError) -> Policy {
        switch self {
        case .file(let path): return try PolicyFile.load(path: path)
        case .rule(let spec): return Policy(rules: [try spec.rule(source: "command line")])
        case .builtin: return .default
        }
    }

    /// Only a file can give another policy when read again.
    public var reloads: Bool {
        if case .file = self { return true }
        return false
    }

    /// The arguments that give this policy again: `--config PATH`, every rule flag as given,
    /// or none for the default.
    public var arguments: [String] {
        switch self {
        case .file(let path): return ["--config", path]
        case .builtin: return []
        case .rule(let spec):
            let values = RuleSpec.flags.compactMap { spec[keyPath: $0.field] }
            // Switches (clamp-mss-to-pmtu, insert-missing) are given without a value.
            return values.flatMap { $0.text == "true" && RuleSpec.switches.contains($0.key) ? [$0.key] : [$0.key, $0.text] }
        }
    }

    /// The source `arguments` give, read back: how `watch` in another process takes the
    /// policy a worker publishes, without the command line's parser.
    public init(arguments: [String]) throws(ConfigError) {
        if arguments.isEmpty {
            self = .builtin
            return
        }
        if arguments.count == 2 && arguments[0] == "--config" {
            self = .file(resolving: arguments[1])
            return
        }
        var spec = RuleSpec()
        var index = 0
        while index < arguments.count {
            let flag = arguments[index]
            guard let field = RuleSpec.flags.first(where: { $0.flag == flag })?.field else {
                throw ConfigError(source: "published policy arguments", message: "'\(flag)' is not a rule flag")
            }
            if RuleSpec.switches.contains(flag) {
                spec[keyPath: field] = RuleSpec.Value("true", key: flag)
                index += 1
            } else {
                guard index + 1 < arguments.count else {
                    throw ConfigError(source: "published policy arguments", message: "'\(flag)' has no value")
                }
                spec[keyPath: field] = RuleSpec.Value(arguments[index + 1], key: flag)
                index += 2
            }
        }
        self = .flags(spec)
    }
}

extension RuleSpec {
    /// The flags that take no value.
    static let switches: Set<String> = ["--clamp-mss-to-pmtu", "--insert-missing"]

    /// Every rule flag by its long name, in the order `arguments` gives them.
    static let flags: [(flag: String, field: WritableKeyPath<RuleSpec, Value?> & Sendable)] = [
        ("--family", \.family), ("--source", \.sources), ("--destination", \.destinations), ("--in-interface", \.inInterface),
        ("--out-interface", \.outInterface), ("--ipsec", \.ipsec), ("--direction", \.direction), ("--mss", \.mss),
        ("--set-mss", \.setMSS), ("--set-mss-ipv6", \.setMSSIPv6), ("--clamp-mss-to-pmtu", \.clampToPMTU),
        ("--clamp-to-mtu", \.clampToMTU), ("--clamp-to-interface", \.clampToInterface),
        ("--set-mss-for-tunnel", \.setMSSForTunnel), ("--insert-missing", \.insertMissing),
    ]
}

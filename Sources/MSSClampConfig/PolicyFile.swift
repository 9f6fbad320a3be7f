import Glibc
import MSSClampCore

/// The policy file: YAML, a list of rules under `rules:`, first match wins.
///
/// ```yaml
/// rules:
///   - name: vpn-to-wan
///     source: 198.51.100.0/24, 2001:db8:100::/56
///     out-interface: eth0
///     mss: 1361:1536
///     set-mss: { ipv4: 1360, ipv6: 1340 }
/// ```
///
/// YAML was chosen over TOML for its marks: every node knows its line, so an error can say
/// `mssclamp.yaml:7: rules[0].mss: …`. Scalars are read as written (never as YAML 1.1
/// sexagesimal numbers, which `1361:1536` would otherwise be).
public enum PolicyFile {
    static let ruleKeys: [String: WritableKeyPath<RuleSpec, RuleSpec.Value?> & Sendable] = [
        "name": \.name, "family": \.family, "source": \.sources, "destination": \.destinations,
        "in-interface": \.inInterface, "out-interface": \.outInterface, "direction": \.direction, "ipsec": \.ipsec,
        "mss": \.mss, "clamp-mss-to-pmtu": \.clampToPMTU, "clamp-to-mtu": \.clampToMTU, "clamp-to-interface": \.clampToInterface,
        "insert-missing": \.insertMissing, "set-mss-for-tunnel": \.setMSSForTunnel,
    ]

    public static func load(path: String) throws(ConfigError) -> Policy {
        // Read with POSIX calls: Foundation's errors do not carry strerror's familiar words.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw ConfigError(source: path, message: "cannot read the file: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while bytes.count < 16 << 20 {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else {
                throw ConfigError(source: path, message: "cannot read the file: \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigError(source: path, message: "the file is not UTF-8 text")
        }
        return try parse(text, source: path)
    }

    public static func parse(_ text: String, source: String) throws(ConfigError) -> Policy {
        let root: YAMLNode?
        do {
            root = try YAMLNode.compose(text)
        } catch {
            throw ConfigError(source: source, line: error.line, message: "not valid YAML: \(error.problem)")
        }
        guard let root, case .mapping(let top, _) = root else {
            throw ConfigError(source: source, line: root?.line, message: "expected a mapping with a 'rules' list")
        }
        var rulesNode: YAMLNode?
        for (key, value) in top.map({ ($0.key, $0.value) }) {
            let name = key.string ?? ""
            guard name == "rules" else {
                throw ConfigError(source: source, line: key.line, key: name, message: "unknown key (known: rules)")
            }
            rulesNode = value
        }
        guard let rulesNode, case .sequence(let list, _) = rulesNode, !list.isEmpty else {
            throw ConfigError(source: source, line: rulesNode?.line, key: "rules", message: "must be a non-empty list of rules")
        }
        var rules: [Rule] = []
        for (index, node) in list.enumerated() {
            let spec = try ruleSpec(node, path: "rules[\(index)]", source: source)
            let rule = try spec.rule(source: source)
            // On the command line no action means the classic rule; in a file it is almost
            // always a forgotten line, and silently clamping to 1360 would hide it.
            if spec.setMSS == nil && spec.clampToPMTU == nil && spec.clampToMTU == nil && spec.clampToInterface == nil && spec.setMSSForTunnel == nil
            {
                throw ConfigError(
                    source: source, line: node.line, key: "rules[\(index)]",
                    message: "no action: give set-mss, clamp-mss-to-pmtu, clamp-to-mtu, clamp-to-interface or set-mss-for-tunnel")
            }
            rules.append(rule)
        }
        return Policy(rules: rules)
    }

    static func ruleSpec(_ node: YAMLNode, path: String, source: String) throws(ConfigError) -> RuleSpec {
        guard case .mapping(let mapping, _) = node else {
            throw ConfigError(source: source, line: node.line, key: path, message: "a rule must be a mapping of keys")
        }
        var spec = RuleSpec()
        for (keyNode, value) in mapping.map({ ($0.key, $0.value) }) {
            let key = keyNode.string ?? ""
            let keyPath = "\(path).\(key)"
            if key == "set-mss" {
                try setMSS(value, into: &spec, keyPath: keyPath, source: source)
                continue
            }
            guard let field = ruleKeys[key] else {
                let known = (Array(ruleKeys.keys) + ["set-mss"]).sorted().joined(separator: ", ")
                throw ConfigError(source: source, line: keyNode.line, key: keyPath, message: "unknown key (known: \(known))")
            }
            spec[keyPath: field] = try scalarOrList(value, keyPath: keyPath, source: source)
        }
        return spec
    }

    /// `set-mss: 1360` or `set-mss: { ipv4: 1360, ipv6: 1340 }`.
    static func setMSS(_ node: YAMLNode, into spec: inout RuleSpec, keyPath: String, source: String) throws(ConfigError) {
        if case .mapping(let perFamily, _) = node {
            for (keyNode, value) in perFamily.map({ ($0.key, $0.value) }) {
                let key = keyNode.string ?? ""
                let path = "\(keyPath).\(key)"
                switch key {
                case "ipv4": spec.setMSS = try scalarOrList(value, keyPath: path, source: source)
                case "ipv6": spec.setMSSIPv6 = try scalarOrList(value, keyPath: path, source: source)
                default: throw ConfigError(source: source, line: keyNode.line, key: path, message: "unknown key (known: ipv4, ipv6)")
                }
            }
            return
        }
        spec.setMSS = try scalarOrList(node, keyPath: keyPath, source: source)
    }

    /// A scalar as written, or a list of scalars joined with commas (addresses).
    static func scalarOrList(_ node: YAMLNode, keyPath: String, source: String) throws(ConfigError) -> RuleSpec.Value {
        switch node {
        case .scalar(let text, let line):
            return RuleSpec.Value(text, key: keyPath, line: line)
        case .sequence(let items, let line):
            var texts: [String] = []
            for item in items {
                guard case .scalar(let text, _) = item else {
                    throw ConfigError(source: source, line: item.line, key: keyPath, message: "list items must be plain values")
                }
                texts.append(text)
            }
            return RuleSpec.Value(texts.joined(separator: ","), key: keyPath, line: line)
        default:
            throw ConfigError(source: source, line: node.line, key: keyPath, message: "expected a value")
        }
    }
}

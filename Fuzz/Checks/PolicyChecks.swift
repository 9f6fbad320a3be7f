import MSSClampConfig
import MSSClampCore

/// The YAML policy loader: any text either yields a policy or an error naming the source;
/// a policy has rules, a stable digest, and its lint runs.
public enum PolicyChecks {
    public static func check(_ data: [UInt8]) -> [String] {
        let text = String(decoding: data, as: UTF8.self)
        let policy: Policy
        do {
            policy = try PolicyFile.parse(text, source: "fuzz.yaml")
        } catch {
            return error.description.contains("fuzz.yaml") ? [] : ["error without its source: \(error.description)"]
        }
        var problems: [String] = []
        if policy.rules.isEmpty { problems.append("a policy without rules") }
        if policy.digest != policy.digest { problems.append("unstable digest") }
        _ = policy.warnings(interfaces: ["eth0", "wg0"])
        for rule in policy.rules where rule.summary.isEmpty { problems.append("a rule without a summary") }
        return problems
    }
}

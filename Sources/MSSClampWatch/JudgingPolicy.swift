import MSSClampConfig
import MSSClampCore
import MSSClampStatus

/// The policy `watch` judges SYNs by, and the words that say which: the one given; else the
/// running worker's (as it publishes it), so `watch` says what the worker does; else the
/// default. A worker whose file changed since it loaded it is named, with the fix.
public struct JudgingPolicy: Sendable {
    public let policy: Policy
    /// "the policy given", "the running worker's policy (pid N, policy:XXXXXXXX)", ...
    public let judgedBy: String

    /// `given`: the policy flags of `watch` itself, nil when it was given none.
    public init(given: PolicySource?, running worker: WorkerStatus?) throws(ConfigError) {
        if let given {
            policy = try given.load()
            judgedBy = "the policy given"
            return
        }
        guard let worker, let published = worker.policySource else {
            policy = .default
            judgedBy = "the default policy (no running worker publishes one here)"
            return
        }
        let source: PolicySource
        do {
            source = try PolicySource(arguments: published)
        } catch {
            throw ConfigError(
                source: "the running worker's policy arguments (\(published.joined(separator: " ")))", message: "do not parse: \(error.message)")
        }
        policy = try source.load()
        judgedBy =
            policy.digest == worker.policyDigest
            ? "the running worker's policy (pid \(worker.pid), policy:\(policy.digest))"
            : "the running worker's policy source as it reads now (policy:\(policy.digest)); the worker (pid \(worker.pid)) runs policy:\(worker.policyDigest): reload it"
    }

    /// As above, with the first running worker of `stateDirectory`.
    public init(given: PolicySource?, stateDirectory: String) throws(ConfigError) {
        try self.init(given: given, running: given == nil ? StatusStore(directory: stateDirectory).running().first : nil)
    }
}

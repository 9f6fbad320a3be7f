import MSSClampConfig
import MSSClampCore
import MSSClampRules
import MSSClampStatus
import MSSClampWatch
import Testing

/// Which policy `watch` judges by, and how it says so.
@Suite struct JudgingPolicyTests {
    static func worker(published: [String]?, digest: String) -> WorkerStatus {
        WorkerStatus(
            pid: 4242, netns: "net:[1]", started: 0, updated: 0, state: .running, queues: [0], threads: 1, backend: .iptablesNFT,
            managesRules: true, hooks: [.forward], safetyNet: false, countsBypass: true, policyDigest: digest, policy: [],
            expected: RulesObservation(backend: .iptablesNFT), interfaces: [], warnings: [], counters: Snapshot(), recent: Snapshot(),
            recentSeconds: 300, lastSynTime: nil, rules: nil, rulesChecked: nil, rulesError: nil, policySource: published)
    }

    static let published = ["--out-interface", "wg0", "--set-mss", "1380"]

    @Test func theGivenPolicyWins() throws {
        var spec = RuleSpec()
        spec.setMSS = RuleSpec.Value("1300", key: "--set-mss")
        let judging = try JudgingPolicy(given: .flags(spec), running: Self.worker(published: Self.published, digest: "x"))
        #expect(judging.judgedBy == "the policy given")
        #expect(judging.policy.digest == (try PolicySource.flags(spec).load().digest))
    }

    @Test func theRunningWorkersPolicyAsItPublishesIt() throws {
        let digest = try PolicySource(arguments: Self.published).load().digest
        let judging = try JudgingPolicy(given: nil, running: Self.worker(published: Self.published, digest: digest))
        #expect(judging.policy.digest == digest)
        #expect(judging.judgedBy == "the running worker's policy (pid 4242, policy:\(digest))")
    }

    @Test func aWorkerThatRunsAnotherPolicyIsToldToReload() throws {
        let judging = try JudgingPolicy(given: nil, running: Self.worker(published: Self.published, digest: "0badcafe"))
        #expect(judging.judgedBy.hasSuffix("the worker (pid 4242) runs policy:0badcafe: reload it"))
    }

    @Test func noWorkerOrNothingPublishedIsTheDefault() throws {
        for worker in [nil, Self.worker(published: nil, digest: "x")] {
            let judging = try JudgingPolicy(given: nil, running: worker)
            #expect(judging.policy.digest == Policy.default.digest)
            #expect(judging.judgedBy == "the default policy (no running worker publishes one here)")
        }
    }

    @Test func publishedArgumentsThatDoNotParseAreSaid() {
        #expect(throws: ConfigError.self) {
            try JudgingPolicy(given: nil, running: Self.worker(published: ["--queue", "1"], digest: "x"))
        }
    }
}

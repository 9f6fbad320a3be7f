import MSSClampDaemon
import MSSClampRules
import Testing

/// `run`'s settings are refused before anything is touched when they would turn clamping
/// off or cannot work: each with its flag and the default in words.
@Suite struct RunOptionsTests {
    func refusal(_ change: (inout RunOptions) -> Void) -> DaemonError? {
        var options = RunOptions()
        change(&options)
        do {
            try options.validate()
            return nil
        } catch {
            return error
        }
    }

    @Test func theDefaultsAreValid() throws {
        try RunOptions.defaults.validate()
        #expect(RunOptions.defaults.maxLength == 4096)
        #expect(RunOptions.defaults.receiveBuffer == 8 << 20)
        #expect(RunOptions.defaults.learnExpiry == 600, "the kernel's PMTU cache lifetime")
        #expect(RunOptions.defaults.statsInterval == 60)
        #expect(RunOptions.defaults.backend == nil, "auto")
        #expect(RunOptions.defaults.installRules)
    }

    @Test func eachRefusalNamesItsFlagAndIsAConfigurationError() throws {
        let cases: [(String, (inout RunOptions) -> Void)] = [
            ("--queue-maxlen: 0 lets the kernel hold no packet", { $0.maxLength = 0 }),
            ("--receive-buffer: 4095 bytes cannot hold one queued packet", { $0.receiveBuffer = 4095 }),
            ("--stats-interval: -1 must be 0", { $0.statsInterval = -1 }),
            ("--metrics: 'nowhere' must be HOST:PORT", { $0.metrics = "nowhere" }),
            ("--cpus: CPU 4096 does not exist", { $0.cpus = "0-1023" }),
            ("--learn-pmtu-expiry: 0.0 must be between 1 and 86400", { $0.learnExpiry = 0 }),
            ("--learn-pmtu-expiry: 86401.0 must be between 1 and 86400", { $0.learnExpiry = 86401 }),
            ("--stall-raise-after: 0.0 must be between 1 and 14400", { $0.stallRaiseAfter = 0 }),
            ("--stall-raise-after: 14401.0 must be between 1 and 14400", { $0.stallRaiseAfter = 14401 }),
            ("--log-level: 'loud' is not one of", { $0.logLevel = "loud" }),
        ]
        for (expected, change) in cases {
            let error = try #require(refusal(change), "\(expected)")
            #expect(error.isConfiguration, "\(expected)")
            if expected.hasPrefix("--cpus") {
                #expect(error.message.hasPrefix("--cpus: "), "\(error.message)")
            } else {
                #expect(error.message.hasPrefix(expected), "\(error.message)")
            }
        }
    }

    @Test func theLimitsThemselvesAreAccepted() throws {
        #expect(refusal { $0.maxLength = 1 }?.message == nil)
        #expect(refusal { $0.receiveBuffer = RunOptions.smallestReceiveBuffer }?.message == nil)
        #expect(refusal { $0.statsInterval = 0 }?.message == nil)
        #expect(refusal { $0.learnExpiry = 1 }?.message == nil)
        #expect(refusal { $0.learnExpiry = RunOptions.longestLearnExpiry }?.message == nil)
        #expect(refusal { $0.metrics = "[::1]:9815" }?.message == nil)
        #expect(refusal { $0.cpus = "0" }?.message == nil)
    }
}

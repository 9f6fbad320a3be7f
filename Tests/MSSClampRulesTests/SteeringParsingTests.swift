import MSSClampRules
import Testing

/// `--queue`/`--queues` and `--hooks` as `run` and `rules` take them.
@Suite struct SteeringParsingTests {
    @Test func oneQueueOrARange() throws {
        #expect(try SteeringOptions(queue: 7, queues: nil, hooks: "forward", safetyNet: false, learnPathMTU: false).queues == 7...7)
        #expect(try SteeringOptions(queue: 7, queues: "2-5", hooks: "forward", safetyNet: false, learnPathMTU: false).queues == 2...5)
        #expect(try SteeringOptions.queueRange("0-63") == 0...63)
    }

    @Test(arguments: ["5-2", "0-64", "3", "a-b", "1-2-3", "-1", ""])
    func notARange(_ text: String) {
        #expect(throws: SteeringUsageError("--queues: '\(text)' must be A-B with A <= B, at most 64 queues (e.g. 0-3)")) {
            try SteeringOptions.queueRange(text)
        }
    }

    @Test func hooksAnyCaseEachOnceInOrder() throws {
        #expect(try SteeringOptions.hooks("OUTPUT,forward,output") == [.output, .forward])
        #expect(throws: SteeringUsageError("--hooks: 'input' must be forward, output or postrouting")) { try SteeringOptions.hooks("forward,input") }
        #expect(throws: SteeringUsageError("--hooks: name at least one of forward, output, postrouting")) { try SteeringOptions.hooks(",") }
    }

    @Test func theFlagsReachTheOptions() throws {
        let options = try SteeringOptions(queue: 0, queues: nil, hooks: "postrouting", safetyNet: true, learnPathMTU: true)
        #expect(options.hooks == [.postrouting] && options.safetyNet && options.learnPathMTU)
        #expect(!options.countsBypass)
    }
}

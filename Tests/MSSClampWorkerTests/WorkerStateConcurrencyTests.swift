import Foundation
import MSSClampCore
import Testing

@testable import MSSClampWorker

/// What the queue threads, the control loop and a scrape do to the shared state at once:
/// publishing counters, sampling, reloading the policy, reading totals. Meant for
/// `make sanitize` (ThreadSanitizer); the exact totals show nothing was lost either way.
@Suite struct WorkerStateConcurrencyTests {
    /// The spec's IPv4 SYN (192.0.2.1 -> 198.51.100.7).
    static let syn: [UInt8] = Array(hex: "450000281234400040063c60c0000201c63364079c4001bb00000001000000005002faf02ab90000")

    @Test func queueThreadsReloadAndReadersShareTheStateSafely() {
        let state = WorkerState(policy: .default, sampling: true)
        let threads = 4, rounds = 2000
        let group = DispatchGroup()
        for _ in 0..<threads {
            group.enter()
            Thread {
                defer { group.leave() }
                for _ in 0..<rounds {
                    let policy = state.policy
                    var outcomes = OutcomeCounters(ruleCount: policy.rules.count)
                    let decision = Decision(outcome: .clamped(from: 1460, to: 1360), rule: 0, length: 60)
                    outcomes.record(decision)
                    var transport = TransportCounters()
                    transport.overruns = 1
                    state.publish(outcomes, transport)
                    var packet = WorkerStateConcurrencyTests.syn
                    if let flow = packet.withUnsafeMutableBytes({ FlowInfo.inspect($0, length: $0.count) }) {
                        state.addSample(flow, decision)
                    }
                }
            }.start()
        }
        group.enter()
        Thread {
            defer { group.leave() }
            for round in 0..<200 {
                state.replace(policy: round % 2 == 0 ? .default : Policy(rules: [Rule(), Rule(mssRange: nil)]))
                _ = state.counters
                _ = state.drainSamples()
            }
        }.start()
        #expect(group.wait(timeout: .now() + 60) == .success)
        #expect(state.counters.transport.overruns == UInt64(threads * rounds))
    }
}

extension Array where Element == UInt8 {
    init(hex: String) {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        self = bytes
    }
}

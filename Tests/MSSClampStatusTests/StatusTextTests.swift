import MSSClampCore
import Testing

@testable import MSSClampStatus

/// `status` words its counters from their declaration: a counter added to
/// `Snapshot.counters` shows with no edit here.
@Suite struct StatusTextTests {
    @Test func everyDeclaredCounterShowsOnceItCounts() {
        for counter in Snapshot.counters where !Snapshot.isLearning(counter) {
            var snapshot = Snapshot()
            snapshot[counter] = 7
            let text = StatusText.counts(snapshot)
            switch counter.group {
            case .outcome:
                #expect(text.contains("7 queued"), "\(counter.key): \(text)")
                #expect(text.contains(", 7 "), "\(counter.key) counted under its action: \(text)")
            default:
                #expect(text.contains("7"), "\(counter.key) shows: \(text)")
            }
        }
    }

    @Test func zeroIsQuietExceptTheHeadline() {
        let text = StatusText.counts(Snapshot())
        #expect(
            text == "0 queued, 0 clamped, 0 unchanged; unclamped past the worker: 0 fail-open, 0 while no worker was bound")
    }

    @Test func theWordsOperatorsKnow() {
        var snapshot = Snapshot()
        snapshot[Snapshot.outcomes.first { $0.action == "clamped" }!] = 5
        snapshot[Snapshot.outcomes.first { $0.action == "dropped" }!] = 1
        snapshot[Snapshot.overruns] = 2
        snapshot[Snapshot.verdictErrors] = 3
        snapshot[Snapshot.rulesRepairs] = 4
        snapshot[Snapshot.safetyNetClamped] = 6
        #expect(
            StatusText.counts(snapshot, bypassNow: 9)
                == "6 queued, 5 clamped, 0 unchanged, 1 dropped (malformed); unclamped past the worker: 0 fail-open, 9 while no worker was bound (the rules' bypass counter, read now) (safety net clamped 6); overruns 2; verdict-errors 3; rules-repairs 4"
        )
    }
}

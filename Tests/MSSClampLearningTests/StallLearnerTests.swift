import MSSClampCore
import MSSClampLearning
import Testing

/// The ladder: learn below the stalled size, step down when the clamp still stalls, confirm,
/// raise after the timer, back off a raise that stalls, release at the top.
@Suite struct StallLearnerTests {
    static let client = IPAddress.v4(0xc000_0201)
    static let client6 = IPAddress.v6(0x2001_0db8_0000_0001, 1)

    static func stall(_ size: Int, host: IPAddress = client, at time: Double = 0) -> StallDetector.Stall {
        StallDetector.Stall(
            family: host.family, client: host, server: .v4(0xc633_6401), clientPort: 40000, serverPort: 443, size: size, sequence: 1,
            copies: 3, firstSeen: time, detected: time)
    }

    @Test func learnsTheFirstStepBelowTheStalledSize() {
        var learner = StallLearner()
        guard case .learned(let entry) = learner.stalled(Self.stall(1500), now: 10) else {
            Issue.record("not learned")
            return
        }
        #expect(entry.mtu == 1400 && entry.mss == 1360 && entry.state == .searching)
        #expect(learner.ceilings.mapValues(\.mtu) == [Self.client: 1400])
        guard case .learned(let v6) = learner.stalled(Self.stall(1420, host: Self.client6), now: 10) else {
            Issue.record("not learned")
            return
        }
        #expect(v6.mtu == 1400 && v6.mss == 1340)
        #expect(learner.stalled(Self.stall(1280, host: .v4(9)), now: 10) == .learned(learner.entries[.v4(9)]!))
        #expect(learner.entries[.v4(9)]?.mtu == 1220, "IPv4 goes below 1280")
    }

    @Test func aClampThatStillStallsStepsDownToTheFloor() {
        var learner = StallLearner()
        _ = learner.stalled(Self.stall(1500), now: 0)
        #expect(learner.stalled(Self.stall(1400), now: 5) == .lowered(learner.entries[Self.client]!, from: 1400))
        #expect(learner.entries[Self.client]?.mtu == 1360)
        _ = learner.stalled(Self.stall(1360), now: 6)
        _ = learner.stalled(Self.stall(1280), now: 7)
        #expect(learner.entries[Self.client]?.mtu == 1220)
        guard case .atFloor = learner.stalled(Self.stall(1220), now: 8) else {
            Issue.record("expected the floor")
            return
        }
        #expect(learner.entries[Self.client]?.stalls == 5)
    }

    @Test func aFlowLargerThanTheClampSaysNothingOfIt() {
        var learner = StallLearner()
        _ = learner.stalled(Self.stall(1500), now: 0)
        #expect(learner.stalled(Self.stall(1500), now: 1) == nil, "its SYN came before the entry")
        #expect(learner.entries[Self.client]?.mtu == 1400)
    }

    @Test func confirmedOnceAClampedFlowWentTheWindowWithoutStalling() {
        var learner = StallLearner()
        _ = learner.stalled(Self.stall(1500), now: 0)
        #expect(learner.tick(now: 100).isEmpty, "no SYN clamped yet: nothing to confirm")
        learner.clamped(Self.client, now: 100)
        #expect(learner.tick(now: 110).isEmpty)
        #expect(learner.tick(now: 131) == [.confirmed(learner.entries[Self.client]!)])
        #expect(learner.entries[Self.client]?.state == .confirmed)
    }

    @Test func raisedAfterTheTimerBackedOffWhenTheRaiseStallsReleasedAtTheTop() {
        var learner = StallLearner()
        _ = learner.stalled(Self.stall(1500), now: 0)
        _ = learner.stalled(Self.stall(1400), now: 1)  // 1360, raise at 601
        #expect(learner.tick(now: 600).isEmpty)
        #expect(learner.tick(now: 601) == [.raised(learner.entries[Self.client]!, from: 1360)])
        #expect(learner.entries[Self.client]?.mtu == 1400)
        // The raise stalls: back to 1360, and the next raise waits 1200 s.
        _ = learner.stalled(Self.stall(1400), now: 610)
        #expect(learner.entries[Self.client]?.mtu == 1360)
        #expect(learner.entries[Self.client]?.raiseAt == 1810)
        _ = learner.tick(now: 1810)
        #expect(learner.entries[Self.client]?.mtu == 1400)
        // 1400 holds this time; at the top, the next raise hands the host back to the policy.
        guard case .released = learner.tick(now: 1810 + 1200).first else {
            Issue.record("expected a release")
            return
        }
        #expect(learner.entries.isEmpty)
    }

    @Test func theTableIsBoundedTheLeastRecentlyChangedGoesFirst() {
        var limits = StallLearner.Limits()
        limits.maxEntries = 3
        var learner = StallLearner(limits: limits)
        for host in UInt32(1)...5 { _ = learner.stalled(Self.stall(1500, host: .v4(host)), now: Double(host)) }
        #expect(learner.entries.count == 3)
        #expect(Set(learner.entries.keys) == [.v4(3), .v4(4), .v4(5)])
    }
}

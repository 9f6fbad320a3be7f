import MSSClampCore
import MSSClampProbe
import Testing

/// The TTL walk against simulated paths: `hops[n - 1]` is hop n's address, the last one
/// the destination; large probes cross links up to `hole` (exclusive), hops in `quiet`
/// answer nothing.
@Suite struct SilentHopWalkTests {
    static let hops: [IPAddress] = [.v4(0xc633_64fe), .v4(0xcb00_7101), .v4(0xc000_0201)]  // 198.51.100.254, 203.0.113.1, 192.0.2.1

    static func walk(hops: [IPAddress] = hops, hole: Int, quiet: Set<Int> = [], announce: Bool = false) -> (SilentHopWalk.Conclusion?, Int) {
        var walk = SilentHopWalk(maxHops: 30)
        var probes = 0
        while let (kind, ttl) = walk.next, probes < 100 {
            probes += 1
            // Large probes reach hop `hole - 1` at most (hole 1: not even the first).
            let reachable = kind == .small ? hops.count : min(hops.count, hole - 1)
            if ttl > reachable {
                if announce && kind == .large { walk.record(.tooBig(from: hops[hole - 2], mtu: 1400, hop: hole - 1)) } else { walk.record(.silent) }
            } else if quiet.contains(ttl) {
                walk.record(.silent)
            } else if ttl == hops.count {
                walk.record(.reached(from: hops[ttl - 1]))
            } else {
                walk.record(.timeExceeded(from: hops[ttl - 1]))
            }
        }
        return (walk.conclusion, probes)
    }

    @Test func theHopBeforeTheSilentLinkIsNamed() {
        let (conclusion, probes) = Self.walk(hole: 3)
        #expect(
            conclusion
                == .located(
                    lastReceived: Hop(number: 2, address: Self.hops[1]), firstMissing: Hop(number: 3, address: Self.hops[2]), isDestination: true,
                    unanswering: []))
        #expect(probes == 4)  // large 1, large 2, large 3 (silent), small 3
    }

    @Test func aHoleAtTheFirstLinkNamesNoHopBefore() {
        let (conclusion, _) = Self.walk(hole: 1)
        #expect(
            conclusion == .located(lastReceived: nil, firstMissing: Hop(number: 1, address: Self.hops[0]), isDestination: false, unanswering: []))
    }

    @Test func hopsThatAnswerNothingAreSteppedOverAndNamed() {
        let five: [IPAddress] = Self.hops + [.v4(0xcb00_7102), .v4(0xc000_0202)]
        let (conclusion, _) = Self.walk(hops: five, hole: 5, quiet: [3])
        #expect(
            conclusion
                == .located(
                    lastReceived: Hop(number: 4, address: five[3]), firstMissing: Hop(number: 5, address: five[4]), isDestination: true,
                    unanswering: []))
        // A quiet hop between the last receiver and the first that is missed.
        let (between, _) = Self.walk(hops: five, hole: 3, quiet: [3])
        #expect(
            between
                == .located(
                    lastReceived: Hop(number: 2, address: five[1]), firstMissing: Hop(number: 4, address: five[3]), isDestination: false,
                    unanswering: [3]))
    }

    @Test func givesUpOnSilenceAndOnArrivals() {
        let (quiet, probes) = Self.walk(hole: 2, quiet: [2, 3])
        if case .unlocated = quiet {} else { Issue.record("expected unlocated, got \(String(describing: quiet))") }
        #expect(probes < 20)
        // Large probes arrive at the destination: not a size problem.
        let (arrived, _) = Self.walk(hole: 99)
        if case .unlocated(let why) = arrived { #expect(why.contains("arrived")) } else { Issue.record("expected unlocated") }
    }

    @Test func aFragNeededToATTLLimitedProbeIsReported() {
        let (conclusion, _) = Self.walk(hole: 3, announce: true)
        #expect(conclusion == .announced(hop: Hop(number: 2, address: Self.hops[1]), mtu: 1400))
    }
}

import MSSClampProbe
import Testing

/// The search against simulated paths: a size either arrives, draws a frag-needed, or
/// vanishes. The oracle is the path's MTU itself.
@Suite struct PathMTUSearchTests {
    /// Runs the search to its end against `path`, bounded; returns the MTU and probe count.
    static func run(ceiling: Int = 1500, _ path: (Int) -> PathMTUSearch.Result) -> (mtu: Int?, probes: Int, silent: [Int]) {
        var search = PathMTUSearch(reached: 68, ceiling: ceiling)
        var probes = 0
        while let size = search.nextSize, probes < 100 {
            probes += 1
            search.record(size: size, path(size))
        }
        return (search.pathMTU, probes, search.silentSizes)
    }

    @Test func aBlackHoleIsBisectedToTheByteWithinTwelveProbes() {
        for mtu in 68...1500 {
            let found = Self.run { $0 <= mtu ? .reached : .silent }
            #expect(found.mtu == mtu && found.probes <= 12, "MTU \(mtu): found \(String(describing: found.mtu)) in \(found.probes)")
            #expect(mtu == 1500 || !found.silent.isEmpty)
        }
    }

    @Test func aNamedMTUIsTriedAndConfirmedInThreeProbes() {
        for mtu in [576, 1280, 1400, 1420, 1499] {
            let found = Self.run { $0 <= mtu ? .reached : .tooBig(mtu: mtu) }
            // 1500 (too big), the MTU (arrives), one byte more (too big; known already for 1499).
            #expect(found.mtu == mtu && found.probes == (mtu == 1499 ? 2 : 3), "MTU \(mtu): \(found.probes) probes")
            #expect(found.silent.isEmpty)
        }
    }

    @Test func aCleanPathEndsAtTheCeilingInOneProbe() {
        let found = Self.run { _ in .reached }
        #expect(found.mtu == 1500 && found.probes == 1)
        #expect(Self.run(ceiling: 9000) { $0 <= 9000 ? .reached : .silent }.mtu == 9000)
    }

    @Test func aRouterThatLiesIsOnlyAHint() {
        // Names an MTU larger than the probe, or zero: bisection finds the truth anyway.
        #expect(Self.run { $0 <= 1400 ? .reached : .tooBig(mtu: 9000) }.mtu == 1400)
        #expect(Self.run { $0 <= 1400 ? .reached : .tooBig(mtu: nil) }.mtu == 1400)
        // Names one too high (1450) for a path that carries 1400: the 1450 probe fails too.
        #expect(Self.run { $0 <= 1400 ? .reached : .tooBig(mtu: 1450) }.mtu == 1400)
        // Names one too low (1300): arrives, then 1301 arrives as well; the search goes on up.
        #expect(Self.run { $0 <= 1400 ? .reached : .tooBig(mtu: 1300) }.mtu == 1400)
        // Below what already arrived: ignored.
        #expect(Self.run { $0 <= 1400 ? .reached : .tooBig(mtu: 60) }.mtu == 1400)
    }

    @Test func anArrivalAboveAFailureReopensTheSearch() {
        var search = PathMTUSearch(reached: 68, ceiling: 1500)
        search.record(size: 1500, .silent)
        search.record(size: 784, .reached)
        search.record(size: 1142, .silent)
        #expect(search.smallestFailed == 1142)
        // The route changed (or an answer was lost): 1300 arrives after 1142 failed.
        search.record(size: 1300, .reached)
        #expect(search.smallestFailed == nil && search.nextSize == 1500)
    }
}

import MSSClampStatus
import Testing

@Suite struct KernelQueueStatsTests {
    /// Lines as kernel 6.x prints them: queue, portid, waiting, copy mode, range, queue
    /// dropped, user dropped, last id, 1.
    @Test func parsesProcLines() {
        let text =
            "    0  123456     7 2 65535     0     3     98 1\n    1 4000123     0 2 65535    12     0      5  1\n    2 x 1 2 3 4 5 6 1\ngarbage\n"
        let stats = KernelQueueStats.parse(text)
        // The line with a port that is not a number is unusable, never shifted.
        #expect(stats.map(\.queue) == [0, 1])
        #expect(stats.map(\.portID) == [123456, 4000123])
        #expect(stats.map(\.waiting) == [7, 0])
        #expect(stats.map(\.queueDropped) == [0, 12])
        #expect(stats.map(\.userDropped) == [3, 0])
    }

    @Test func missingFileIsEmpty() {
        #expect(KernelQueueStats.read(path: "/nonexistent/nfnetlink_queue").isEmpty)
    }
}

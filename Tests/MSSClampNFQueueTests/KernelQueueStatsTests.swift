import MSSClampNFQueue
import Testing

@Suite struct KernelQueueStatsTests {
    /// Lines as kernel 6.x prints them: queue, portid, waiting, copy mode, range, queue
    /// dropped, user dropped, last id, 1.
    @Test func parsesProcLines() {
        let text = "    0  123456     7 2 65535     0     3     98 1\n    1 4000123     0 2 65535    12     0      5  1\n    2 x 1 2 3 4 5 6 1\ngarbage\n"
        let stats = KernelQueueStats.parse(text)
        #expect(stats == [
            KernelQueueStats(queue: 0, waiting: 7, queueDropped: 0, userDropped: 3),
            KernelQueueStats(queue: 1, waiting: 0, queueDropped: 12, userDropped: 0),
            KernelQueueStats(queue: 2, waiting: 1, queueDropped: 4, userDropped: 5),
        ])
    }

    @Test func missingFileIsEmpty() {
        #expect(KernelQueueStats.read(path: "/nonexistent/nfnetlink_queue").isEmpty)
    }
}

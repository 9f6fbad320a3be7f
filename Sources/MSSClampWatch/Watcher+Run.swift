import Glibc
import MSSClampCapture
import Synchronization

/// Set by SIGINT/SIGTERM while a watch runs. A signal handler cannot carry context, so this
/// one flag is the module's; the capture wakes every 100 ms (its read timeout) to look.
private let stopRequested = Atomic<Bool>(false)

/// When a watch ends: after `seconds`, after `count` lines, or at SIGINT/SIGTERM, whichever
/// comes first.
public struct WatchLimits: Sendable {
    public var seconds: Int?
    public var count: Int?

    public init(seconds: Int? = nil, count: Int? = nil) {
        self.seconds = seconds
        self.count = count
    }
}

extension Watcher {
    /// Reads `capture` until the limits or a signal, handing each event to `emit` as it is
    /// seen (the caller prints it: a line as soon as it is seen, also into a pipe).
    /// SIGINT and SIGTERM end the watch normally, so the histogram still comes.
    public mutating func run(
        _ capture: LiveCapture, until limits: WatchLimits, emit: (WatchEvent) -> Void
    ) throws(CaptureError) {
        stopRequested.store(false, ordering: .relaxed)
        for signalNumber in [SIGINT, SIGTERM] { signal(signalNumber) { _ in stopRequested.store(true, ordering: .relaxed) } }
        // A mask inherited blocked (a supervisor, a test runner: swift test's children start
        // with SIGTERM blocked) would leave the watch deaf to its stop: unblocked here.
        var stops = sigset_t()
        sigemptyset(&stops)
        sigaddset(&stops, SIGINT)
        sigaddset(&stops, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &stops, nil)
        var start = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        var lines = 0
        while !stopRequested.load(ordering: .relaxed) {
            if let count = limits.count, lines >= count { break }
            if let seconds = limits.seconds {
                var now = timespec()
                clock_gettime(CLOCK_MONOTONIC, &now)
                if now.tv_sec - start.tv_sec >= seconds { break }
            }
            guard let frame = try capture.next(), let event = observe(frame, linkLayer: capture.linkLayer) else { continue }
            emit(event)
            lines += 1
        }
    }
}

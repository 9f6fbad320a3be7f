import Dispatch
import Glibc

/// SIGTERM, SIGINT and SIGHUP as an async sequence. The default actions are ignored and
/// dispatch sources watch instead, which works whatever threads already exist (a sigwait
/// loop would need the signals blocked in every thread, the runtime's included).
enum Signals {
    static func stream(_ signals: [Int32] = [SIGTERM, SIGINT, SIGHUP]) -> AsyncStream<Int32> {
        AsyncStream { continuation in
            let queue = DispatchQueue(label: "mssclamp.signals")
            let box = SourceBox()
            for number in signals {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler { continuation.yield(number) }
                source.resume()
                box.sources.append(source)
            }
            continuation.onTermination = { _ in box.sources.forEach { $0.cancel() } }
        }
    }

    static func name(_ number: Int32) -> String {
        switch number {
        case SIGTERM: return "SIGTERM"
        case SIGINT: return "SIGINT"
        case SIGHUP: return "SIGHUP"
        default: return "signal \(number)"
        }
    }
}

/// Keeps the dispatch sources alive as long as the stream; touched only at set-up and end.
private final class SourceBox: @unchecked Sendable {
    var sources: [DispatchSourceSignal] = []
}

import Logging
import MSSClampLearning
import NIOConcurrencyHelpers

/// `--learn-pmtu` in the log: what was learned and what expired (a few lines a second at
/// most: beyond three, one line sums up), and at most once a minute how many signals were
/// refused as suspect and why. A repeat of what is known (`not-lower`, every
/// retransmission into the black hole) is no news and is only counted.
struct LearningLog {
    private var refusedLogged = 0
    private var lastRefusedNotice = 0.0

    /// Once a second: expires what is due (the learner's clock is `monotonic`) and says so.
    mutating func tick(_ learner: NIOLockedValueBox<PathMTULearner>, monotonic: Double, wall: Double, logger: Logger) {
        let (learned, expired, ignored, lifetime) = learner.withLockedValue {
            ($0.drainLearned(), $0.expire(now: monotonic), $0.ignored, Int($0.limits.lifetime))
        }
        for entry in learned.prefix(3) {
            logger.notice(
                "learn-pmtu: path MTU \(entry.mtu) toward \(entry.host.text) learned from ICMP; SYNs from it are clamped to MSS \(entry.mss) for \(lifetime) s"
            )
        }
        if learned.count > 3, let lowest = learned.min(by: { $0.mtu < $1.mtu }) {
            logger.notice(
                "learn-pmtu: \(learned.count - 3) more path MTU(s) learned in the last second, the lowest \(lowest.mtu) toward \(lowest.host.text)")
        }
        for entry in expired {
            logger.notice("learn-pmtu: path MTU \(entry.mtu) toward \(entry.host.text) expired; SYNs from it follow the policy alone again")
        }
        let suspect = ignored.filter { $0.key != .notLower }
        let refused = suspect.values.reduce(0, +)
        if refused > refusedLogged && wall - lastRefusedNotice >= 60 {
            lastRefusedNotice = wall
            let reasons = suspect.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: " ")
            logger.warning("learn-pmtu: \(refused - refusedLogged) ICMP signal(s) refused since the last notice (totals: \(reasons))")
            refusedLogged = refused
        }
    }
}

import MSSClampCore
import MSSClampLearning

/// `--assume-learned HOST=MTU` of `dry-run`: a path MTU `run --learn-pmtu` would have
/// learned toward HOST, held to the learner's own limits (below its floor it refuses the
/// ICMP as hostile, so a replay must not assume what a worker would never believe).
public struct LearnedPathText: Sendable, Equatable {
    public let host: IPAddress
    public let mtu: Int

    public init(_ text: String) throws(ConfigError) {
        let flag = "--assume-learned"
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let host = IPAddress(text: parts[0]), let mtu = Int(parts[1]) else {
            throw ConfigError(source: flag, message: "'\(text)' must be HOST=MTU (192.0.2.1=1400, 2001:db8::1=1400)")
        }
        let floor = PathMTULearner.floor(host.family)
        guard (floor...65535).contains(mtu) else {
            throw ConfigError(source: flag, message: "MTU \(mtu) for \(parts[0]) is outside \(floor)-65535 (what --learn-pmtu would ever believe)")
        }
        self.host = host
        self.mtu = mtu
    }
}

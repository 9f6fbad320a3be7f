/// The bounds of a probe run. Every one is a limit on what the run may send: probes are
/// sent one at a time, never faster than `rate`, never more than `maxProbes` in all.
public struct ProbeOptions: Sendable, Equatable {
    public enum Method: String, Sendable, CaseIterable {
        /// ICMP echo; a TCP SYN to `port` if the destination does not answer echo.
        case auto
        case icmp
        case tcp
    }

    public var method: Method = .auto
    public var port: UInt16 = 443
    /// The largest size to try; nil: the MTU of the interface the route leaves by.
    public var maximum: Int?
    /// Transmissions of one size (and TTL) before its silence counts.
    public var tries = 2
    /// The longest wait for one answer. The wait used is shorter once the first answer
    /// has shown the round-trip time: 4 × RTT, at least `shortestWait`.
    public var timeout: Duration = .seconds(2)
    public var shortestWait: Duration = .milliseconds(500)
    /// Probes per second at most.
    public var rate: Double = 20
    public var maxProbes = 100
    public var maxHops = 30
    public var initialTTL = 64

    public init() {}

    /// The limits a value must keep to (the CLI says them back when one is off).
    public static let sizes = 68...65535
    public static let triesRange = 1...10
    public static let rateRange = 0.1...1000
    public static let maxProbesRange = 2...1000
    public static let maxHopsRange = 1...64
    public static let timeoutRange = 0.05...30.0

    /// The options as the command line gives them (the timeout in seconds), each checked
    /// against its limits: a value off its range is a usage error naming the flag, before
    /// anything is sent.
    public init(
        method: String, port: Int, maximum: Int?, tries: Int, timeout: Double, rate: Double, maxProbes: Int, maxHops: Int
    ) throws(ProbeError) {
        func check<T: Comparable>(_ name: String, _ value: T, _ range: ClosedRange<T>) throws(ProbeError) {
            guard range.contains(value) else { throw .usage("--\(name): \(value) must be \(range.lowerBound)-\(range.upperBound)") }
        }
        guard let method = Method(rawValue: method) else { throw .usage("--method: '\(method)' must be auto, icmp or tcp") }
        try check("port", port, 1...65535)
        if let maximum { try check("max", maximum, Self.sizes) }
        try check("tries", tries, Self.triesRange)
        try check("timeout", timeout, Self.timeoutRange)
        try check("rate", rate, Self.rateRange)
        try check("max-probes", maxProbes, Self.maxProbesRange)
        try check("max-hops", maxHops, Self.maxHopsRange)
        self.init()
        self.method = method
        self.port = UInt16(port)
        self.maximum = maximum
        self.tries = tries
        self.timeout = .milliseconds(Int(timeout * 1000))
        shortestWait = min(shortestWait, self.timeout)
        self.rate = rate
        self.maxProbes = maxProbes
        self.maxHops = maxHops
    }
}

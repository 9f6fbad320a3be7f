import MSSClampCore

/// A steering flag that does not say what it must (`--queues`, `--hooks`), in words for
/// the operator: `run` and `rules` exit 2 with it.
public struct SteeringUsageError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension SteeringOptions {
    /// The options as `run` and `rules` take them: `--queue N` or `--queues A-B` (one
    /// worker thread per queue, at most 64), `--hooks` a comma list of hook names.
    /// `--learn-stalls` learns into the same table as `--learn-pmtu`, read by the same
    /// every-SYN steering, so it brings path-MTU learning with it.
    public init(
        queue: UInt16, queues: String?, hooks: String, safetyNet: Bool, learnPathMTU: Bool, learnStalls: Bool = false,
        stallLogGroup: UInt16 = SteeringOptions().stallLogGroup
    ) throws(SteeringUsageError) {
        self.init(
            queues: try queues.map { text throws(SteeringUsageError) in try Self.queueRange(text) } ?? queue...queue,
            hooks: try Self.hooks(hooks), safetyNet: safetyNet, learnPathMTU: learnPathMTU || learnStalls)
        self.learnStalls = learnStalls
        self.stallLogGroup = stallLogGroup
        if learnStalls && !self.hooks.contains(.forward) {
            throw SteeringUsageError("--learn-stalls watches forwarded flows: --hooks must include forward")
        }
    }

    /// `A-B` with A <= B and at most 64 queues.
    public static func queueRange(_ text: String) throws(SteeringUsageError) -> ClosedRange<UInt16> {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map { UInt16($0) }
        guard parts.count == 2, let low = parts[0], let high = parts[1], low <= high, high - low < 64 else {
            throw SteeringUsageError("--queues: '\(text)' must be A-B with A <= B, at most 64 queues (e.g. 0-3)")
        }
        return low...high
    }

    /// Hook names, any case, each once, in the order given.
    public static func hooks(_ text: String) throws(SteeringUsageError) -> [Hook] {
        var list: [Hook] = []
        for name in text.split(separator: ",") {
            guard let hook = Hook(rawValue: name.lowercased()) else {
                throw SteeringUsageError("--hooks: '\(name)' must be forward, output or postrouting")
            }
            if !list.contains(hook) { list.append(hook) }
        }
        guard !list.isEmpty else { throw SteeringUsageError("--hooks: name at least one of forward, output, postrouting") }
        return list
    }

    /// The firewall that carries these options for `policy`: `backend`, or the detected one
    /// when nil (`auto`), and then `detected` hears which and why (a fallback is logged,
    /// never silent). A policy with `ipsec:` rules is carried by a block of queues per
    /// IPsec class.
    public func firewall(for policy: Policy, backend: Backend?, detected: (Backend.Detection) -> Void = { _ in }) async -> any Firewall {
        var options = self
        options.ipsecQueues = policy.matchesIPsec
        return await Backend.resolve(backend, detected: detected).firewall(options)
    }
}

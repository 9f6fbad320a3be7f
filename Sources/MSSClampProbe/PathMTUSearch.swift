/// The search for a path's MTU, as a pure state machine: it proposes the next size, is told
/// what became of it, and stops when the largest size that arrives and the smallest that
/// does not are one byte apart (or the first hop's MTU arrives).
///
/// A frag-needed / packet-too-big names the MTU at once; the next probe tries exactly that
/// (RFC 1191's jump). Silence gives no number, so the search halves the interval still in
/// doubt (RFC 4821's binary search): about eleven probes from 68 to 1500. A named MTU that
/// arrives is confirmed by one probe a byte larger.
public struct PathMTUSearch: Sendable, Equatable {
    /// What became of one probe of a given size.
    public enum Result: Sendable, Equatable {
        case reached
        case tooBig(mtu: Int?)
        case silent
    }

    /// The largest size known to arrive.
    public private(set) var largestReached: Int
    /// The smallest size known not to; nil while every size tried has arrived.
    public private(set) var smallestFailed: Int?
    /// The first hop's MTU: nothing larger can leave this host.
    public let ceiling: Int
    /// Sizes that got no answer at all (the mark of a black hole).
    public private(set) var silentSizes: [Int] = []
    private var jump: Int?
    /// The last MTU a router named: once it arrives, one byte more is tried to confirm
    /// it, instead of bisecting up to the size that drew the frag-needed.
    private var announced: Int?

    /// `reached` is a size already seen to arrive (the first, smallest probe).
    public init(reached: Int, ceiling: Int) {
        precondition(reached <= ceiling)
        largestReached = reached
        self.ceiling = ceiling
    }

    /// The size to try next; nil once the answer is known.
    public var nextSize: Int? {
        if largestReached >= ceiling { return nil }
        guard let failed = smallestFailed else { return ceiling }
        if failed <= largestReached + 1 { return nil }
        if let jump, jump > largestReached, jump < failed { return jump }
        if let announced, announced == largestReached { return announced + 1 }
        return largestReached + (failed - largestReached) / 2
    }

    /// The path MTU, once the search has ended.
    public var pathMTU: Int? { nextSize == nil ? largestReached : nil }

    public mutating func record(size: Int, _ result: Result) {
        jump = nil
        switch result {
        case .reached:
            largestReached = max(largestReached, size)
            // A size that failed earlier arrived now (a route changed, a lost answer):
            // believe the arrival and look above it again.
            if let failed = smallestFailed, failed <= largestReached { smallestFailed = nil }
        case .tooBig(let mtu):
            smallestFailed = min(smallestFailed ?? size, size)
            // A router's number is only a hint: one outside the interval still in doubt
            // (larger than the probe, or below what already arrived) is not followed.
            if let mtu, mtu < size {
                jump = mtu
                announced = mtu
            }
        case .silent:
            smallestFailed = min(smallestFailed ?? size, size)
            silentSizes.append(size)
        }
    }
}

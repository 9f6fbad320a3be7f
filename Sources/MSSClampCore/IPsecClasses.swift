/// How the kernel tells the worker what xt_policy saw: by the queue it picks.
///
/// A queued packet carries no word of IPsec, and the worker must decide as the kernel
/// would, first match wins. So when a policy has `ipsec:` rules, every queueing line is
/// written once per class (`-m policy --dir in --pol ipsec|none`, and the same for `out`,
/// as far as the policy asks) and each class has its own block of queues: class `c` queues
/// to `base + c × count`. The queue a packet arrives on then says its IPsec state exactly,
/// and no packet mark is borrowed from the operator's firewall.
///
/// Class numbers are bits: 1 = came out of IPsec, 2 = goes into IPsec. A side the policy
/// never asks about is neither rendered nor known (its bit stays 0).
public struct IPsecClasses: Hashable, Sendable {
    /// Whether the rules ask where a packet came from (`in` or `none`).
    public let inbound: Bool
    /// Whether the rules ask where a packet goes (`out` or `none`).
    public let outbound: Bool

    public init(_ policy: Policy) {
        inbound = policy.rules.contains { $0.ipsec == .inbound || $0.ipsec == .plain }
        outbound = policy.rules.contains { $0.ipsec == .outbound || $0.ipsec == .plain }
    }

    /// Queue blocks a worker binds to carry any policy's classes.
    public static let blocks = 4

    /// True when no rule asks: one class, the queues as without IPsec.
    public var isEmpty: Bool { !inbound && !outbound }

    /// The classes the rules need, in queue order.
    public var classes: [Int] {
        (0..<IPsecClasses.blocks).filter { (inbound || $0 & 1 == 0) && (outbound || $0 & 2 == 0) }
    }

    /// What a packet of class `number` is known to be.
    @inlinable
    public func state(ofClass number: Int) -> IPsecState {
        IPsecState(inbound: inbound ? number & 1 != 0 : nil, outbound: outbound ? number & 2 != 0 : nil)
    }

    /// Whether a rule with `selector` can match packets of class `number`.
    public func admits(_ selector: IPsecSelector?, ofClass number: Int) -> Bool {
        guard let selector else { return true }
        return selector.matches(state(ofClass: number)) ?? true
    }
}

extension Policy {
    /// Whether any rule matches on IPsec policy.
    public var matchesIPsec: Bool { rules.contains { $0.ipsec != nil } }
}

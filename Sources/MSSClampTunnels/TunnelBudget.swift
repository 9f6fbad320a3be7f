import MSSClampCore

/// The arithmetic from a link MTU to the MTU inside a tunnel and the MSS for each family,
/// one step per header, trailer or padding, so the operator can check every number.
public struct TunnelBudget: Sendable {
    public struct Step: Sendable, Equatable {
        /// Bytes taken (positive) from what is left.
        public var bytes: Int
        public var what: String
    }

    public let stack: TunnelStack
    public let linkMTU: Int
    public private(set) var steps: [Step] = []
    /// The largest packet the innermost layer can carry.
    public private(set) var innerMTU: Int

    /// What the bytes alone do not say (a software default that changes the answer).
    public var notes: [String] { stack.layers.compactMap { $0.note(innerMTU: innerMTU) } }

    public var mssIPv4: Int { IPFamily.ipv4.mss(forMTU: innerMTU) }
    public var mssIPv6: Int { IPFamily.ipv6.mss(forMTU: innerMTU) }

    /// Works from the outside in: each layer takes its headers and trailers from what the
    /// layer outside it can carry; block ciphers round down to whole blocks.
    public init(_ stack: TunnelStack, linkMTU: Int = 1500) throws(TunnelError) {
        self.stack = stack
        self.linkMTU = linkMTU
        innerMTU = linkMTU
        let ipHeader = stack.outer == .ipv4 ? 20 : 40
        let ipName = stack.outer == .ipv4 ? "IPv4 header" : "IPv6 header"
        // Set when an ESP in transport mode already counted the IP header of the layer inside.
        var ipCounted = false
        for layer in stack.layers.reversed() {
            if layer.needsIPHeader && !ipCounted { take(ipHeader, "\(ipName) (\(layer.name) delivery)") }
            ipCounted = layer.keepsInnerIPHeader
            for cost in layer.costs(ipHeader: ipHeader, ipName: ipName) {
                switch cost {
                case .take(let bytes, let what): take(bytes, what)
                case .roundDown(let unit, let what): roundDown(to: unit, what)
                }
            }
        }
        guard innerMTU >= 68 + 40 else {
            throw TunnelError("\(stack) leaves \(innerMTU) bytes of a \(linkMTU)-byte link: no room for TCP")
        }
    }

    private mutating func take(_ bytes: Int, _ what: String) {
        innerMTU -= bytes
        steps.append(Step(bytes: bytes, what: what))
    }

    private mutating func roundDown(to unit: Int, _ what: String) {
        let waste = innerMTU % unit
        if waste > 0 { take(waste, "\(what) (\(innerMTU) rounds down to \(innerMTU - waste))") }
    }
}

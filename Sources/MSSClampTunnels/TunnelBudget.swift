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
    /// Where the innermost layer's interface, as its tools make it, carries less than the
    /// encapsulation leaves (WireGuard's 1420): that MTU and why.
    public private(set) var interfaceLimit: (mtu: Int, why: String)?

    /// What the MSS is computed from: the tunnel's inner MTU, or its interface's if lower.
    public var clampMTU: Int { min(innerMTU, interfaceLimit?.mtu ?? innerMTU) }

    /// What the bytes alone do not say (a software default that changes the answer).
    public var notes: [String] {
        guard let limit = interfaceLimit, limit.mtu < innerMTU else { return [] }
        return [
            "the encapsulation leaves \(innerMTU), but \(limit.why): the MSS is for \(limit.mtu), MSS \(mssIPv4) (IPv4) / \(mssIPv6) (IPv6); "
                + "where the interface's MTU is set otherwise, --clamp-to-interface follows it"
        ]
    }

    /// What this tunnel breaks that clamping cannot mend: QUIC (HTTP/3) needs every path to
    /// carry a 1200-byte UDP payload (RFC 9000 §14), 1228 bytes of IPv4 or 1248 of IPv6, and
    /// an MSS is a TCP option: UDP never sees it.
    public var warnings: [String] {
        let ipv4 = QUIC.minimumDatagram + 8 + 20
        let ipv6 = QUIC.minimumDatagram + 8 + 40
        guard innerMTU < ipv6 else { return [] }
        let families = innerMTU < ipv4 ? "IPv4 and IPv6" : "IPv6"
        return [
            "QUIC (HTTP/3) needs \(ipv4) bytes inside the tunnel over IPv4 and \(ipv6) over IPv6 "
                + "(a \(QUIC.minimumDatagram)-byte UDP payload); this one carries \(innerMTU), so QUIC over \(families) fails "
                + "through it, and MSS clamping cannot help UDP"
        ]
    }

    private enum QUIC {
        /// RFC 9000 §14: the smallest UDP payload a QUIC path must carry.
        static let minimumDatagram = 1200
    }

    public var mssIPv4: Int { IPFamily.ipv4.mss(forMTU: clampMTU) }
    public var mssIPv6: Int { IPFamily.ipv6.mss(forMTU: clampMTU) }

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
        for (index, layer) in stack.layers.enumerated().reversed() {
            if index == 0, let limit = layer.interfaceMTU(available: innerMTU) {
                interfaceLimit = limit
            }
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

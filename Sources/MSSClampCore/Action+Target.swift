extension Action {
    /// The MSS this action clamps to for a family, when it does not depend on the packet
    /// (what a kernel rule can be written with, and what a policy's lint compares ranges to).
    public func fixedTarget(_ family: IPFamily) -> Int? {
        switch self {
        case .setMSS(let v4, let v6): return Int(family == .ipv4 ? v4 : v6)
        case .clampToMTU(let mtu): return family.mss(forMTU: mtu)
        case .clampToPathMTU, .clampToInterface: return nil
        }
    }

    /// The interface a `clamp-to-interface` action follows.
    public var followedInterface: String? {
        if case .clampToInterface(let name) = self { return name }
        return nil
    }
}

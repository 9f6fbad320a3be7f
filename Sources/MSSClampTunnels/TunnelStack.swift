import MSSClampCore

/// A tunnel as layers from the inside out (`gre+esp-gcm+nat-t`: GRE, carried in ESP, in UDP
/// for NAT traversal), over an IPv4 or IPv6 outer network.
public struct TunnelStack: Hashable, Sendable, CustomStringConvertible {
    public var layers: [TunnelLayer]
    public var outer: IPFamily
    public let text: String

    public init(_ text: String, outer: IPFamily = .ipv4) throws(TunnelError) {
        self.text = text
        self.outer = outer
        var layers: [TunnelLayer] = []
        for token in text.lowercased().split(separator: "+", omittingEmptySubsequences: false).map(String.init) {
            if token == "nat-t" || token == "natt" {
                guard case .esp(let cipher, let transport, false)? = layers.last else {
                    throw TunnelError("'\(text)': nat-t must follow an esp-… layer (it puts that ESP in UDP)")
                }
                layers[layers.count - 1] = .esp(cipher, transport: transport, natTraversal: true)
                continue
            }
            guard let layer = TunnelLayer.parse(token) else {
                throw TunnelError(
                    "'\(text)': unknown layer '\(token)'\(TunnelStack.hint(token)) (known: \(TunnelLayer.names.joined(separator: ", ")))")
            }
            layers.append(layer)
        }
        if let index = layers.firstIndex(of: .pppoe), index != layers.count - 1 {
            throw TunnelError("'\(text)': pppoe is a link layer and must come last (outermost)")
        }
        for (index, layer) in layers.enumerated() {
            guard case .esp(_, true, _) = layer else { continue }
            guard index > 0, layers[index - 1].needsIPHeader else {
                throw TunnelError(
                    "'\(text)': ESP transport mode protects the IP payload of the layer inside it (gre, l2tp, ipip, …), and there is none here; use esp-… (tunnel mode)"
                )
            }
        }
        self.layers = layers
    }

    /// What an operator probably meant by a name that is not a layer.
    static func hint(_ token: String) -> String {
        switch token {
        case "ipsec", "esp", "strongswan", "libreswan", "ikev2", "ike":
            return
                ": IPsec is ESP with its cipher: esp-gcm (AES-GCM, strongSwan's and most IKEv2 proposals), esp-cbc-sha256 or esp-cbc-sha1; add +nat-t behind NAT, -transport for transport mode"
        case "wg-quick": return ": WireGuard is wireguard"
        case "ovpn", "tun": return ": OpenVPN is openvpn (openvpn-gcm, -chacha, -cbc-sha1, -cbc-sha256)"
        default: return ""
        }
    }

    /// `STACK`, `STACK/ipv6` or `STACK/ipv4/1492` (outer family and link MTU), as rules take it.
    public static func parseSpec(_ spec: String) throws(TunnelError) -> (stack: TunnelStack, linkMTU: Int) {
        let parts = spec.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (1...3).contains(parts.count), !parts[0].isEmpty else {
            throw TunnelError("'\(spec)' must be STACK[/ipv4|ipv6[/LINK-MTU]], e.g. wireguard/ipv6 or gre+esp-gcm/ipv4/1500")
        }
        var outer = IPFamily.ipv4
        if parts.count > 1 {
            switch parts[1] {
            case "ipv4", "4": outer = .ipv4
            case "ipv6", "6": outer = .ipv6
            default: throw TunnelError("'\(spec)': outer network '\(parts[1])' must be ipv4 or ipv6")
            }
        }
        var mtu = 1500
        if parts.count > 2 {
            guard let value = Int(parts[2]), (576...65535).contains(value) else {
                throw TunnelError("'\(spec)': link MTU '\(parts[2])' must be 576-65535")
            }
            mtu = value
        }
        return (try TunnelStack(parts[0], outer: outer), mtu)
    }

    public var description: String { "\(text) over \(outer == .ipv4 ? "IPv4" : "IPv6")" }
}

public struct TunnelError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

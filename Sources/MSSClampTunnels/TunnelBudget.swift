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
            if layer.needsIPHeader && !ipCounted { take(ipHeader, "\(ipName) (\(name(of: layer)) delivery)") }
            ipCounted = false
            switch layer {
            case .pppoe:
                take(8, "PPPoE header (6) and PPP protocol (2)")
            case .gre:
                take(4, "GRE header")
            case .ipip:
                break
            case .wireguard:
                take(8, "UDP header")
                take(32, "WireGuard data header (16) and Poly1305 tag (16)")
            case .vxlan:
                take(8, "UDP header")
                take(8, "VXLAN header")
                take(14, "inner Ethernet header")
            case .l2tp:
                take(8, "UDP header")
                take(8, "L2TPv2 header (with length)")
                take(4, "PPP address, control and protocol")
            case .openvpn(let cipher):
                take(8, "UDP header")
                take(4, "OpenVPN opcode and peer id (P_DATA_V2)")
                switch cipher {
                case .gcm, .chacha:
                    take(4, "packet id")
                    take(16, "\(cipher == .gcm ? "AES-GCM" : "Poly1305") tag")
                case .cbcSHA1, .cbcSHA256:
                    take(cipher == .cbcSHA1 ? 20 : 32, cipher == .cbcSHA1 ? "HMAC-SHA1" : "HMAC-SHA256")
                    take(16, "AES-CBC IV")
                    roundDown(to: 16, "AES-CBC: whole 16-byte blocks")
                    take(4, "packet id (encrypted)")
                    take(1, "PKCS#7 padding, at least 1 byte")
                }
            case .esp(let cipher, let transport, let natTraversal):
                if transport {
                    // The protected layer's own IP header stays in front of ESP.
                    take(ipHeader, "\(ipName) (kept in front of ESP, transport mode)")
                    ipCounted = true
                }
                if natTraversal { take(8, "UDP header (NAT-T)") }
                take(8, "ESP header (SPI, sequence number)")
                take(cipher.iv, "\(cipher == .gcm ? "AES-GCM" : "AES-CBC") IV")
                take(cipher.icv, "ICV (\(cipher.label))")
                roundDown(to: cipher.block, "ESP: payload and trailer in whole \(cipher.block)-byte units")
                take(2, "ESP trailer (pad length, next header)")
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

    private func name(of layer: TunnelLayer) -> String {
        switch layer {
        case .pppoe: return "PPPoE"
        case .gre: return "GRE"
        case .ipip: return "IP-in-IP"
        case .wireguard: return "WireGuard"
        case .vxlan: return "VXLAN"
        case .l2tp: return "L2TP"
        case .openvpn: return "OpenVPN"
        case .esp: return "ESP tunnel"
        }
    }
}

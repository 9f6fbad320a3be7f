import MSSClampCore

/// One encapsulation of a tunnel stack, with what it adds around the packet it carries.
///
/// Byte counts come from the protocols' specifications (named on each case) and are the
/// worst case where a field is optional or padding varies, so an MSS derived from them fits.
/// Everything about a layer is in this file: its name on the command line, its name in the
/// budget, and its bytes (`costs`); a new tunnel type is a case and its lines here.
public enum TunnelLayer: Hashable, Sendable {
    /// PPPoE session (RFC 2516): 6-byte PPPoE header + 2-byte PPP protocol, on the link itself.
    case pppoe
    /// GRE (RFC 2784): 4-byte header, no key or sequence number, in a delivery IP header;
    /// over IPv6, Linux's ip6gre adds RFC 2473's 8-byte encapsulation limit option.
    case gre
    /// IP-in-IP (RFC 2003) / IPv6-in-IPv6 (RFC 2473): the delivery IP header; over IPv6,
    /// Linux's ip6tnl adds the 8-byte encapsulation limit option as ip6gre does.
    case ipip
    /// WireGuard data message: UDP, 16-byte header (type, receiver, counter) and 16-byte
    /// Poly1305 tag; its padding never exceeds the interface MTU.
    case wireguard
    /// VXLAN (RFC 7348): UDP, 8-byte VXLAN header and the inner Ethernet header (14).
    case vxlan
    /// L2TPv2 (RFC 2661) over UDP: 8-byte header with the length field, PPP address,
    /// control and protocol (4, no field compression).
    case l2tp
    /// OpenVPN over UDP in tun mode, data channel v2 (4-byte opcode and peer id).
    case openvpn(OpenVPNCipher)
    /// IPsec ESP (RFC 4303) in tunnel or transport mode, optionally in UDP for NAT-T (RFC 3948).
    case esp(ESPCipher, transport: Bool, natTraversal: Bool)

    public enum ESPCipher: String, Hashable, Sendable, CaseIterable {
        /// AES-GCM with a 16-byte ICV (RFC 4106): 8-byte IV, 4-byte alignment.
        case gcm
        /// AES-CBC (RFC 3602, 16-byte IV and blocks) with HMAC-SHA1-96 (RFC 2404, 12 bytes).
        case cbcSHA1 = "cbc-sha1"
        /// AES-CBC with HMAC-SHA256-128 (RFC 4868, 16 bytes).
        case cbcSHA256 = "cbc-sha256"

        var iv: Int { self == .gcm ? 8 : 16 }
        var icv: Int { self == .cbcSHA1 ? 12 : 16 }
        var block: Int { self == .gcm ? 4 : 16 }
        var label: String {
            switch self {
            case .gcm: return "AES-GCM"
            case .cbcSHA1: return "AES-CBC + HMAC-SHA1-96"
            case .cbcSHA256: return "AES-CBC + HMAC-SHA256-128"
            }
        }
    }

    public enum OpenVPNCipher: String, Hashable, Sendable, CaseIterable {
        /// AES-GCM (OpenVPN 2.4+ default): 4-byte packet id, 16-byte tag.
        case gcm
        /// ChaCha20-Poly1305: as GCM.
        case chacha
        /// AES-CBC with HMAC-SHA1 (20) : 16-byte IV, packet id inside, PKCS#7 padding 1-16.
        case cbcSHA1 = "cbc-sha1"
        /// AES-CBC with HMAC-SHA256 (32).
        case cbcSHA256 = "cbc-sha256"
    }

    /// Whether the layer travels in an IP header of its own (the delivery header).
    var needsIPHeader: Bool {
        switch self {
        case .pppoe: return false
        case .esp(_, let transport, _): return !transport
        default: return true
        }
    }

    /// The names `mssclamp mss --tunnel` accepts, `+`-joined from the inside out.
    public static let names = [
        "pppoe", "gre", "ipip", "wireguard", "vxlan", "l2tp",
        "openvpn", "openvpn-gcm", "openvpn-chacha", "openvpn-cbc-sha1", "openvpn-cbc-sha256",
        "esp-gcm", "esp-cbc-sha1", "esp-cbc-sha256", "(esp-…)-transport", "nat-t",
    ]

    /// One `+`-separated token; `nat-t` is handled by the stack (it modifies the ESP before it).
    static func parse(_ token: String) -> TunnelLayer? {
        switch token {
        case "pppoe": return .pppoe
        case "gre": return .gre
        case "ipip", "ip-in-ip", "ip6ip6": return .ipip
        case "wireguard", "wg": return .wireguard
        case "vxlan": return .vxlan
        case "l2tp": return .l2tp
        case "openvpn": return .openvpn(.gcm)
        default: break
        }
        if token.hasPrefix("openvpn-"), let cipher = OpenVPNCipher(rawValue: String(token.dropFirst(8))) {
            return .openvpn(cipher)
        }
        if token.hasPrefix("esp-") {
            var name = String(token.dropFirst(4))
            var transport = false
            for suffix in ["-transport", "-tunnel"] where name.hasSuffix(suffix) {
                transport = suffix == "-transport"
                name = String(name.dropLast(suffix.count))
            }
            if let cipher = ESPCipher(rawValue: name) { return .esp(cipher, transport: transport, natTraversal: false) }
        }
        return nil
    }
}

extension TunnelLayer {
    /// What a layer takes from the packet it carries, in the order the budget shows it.
    enum Cost: Equatable {
        case take(Int, String)
        /// A block cipher: what is left rounds down to whole units.
        case roundDown(Int, String)
    }

    /// The layer's name in the budget's lines.
    var name: String {
        switch self {
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

    /// ESP in transport mode keeps the IP header of the layer inside it in front of itself,
    /// so that layer's delivery header is already counted.
    var keepsInnerIPHeader: Bool {
        if case .esp(_, true, _) = self { return true }
        return false
    }

    /// The MTU the layer's usual tools give its interface when that, not the encapsulation,
    /// is the limit; `available` is what the layer outside it carries. WireGuard: wg-quick
    /// sets the uplink's MTU minus 80 (room for an IPv6 endpoint, whatever the endpoint's
    /// family) and `ip link add type wireguard` sets 1420; a clamp above the interface's MTU
    /// is a black hole, so the lower of the two counts.
    func interfaceMTU(available: Int) -> (mtu: Int, why: String)? {
        switch self {
        case .wireguard:
            let quick = available - 80
            return (min(quick, 1420), "wg0's MTU as wg-quick (link \(available) - 80 = \(quick)) and `ip link add type wireguard` (1420) make it")
        default:
            return nil
        }
    }

    /// The interface the layer's tools create, by its usual name, where clamping to its live
    /// MTU (`--clamp-to-interface`) is right: the tools set an MTU the encapsulation can
    /// carry. Not OpenVPN or VXLAN (tun0 / vxlan0 are made 1500 and fragment outside), nor
    /// ESP (policy-based IPsec has no interface).
    var followableInterface: String? {
        switch self {
        case .wireguard: return "wg0"
        case .gre: return "gre1"
        case .ipip: return "ipip1"
        case .pppoe: return "ppp0"
        default: return nil
        }
    }

    var isESPTunnelMode: Bool {
        if case .esp(_, false, _) = self { return true }
        return false
    }

    /// Linux's IPv6 tunnels (ip6gre, ip6tnl) send a destination options header with RFC 2473's
    /// tunnel encapsulation limit unless created with `encaplimit none`: 8 bytes, measured on
    /// Debian's kernel (an ip6gre tunnel carries 1448, not 1456). Counted, as the default.
    private func encapsulationLimit(ipHeader: Int) -> [Cost] {
        ipHeader == 40 ? [.take(8, "IPv6 encapsulation limit option (Linux default; none with encaplimit none)")] : []
    }

    /// The bytes this layer adds (its delivery IP header, where it has one, is the budget's).
    func costs(ipHeader: Int, ipName: String) -> [Cost] {
        switch self {
        case .pppoe:
            return [.take(8, "PPPoE header (6) and PPP protocol (2)")]
        case .gre:
            return encapsulationLimit(ipHeader: ipHeader) + [.take(4, "GRE header")]
        case .ipip:
            return encapsulationLimit(ipHeader: ipHeader)
        case .wireguard:
            return [.take(8, "UDP header"), .take(32, "WireGuard data header (16) and Poly1305 tag (16)")]
        case .vxlan:
            return [.take(8, "UDP header"), .take(8, "VXLAN header"), .take(14, "inner Ethernet header")]
        case .l2tp:
            return [.take(8, "UDP header"), .take(8, "L2TPv2 header (with length)"), .take(4, "PPP address, control and protocol")]
        case .openvpn(let cipher):
            let framing: [Cost] = [.take(8, "UDP header"), .take(4, "OpenVPN opcode and peer id (P_DATA_V2)")]
            switch cipher {
            case .gcm, .chacha:
                return framing + [.take(4, "packet id"), .take(16, "\(cipher == .gcm ? "AES-GCM" : "Poly1305") tag")]
            case .cbcSHA1, .cbcSHA256:
                return framing + [
                    .take(cipher == .cbcSHA1 ? 20 : 32, cipher == .cbcSHA1 ? "HMAC-SHA1" : "HMAC-SHA256"),
                    .take(16, "AES-CBC IV"),
                    .roundDown(16, "AES-CBC: whole 16-byte blocks"),
                    .take(4, "packet id (encrypted)"),
                    .take(1, "PKCS#7 padding, at least 1 byte"),
                ]
            }
        case .esp(let cipher, let transport, let natTraversal):
            // In transport mode the protected layer's own IP header stays in front of ESP.
            return (transport ? [.take(ipHeader, "\(ipName) (kept in front of ESP, transport mode)")] : [])
                + (natTraversal ? [.take(8, "UDP header (NAT-T)")] : [])
                + [
                    .take(8, "ESP header (SPI, sequence number)"),
                    .take(cipher.iv, "\(cipher == .gcm ? "AES-GCM" : "AES-CBC") IV"),
                    .take(cipher.icv, "ICV (\(cipher.label))"),
                    .roundDown(cipher.block, "ESP: payload and trailer in whole \(cipher.block)-byte units"),
                    .take(2, "ESP trailer (pad length, next header)"),
                ]
        }
    }
}

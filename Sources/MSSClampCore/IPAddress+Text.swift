extension IPAddress {
    /// The address as tcpdump, iptables and glibc's inet_ntop print it: dotted quad, or
    /// RFC 5952 (lower-case hex, the longest run of two or more zero groups as `::`, the
    /// first on a tie) with inet_ntop's one exception, an IPv4-compatible or IPv4-mapped
    /// address ending in dotted quad (`::ffff:192.0.2.1`). Pure Swift, so every module that
    /// prints an address can, without the policy parser (which reads them with inet_pton).
    public var text: String {
        switch self {
        case .v4(let value):
            return IPAddress.dotted(value)
        case .v6(let high, let low):
            let groups = (0..<8).map { index in
                UInt16(truncatingIfNeeded: (index < 4 ? high : low) >> (48 - 16 * UInt64(index % 4)))
            }
            // The longest run of zero groups (two or more), the first of equals.
            var best = (start: -1, count: 0), run = (start: -1, count: 0)
            for (index, group) in groups.enumerated() {
                if group == 0 {
                    run = run.start < 0 ? (index, 1) : (run.start, run.count + 1)
                    if run.count > best.count { best = run }
                } else {
                    run = (-1, 0)
                }
            }
            if best.count < 2 { best = (-1, 0) }
            var text = ""
            var index = 0
            while index < 8 {
                if index == best.start {
                    text += "::"
                    index += best.count
                    continue
                }
                if index > 0 && !text.hasSuffix(":") { text += ":" }
                if index == 6 && best.start == 0 && (best.count == 6 || (best.count == 5 && groups[5] == 0xffff)) {
                    text += IPAddress.dotted(UInt32(truncatingIfNeeded: low))
                    break
                }
                text += String(groups[index], radix: 16)
                index += 1
            }
            return text
        }
    }

    static func dotted(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
    }
}

extension CIDR {
    /// iptables' spelling: host prefixes without a length.
    public var text: String {
        let bits = family == .ipv4 ? 32 : 128
        return prefixLength == bits ? address.text : "\(address.text)/\(prefixLength)"
    }
}

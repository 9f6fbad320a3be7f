import MSSClampCore

/// Builds IPv4/IPv6 TCP packets with valid checksums for tests. Deliberately naive and
/// independent of the core's checksum code, so it can serve as the oracle.
struct PacketBuilder {
    var family: IPFamily = .ipv4
    var source4: [UInt8] = [192, 0, 2, 1]
    var destination4: [UInt8] = [198, 51, 100, 7]
    var source6: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1]
    var destination6: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 1] + Array(repeating: 0, count: 9) + [2]
    var sourcePort: UInt16 = 40000
    var destinationPort: UInt16 = 443
    var flags: UInt8 = TCPFlags.syn
    var options: [UInt8] = [2, 4, 0x05, 0xb4]
    var payload: [UInt8] = []
    /// IPv4 flags+fragment offset field.
    var fragmentField: UInt16 = 0x4000
    /// IPv6 extension headers, each (type, full bytes with next-header byte 0 left for us).
    var extensionHeaders: [(type: UInt8, bytes: [UInt8])] = []
    /// Overrides the data offset nibble (for malformed cases).
    var dataOffsetOverride: UInt8?

    func build() -> [UInt8] {
        var tcp: [UInt8] = []
        tcp += be16(sourcePort) + be16(destinationPort)
        tcp += [0, 0, 0, 1, 0, 0, 0, 0]
        let dataOffset = dataOffsetOverride ?? UInt8((20 + options.count) / 4)
        tcp += [dataOffset << 4, flags, 0xfa, 0xf0, 0, 0, 0, 0]
        tcp += options + payload
        let checksum = PacketBuilder.checksum(pseudo: pseudoHeader(length: tcp.count), segment: tcp)
        tcp[16] = UInt8(checksum >> 8)
        tcp[17] = UInt8(checksum & 0xff)

        switch family {
        case .ipv4:
            var ip: [UInt8] = [0x45, 0] + be16(UInt16(20 + tcp.count)) + [0x12, 0x34] + be16(fragmentField)
            ip += [64, 6, 0, 0] + source4 + destination4
            let headerChecksum = PacketBuilder.checksum(pseudo: [], segment: ip)
            ip[10] = UInt8(headerChecksum >> 8)
            ip[11] = UInt8(headerChecksum & 0xff)
            return ip + tcp
        case .ipv6:
            var chain: [UInt8] = []
            var firstNext: UInt8 = 6
            for (index, header) in extensionHeaders.enumerated().reversed() {
                var bytes = header.bytes
                bytes[0] = index == extensionHeaders.count - 1 ? 6 : extensionHeaders[index + 1].type
                chain = bytes + chain
                firstNext = header.type
            }
            let payloadLength = UInt16(chain.count + tcp.count)
            let ip: [UInt8] = [0x60, 0, 0, 0] + be16(payloadLength) + [firstNext, 64] + source6 + destination6
            return ip + chain + tcp
        }
    }

    func pseudoHeader(length: Int) -> [UInt8] {
        switch family {
        case .ipv4: return source4 + destination4 + [0, 6] + be16(UInt16(length))
        case .ipv6: return source6 + destination6 + [0, 0] + be16(UInt16(length)) + [0, 0, 0, 6]
        }
    }

    /// RFC 1071 the slow way: sum every 16-bit word, fold, complement.
    static func checksum(pseudo: [UInt8], segment: [UInt8]) -> UInt16 {
        var data = pseudo + segment
        if data.count % 2 == 1 { data.append(0) }
        var sum: UInt32 = 0
        for index in stride(from: 0, to: data.count, by: 2) {
            sum += UInt32(data[index]) << 8 | UInt32(data[index + 1])
        }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }
}

func be16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xff)] }

/// Whether an IPv4/IPv6 packet's TCP checksum (and IPv4 header checksum) verify, computed
/// from scratch. Handles IPv6 extension headers without routing.
func checksumsValid(_ packet: [UInt8]) -> Bool {
    if packet[0] >> 4 == 4 {
        let headerLength = Int(packet[0] & 0x0f) * 4
        let total = Int(packet[2]) << 8 | Int(packet[3])
        guard PacketBuilder.checksum(pseudo: [], segment: Array(packet[0..<headerLength])) == 0 else { return false }
        let tcp = Array(packet[headerLength..<total])
        let pseudo = Array(packet[12..<20]) + [0, 6] + be16(UInt16(tcp.count))
        return PacketBuilder.checksum(pseudo: pseudo, segment: tcp) == 0
    }
    let end = 40 + (Int(packet[4]) << 8 | Int(packet[5]))
    var next = packet[6]
    var offset = 40
    while [0, 43, 44, 60].contains(next) {
        let length = next == 44 ? 8 : (Int(packet[offset + 1]) + 1) * 8
        next = packet[offset]
        offset += length
    }
    let tcp = Array(packet[offset..<end])
    let pseudo = Array(packet[8..<40]) + [0, 0] + be16(UInt16(tcp.count)) + [0, 0, 0, 6]
    return PacketBuilder.checksum(pseudo: pseudo, segment: tcp) == 0
}

/// Runs the policy over a copy of `packet` with `tailroom` spare bytes; returns the decision
/// and the packet as it stands afterwards (trimmed to the decision's length).
func run<P: PathMTUSource>(
    _ packet: [UInt8], policy: Policy, metadata: PacketMetadata = PacketMetadata(),
    pathMTU: P, checksum: ChecksumMode = .incremental, tailroom: Int = 4
) -> (Decision, [UInt8]) {
    var buffer = packet + Array(repeating: 0, count: tailroom)
    let decision = buffer.withUnsafeMutableBytes {
        policy.apply(to: $0, length: packet.count, metadata: metadata, pathMTU: pathMTU, checksum: checksum)
    }
    return (decision, Array(buffer[0..<decision.length]))
}

func run(
    _ packet: [UInt8], policy: Policy = .seed, metadata: PacketMetadata = PacketMetadata(),
    checksum: ChecksumMode = .incremental, tailroom: Int = 4
) -> (Decision, [UInt8]) {
    run(packet, policy: policy, metadata: metadata, pathMTU: NoPathMTU(), checksum: checksum, tailroom: tailroom)
}

func hex(_ string: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = string.startIndex
    while index < string.endIndex {
        let next = string.index(index, offsetBy: 2)
        bytes.append(UInt8(string[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}

func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}

/// The MSS value of the first well-formed MSS option, by the spec's walk (test-side copy).
func mssOption(_ packet: [UInt8]) -> UInt16? {
    var tcpStart = 0
    if packet[0] >> 4 == 4 {
        tcpStart = Int(packet[0] & 0x0f) * 4
    } else {
        var next = packet[6]
        tcpStart = 40
        while [0, 43, 44, 60].contains(next) {
            let length = next == 44 ? 8 : (Int(packet[tcpStart + 1]) + 1) * 8
            next = packet[tcpStart]
            tcpStart += length
        }
    }
    let header = Int(packet[tcpStart + 12] >> 4) * 4
    var index = 20
    while index <= header - 4 {
        let kind = packet[tcpStart + index], length = packet[tcpStart + index + 1]
        if kind == 2 && length == 4 { return UInt16(packet[tcpStart + index + 2]) << 8 | UInt16(packet[tcpStart + index + 3]) }
        index += (kind <= 1 || length == 0) ? 1 : Int(length)
    }
    return nil
}

/// A reproducible generator (SplitMix64) so a failing property case can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

extension Policy {
    /// The kernel's classic rule (`--mss 1361:1536 --set-mss 1360`, both families): what the
    /// spec vectors and xt_TCPMSS comparisons are written against (the shipped default is
    /// ``Rule/tunnelDefault``, with 1340 for IPv6).
    static let seed = Policy(rules: [Rule()])
}

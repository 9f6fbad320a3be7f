import MSSClampCore
import MSSClampProbe
import Testing

/// Probe bytes: sizes, tags where answers return them, checksums that verify. The oracle
/// is a plain word-by-word sum written here, not the core's checksum code.
@Suite struct ProbePacketTests {
    static let v4s = IPAddress.v4(0xc633_6401)  // 198.51.100.1
    static let v4d = IPAddress.v4(0xc000_0201)  // 192.0.2.1
    static let v6s = IPAddress.v6(0x2001_0db8_0002_0000, 1)
    static let v6d = IPAddress.v6(0x2001_0db8_0001_0000, 1)

    /// The ones'-complement sum of everything, folded: 0xffff when the checksum is right.
    static func verify(_ bytes: [UInt8], pseudo: [UInt8]) -> UInt32 {
        var all = pseudo + bytes
        if all.count % 2 == 1 { all.append(0) }
        var sum: UInt32 = 0
        for i in stride(from: 0, to: all.count, by: 2) { sum += UInt32(all[i]) << 8 | UInt32(all[i + 1]) }
        while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
        return sum
    }

    static func bytes(_ a: IPAddress) -> [UInt8] {
        switch a {
        case .v4(let v): return (0..<4).map { UInt8(truncatingIfNeeded: v >> UInt32(24 - 8 * $0)) }
        case .v6(let h, let l): return [h, l].flatMap { w in (0..<8).map { UInt8(truncatingIfNeeded: w >> UInt64(56 - 8 * $0)) } }
        }
    }

    @Test(arguments: [68, 69, 576, 1400, 1401, 1500])
    func echoV4(size: Int) {
        let probe = ProbePacket(method: .echo, family: .ipv4, identifier: 0xabcd, port: 0, tag: 0x1234, size: size)
        let out = probe.bytes(source: Self.v4s, destination: Self.v4d)
        #expect(out.count + 20 == size)
        #expect(Array(out[0..<2]) == [8, 0] && Array(out[4..<8]) == [0xab, 0xcd, 0x12, 0x34])
        #expect(Self.verify(out, pseudo: []) == 0xffff)
    }

    @Test func echoV6LeavesTheChecksumToTheKernel() {
        let out = ProbePacket(method: .echo, family: .ipv6, identifier: 7, port: 0, tag: 9, size: 1280).bytes(source: Self.v6s, destination: Self.v6d)
        #expect(out.count == 1240 && out[0] == 128 && out[2] == 0 && out[3] == 0)
    }

    @Test(arguments: [(IPFamily.ipv4, 68), (.ipv4, 1401), (.ipv6, 1280), (.ipv6, 1499)])
    func synWithDataVerifies(family: IPFamily, size: Int) {
        let (s, d) = family == .ipv4 ? (Self.v4s, Self.v4d) : (Self.v6s, Self.v6d)
        let probe = ProbePacket(method: .tcpSYN, family: family, identifier: 40001, port: 443, tag: 0xbeef, size: size)
        let out = probe.bytes(source: s, destination: d)
        #expect(out.count + (family == .ipv4 ? 20 : 40) == size)
        #expect(out[13] == 0x02 && out[12] == 0x50, "SYN, 20-byte header")
        #expect(probe.sequence == 40001 << 16 | 0xbeef)
        #expect(Array(out[4..<8]) == [0x9c, 0x41, 0xbe, 0xef])
        let length = out.count
        let pseudo = Self.bytes(s) + Self.bytes(d) + [0, 6, UInt8(length >> 8), UInt8(length & 0xff)]
        #expect(Self.verify(out, pseudo: pseudo) == 0xffff)
    }

    @Test func minimumSizes() {
        #expect(ProbePacket.minimumSize(.echo, .ipv4) == 28 && ProbePacket.minimumSize(.tcpSYN, .ipv6) == 60)
    }
}

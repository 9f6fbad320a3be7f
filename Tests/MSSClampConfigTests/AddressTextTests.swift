import Glibc
import MSSClampConfig
import MSSClampCore
import Testing

/// The core prints addresses in pure Swift; glibc's inet_ntop is the oracle (tcpdump and
/// iptables print with it), and the policy's parser must read every printed form back.
@Suite struct AddressTextTests {
    static func ntop(_ address: IPAddress) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        switch address {
        case .v4(let value):
            var raw = in_addr(s_addr: value.bigEndian)
            inet_ntop(AF_INET, &raw, &buffer, socklen_t(buffer.count))
        case .v6(let high, let low):
            var raw = in6_addr()
            withUnsafeMutableBytes(of: &raw) { bytes in
                for index in 0..<8 {
                    bytes[index] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(index)))
                    bytes[8 + index] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(index)))
                }
            }
            inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count))
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    @Test(arguments: [
        "0.0.0.0", "192.0.2.1", "255.255.255.255", "::", "::1", "2001:db8::1", "2001:db8:0:0:1::1",
        "2001:0:0:1::1", "::ffff:192.0.2.1", "::192.0.2.1", "::ffff:0:1", "1::", "fe80::1:0:0:1",
        "2001:db8:1:2:3:4:5:6", "0:1:0:1:0:1:0:1", "1:0:0:2:0:0:0:3",
    ])
    func printsAsInetNtopDoesAndReadsBack(_ text: String) throws {
        let address = try #require(IPAddress(text: text))
        #expect(address.text == Self.ntop(address))
        #expect(IPAddress(text: address.text) == address)
    }

    /// Random IPv6 addresses with many zero groups (where compression decides).
    @Test func randomZeroRunsAgreeWithInetNtop() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            var words = [UInt64](repeating: 0, count: 2)
            for group in 0..<8 where Bool.random(using: &generator) {
                let value = UInt64.random(in: 1...0xffff, using: &generator)
                words[group / 4] |= value << (48 - 16 * UInt64(group % 4))
            }
            let address = IPAddress.v6(words[0], words[1])
            #expect(address.text == Self.ntop(address), "\(Self.ntop(address))")
        }
    }

    @Test func roundTrips() throws {
        for text in ["192.0.2.1", "198.51.100.0/24", "2001:db8::/32", "2001:db8::1", "::ffff:192.0.2.1", "203.0.113.0/0"] {
            let cidr = try #require(CIDR(text: text))
            let expected = text.hasSuffix("/0") ? "0.0.0.0/0" : text
            #expect(cidr.text == expected)
        }
        for bad in ["192.0.2", "192.0.2.1/", "192.0.2.1/x", "2001:db8::/129", "01.2.3.4", "", "a/b/c"] {
            #expect(CIDR(text: bad) == nil, "\(bad)")
        }
        #expect(IPAddress(text: "2001:db8:0:0:1:0:0:1")?.text == "2001:db8::1:0:0:1")
    }
}

/// `dry-run --assume-learned HOST=MTU`: what the learner would believe, and nothing else.
@Suite struct LearnedPathTextTests {
    @Test func bothFamiliesAtAndAboveTheLearnersFloor() throws {
        let v4 = try LearnedPathText("192.0.2.1=1400")
        #expect(v4.host == IPAddress(text: "192.0.2.1") && v4.mtu == 1400)
        #expect(try LearnedPathText("2001:db8::1=1280").mtu == 1280)
        #expect(try LearnedPathText("198.51.100.7=576").mtu == 576)
    }

    @Test func refusedInTheFlagsWords() {
        #expect(throws: ConfigError(source: "--assume-learned", message: "'192.0.2.1' must be HOST=MTU (192.0.2.1=1400, 2001:db8::1=1400)")) {
            try LearnedPathText("192.0.2.1")
        }
        #expect(throws: ConfigError(source: "--assume-learned", message: "'host=1400' must be HOST=MTU (192.0.2.1=1400, 2001:db8::1=1400)")) {
            try LearnedPathText("host=1400")
        }
        #expect(
            throws: ConfigError(
                source: "--assume-learned", message: "MTU 1279 for 2001:db8::1 is outside 1280-65535 (what --learn-pmtu would ever believe)")
        ) { try LearnedPathText("2001:db8::1=1279") }
        #expect(
            throws: ConfigError(
                source: "--assume-learned", message: "MTU 575 for 192.0.2.1 is outside 576-65535 (what --learn-pmtu would ever believe)")
        ) { try LearnedPathText("192.0.2.1=575") }
    }
}

import MSSClampCore
import Testing

@Suite struct InsertionTests {
    static let insert = Policy(rules: [Rule(mssRange: nil, action: .setMSS(1400), insertMissing: true)])

    @Test(arguments: [IPFamily.ipv4, .ipv6])
    func insertsBeforeExistingOptionsWithFamilyCap(_ family: IPFamily) {
        var builder = PacketBuilder()
        builder.family = family
        builder.options = [4, 2, 1, 1]  // SACK-permitted, NOP, NOP
        let input = builder.build()
        let (decision, output) = run(input, policy: Self.insert)
        let value: UInt16 = family == .ipv4 ? 536 : 1220
        #expect(decision.outcome == .inserted(value))
        #expect(output.count == input.count + 4)
        #expect(checksumsValid(output))
        let tcp = family == .ipv4 ? 20 : 40
        #expect(Array(output[(tcp + 20)..<(tcp + 28)]) == [2, 4] + be16(value) + [4, 2, 1, 1])
        #expect(output[tcp + 12] >> 4 == 7)
    }

    @Test func targetBelowCapIsUsed() {
        let policy = Policy(rules: [Rule(mssRange: nil, action: .setMSS(500), insertMissing: true)])
        var builder = PacketBuilder()
        builder.options = []
        #expect(run(builder.build(), policy: policy).0.outcome == .inserted(500))
    }

    @Test func notWithoutTheFlag() {
        var builder = PacketBuilder()
        builder.options = []
        let policy = Policy(rules: [Rule(mssRange: nil, action: .setMSS(1400))])
        #expect(run(builder.build(), policy: policy).0.outcome == .unchanged(.noMSSOption))
    }

    @Test func payloadPresent() {
        var builder = PacketBuilder()
        builder.options = []
        builder.payload = Array("fast open".utf8)
        #expect(run(builder.build(), policy: Self.insert).0.outcome == .unchanged(.payloadPresent))
    }

    @Test func fullHeaderHasNoRoom() {
        var builder = PacketBuilder()
        builder.options = Array(repeating: 1, count: 40)
        let input = builder.build()
        let (decision, output) = run(input, policy: Self.insert)
        #expect(decision.outcome == .unchanged(.noRoom))
        #expect(output == input)
    }

    @Test func withoutTailroomNothingIsWritten() {
        var builder = PacketBuilder()
        builder.options = []
        let input = builder.build()
        let (decision, output) = run(input, policy: Self.insert, tailroom: 0)
        #expect(decision.outcome == .unchanged(.noRoom))
        #expect(output == input)
    }

    /// A capture frame may carry Ethernet padding after the IP packet: it must move along,
    /// not be overwritten.
    @Test func trailerAfterIPPacketIsPreserved() {
        var builder = PacketBuilder()
        builder.options = []
        let input = builder.build()
        let trailer: [UInt8] = [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]
        var buffer = input + trailer + [0, 0, 0, 0]
        let decision = buffer.withUnsafeMutableBytes {
            Self.insert.apply(to: $0, length: input.count + trailer.count)
        }
        #expect(decision.outcome == .inserted(536))
        #expect(decision.length == input.count + trailer.count + 4)
        #expect(Array(buffer[(input.count + 4)...]) == trailer)
        #expect(checksumsValid(Array(buffer[0..<(input.count + 4)])))
    }
}

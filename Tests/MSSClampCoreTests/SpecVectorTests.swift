import MSSClampCore
import Testing

/// The two hex vectors of shared/spec/tcpmss-semantics.md.
@Suite struct SpecVectorTests {
    /// `--set-mss 1400` with no range: the kernel inserts, capped at 536 for IPv4.
    static let setMSS1400Insert = Policy(rules: [Rule(mssRange: nil, action: .setMSS(1400), insertMissing: true)])

    @Test func insertionVectorMatchesByteForByte() {
        let input = hex("450000281234400040063c60c0000201c63364079c4001bb00000001000000005002faf02ab90000")
        let expected = hex("4500002c1234400040063c5cc0000201c63364079c4001bb00000001000000006002faf01699000002040218")
        let (decision, output) = run(input, policy: Self.setMSS1400Insert)
        #expect(decision.outcome == .inserted(536))
        #expect(decision.length == 44)
        #expect(hexString(output) == hexString(expected))
        #expect(checksumsValid(output))
    }

    /// MSS after one NOP sits at an odd offset; the kernel writes 50e3, the right value is 8ca7.
    @Test func oddOffsetChecksumIsCorrectWhereTheKernelIsNot() {
        var builder = PacketBuilder()
        builder.options = [0x01, 0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x01]
        let input = builder.build()
        #expect(input[36] == 0x50 && input[37] == 0xa7, "vector's input checksum")
        let (decision, output) = run(input, policy: Self.setMSS1400Insert)
        #expect(decision.outcome == .clamped(from: 1460, to: 1400))
        #expect(output[36] == 0x8c && output[37] == 0xa7)
        #expect(checksumsValid(output))
        #expect(mssOption(output) == 1400)
    }
}

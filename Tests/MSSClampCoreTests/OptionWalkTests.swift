import MSSClampCore
import Testing

/// The option walk of xt_TCPMSS over many layouts, with the default policy (1361:1536 → 1360).
@Suite struct OptionWalkTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let options: [UInt8]
        let outcome: Outcome
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "MSS first", options: [2, 4, 0x05, 0xb4], outcome: .clamped(from: 1460, to: 1360)),
        Case(
            name: "Linux SYN layout", options: [2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7],
            outcome: .clamped(from: 1460, to: 1360)),
        Case(name: "after NOP (odd offset)", options: [1, 2, 4, 0x05, 0xb4, 1, 1, 1], outcome: .clamped(from: 1460, to: 1360)),
        Case(name: "after three NOPs", options: [1, 1, 1, 2, 4, 0x05, 0xb4, 0], outcome: .clamped(from: 1460, to: 1360)),
        Case(name: "EOL does not end the walk", options: [0, 1, 1, 1, 2, 4, 0x05, 0xb4], outcome: .clamped(from: 1460, to: 1360)),
        Case(name: "zero length byte steps one", options: [8, 0, 2, 4, 0x05, 0xb4, 1, 1], outcome: .clamped(from: 1460, to: 1360)),
        Case(name: "MSS with length 3 is skipped", options: [2, 3, 0x05, 1, 1, 1, 1, 1], outcome: .unchanged(.noMSSOption)),
        Case(name: "MSS length 3 then real MSS", options: [2, 3, 0x05, 2, 4, 0x05, 0xb4, 1], outcome: .clamped(from: 1460, to: 1360)),
        Case(name: "option overrunning the header hides MSS", options: [8, 10, 2, 4, 0x05, 0xb4, 1, 1], outcome: .unchanged(.noMSSOption)),
        Case(name: "MSS in last 4 bytes", options: [1, 1, 1, 1, 2, 4, 0x05, 0xb4], outcome: .clamped(from: 1460, to: 1360)),
        Case(name: "no options", options: [], outcome: .unchanged(.noMSSOption)),
        Case(name: "at target", options: [2, 4, 0x05, 0x50], outcome: .unchanged(.outsideRange)),
        Case(name: "lower bound 1361", options: [2, 4, 0x05, 0x51], outcome: .clamped(from: 1361, to: 1360)),
        Case(name: "upper bound 1536", options: [2, 4, 0x06, 0x00], outcome: .clamped(from: 1536, to: 1360)),
        Case(name: "1537 outside", options: [2, 4, 0x06, 0x01], outcome: .unchanged(.outsideRange)),
        Case(name: "1300 outside", options: [2, 4, 0x05, 0x14], outcome: .unchanged(.outsideRange)),
        Case(name: "jumbo 8960 outside", options: [2, 4, 0x23, 0x00], outcome: .unchanged(.outsideRange)),
        Case(name: "loopback 65495 outside", options: [2, 4, 0xff, 0xd7], outcome: .unchanged(.outsideRange)),
    ]

    @Test(arguments: cases)
    func ipv4(_ item: Case) { check(item, family: .ipv4) }

    @Test(arguments: cases)
    func ipv6(_ item: Case) { check(item, family: .ipv6) }

    func check(_ item: Case, family: IPFamily) {
        var builder = PacketBuilder()
        builder.family = family
        builder.options = item.options
        let input = builder.build()
        let (decision, output) = run(input)
        #expect(decision.outcome == item.outcome)
        #expect(checksumsValid(output))
        #expect(output.count == input.count)
        if case .clamped(_, let to) = item.outcome {
            #expect(mssOption(output) == to)
            #expect(zip(input, output).filter { $0 != $1 }.count <= 4, "only the MSS value and checksum change")
        } else {
            #expect(output == input)
        }
    }
}

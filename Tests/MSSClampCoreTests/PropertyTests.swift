import MSSClampCore
import Testing

/// Properties over random option layouts, with a fixed seed so failures replay.
@Suite struct PropertyTests {
    /// A random but well-formed option list, possibly with an MSS option somewhere.
    static func randomOptions(_ generator: inout SeededGenerator) -> [UInt8] {
        var options: [UInt8] = []
        let budget = Int.random(in: 0...10, using: &generator) * 4
        while options.count < budget {
            switch Int.random(in: 0..<6, using: &generator) {
            case 0: options.append(1)
            case 1: options.append(0)
            case 2 where options.count + 4 <= budget: options += [2, 4] + be16(UInt16.random(in: 0...UInt16.max, using: &generator))
            case 3 where options.count + 10 <= budget: options += [8, 10] + (0..<8).map { _ in UInt8.random(in: 0...255, using: &generator) }
            case 4 where options.count + 3 <= budget: options += [3, 3, 7]
            default: options.append(1)
            }
        }
        return Array(options.prefix(budget))
    }

    @Test func randomLayoutsKeepEveryInvariant() {
        var generator = SeededGenerator(state: 0x6d73_7363)
        var changed = 0
        for iteration in 0..<3000 {
            var builder = PacketBuilder()
            builder.family = Bool.random(using: &generator) ? .ipv4 : .ipv6
            builder.options = Self.randomOptions(&generator)
            builder.flags = [TCPFlags.syn, TCPFlags.syn | TCPFlags.ack, TCPFlags.ack].randomElement(using: &generator)!
            if Int.random(in: 0..<5, using: &generator) == 0 { builder.payload = [1, 2, 3] }
            let low = UInt16.random(in: 1...2000, using: &generator)
            let range: ClosedRange<UInt16>? = Bool.random(using: &generator) ? low...UInt16.random(in: low...UInt16.max, using: &generator) : nil
            let target = UInt16.random(in: 1...UInt16.max, using: &generator)
            let insert = Bool.random(using: &generator)
            let policy = Policy(rules: [Rule(mssRange: range, action: .setMSS(target), insertMissing: insert && range == nil)])
            let input = builder.build()
            let before = mssOption(input)
            let mode: ChecksumMode = iteration % 2 == 0 ? .incremental : .recompute
            let (decision, output) = run(input, policy: policy, checksum: mode)

            #expect(checksumsValid(output), "iteration \(iteration)")
            let tcp = builder.family == .ipv4 ? 20 : 40
            let declared =
                builder.family == .ipv4
                ? Int(output[2]) << 8 | Int(output[3])
                : 40 + (Int(output[4]) << 8 | Int(output[5]))
            #expect(declared == output.count, "length field consistent, iteration \(iteration)")
            #expect(
                Int(output[tcp + 12] >> 4) * 4 == 20 + builder.options.count + (decision.length - input.count),
                "data offset consistent, iteration \(iteration)")
            if let before, let after = mssOption(output) {
                #expect(after <= before, "never raised, iteration \(iteration)")
            }
            switch decision.outcome {
            case .clamped(let from, let to):
                #expect(from == before && to == target && to < from)
                changed += 1
            case .inserted(let value):
                #expect(before == nil && mssOption(output) == value && decision.length == input.count + 4)
                changed += 1
            default:
                #expect(output == input, "unchanged means untouched, iteration \(iteration)")
            }
        }
        #expect(changed > 500, "the generator exercises changes (\(changed))")
    }

    /// Random damage must never crash the core; whatever it decides, a packet it did not
    /// change is untouched, and one it changed has the length the decision says.
    @Test func randomBytesNeverCrashAndKeepInvariants() {
        var generator = SeededGenerator(state: 99)
        let policy = Policy(rules: [Rule(mssRange: nil, action: .setMSS(1200), insertMissing: true)])
        for _ in 0..<20000 {
            var packet = PacketBuilder().build()
            if Bool.random(using: &generator) {
                var builder = PacketBuilder()
                builder.family = .ipv6
                builder.extensionHeaders = [IPv6AndFragmentTests.hopByHop]
                packet = builder.build()
            }
            for _ in 0..<Int.random(in: 1...6, using: &generator) {
                packet[Int.random(in: 0..<packet.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            let cut = Int.random(in: 0...packet.count, using: &generator)
            let input = Array(packet[0..<cut])
            let (decision, output) = run(input, policy: policy)
            switch decision.outcome {
            case .inserted:
                #expect(output.count == cut + 4)
            case .clamped:
                #expect(output.count == cut && zip(input, output).filter { $0 != $1 }.count <= 4)
            case .unchanged, .dropped:
                #expect(output == input)
            }
        }
    }
}

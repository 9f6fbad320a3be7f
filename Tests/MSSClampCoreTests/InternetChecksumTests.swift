import MSSClampCore
import Testing

@Suite struct InternetChecksumTests {
    @Test func fullSumMatchesNaiveOracle() {
        var generator = SeededGenerator(state: 7)
        for length in 0..<64 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let sum = bytes.withUnsafeBytes { InternetChecksum.add($0) }
            #expect(~InternetChecksum.fold(sum) == PacketBuilder.checksum(pseudo: [], segment: bytes))
        }
    }

    /// RFC 1624's example: the update of 0xdd2f when a word changes 0x5555 -> 0x3285.
    @Test func rfc1624Example() {
        #expect(InternetChecksum.update(0xdd2f, old: UInt16(0x5555), new: UInt16(0x3285)) == 0x0000)
    }

    @Test func incrementalEqualsRecomputeForEveryWordChange() {
        var generator = SeededGenerator(state: 11)
        for _ in 0..<500 {
            var bytes = (0..<20).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let before = PacketBuilder.checksum(pseudo: [], segment: bytes)
            let at = Int.random(in: 0..<10, using: &generator) * 2
            let old = UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1])
            let new = UInt16.random(in: 0...UInt16.max, using: &generator)
            bytes[at] = UInt8(new >> 8)
            bytes[at + 1] = UInt8(new & 0xff)
            let updated = InternetChecksum.update(before, old: old, new: new)
            // Both are valid encodings when they verify; compare by verification.
            bytes += be16(updated)
            #expect(PacketBuilder.checksum(pseudo: [], segment: bytes) == 0)
        }
    }
}

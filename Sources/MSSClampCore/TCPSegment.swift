/// A view of the TCP header inside an IP packet, with the MSS operations of xt_TCPMSS.
///
/// Offsets in this type are relative to the start of the TCP header, because that is where
/// the checksum's 16-bit words are aligned.
struct TCPSegment {
    static let fixedHeaderLength = 20
    static let optionMSS: UInt8 = 2
    static let optionMSSLength: UInt8 = 4

    let bytes: UnsafeMutableRawBufferPointer
    let location: TCPLocation

    var start: Int { location.tcpStart }
    /// Bytes from the TCP header to the end of the IP packet.
    var segmentLength: Int { location.end - location.tcpStart }
    var flags: UInt8 { bytes[start + 13] }
    /// Data offset × 4.
    var headerLength: Int { Int(bytes[start + 12] >> 4) * 4 }

    var checksum: UInt16 {
        get { bytes.u16(start + 16) }
        nonmutating set { bytes.setU16(newValue, at: start + 16) }
    }

    /// The option walk of xt_TCPMSS: from byte 20 while 4 bytes remain, stop at kind 2 with
    /// length 4; step 1 for EOL, NOP or a zero length byte, else by the length byte. EOL does
    /// not end the walk, and an MSS option with a length other than 4 is stepped over.
    /// Returns the option's offset, or nil. `limit` bounds the walk further (reports over a
    /// capture cut short); the fast path never passes it.
    func findMSSOption(limit: Int = .max) -> Int? {
        let header = min(headerLength, limit)
        var index = TCPSegment.fixedHeaderLength
        while index <= header - 4 {
            let kind = bytes[start + index]
            let length = bytes[start + index + 1]
            if kind == TCPSegment.optionMSS && length == TCPSegment.optionMSSLength {
                return index
            }
            index += (kind <= 1 || length == 0) ? 1 : Int(length)
        }
        return nil
    }

    func mssValue(at option: Int) -> UInt16 {
        bytes.u16(start + option + 2)
    }

    /// Writes a new MSS value into the option at `option`, keeping the checksum right.
    ///
    /// At an even offset the value is one checksum word. At an odd offset its two bytes
    /// straddle two words, so both covering words are updated: this is where the kernel's
    /// `inet_proto_csum_replace2(old, new)` goes wrong and we do not.
    func setMSS(_ value: UInt16, at option: Int) {
        let field = option + 2
        if field & 1 == 0 {
            let old = bytes.u16(start + field)
            bytes.setU16(value, at: start + field)
            checksum = InternetChecksum.update(checksum, old: old, new: value)
        } else {
            let words = start + field - 1
            let old = bytes.u32(words)
            bytes.setU16(value, at: start + field)
            checksum = InternetChecksum.update(checksum, old: old, new: bytes.u32(words))
        }
    }

    /// Inserts `02 04 hi lo` right after the fixed header, before any existing option, as
    /// xt_TCPMSS does. Everything after it, up to `bufferLength` (capture trailers too),
    /// moves 4 bytes on; the caller guarantees the room. The moved bytes keep their word
    /// alignment, so the checksum changes only by the pseudo-header length, the new option
    /// and the data-offset word — updated in that order, as the kernel does.
    func insertMSS(_ value: UInt16, bufferLength: Int) {
        let at = start + TCPSegment.fixedHeaderLength
        let base = bytes.baseAddress!
        (base + at + 4).copyMemory(from: base + at, byteCount: bufferLength - at)

        let oldLength = UInt16(truncatingIfNeeded: segmentLength)
        var sum = InternetChecksum.update(checksum, old: oldLength, new: oldLength &+ 4)

        bytes[at] = TCPSegment.optionMSS
        bytes[at + 1] = TCPSegment.optionMSSLength
        bytes.setU16(value, at: at + 2)
        sum = InternetChecksum.update(sum, old: UInt32(0), new: bytes.u32(at))

        let oldWord = bytes.u16(start + 12)
        bytes[start + 12] &+= 0x10
        sum = InternetChecksum.update(sum, old: oldWord, new: bytes.u16(start + 12))
        checksum = sum
    }

    /// Computes the checksum from scratch over the pseudo-header and the segment.
    /// `extra` counts bytes the segment has grown by since `location` was taken.
    func computeChecksum(extra: Int = 0) -> UInt16 {
        let length = segmentLength + extra
        var sum: UInt64 = 0
        sum = TCPSegment.add(location.source, to: sum)
        sum = TCPSegment.add(location.pseudoHeaderDestination, to: sum)
        sum &+= UInt64(IPv4Header.protocolTCP) + UInt64(length & 0xffff) + UInt64(length >> 16)
        let segment = UnsafeRawBufferPointer(rebasing: bytes[(start)..<(start + length)])
        sum = InternetChecksum.add(segment, to: sum)
        // The checksum field itself must count as zero.
        sum &+= UInt64(~checksum)
        return ~InternetChecksum.fold(sum)
    }

    private static func add(_ address: IPAddress, to sum: UInt64) -> UInt64 {
        switch address {
        case .v4(let value):
            return sum &+ UInt64(value >> 16) &+ UInt64(value & 0xffff)
        case .v6(let high, let low):
            return sum &+ words(high) &+ words(low)
        }
    }

    private static func words(_ value: UInt64) -> UInt64 {
        (value >> 48) &+ ((value >> 32) & 0xffff) &+ ((value >> 16) & 0xffff) &+ (value & 0xffff)
    }
}

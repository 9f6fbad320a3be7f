/// The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
///
/// The TCP checksum is the ones'-complement of the ones'-complement sum of 16-bit words,
/// aligned on the start of the TCP header. Changing a field therefore changes the words
/// that *cover* it, and those are not the field itself when the field starts at an odd
/// offset. The kernel's xt_TCPMSS passes the MSS value to `inet_proto_csum_replace2` as if
/// it were a word, which is right only at even offsets; `replace16` below updates the
/// covering words instead, so it is right at every offset.
public enum InternetChecksum {
    /// Adds `bytes` to a running 32-bit-or-wider sum, as big-endian 16-bit words; an odd
    /// final byte is the high half of a word padded with zero. Not folded, not complemented.
    @inlinable
    public static func add(_ bytes: UnsafeRawBufferPointer, to sum: UInt64 = 0) -> UInt64 {
        var total = sum
        var index = 0
        let count = bytes.count
        while index + 1 < count {
            total &+= UInt64(bytes[index]) << 8 | UInt64(bytes[index + 1])
            index += 2
        }
        if index < count {
            total &+= UInt64(bytes[index]) << 8
        }
        return total
    }

    /// Folds a wide sum to 16 bits (end-around carry), without complementing.
    @inlinable
    public static func fold(_ sum: UInt64) -> UInt16 {
        var value = sum
        while value >> 16 != 0 {
            value = (value & 0xffff) + (value >> 16)
        }
        return UInt16(value)
    }

    /// RFC 1624, equation 3: HC' = ~(~HC + ~m + m').
    ///
    /// Equation 3 (not 2) is the one that never yields 0x0000 from a non-zero sum: a TCP
    /// checksum field can then always be verified by summing to 0xffff.
    @inlinable
    public static func update(_ checksum: UInt16, old: UInt16, new: UInt16) -> UInt16 {
        let sum = UInt64(~checksum) + UInt64(~old) + UInt64(new)
        return ~fold(sum)
    }

    /// Updates for a 32-bit value that changed from `old` to `new` (two aligned words).
    @inlinable
    public static func update(_ checksum: UInt16, old: UInt32, new: UInt32) -> UInt16 {
        let sum =
            UInt64(~checksum) + UInt64(~UInt16(truncatingIfNeeded: old >> 16))
            + UInt64(~UInt16(truncatingIfNeeded: old)) + UInt64(new >> 16) + UInt64(new & 0xffff)
        return ~fold(sum)
    }
}

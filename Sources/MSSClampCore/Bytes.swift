/// Big-endian field access over packet bytes.
///
/// Fields are read and written byte by byte: packet headers sit at arbitrary offsets (an MSS
/// option after one NOP starts at an odd address), so nothing here assumes alignment or host
/// byte order. Callers check bounds first; these helpers only trap in debug builds.
extension UnsafeMutableRawBufferPointer {
    @inline(__always)
    func u8(_ offset: Int) -> UInt8 { self[offset] }

    @inline(__always)
    func u16(_ offset: Int) -> UInt16 {
        UInt16(self[offset]) << 8 | UInt16(self[offset + 1])
    }

    @inline(__always)
    func u32(_ offset: Int) -> UInt32 {
        UInt32(u16(offset)) << 16 | UInt32(u16(offset + 2))
    }

    @inline(__always)
    func u64(_ offset: Int) -> UInt64 {
        UInt64(u32(offset)) << 32 | UInt64(u32(offset + 4))
    }

    @inline(__always)
    func setU16(_ value: UInt16, at offset: Int) {
        self[offset] = UInt8(truncatingIfNeeded: value >> 8)
        self[offset + 1] = UInt8(truncatingIfNeeded: value)
    }
}

/// The same readers over read-only bytes, for the parsers beside the core (the ICMP signals
/// of `--learn-pmtu`): one definition of big-endian reading for the whole package.
extension UnsafeRawBufferPointer {
    @inlinable @inline(__always)
    public func u16(_ offset: Int) -> UInt16 {
        UInt16(self[offset]) << 8 | UInt16(self[offset + 1])
    }

    @inlinable @inline(__always)
    public func u32(_ offset: Int) -> UInt32 {
        UInt32(u16(offset)) << 16 | UInt32(u16(offset + 2))
    }

    @inlinable @inline(__always)
    public func u64(_ offset: Int) -> UInt64 {
        UInt64(u32(offset)) << 32 | UInt64(u32(offset + 4))
    }
}

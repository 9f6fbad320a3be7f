import CNetfilterQueue
import Glibc

/// Buffers for up to `capacity` netlink datagrams, filled by one recvmmsg(2).
///
/// The kernel sends each queued packet as a datagram of its own, so reading them one
/// `recv` at a time costs a system call per SYN. One `recvmmsg` takes everything waiting (up
/// to a batch) in one call. Every slot holds the largest message the queue can send (a
/// 64 KiB packet with its headers), so nothing is ever truncated; the pages a slot does not
/// use are never touched, so they cost address space, not memory.
public final class ReceiveBatch {
    /// Datagrams one receive may bring.
    public let capacity: Int
    /// The bytes of one slot: a whole packet (copy range 0xffff) and its netlink headers.
    public static let slotSize = 0x10000 + 16384
    private let storage: UnsafeMutableRawBufferPointer
    private let vectors: UnsafeMutablePointer<iovec>
    let headers: UnsafeMutablePointer<cnfq_mmsghdr>

    public init(capacity: Int = 64) {
        precondition(capacity > 0)
        self.capacity = capacity
        storage = .allocate(byteCount: capacity * ReceiveBatch.slotSize, alignment: 16)
        vectors = .allocate(capacity: capacity)
        headers = .allocate(capacity: capacity)
        for slot in 0..<capacity {
            vectors[slot] = iovec(iov_base: storage.baseAddress! + slot * ReceiveBatch.slotSize, iov_len: ReceiveBatch.slotSize)
            headers[slot] = cnfq_mmsghdr()
            headers[slot].msg_hdr.msg_iov = vectors + slot
            headers[slot].msg_hdr.msg_iovlen = 1
        }
    }

    deinit {
        storage.deallocate()
        vectors.deallocate()
        headers.deallocate()
    }

    /// The bytes of datagram `index` (of the count a receive returned) as received.
    public subscript(index: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: vectors[index].iov_base, count: Int(headers[index].msg_len))
    }
}

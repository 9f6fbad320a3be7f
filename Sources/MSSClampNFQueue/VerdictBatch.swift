import CNetfilterQueue

/// Verdict messages for one receive batch, packed into one buffer and sent with one
/// sendto. Each packet still gets its own verdict message (NFQNL_MSG_VERDICT_BATCH could
/// only say "accept everything up to id N unchanged", which a rewritten packet breaks).
/// The buffer is allocated once; adding a verdict allocates nothing.
public struct VerdictBatch: ~Copyable {
    private let buffer: UnsafeMutableRawBufferPointer
    private var used = 0
    /// Room for one verdict carrying a whole 64 KiB packet, plus headers.
    static let largestMessage = 0x10000 + 256

    public init(capacity: Int = 1 << 20) {
        buffer = .allocate(byteCount: max(capacity, 2 * VerdictBatch.largestMessage), alignment: 8)
    }

    deinit {
        buffer.deallocate()
    }

    public var isEmpty: Bool { used == 0 }

    /// Whether a verdict with `payloadLength` bytes still fits; flush first if not.
    public func hasRoom(payloadLength: Int) -> Bool {
        buffer.count - used >= payloadLength + 256
    }

    public mutating func accept(_ id: UInt32, queue: UInt16) {
        append(id, queue: queue, verdict: cnfq_accept(), payload: nil)
    }

    public mutating func drop(_ id: UInt32, queue: UInt16) {
        append(id, queue: queue, verdict: cnfq_drop(), payload: nil)
    }

    /// ACCEPT with a replacement packet: the kernel takes these bytes as final.
    public mutating func accept(_ id: UInt32, queue: UInt16, payload: UnsafeRawBufferPointer) {
        append(id, queue: queue, verdict: cnfq_accept(), payload: payload)
    }

    private mutating func append(_ id: UInt32, queue: UInt16, verdict: Int32, payload: UnsafeRawBufferPointer?) {
        precondition(hasRoom(payloadLength: payload?.count ?? 0), "flush the verdict batch before it overflows")
        let start = (buffer.baseAddress! + used).assumingMemoryBound(to: CChar.self)
        let message = nfq_nlmsg_put(start, Int32(NFQNL_MSG_VERDICT.rawValue), UInt32(queue))!
        nfq_nlmsg_verdict_put(message, Int32(bitPattern: id), verdict)
        if let payload, let base = payload.baseAddress {
            nfq_nlmsg_verdict_put_pkt(message, base, UInt32(payload.count))
        }
        used += Int(cnfq_nlmsg_align(message.pointee.nlmsg_len))
    }

    /// Empties the batch without sending (benchmarks of the packet path).
    public mutating func discard() { used = 0 }

    /// Sends every verdict in one sendto and empties the batch.
    public mutating func flush(to socket: QueueSocket) throws(NetlinkError) {
        defer { used = 0 }
        try socket.send(UnsafeRawBufferPointer(rebasing: buffer[0..<used]))
    }
}

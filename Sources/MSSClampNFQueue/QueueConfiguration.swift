/// How one netfilter queue is set up.
public struct QueueConfiguration: Sendable, Equatable {
    /// `run --queue-maxlen`'s default: a burst of 4096 SYNs waits instead of failing open.
    public static let defaultMaxLength: UInt32 = 4096
    /// `run --receive-buffer`'s default: room for the whole queue's worth of SYNs in flight.
    public static let defaultReceiveBuffer = 8 << 20

    /// The queue number (`--queue-num` in the rules).
    public var number: UInt16
    /// Packets the kernel holds for us before it starts to fail open (or drop).
    public var maxLength = Self.defaultMaxLength
    /// Accept packets when the queue is full instead of dropping them (NFQA_CFG_F_FAIL_OPEN).
    public var failOpen = true
    /// Socket receive buffer; forced past rmem_max with SO_RCVBUFFORCE.
    public var receiveBuffer = Self.defaultReceiveBuffer
    /// The CPU the queue's thread is pinned to (`--cpus`); nil lets the scheduler choose.
    public var cpu: Int?
    /// The same socket also binds `number + k × stride` for k in 1..<blocks: the queues
    /// by which the rules say a packet's IPsec class (MSSClampCore's `IPsecClasses`).
    public var blocks = 1
    public var stride: UInt16 = 1

    /// Every queue the socket binds, `number` first.
    public var numbers: [UInt16] {
        (0..<blocks).map { UInt16(clamping: Int(number) + $0 * Int(stride)) }
    }

    /// Which block a queue of this socket belongs to (0 for `number` itself).
    @inlinable
    public func block(of queue: UInt16) -> Int {
        queue >= number && stride > 0 ? Int(queue - number) / Int(stride) : 0
    }

    public init(number: UInt16) {
        self.number = number
    }
}

/// How one netfilter queue is set up.
public struct QueueConfiguration: Sendable, Equatable {
    /// The queue number (`--queue-num` in the rules).
    public var number: UInt16
    /// Packets the kernel holds for us before it starts to fail open (or drop).
    public var maxLength: UInt32 = 4096
    /// Accept packets when the queue is full instead of dropping them (NFQA_CFG_F_FAIL_OPEN).
    public var failOpen = true
    /// Socket receive buffer; forced past rmem_max with SO_RCVBUFFORCE.
    public var receiveBuffer = 8 << 20
    /// The CPU the queue's thread is pinned to (`--cpus`); nil lets the scheduler choose.
    public var cpu: Int?

    public init(number: UInt16) {
        self.number = number
    }
}

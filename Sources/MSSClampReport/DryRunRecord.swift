import MSSClampCore

/// One handshake packet's story.
public struct DryRunRecord: Sendable {
    /// 1-based, as Wireshark numbers frames (counted before any --filter).
    public var frame: Int
    public var seconds: Int
    public var microseconds: Int
    public var flow: FlowInfo
    public var decision: Decision

    public init(frame: Int, seconds: Int, microseconds: Int, flow: FlowInfo, decision: Decision) {
        self.frame = frame
        self.seconds = seconds
        self.microseconds = microseconds
        self.flow = flow
        self.decision = decision
    }
}

import CNetfilterQueue
import Glibc
import MSSClampPrivileges

/// The one owner of a NETLINK_NETFILTER socket bound to one queue. Every call that can fail
/// reads errno at once and throws `NetlinkError`; the socket is closed exactly once, in deinit.
public final class QueueSocket {
    public let configuration: QueueConfiguration
    private let socket: OpaquePointer
    private let portID: UInt32
    private var sequence: UInt32 = 1
    /// Room for one whole IP packet plus netlink and attribute headers.
    private var control = [UInt8](repeating: 0, count: 8192)
    public private(set) var isBound = false

    /// Opens the socket, binds the queue, and configures it; throws with a reason a person
    /// can act on (no privilege, queue taken).
    public init(_ configuration: QueueConfiguration) throws(NetlinkError) {
        self.configuration = configuration
        guard let socket = mnl_socket_open(NETLINK_NETFILTER) else { throw NetlinkError("open netlink socket") }
        guard mnl_socket_bind(socket, 0, pid_t(MNL_SOCKET_AUTOPID)) >= 0 else {
            let error = NetlinkError("bind netlink socket")
            mnl_socket_close(socket)
            throw error
        }
        self.socket = socket
        portID = mnl_socket_get_portid(socket)

        // A big receive buffer absorbs bursts; SO_RCVBUFFORCE ignores rmem_max (needs
        // CAP_NET_ADMIN, which we have if the bind below succeeds). Failing here is not fatal.
        var size = Int32(clamping: configuration.receiveBuffer)
        if setsockopt(fileDescriptor, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            _ = setsockopt(fileDescriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        // Wake up regularly so the worker can notice it is asked to stop.
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        _ = setsockopt(fileDescriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        // Bind and configure in one message: the kernel creates the queue and sets its copy
        // mode, length and flags in the same call. Bound with two messages, a SYN that the
        // rules (left by a crash) queue between them meets copy mode NONE, which the kernel
        // treats as an error and drops, not bypasses.
        for number in configuration.numbers {
            do {
                try bind(number)
            } catch {
                // Whole or not at all; deinit closes the socket.
                for bound in configuration.numbers.prefix(while: { $0 != number }) { try? command("unbind queue \(bound)", queue: bound, unbind) }
                throw error
            }
        }
        isBound = true
    }

    private func bind(_ number: UInt16) throws(NetlinkError) {
        do {
            try command("bind queue \(number)", queue: number) { [configuration] message in
                nfq_nlmsg_cfg_put_cmd(message, UInt16(AF_INET), UInt8(NFQNL_CFG_CMD_BIND.rawValue))
                nfq_nlmsg_cfg_put_params(message, UInt8(NFQNL_COPY_PACKET.rawValue), 0xffff)
                nfq_nlmsg_cfg_put_qmaxlen(message, configuration.maxLength)
                // Fail-open as asked, and GSO explicitly off: we want whole, checksummed
                // packets (the kernel segments GSO packets before queueing them then).
                let flags = configuration.failOpen ? UInt32(NFQA_CFG_F_FAIL_OPEN) : 0
                mnl_attr_put_u32(message, UInt16(NFQA_CFG_FLAGS.rawValue), flags.bigEndian)
                mnl_attr_put_u32(message, UInt16(NFQA_CFG_MASK.rawValue), UInt32(NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO).bigEndian)
            }
        } catch let error where error.code == EPERM && Privileges.State.current().effective.contains(.netAdmin) {
            // With the capability in hand, EPERM means the queue belongs to another socket.
            throw NetlinkError(error.operation, code: EBUSY)
        }
    }

    private func unbind(_ message: UnsafeMutablePointer<nlmsghdr>) {
        nfq_nlmsg_cfg_put_cmd(message, UInt16(AF_INET), UInt8(NFQNL_CFG_CMD_UNBIND.rawValue))
    }

    deinit {
        mnl_socket_close(socket)
    }

    public var fileDescriptor: Int32 { mnl_socket_get_fd(socket) }

    /// Unbinds the queue. Call only after the rules that feed it are gone and it is drained:
    /// the kernel drops whatever is still queued when the queue goes away.
    public func unbind() throws(NetlinkError) {
        guard isBound else { return }
        isBound = false
        var failure: NetlinkError?
        for number in configuration.numbers {
            do { try command("unbind queue \(number)", queue: number, unbind) } catch { failure = failure ?? error }
        }
        if let failure { throw failure }
    }

    /// What a receive brought.
    public enum Received {
        case messages(Int)
        /// Nothing within the receive timeout.
        case idle
        /// The socket buffer overflowed and the kernel dropped (or failed open) packets.
        case overrun
    }

    /// Everything waiting, up to a batch, in one system call: blocks (up to the receive
    /// timeout) for the first datagram only. `.messages(n)`: datagrams in `batch[0..<n]`.
    public func receive(into batch: ReceiveBatch) throws(NetlinkError) -> Received {
        // The kernel writes msg_flags and msg_len; the rest of each header stays as set up.
        let count = cnfq_recvmmsg(fileDescriptor, batch.headers, UInt32(batch.capacity), cnfq_msg_waitforone())
        if count > 0 { return .messages(Int(count)) }
        if count == 0 { return .idle }
        switch errno {
        case EAGAIN, EINTR: return .idle
        case ENOBUFS: return .overrun
        default: throw NetlinkError("receive from queue \(configuration.number)")
        }
    }

    public func send(_ bytes: UnsafeRawBufferPointer) throws(NetlinkError) {
        guard !bytes.isEmpty else { return }
        guard mnl_socket_sendto(socket, bytes.baseAddress, bytes.count) >= 0 else {
            throw NetlinkError("send verdicts to queue \(configuration.number)")
        }
    }

    /// Sends one config message asking for an ACK and waits for it. Packets that arrive in
    /// the meantime (rules left by an earlier run) are accepted, so none is stranded.
    private func command(_ what: String, queue: UInt16, _ fill: (UnsafeMutablePointer<nlmsghdr>) -> Void) throws(NetlinkError) {
        sequence &+= 1
        let expected = sequence
        let sent = control.withUnsafeMutableBytes { raw -> Int in
            let base = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
            let message = nfq_nlmsg_put(base, Int32(NFQNL_MSG_CONFIG.rawValue), UInt32(queue))!
            message.pointee.nlmsg_flags |= UInt16(NLM_F_ACK)
            message.pointee.nlmsg_seq = expected
            fill(message)
            return mnl_socket_sendto(socket, message, Int(message.pointee.nlmsg_len))
        }
        guard sent >= 0 else { throw NetlinkError(what) }

        var buffer = [UInt8](repeating: 0, count: 0x10000 + 4096)
        for _ in 0..<64 {
            let count = buffer.withUnsafeMutableBytes { mnl_socket_recvfrom(socket, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR || errno == ENOBUFS { continue }
                throw NetlinkError(errno == EAGAIN ? "\(what): no answer from the kernel" : what)
            }
            var result: Int32?
            var verdicts = VerdictBatch(capacity: 65536)
            buffer.withUnsafeBytes { raw in
                NetlinkMessages.forEach(raw, count: count) { message in
                    if message.pointee.nlmsg_type == UInt16(NLMSG_ERROR) {
                        let error = mnl_nlmsg_get_payload(message).assumingMemoryBound(to: nlmsgerr.self)
                        if error.pointee.msg.nlmsg_seq == expected { result = -error.pointee.error }
                    } else if let packet = QueuedPacket.decode(message) {
                        verdicts.accept(packet.id, queue: packet.queue)
                    }
                }
            }
            try verdicts.flush(to: self)
            if let result {
                guard result == 0 else { throw NetlinkError(what, code: result) }
                return
            }
        }
        throw NetlinkError("\(what): no answer from the kernel", code: ETIMEDOUT)
    }
}

/// Walks the netlink messages in a receive buffer (mnl_nlmsg_ok / mnl_nlmsg_next).
public enum NetlinkMessages {
    public static func forEach(_ buffer: UnsafeRawBufferPointer, count: Int, _ body: (UnsafePointer<nlmsghdr>) -> Void) {
        guard count > 0, let base = buffer.baseAddress else { return }
        var message = base.assumingMemoryBound(to: nlmsghdr.self)
        var remaining = Int32(count)
        while mnl_nlmsg_ok(message, remaining) {
            body(message)
            message = UnsafePointer(mnl_nlmsg_next(message, &remaining))
        }
    }
}

import CNetfilterQueue
import Glibc

/// A bound NFLOG group: the kernel's copies of the packets the rules log to it
/// (`-j NFLOG --nflog-group N`, nft `log group N`), read without blocking. Copies, not
/// the packets: forwarding never waits for us; a copy we are too slow for is lost and
/// counted (the socket overran), never a delay. Not `Sendable`: one task owns it.
public final class LogSocket {
    public let group: UInt16
    private let socket: OpaquePointer
    private var sequence: UInt32 = 1
    private var scratch = [UInt8](repeating: 0, count: 0x10000)

    /// Binds `group` and asks for the first `copyRange` bytes of each packet, delivered at
    /// most `flushCentiseconds` after the first of a batch waits (the rule's threshold
    /// batches them). Needs CAP_NET_ADMIN; a group another logger holds is refused (EBUSY).
    public init(group: UInt16, copyRange: UInt32 = 128, flushCentiseconds: UInt32 = 10, receiveBuffer: Int = 4 << 20) throws(NetlinkError) {
        self.group = group
        guard let socket = mnl_socket_open(NETLINK_NETFILTER) else { throw NetlinkError("open netlink socket (NFLOG)") }
        guard mnl_socket_bind(socket, 0, pid_t(MNL_SOCKET_AUTOPID)) >= 0 else {
            let error = NetlinkError("bind netlink socket (NFLOG)")
            mnl_socket_close(socket)
            throw error
        }
        self.socket = socket
        let descriptor = mnl_socket_get_fd(socket)
        var size = Int32(clamping: receiveBuffer)
        if setsockopt(descriptor, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        try configure("bind NFLOG group \(group)") { message in
            var command = UInt8(NFULNL_CFG_CMD_BIND.rawValue)
            mnl_attr_put(message, UInt16(NFULA_CFG_CMD.rawValue), 1, &command)
        }
        try configure("configure NFLOG group \(group)") { message in
            // struct nfulnl_msg_config_mode (packed): copy_range (be32), copy_mode (u8), pad.
            var mode: [UInt8] = [
                UInt8(copyRange >> 24 & 0xff), UInt8(copyRange >> 16 & 0xff), UInt8(copyRange >> 8 & 0xff), UInt8(copyRange & 0xff),
                UInt8(NFULNL_COPY_PACKET), 0,
            ]
            mnl_attr_put(message, UInt16(NFULA_CFG_MODE.rawValue), mode.count, &mode)
            mnl_attr_put_u32(message, UInt16(NFULA_CFG_TIMEOUT.rawValue), flushCentiseconds.bigEndian)
        }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
    }

    deinit {
        // Unbinding is the kernel's job when the socket closes (the group is freed).
        mnl_socket_close(socket)
    }

    /// What one drain read.
    public struct Drained: Sendable, Equatable {
        public var packets = 0
        /// Times the socket had overrun (copies lost) since the last drain.
        public var overruns = 0
    }

    /// Hands every packet copy waiting to `body` (its first bytes, valid during the call),
    /// at most `limit` reads: a flood costs bounded work per call, the next call goes on.
    public func drain(limit: Int = 256, _ body: (UnsafeMutableRawBufferPointer) -> Void) -> Drained {
        var drained = Drained()
        for _ in 0..<limit {
            errno = 0
            let count = scratch.withUnsafeMutableBytes { mnl_socket_recvfrom(socket, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == ENOBUFS {
                    drained.overruns += 1
                    continue
                }
                return drained
            }
            scratch.withUnsafeMutableBytes { raw in
                NetlinkMessages.forEach(UnsafeRawBufferPointer(raw), count: count) { message in
                    guard let payload = LogSocket.payload(message) else { return }
                    drained.packets += 1
                    let start = UnsafeMutableRawPointer(mutating: payload.baseAddress!)
                    body(UnsafeMutableRawBufferPointer(start: start, count: payload.count))
                }
            }
        }
        return drained
    }

    /// The packet bytes of an NFULNL_MSG_PACKET message; nil for anything else.
    static func payload(_ message: UnsafePointer<nlmsghdr>) -> UnsafeRawBufferPointer? {
        let type = Int32(message.pointee.nlmsg_type)
        guard type >> 8 == NFNL_SUBSYS_ULOG, type & 0xff == Int32(NFULNL_MSG_PACKET.rawValue) else { return nil }
        let total = Int(message.pointee.nlmsg_len)
        let bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(message), count: total)
        var offset = Int(cnfq_nlmsg_align(UInt32(MemoryLayout<nlmsghdr>.size + MemoryLayout<nfgenmsg>.size)))
        while offset + 4 <= total {
            let length = Int(bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
            let kind = UInt32(bytes.loadUnaligned(fromByteOffset: offset + 2, as: UInt16.self) & 0x3fff)
            guard length >= 4, offset + length <= total else { return nil }
            if kind == NFULA_PAYLOAD.rawValue, length > 4 {
                return UnsafeRawBufferPointer(rebasing: bytes[(offset + 4)..<(offset + length)])
            }
            offset += Int(cnfq_nlmsg_align(UInt32(length)))
        }
        return nil
    }

    /// Sends one config message for the group, asking for an ACK, and waits for it.
    private func configure(_ what: String, _ fill: (UnsafeMutablePointer<nlmsghdr>) -> Void) throws(NetlinkError) {
        sequence &+= 1
        let expected = sequence
        var buffer = [UInt8](repeating: 0, count: 8192)
        let sent = buffer.withUnsafeMutableBytes { raw -> Int in
            let message = mnl_nlmsg_put_header(raw.baseAddress)!
            message.pointee.nlmsg_type = UInt16(NFNL_SUBSYS_ULOG << 8) | UInt16(NFULNL_MSG_CONFIG.rawValue)
            message.pointee.nlmsg_flags = UInt16(NLM_F_REQUEST | NLM_F_ACK)
            message.pointee.nlmsg_seq = expected
            let header = mnl_nlmsg_put_extra_header(message, MemoryLayout<nfgenmsg>.size)!.assumingMemoryBound(to: nfgenmsg.self)
            header.pointee.nfgen_family = UInt8(AF_UNSPEC)
            header.pointee.version = UInt8(NFNETLINK_V0)
            header.pointee.res_id = group.bigEndian
            fill(message)
            return mnl_socket_sendto(socket, message, Int(message.pointee.nlmsg_len))
        }
        guard sent >= 0 else { throw NetlinkError(what) }
        for _ in 0..<64 {
            let count = buffer.withUnsafeMutableBytes { mnl_socket_recvfrom(socket, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR || errno == ENOBUFS { continue }
                throw NetlinkError(what)
            }
            var result: Int32?
            buffer.withUnsafeBytes { raw in
                NetlinkMessages.forEach(raw, count: count) { message in
                    guard message.pointee.nlmsg_type == UInt16(NLMSG_ERROR) else { return }
                    let error = mnl_nlmsg_get_payload(message).assumingMemoryBound(to: nlmsgerr.self)
                    if error.pointee.msg.nlmsg_seq == expected { result = -error.pointee.error }
                }
            }
            if let result {
                guard result == 0 else { throw NetlinkError(what, code: result) }
                return
            }
        }
        throw NetlinkError("\(what): no answer from the kernel", code: ETIMEDOUT)
    }
}

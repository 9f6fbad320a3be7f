// hotpath: the worker's per-packet path (MSSClampWorker.PacketPath) on synthetic netlink
// messages carrying SYNs in the option layouts of Linux, Windows and macOS, IPv4 and IPv6.
//
//   hotpath allocs           every layout, without learning, with --learn-pmtu, and with
//                            what --learn-stalls adds to the table: heap allocations
//                            per batch after warm-up; exit 1 unless all are 0 (make test)
//   hotpath run LAYOUT N     N SYNs of LAYOUT in batches of 64 (callgrind counts these)
import CAllocCounter
import CNetfilterQueue
import Glibc
import MSSClampCore
import MSSClampLearning
import MSSClampWorker

/// TCP options of a first SYN as each system sends it (MSS 1460 on Ethernet).
let layouts: [(name: String, ipv6: Bool, options: [UInt8])] = [
    // MSS, SACK permitted, timestamps, NOP, window scale 7
    ("linux", false, [2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 1, 0x86, 0xa0, 0, 0, 0, 0, 1, 3, 3, 7]),
    // MSS, NOP, window scale 8, NOP, NOP, SACK permitted
    ("windows", false, [2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2]),
    // MSS, NOP, window scale 6, NOP, NOP, timestamps, SACK permitted, EOL, EOL
    ("macos", false, [2, 4, 0x05, 0xb4, 1, 3, 3, 6, 1, 1, 8, 10, 0x2c, 0x4f, 0x1a, 0x7b, 0, 0, 0, 0, 4, 2, 0, 0]),
    ("linux6", true, [2, 4, 0x05, 0xa0, 4, 2, 8, 10, 0, 1, 0x86, 0xa0, 0, 0, 0, 0, 1, 3, 3, 7]),
]

/// An IPv4 or IPv6 SYN from the documentation ranges with valid checksums.
func syn(ipv6: Bool, options: [UInt8], port: UInt16) -> [UInt8] {
    var tcp: [UInt8] =
        [
            UInt8(port >> 8), UInt8(port & 0xff), 0x01, 0xbb, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0,
            UInt8((20 + options.count) / 4) << 4, 0x02, 0xfa, 0xf0, 0, 0, 0, 0,
        ] + options
    let source: [UInt8] = ipv6 ? [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [2] : [192, 0, 2, 2]
    let destination: [UInt8] = ipv6 ? [0x20, 0x01, 0x0d, 0xb8, 0, 1] + Array(repeating: 0, count: 9) + [1] : [198, 51, 100, 1]
    let length = tcp.count
    let pseudo = source + destination + [0, 0, UInt8(length >> 8), UInt8(length & 0xff), 0, 0, 0, 6]
    let sum = pseudo.withUnsafeBytes { InternetChecksum.add($0) }
    let checksum = ~InternetChecksum.fold(tcp.withUnsafeBytes { InternetChecksum.add($0, to: sum) })
    tcp[16] = UInt8(checksum >> 8)
    tcp[17] = UInt8(checksum & 0xff)
    if ipv6 {
        return [0x60, 0, 0, 0, UInt8(length >> 8), UInt8(length & 0xff), 6, 64] + source + destination + tcp
    }
    let total = 20 + length
    var ip: [UInt8] = [0x45, 0, UInt8(total >> 8), UInt8(total & 0xff), 0, 1, 0x40, 0, 64, 6, 0, 0] + source + destination
    let ipChecksum = ~InternetChecksum.fold(ip.withUnsafeBytes { InternetChecksum.add($0) })
    ip[10] = UInt8(ipChecksum >> 8)
    ip[11] = UInt8(ipChecksum & 0xff)
    return ip + tcp
}

/// `count` NFQNL_MSG_PACKET messages as the kernel sends them (packet header, interfaces,
/// payload), packed like one receive's worth.
func messages(ipv6: Bool, options: [UInt8], count: Int) -> (UnsafeMutableRawBufferPointer, Int) {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count * 512, alignment: 8)
    buffer.initializeMemory(as: UInt8.self, repeating: 0)
    var used = 0
    for index in 0..<count {
        let message = mnl_nlmsg_put_header(buffer.baseAddress! + used)!
        message.pointee.nlmsg_type = UInt16(NFNL_SUBSYS_QUEUE << 8) | UInt16(NFQNL_MSG_PACKET.rawValue)
        let family = mnl_nlmsg_put_extra_header(message, MemoryLayout<nfgenmsg>.size)!.assumingMemoryBound(to: nfgenmsg.self)
        family.pointee.nfgen_family = UInt8(ipv6 ? AF_INET6 : AF_INET)
        let id = UInt32(index + 1)
        // struct nfqnl_msg_packet_hdr is packed: id (be32), hw_protocol (be16), hook (u8).
        var header: [UInt8] = [
            UInt8(id >> 24), UInt8((id >> 16) & 0xff), UInt8((id >> 8) & 0xff), UInt8(id & 0xff),
            ipv6 ? 0x86 : 0x08, ipv6 ? 0xdd : 0x00, 2,
        ]
        mnl_attr_put(message, UInt16(NFQA_PACKET_HDR.rawValue), header.count, &header)
        mnl_attr_put_u32(message, UInt16(NFQA_IFINDEX_INDEV.rawValue), UInt32(2).bigEndian)
        mnl_attr_put_u32(message, UInt16(NFQA_IFINDEX_OUTDEV.rawValue), UInt32(3).bigEndian)
        var packet = syn(ipv6: ipv6, options: options, port: UInt16(40000 + index))
        mnl_attr_put(message, UInt16(NFQA_PAYLOAD.rawValue), packet.count, &packet)
        used += Int(cnfq_nlmsg_align(message.pointee.nlmsg_len))
    }
    return (buffer, used)
}

/// The policy of the classic rule: 1361-1536 -> 1360 (IPv6 1340), forwarded SYNs out eth0-less.
let policy = Policy(rules: [Rule(mssRange: 1361...1536, action: .setMSS(ipv4: 1360, ipv6: 1340))])
let batch = 64

func clampedCount(_ path: PacketPath) -> UInt64 { path.state.counters.outcomes.count(.clamped(from: 0, to: 0)) }

let arguments = CommandLine.arguments
switch arguments.dropFirst().first {
case "allocs":
    var failed = false
    for layout in layouts {
        for variant in ["", " learn-pmtu", " learn-stalls"] {
            let learning = !variant.isEmpty
            let path = PacketPath(policy: policy, learning: learning ? PathMTULearner.Limits() : nil)
            if variant == " learn-stalls" {
                // What --learn-stalls leaves in the table: the SYNs' own source among others,
                // so every SYN finds its ceiling and notes the time in place.
                let source: IPAddress = layout.ipv6 ? .v6(0x2001_0db8_0000_0000, 2) : .v4(0xc000_0202)
                var table: [IPAddress: PathMTULearner.StallCeiling] = [source: .init(mtu: 1400)]
                for host in UInt32(1)...64 { table[.v4(0xc633_6400 | host)] = .init(mtu: 1360) }
                path.state.learner?.withLockedValue { $0.setStallCeilings(table) }
            }
            let (buffer, used) = messages(ipv6: layout.ipv6, options: layout.options, count: batch)
            defer { buffer.deallocate() }
            path.handle(UnsafeRawBufferPointer(buffer), count: used)  // warm-up: lazy one-time setup
            let batches = 1000
            alloc_counter_start()
            for _ in 0..<batches { path.handle(UnsafeRawBufferPointer(buffer), count: used) }
            let allocations = alloc_counter_stop()
            let clamped = clampedCount(path)
            let expected = UInt64((batches + 1) * batch)
            print(
                "\(layout.name)\(variant): \(batches * batch) SYNs, \(clamped) clamped in all, \(allocations) heap allocations")
            if allocations != 0 || clamped != expected { failed = true }
        }
    }
    // The counter must see allocations when there are some, or its zeros prove nothing.
    alloc_counter_start()
    let probe = [Int](repeating: 1, count: Int(getpid() % 7) + 100)
    let seen = alloc_counter_stop()
    print("control: an array of \(probe.count) ints, \(seen) heap allocation(s)")
    if seen == 0 { failed = true }
    print(failed ? "hotpath: FAILED" : "hotpath: the per-packet path allocates nothing")
    exit(failed ? 1 : 0)
case "run":
    guard arguments.count == 4, let layout = layouts.first(where: { $0.name == arguments[2] }), let count = Int(arguments[3]), count > 0 else {
        print("usage: hotpath run \(layouts.map(\.name).joined(separator: "|")) COUNT")
        exit(2)
    }
    let path = PacketPath(policy: policy)
    let (buffer, used) = messages(ipv6: layout.ipv6, options: layout.options, count: batch)
    for _ in 0..<(count + batch - 1) / batch { path.handle(UnsafeRawBufferPointer(buffer), count: used) }
    print("\(layout.name): \(clampedCount(path)) clamped")
default:
    print("usage: hotpath allocs | hotpath run LAYOUT COUNT")
    exit(2)
}

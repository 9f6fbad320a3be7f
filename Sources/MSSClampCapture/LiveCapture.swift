import CPcap
import Glibc

/// A live capture on one interface through libpcap, with a kernel BPF filter, for
/// `mssclamp watch`. Reads wake at least every `timeoutMilliseconds` so the caller can
/// check its bounds and signals; nothing is ever sent or changed.
public final class LiveCapture {
    private let handle: OpaquePointer
    public let interface: String
    public let linkLayer: LinkLayer
    private let timeoutMilliseconds: Int32
    private let descriptor: Int32

    /// Opens `interface` (not promiscuous: a router sees what it forwards anyway) and
    /// installs `filter`. Errors say what to do: CAP_NET_RAW, or which interface is missing.
    public init(interface: String, filter: String, snapshotLength: Int32 = 256, timeoutMilliseconds: Int32 = 100) throws(CaptureError) {
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let created = pcap_create(interface, &errorBuffer) else {
            throw CaptureError(path: interface, message: cString(errorBuffer))
        }
        pcap_set_snaplen(created, snapshotLength)
        pcap_set_promisc(created, 0)
        pcap_set_timeout(created, timeoutMilliseconds)
        pcap_set_immediate_mode(created, 1)
        let status = pcap_activate(created)
        if status < 0 {
            let detail = String(cString: pcap_geterr(created))
            pcap_close(created)
            switch status {
            case PCAP_ERROR_PERM_DENIED:
                throw CaptureError(
                    path: interface,
                    message:
                        "permission denied: capturing needs CAP_NET_RAW (run as root, or grant it: setpriv --inh-caps=+net_raw --ambient-caps=+net_raw, AmbientCapabilities=CAP_NET_RAW) (\(detail))"
                )
            case PCAP_ERROR_NO_SUCH_DEVICE:
                throw CaptureError(path: interface, message: "no such interface (see `ip link`) (\(detail))")
            case PCAP_ERROR_IFACE_NOT_UP:
                throw CaptureError(path: interface, message: "the interface is down (\(detail))")
            default:
                throw CaptureError(path: interface, message: detail)
            }
        }
        try installFilter(filter, on: created, name: interface)
        // Immediate mode makes libpcap ignore its own timeout, so wait with poll(2) instead.
        var errorText = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        _ = pcap_setnonblock(created, 1, &errorText)
        handle = created
        self.interface = interface
        self.timeoutMilliseconds = timeoutMilliseconds
        descriptor = pcap_get_selectable_fd(created)
        linkLayer = LinkLayer(dlt: pcap_datalink(created))
    }

    deinit {
        pcap_close(handle)
    }

    /// The next frame; nil when the read timed out with nothing to show.
    public func next() throws(CaptureError) -> CapturedFrame? {
        var waiting = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        if descriptor >= 0 && poll(&waiting, 1, timeoutMilliseconds) == 0 { return nil }
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        switch pcap_next_ex(handle, &header, &data) {
        case 1:
            guard let header, let data else { return nil }
            return CapturedFrame(
                seconds: Int(header.pointee.ts.tv_sec), microseconds: Int(header.pointee.ts.tv_usec),
                bytes: Array(UnsafeBufferPointer(start: data, count: Int(header.pointee.caplen))),
                originalLength: Int(header.pointee.len))
        case 0:
            return nil
        default:
            throw CaptureError(path: interface, message: String(cString: pcap_geterr(handle)))
        }
    }

    /// Packets the kernel dropped because we read too slowly (pcap_stats).
    public var kernelDropped: Int {
        var stats = pcap_stat()
        return pcap_stats(handle, &stats) == 0 ? Int(stats.ps_drop) : 0
    }
}

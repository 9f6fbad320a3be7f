import CPcap
import Glibc

/// One frame from a capture.
public struct CapturedFrame: Sendable {
    public var seconds: Int
    public var microseconds: Int
    /// Bytes as captured (possibly fewer than `originalLength`: snaplen).
    public var bytes: [UInt8]
    public var originalLength: Int

    public init(seconds: Int, microseconds: Int, bytes: [UInt8], originalLength: Int? = nil) {
        self.seconds = seconds
        self.microseconds = microseconds
        self.bytes = bytes
        self.originalLength = originalLength ?? bytes.count
    }
}

/// Reads pcap and pcapng files through libpcap; owns the pcap handle and closes it once.
public final class CaptureReader {
    private let handle: OpaquePointer
    public let path: String
    public let linkLayer: LinkLayer
    /// The DLT value, to write a capture of the same kind.
    public let dlt: Int32
    public let snapshotLength: Int

    /// Opens `path`; `filter` is a tcpdump/BPF expression applied while reading.
    public init(path: String, filter: String? = nil) throws(CaptureError) {
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let opened = pcap_open_offline(path, &errorBuffer) else {
            throw CaptureError(path: path, message: cString(errorBuffer))
        }
        if let filter { try installFilter(filter, on: opened, name: path) }
        cpcap_read_unlocked(opened)  // a reader is used from one thread at a time
        handle = opened
        self.path = path
        dlt = pcap_datalink(opened)
        linkLayer = LinkLayer(dlt: dlt)
        snapshotLength = Int(pcap_snapshot(opened))
    }

    deinit {
        pcap_close(handle)
    }

    /// The next frame, or nil at the end. A truncated or corrupt file throws with libpcap's
    /// explanation; frames returned before stay valid.
    public func next() throws(CaptureError) -> CapturedFrame? {
        guard let frame = try nextInPlace() else { return nil }
        return CapturedFrame(
            seconds: frame.seconds, microseconds: frame.microseconds,
            bytes: Array(frame.bytes), originalLength: frame.originalLength)
    }

    /// The next frame without a copy: `bytes` is libpcap's buffer, valid until the next
    /// call. For replaying big captures (dry-run) without an allocation per frame.
    public func nextInPlace() throws(CaptureError) -> FrameInPlace? {
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        switch pcap_next_ex(handle, &header, &data) {
        case 1:
            guard let header, let data else { return nil }
            return FrameInPlace(
                seconds: Int(header.pointee.ts.tv_sec), microseconds: Int(header.pointee.ts.tv_usec),
                bytes: UnsafeRawBufferPointer(start: data, count: Int(header.pointee.caplen)),
                originalLength: Int(header.pointee.len))
        case PCAP_ERROR_BREAK:
            return nil
        default:
            throw CaptureError(path: path, message: String(cString: pcap_geterr(handle)))
        }
    }
}

/// A frame still in libpcap's buffer (see `CaptureReader.nextInPlace`).
public struct FrameInPlace {
    public var seconds: Int
    public var microseconds: Int
    public var bytes: UnsafeRawBufferPointer
    public var originalLength: Int
}

/// Compiles and installs a tcpdump/BPF expression; on failure closes the handle and throws.
func installFilter(_ filter: String, on handle: OpaquePointer, name: String) throws(CaptureError) {
    var program = bpf_program()
    var failed = pcap_compile(handle, &program, filter, 1, PCAP_NETMASK_UNKNOWN) != 0
    if !failed {
        failed = pcap_setfilter(handle, &program) != 0
        pcap_freecode(&program)
    }
    if failed {
        let message = String(cString: pcap_geterr(handle))
        pcap_close(handle)
        throw CaptureError(path: name, message: "filter '\(filter)': \(message)")
    }
}

/// A NUL-terminated C buffer as a String.
func cString(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

import CPcap
import Glibc

/// Writes a pcap file (microsecond timestamps) with a given link type; owns the dumper.
public final class CaptureWriter {
    private let dead: OpaquePointer
    private let dumper: OpaquePointer
    public let path: String

    public init(path: String, dlt: Int32, snapshotLength: Int) throws(CaptureError) {
        guard let dead = pcap_open_dead(dlt, Int32(clamping: snapshotLength)) else {
            throw CaptureError(path: path, message: "libpcap cannot write link type \(dlt)")
        }
        guard let dumper = pcap_dump_open(dead, path) else {
            let message = String(cString: pcap_geterr(dead))
            pcap_close(dead)
            throw CaptureError(path: path, message: message)
        }
        self.dead = dead
        self.dumper = dumper
        self.path = path
    }

    deinit {
        pcap_dump_close(dumper)
        pcap_close(dead)
    }

    public func write(seconds: Int, microseconds: Int, bytes: UnsafeRawBufferPointer, originalLength: Int) {
        // What pcap_dump writes (a pcap_sf_pkthdr, then the bytes), through the dumper's own
        // FILE without taking its lock twice per frame: a writer has one thread, and a
        // million-frame replay spent a fifth of its time in locked fwrite.
        var header = (
            UInt32(truncatingIfNeeded: seconds), UInt32(truncatingIfNeeded: microseconds), UInt32(bytes.count),
            // A capture may claim any wire length, up to 2^32-1; +4 for an inserted
            // option must not trap on it (found by fuzzing).
            UInt32(clamping: max(originalLength, bytes.count))
        )
        let file = pcap_dump_file(dumper)
        _ = withUnsafeBytes(of: &header) { fwrite_unlocked($0.baseAddress, 1, $0.count, file) }
        if let base = bytes.baseAddress { _ = fwrite_unlocked(base, 1, bytes.count, file) }
    }

    /// Flushes to disk and reports a write error (disk full) that pcap_dump cannot.
    public func finish() throws(CaptureError) {
        guard pcap_dump_flush(dumper) == 0 else {
            throw CaptureError(path: path, message: "write failed: \(String(cString: strerror(errno)))")
        }
    }
}

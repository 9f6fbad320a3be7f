import Glibc

/// The process's effective capabilities, read from /proc/self/status (CapEff), so that an
/// EPERM from the kernel can be explained: nfnetlink_queue answers EPERM both to a caller
/// without CAP_NET_ADMIN and to one binding a queue another socket already owns.
public enum Capabilities {
    public static let netAdmin = 12  // CAP_NET_ADMIN, linux/capability.h

    public static func effectiveHas(_ capability: Int) -> Bool {
        guard let file = fopen("/proc/self/status", "r") else { return false }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix("CapEff:") else { continue }
            let hex = text.dropFirst(7).filter { $0.isHexDigit }
            guard let mask = UInt64(hex, radix: 16) else { return false }
            return mask & (1 << UInt64(capability)) != 0
        }
        return false
    }
}

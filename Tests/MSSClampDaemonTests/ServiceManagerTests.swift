import Glibc
import MSSClampDaemon
import Testing

/// sd_notify's protocol as systemd receives it: a datagram socket bound where
/// `$NOTIFY_SOCKET` points (a path, or `@name` for an abstract socket), read back here.
@Suite struct ServiceManagerTests {
    /// Binds a datagram socket at `name` (`@...` abstract) and returns it.
    func listen(_ name: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(name.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == 0 ? 0 : 1))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        try #require(bound == 0, "bind \(name): errno \(errno)")
        return fd
    }

    func receive(_ fd: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        return count < 0 ? nil : String(decoding: buffer[..<count], as: UTF8.self)
    }

    @Test(arguments: ["path", "abstract"])
    func deliversEachStateAsOneDatagram(_ kind: String) throws {
        let name = kind == "path" ? "/tmp/mssclamp-notify-test-\(getpid())" : "@mssclamp-notify-test-\(getpid())"
        unlink(name)
        let fd = try listen(name)
        defer {
            close(fd)
            if kind == "path" { unlink(name) }
        }
        let manager = ServiceManager(environment: name)
        #expect(manager.notify(.ready(status: "clamping: queue 0")))
        #expect(receive(fd) == "READY=1\nSTATUS=clamping: queue 0")
        #expect(manager.notify(.stopping(status: "removing rules")))
        #expect(receive(fd) == "STOPPING=1\nSTATUS=removing rules")
        #expect(manager.notify(.status("reloading")))
        #expect(receive(fd) == "STATUS=reloading")
        #expect(receive(fd) == nil, "one datagram per state")
    }

    @Test func withoutAServiceManagerNothingIsSent() {
        #expect(!ServiceManager(environment: nil).notify(.ready(status: "x")))
        #expect(!ServiceManager(environment: "").notify(.ready(status: "x")))
        // Neither a path nor an abstract name: refused, not sent somewhere relative.
        #expect(!ServiceManager(environment: "relative/socket").notify(.ready(status: "x")))
    }

    @Test func aSocketNobodyListensOnIsAFailureNotACrash() {
        #expect(!ServiceManager(environment: "/tmp/mssclamp-no-such-socket-\(getpid())").notify(.ready(status: "x")))
    }
}

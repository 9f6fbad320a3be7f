import Glibc

/// A minimal HTTP/1.0 endpoint for Prometheus scrapes: GET /metrics, one request per
/// connection, on a thread of its own. Deliberately small (a scrape needs nothing more) and
/// bounded: 8 KiB of request, 2 s to send it.
public final class MetricsServer: @unchecked Sendable {
    private let descriptor: Int32
    public let address: String
    private let body: @Sendable () -> [UInt8]

    /// Listens on HOST:PORT (IPv4 or [IPv6]:PORT); throws with the reason.
    public init(listen: String, body: @escaping @Sendable () -> [UInt8]) throws(MetricsError) {
        self.body = body
        address = listen
        let (host, port, isV6) = try MetricsServer.endpoint(listen)
        let fd = socket(isV6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw MetricsError("--metrics: socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var result: Int32 = -1
        var parsed = false
        if isV6 {
            var socketAddress = sockaddr_in6()
            socketAddress.sin6_family = sa_family_t(AF_INET6)
            socketAddress.sin6_port = port.bigEndian
            parsed = inet_pton(AF_INET6, host, &socketAddress.sin6_addr) == 1
            if parsed { result = MetricsServer.bind(fd, &socketAddress) }
        } else {
            var socketAddress = sockaddr_in()
            socketAddress.sin_family = sa_family_t(AF_INET)
            socketAddress.sin_port = port.bigEndian
            parsed = inet_pton(AF_INET, host, &socketAddress.sin_addr) == 1
            if parsed { result = MetricsServer.bind(fd, &socketAddress) }
        }
        guard parsed else {
            close(fd)
            throw MetricsError("--metrics: '\(host)' is not an IPv4 or IPv6 address")
        }
        guard result == 0, Glibc.listen(fd, 16) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw MetricsError("--metrics: cannot listen on \(listen): \(message)")
        }
        descriptor = fd
    }

    deinit {
        close(descriptor)
    }

    /// HOST:PORT (or [IPv6]:PORT) taken apart and checked, so a bad value is a usage error
    /// found before anything starts.
    public static func endpoint(_ listen: String) throws(MetricsError) -> (host: String, port: UInt16, isV6: Bool) {
        guard let colon = listen.lastIndex(of: ":"), let port = UInt16(listen[listen.index(after: colon)...]), port > 0 else {
            throw MetricsError("--metrics: '\(listen)' must be HOST:PORT with a port of 1-65535, e.g. 127.0.0.1:9815 or [::1]:9815")
        }
        var host = String(listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let isV6 = host.contains(":")
        var scratch = in6_addr()
        guard inet_pton(isV6 ? AF_INET6 : AF_INET, host, &scratch) == 1 else {
            throw MetricsError("--metrics: '\(host)' is not an IPv4 or IPv6 address")
        }
        return (host, port, isV6)
    }

    /// bind(2) for a sockaddr_in or sockaddr_in6.
    static func bind<Address>(_ fd: Int32, _ address: inout Address) -> Int32 {
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<Address>.size)) }
        }
    }

    /// Serves until the process ends (the thread is a daemon of the worker's lifetime).
    public func start() {
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    private func serve() {
        while true {
            let client = accept(descriptor, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            respond(client)
            close(client)
        }
    }

    private func respond(_ client: Int32) {
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        _ = setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request = [UInt8](repeating: 0, count: 8192)
        var used = 0
        while used < request.count {
            let count = request.withUnsafeMutableBytes { recv(client, $0.baseAddress! + used, $0.count - used, 0) }
            if count <= 0 { break }
            used += count
            if request[0..<used].windowsContainCRLFCRLF { break }
        }
        let line = String(decoding: request[0..<used].prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        let parts = line.split(separator: " ")
        let response: [UInt8]
        if parts.count >= 2, parts[0] == "GET", parts[1] == "/metrics" || parts[1].hasPrefix("/metrics?") {
            let payload = body()
            response = Array("HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: \(payload.count)\r\nConnection: close\r\n\r\n".utf8) + payload
        } else {
            response = Array("HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 25\r\nConnection: close\r\n\r\nmssclamp serves /metrics\n".utf8)
        }
        var sent = 0
        while sent < response.count {
            let count = response.withUnsafeBytes { send(client, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if count <= 0 { return }
            sent += count
        }
    }
}

public struct MetricsError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension ArraySlice where Element == UInt8 {
    var windowsContainCRLFCRLF: Bool {
        guard count >= 4 else { return false }
        var index = startIndex
        while index + 3 < endIndex {
            if self[index] == 13 && self[index + 1] == 10 && self[index + 2] == 13 && self[index + 3] == 10 { return true }
            index += 1
        }
        return false
    }
}

import Foundation

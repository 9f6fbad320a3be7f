import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The Prometheus endpoint: GET /metrics over HTTP/1.x on swift-nio.
///
/// Why this shape: the worker holds CAP_NET_ADMIN in the path of every new connection, so
/// the one socket it opens to the network must not be something a client can hold. Every
/// connection is non-blocking on one event loop, has a whole-request deadline (not an idle
/// timeout, which a client sending a byte a second would keep resetting), a size cap and a
/// connection cap; one response per connection, then close.
public final class MetricsServer: Sendable {
    /// What one client may cost.
    public struct Limits: Sendable {
        /// From accept to the last byte of the response.
        public var deadline: TimeAmount = .seconds(2)
        /// Request line and headers together.
        public var maxRequestBytes = 8192
        /// Connections open at once; more are closed at accept.
        public var maxConnections = 64
        public init() {}
    }

    public let address: String
    /// The port bound (useful when asked for port 0).
    public let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let channel: Channel

    /// Binds HOST:PORT (IPv4 or [IPv6]:PORT) and serves at once; throws with the reason.
    public init(listen: String, limits: Limits = Limits(), body: @escaping @Sendable () -> [UInt8]) throws(MetricsError) {
        let (host, port, _) = try MetricsServer.endpoint(listen, allowPortZero: true)
        address = listen
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let open = Atomic<Int>(0)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                guard open.add(1, ordering: .relaxed).newValue <= limits.maxConnections else {
                    open.subtract(1, ordering: .relaxed)
                    return channel.close()
                }
                let deadline = channel.eventLoop.scheduleTask(in: limits.deadline) { channel.close(promise: nil) }
                channel.closeFuture.whenComplete { _ in
                    deadline.cancel()
                    open.subtract(1, ordering: .relaxed)
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RequestSizeLimit(limit: limits.maxRequestBytes))
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
                    try channel.pipeline.syncOperations.addHandler(HTTPResponseEncoder())
                    try channel.pipeline.syncOperations.addHandler(MetricsHandler(body: body))
                }
            }
        do {
            channel = try bootstrap.bind(host: host, port: Int(port)).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw MetricsError("--metrics: cannot listen on \(listen): \(error)")
        }
        self.port = channel.localAddress?.port ?? Int(port)
    }

    /// Stops accepting and closes the event loop.
    public func shutdown() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }

    /// HOST:PORT (or [IPv6]:PORT) taken apart and checked, so a bad value is a usage error
    /// found before anything starts.
    public static func endpoint(_ listen: String, allowPortZero: Bool = false) throws(MetricsError) -> (host: String, port: UInt16, isV6: Bool) {
        guard let colon = listen.lastIndex(of: ":"), let port = UInt16(listen[listen.index(after: colon)...]), port > 0 || allowPortZero else {
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
}

/// Closes a connection whose request grows past the limit before it is answered.
final class RequestSizeLimit: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private let limit: Int
    private var seen = 0

    init(limit: Int) { self.limit = limit }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        seen += unwrapInboundIn(data).readableBytes
        guard seen <= limit else {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
    }
}

/// Answers GET /metrics with the exposition text, anything else with 404 / 405, then closes.
final class MetricsHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    private let body: @Sendable () -> [UInt8]
    private var head: HTTPRequestHead?

    init(body: @escaping @Sendable () -> [UInt8]) { self.body = body }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request): head = request
        case .body: break
        case .end:
            guard let request = head else { return context.close(promise: nil) }
            head = nil
            respond(context: context, to: request)
        }
    }

    private func respond(context: ChannelHandlerContext, to request: HTTPRequestHead) {
        let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
        let status: HTTPResponseStatus
        let payload: [UInt8]
        var headers = HTTPHeaders([("Connection", "close")])
        switch (request.method, path) {
        case (.GET, "/metrics"), (.HEAD, "/metrics"):
            status = .ok
            payload = body()
            headers.add(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")
        case (_, "/metrics"):
            status = .methodNotAllowed
            payload = Array("mssclamp serves GET /metrics\n".utf8)
            headers.add(name: "Allow", value: "GET, HEAD")
        default:
            status = .notFound
            payload = Array("mssclamp serves /metrics\n".utf8)
        }
        headers.add(name: "Content-Length", value: "\(payload.count)")
        let version = HTTPVersion(major: 1, minor: request.version.minor == 0 ? 0 : 1)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))), promise: nil)
        if request.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: payload)))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A malformed request: nothing worth answering on a metrics port.
        context.close(promise: nil)
    }
}

public struct MetricsError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

import Foundation
import HTTPTypes
public import HummingbirdCore
public import KinkoCore
public import Logging
public import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import Prometheus

/// Limits on connections, each a named setting of `kinko serve` (issue 14, item 6: 3,000
/// half-sent requests stayed open, and about 20,000 connections took `/healthz` down).
public struct ConnectionLimits: Sendable, Equatable {
    /// From a request's first byte to its complete header (also: from accepting a connection
    /// to its first request's header). A slow-loris request is closed after this.
    public var headerTimeoutSeconds = 10
    /// From a request's header to the end of its body.
    public var bodyTimeoutSeconds = 60
    /// How long a kept-alive connection may sit with no request.
    public var idleTimeoutSeconds = 60
    /// Open connections at once; one more is answered 503 and closed.
    public var connectionsMax = 1_024
    /// Open connections from one address at once; one more is answered 503 and closed.
    public var connectionsPerAddressMax = 128

    public static let timeoutSecondsRange = 1...3_600
    public static let connectionsRange = 1...1_000_000

    public init() {}

    public func validated() throws(KinkoError) -> ConnectionLimits {
        for (value, field) in [(headerTimeoutSeconds, "header_timeout"), (bodyTimeoutSeconds, "body_timeout"), (idleTimeoutSeconds, "idle_timeout")]
        where !Self.timeoutSecondsRange.contains(value) {
            throw KinkoError(.invalidInput, "\(field) is \(Self.timeoutSecondsRange.lowerBound)–\(Self.timeoutSecondsRange.upperBound) seconds; got \(value)", field: field)
        }
        for (value, field) in [(connectionsMax, "max_connections"), (connectionsPerAddressMax, "max_connections_per_address")]
        where !Self.connectionsRange.contains(value) {
            throw KinkoError(.invalidInput, "\(field) is \(Self.connectionsRange.lowerBound)–\(Self.connectionsRange.upperBound); got \(value)", field: field)
        }
        guard connectionsPerAddressMax <= connectionsMax else {
            throw KinkoError(.invalidInput, "max_connections_per_address (\(connectionsPerAddressMax)) exceeds max_connections (\(connectionsMax))",
                             field: "max_connections_per_address")
        }
        return self
    }
}

/// The open connections, in total and per remote address.
final class ConnectionCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var total = 0
    private var perAddress: [String: Int] = [:]
    /// Connections turned away since start (`kinko_http_connections_refused_total`).
    private let refused: Prometheus.Counter

    init(refused: Prometheus.Counter) { self.refused = refused }

    var open: Int { lock.withLock { total } }

    func admit(_ address: String, limits: ConnectionLimits) -> Bool {
        lock.withLock {
            guard total < limits.connectionsMax, perAddress[address, default: 0] < limits.connectionsPerAddressMax else {
                refused.increment()
                return false
            }
            total += 1
            perAddress[address, default: 0] += 1
            return true
        }
    }

    func release(_ address: String) {
        lock.withLock {
            total -= 1
            let left = perAddress[address, default: 1] - 1
            perAddress[address] = left > 0 ? left : nil
        }
    }
}

/// Where one connection stands, shared by its two handlers (both on its event loop).
final class ConnectionTimer {
    enum Phase { case awaitingHeader, readingBody, responding, idle }

    let limits: ConnectionLimits
    private(set) var phase = Phase.awaitingHeader
    /// Requests whose header arrived and whose response has not ended.
    private var inFlight = 0
    private var deadline: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(limits: ConnectionLimits) { self.limits = limits }

    func start(_ context: ChannelHandlerContext) {
        self.context = context
        arm(limits.headerTimeoutSeconds)
    }

    /// Bytes arrived: a request is starting if the connection was idle.
    func bytesArrived() {
        if phase == .idle {
            phase = .awaitingHeader
            arm(limits.headerTimeoutSeconds)
        }
    }

    func headerArrived() {
        inFlight += 1
        phase = .readingBody
        arm(limits.bodyTimeoutSeconds)
    }

    func bodyEnded() {
        // The response can end before the request's end is read (a loaded event loop answered
        // a GET first): then the connection is idle now. Without this it kept no timer at all
        // and a kept-alive connection was never closed (seen once in CI).
        guard inFlight > 0 else {
            phase = .idle
            arm(limits.idleTimeoutSeconds)
            return
        }
        phase = .responding
        disarm()
    }

    func responseEnded() {
        inFlight = max(0, inFlight - 1)
        guard inFlight == 0, phase == .responding else { return }
        phase = .idle
        arm(limits.idleTimeoutSeconds)
    }

    func stop() {
        disarm()
        context = nil
    }

    private func arm(_ seconds: Int) {
        disarm()
        guard let context else { return }
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(Int64(seconds))) { [weak self] in
            guard let self, let context = self.context else { return }
            self.context = nil
            context.close(promise: nil)
        }
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }
}

/// First in a connection's pipeline (raw bytes): admits it under the connection caps, or
/// answers 503 and closes; notes the first byte of each request for the header timeout.
final class ConnectionGate: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let counter: ConnectionCounter
    let timer: ConnectionTimer
    private var address: String?
    private var started = false

    init(counter: ConnectionCounter, timer: ConnectionTimer) {
        self.counter = counter
        self.timer = timer
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { begin(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        begin(context)
        context.fireChannelActive()
    }

    private func begin(_ context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        let remote = context.channel.remoteAddress?.ipAddress ?? "unknown"
        guard counter.admit(remote, limits: timer.limits) else {
            let body = Self.tooManyConnections.jsonData(requestID: nil)
            let refusal = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\nContent-Type: application/problem+json\r\n"
                + "Content-Length: \(body.count)\r\n\r\n" + String(decoding: body, as: UTF8.self)
            context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: refusal)), promise: nil)
            context.close(promise: nil)
            return
        }
        address = remote
        timer.start(context)
    }

    /// Written before HTTP decoding starts, so as raw bytes around the usual problem document.
    static let tooManyConnections = Problem(status: .serviceUnavailable, code: "too_many_connections",
                                            detail: "the server holds as many connections as it allows (in total or from this address); retry")

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        timer.bytesArrived()
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer.stop()
        if let address {
            counter.release(address)
            self.address = nil
        }
        context.fireChannelInactive()
    }
}

/// After HTTP decoding: moves the connection's timer through header, body, response, idle.
final class RequestPhases: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let timer: ConnectionTimer

    init(timer: ConnectionTimer) { self.timer = timer }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: timer.headerArrived()
        case .body: break
        case .end: timer.bodyEnded()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .head = unwrapOutboundIn(data) { responding = true }
        if case .end = unwrapOutboundIn(data) {
            responding = false
            timer.responseEnded()
        }
        context.write(data, promise: promise)
    }

    private var responding = false

    /// A request the HTTP parser refuses before the application saw it gets a problem document
    /// (not the empty 400 of the framework): 431 for a header block over the limit, 400
    /// otherwise; then the connection closes. A body cut short reaches the application, which
    /// answers 400.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parse = error as? HTTPParserError, timer.phase != .readingBody, !responding else {
            context.fireErrorCaught(error)
            return
        }
        let tooLarge = parse == .headerOverflow
        let problem = Problem(status: tooLarge ? .requestHeaderFieldsTooLarge : .badRequest, code: tooLarge ? "header_too_large" : "malformed_request",
                              detail: tooLarge ? "the request line and header fields are over \(GuardedHTTP1Channel.headerBytesMax) bytes"
                                  : "the request is not well-formed HTTP/1.1 (\(parse))")
        let body = context.channel.allocator.buffer(bytes: problem.jsonData(requestID: nil))
        let head = HTTPResponse(status: problem.status, headerFields: [
            .connection: "close", .contentType: "application/problem+json", .contentLength: String(body.readableBytes),
        ])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}

/// Hummingbird's HTTP/1.1 child channel with the connection limits in front of it.
public struct GuardedHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    public typealias Value = HTTP1Channel.Value
    public let responder: HTTPChannelHandler.Responder
    let limits: ConnectionLimits
    let counter: ConnectionCounter
    /// Largest header block (request line, query included, and fields), in bytes.
    public static let headerBytesMax = 64 * 1024

    init(responder: @escaping HTTPChannelHandler.Responder, limits: ConnectionLimits, counter: ConnectionCounter) {
        self.responder = responder
        self.limits = limits
        self.counter = counter
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let timer = ConnectionTimer(limits: limits)
        do {
            try channel.pipeline.syncOperations.addHandler(ConnectionGate(counter: counter, timer: timer), position: .first)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        let phases = NIOLoopBound(RequestPhases(timer: timer), eventLoop: channel.eventLoop)
        let configuration = HTTP1Channel.Configuration(
            additionalChannelHandlers: [phases.value], idleTimeout: nil,
            httpDecoderConfiguration: .init(maxHeaderFieldSize: Self.headerBytesMax, maxHeaderListSize: Self.headerBytesMax, maxHeaderFieldCount: 200))
        return HTTP1Channel(responder: responder, configuration: configuration).setup(channel: channel, logger: logger)
    }

    public func handle(value: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: value, logger: logger)
    }
}

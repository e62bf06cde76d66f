import HTTPTypes
@testable import KinkoServer
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing

/// The connection timer's phases, driven on an embedded channel with a virtual clock: no live
/// server, no load, so the order of events is exactly the one under test.
@Suite struct ConnectionTimerTests {
    /// Starts the timer when added, as `ConnectionGate` does for an admitted connection.
    final class Start: ChannelInboundHandler {
        typealias InboundIn = HTTPRequestPart
        let timer: ConnectionTimer
        init(_ timer: ConnectionTimer) { self.timer = timer }
        func handlerAdded(context: ChannelHandlerContext) { timer.start(context) }
    }

    func channel(idle: Int) throws -> EmbeddedChannel {
        var limits = ConnectionLimits()
        limits.idleTimeoutSeconds = idle
        limits.headerTimeoutSeconds = 30
        limits.bodyTimeoutSeconds = 30
        let timer = ConnectionTimer(limits: limits)
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([Start(timer), RequestPhases(timer: timer)])
        return channel
    }

    static let request = HTTPRequest(method: .get, scheme: "http", authority: "kinko", path: "/healthz")
    static let response = HTTPResponse(status: .ok)

    // Goal: a kept-alive connection is closed after the idle timeout whichever comes first,
    // the request's end or the response's end. (When the response ended first, the connection
    // kept no timer at all and was never closed — the flake seen once in CI.)
    @Test(arguments: [false, true])
    func anIdleConnectionClosesWhateverTheOrder(responseFirst: Bool) throws {
        let channel = try channel(idle: 2)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.writeInbound(HTTPRequestPart.head(Self.request))
        if responseFirst {
            try channel.writeOutbound(HTTPResponsePart.head(Self.response))
            try channel.writeOutbound(HTTPResponsePart.end(nil))
            try channel.writeInbound(HTTPRequestPart.end(nil))
        } else {
            try channel.writeInbound(HTTPRequestPart.end(nil))
            try channel.writeOutbound(HTTPResponsePart.head(Self.response))
            try channel.writeOutbound(HTTPResponsePart.end(nil))
        }
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1_999))
        #expect(channel.isActive, "closed before the idle timeout")
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!channel.isActive, "an idle kept-alive connection stays open")
        _ = try? channel.finish()
    }

    // Goal: while a response is being written, no timer closes the connection.
    @Test func aResponseInProgressIsNotCut() throws {
        let channel = try channel(idle: 2)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.writeInbound(HTTPRequestPart.head(Self.request))
        try channel.writeInbound(HTTPRequestPart.end(nil))
        channel.embeddedEventLoop.advanceTime(by: .seconds(100))
        #expect(channel.isActive)
        _ = try? channel.finish()
    }
}

import Foundation
public import KinkoCore
public import KinkoGovernance
import Logging
import ServiceLifecycle

/// Every setting of `kinko serve` that limits or exposes something, with its default and its
/// range (docs/SECURITY.md lists them with the threat each answers).
public struct ServerSettings: Sendable {
    public var connections = ConnectionLimits()
    /// What `/metrics` shows without a token.
    public var metrics = MetricsExposure.operational
    /// The console's cookies and proxies.
    public var console = ConsoleSettings()
    /// A file the server appends each new signed audit checkpoint to, outside the database.
    public var checkpointLog: String?
    /// How often the checkpoint log is brought up to date, in seconds.
    public var checkpointEverySeconds = 60
    public static let checkpointEverySecondsRange = 1...86_400
    /// How often refusal summaries of closed windows are written, in seconds.
    public static let refusalSummarySeconds = 5

    public init() {}

    public func validated() throws(KinkoError) -> ServerSettings {
        _ = try connections.validated()
        guard ConsoleSettings.sessionIdleMinutesRange.contains(console.sessionIdleMinutes) else {
            throw KinkoError(.invalidInput, "session_idle is \(ConsoleSettings.sessionIdleMinutesRange.lowerBound)–\(ConsoleSettings.sessionIdleMinutesRange.upperBound) minutes; got \(console.sessionIdleMinutes)",
                             field: "session_idle")
        }
        guard Self.checkpointEverySecondsRange.contains(checkpointEverySeconds) else {
            throw KinkoError(.invalidInput, "checkpoint_every is \(Self.checkpointEverySecondsRange.lowerBound)–\(Self.checkpointEverySecondsRange.upperBound) seconds; got \(checkpointEverySeconds)",
                             field: "checkpoint_every")
        }
        return self
    }
}

/// What `/metrics` answers without a token. Request figures and the ledger's size say how the
/// server runs; the hot share, the reserve's adequacy and alert counts say how the exchange
/// stands, which only a monitoring system inside the exchange's network should see.
public enum MetricsExposure: String, Sendable, CaseIterable {
    /// Request counts and latency, connections, ledger size (the default).
    case operational
    /// Also hot share per asset, reserve adequacy and alert counts: only where the endpoint is
    /// reachable from the exchange's monitoring network alone.
    case full
    /// `/metrics` answers 404.
    case off
}

/// The console's session cookies.
public struct ConsoleSettings: Sendable, Equatable {
    /// Mark cookies `Secure`: `always` (the server is reached over TLS, e.g. behind a proxy),
    /// `never`, or `auto` (when the request came over TLS as a trusted proxy says in
    /// `X-Forwarded-Proto`).
    public var secureCookies = SecureCookies.auto
    /// Believe `X-Forwarded-Proto` (only behind a proxy that sets it).
    public var trustForwardedProto = false
    /// Idle minutes after which a console session ends.
    public var sessionIdleMinutes = 30
    public static let sessionIdleMinutesRange = 1...720

    public enum SecureCookies: String, Sendable, CaseIterable { case auto, always, never }

    public init() {}
}

/// What the server does besides answering requests: every `refusalSummarySeconds` it writes
/// the summaries of refusal windows that closed, and every `checkpointEverySeconds` it appends
/// the latest signed checkpoint to the checkpoint log when the log grew. At shutdown it does
/// both once more.
struct BackgroundDuties: Service {
    let services: Services
    let settings: ServerSettings
    let logger: Logger

    func run() async throws {
        var lastExported = 0
        var seconds = 0
        // One-second ticks, so that a graceful shutdown is noticed within a second.
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            seconds += 1
            if seconds % ServerSettings.refusalSummarySeconds == 0 { await flushRefusals(force: false) }
            if seconds % settings.checkpointEverySeconds == 0 { lastExported = await exportCheckpoint(after: lastExported) }
        }
        await flushRefusals(force: true)
        _ = await exportCheckpoint(after: lastExported)
    }

    func flushRefusals(force: Bool) async {
        do {
            try await services.governance.flushRefusalSummaries(force: force)
        } catch {
            logger.error("writing refusal summaries failed", metadata: ["error": "\(LogRedaction.describe(error))"])
        }
    }

    /// Appends the latest checkpoint if it is past `size`; returns the size exported.
    func exportCheckpoint(after size: Int) async -> Int {
        guard let file = settings.checkpointLog else { return size }
        do {
            guard let latest = try await services.governance.latestAuditCheckpoint(), latest.size > size else { return size }
            try CheckpointFile.append(latest, to: file)
            return latest.size
        } catch {
            logger.error("exporting the audit checkpoint failed", metadata: ["error": "\(LogRedaction.describe(error))"])
            return size
        }
    }
}

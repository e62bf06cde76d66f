import Foundation
import KinkoCustody
import KinkoMonitoring
import KinkoSurveillance
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
    /// The scheduled scans: run as the principal of this token (it needs `monitor.ingest`, the
    /// operator's service token); none without one.
    public var jobsToken: String?
    /// How often the market-surveillance scan runs, in seconds.
    public var surveilScanEverySeconds = 300
    public static let surveilScanEverySecondsRange = 10...86_400
    /// How often monitoring's network scan runs, in seconds.
    public var networkScanEverySeconds = 86_400
    public static let networkScanEverySecondsRange = 60...604_800
    /// The daily reconciliation: run once each cut-off has passed, as the principal of this
    /// token (it needs `custody.reconcile`, and must not be the one who records balances);
    /// none without one.
    public var reconcileToken: String?
    /// How often the reconciliation job looks for a day whose cut-off passed unreconciled.
    public static let reconcileCheckSeconds = 60
    /// How far back it reconciles days nobody reconciled (a longer gap needs a person).
    public static let reconcileLookbackDays = 7

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
        for (value, range, field) in [(surveilScanEverySeconds, Self.surveilScanEverySecondsRange, "surveil_scan_every"),
                                      (networkScanEverySeconds, Self.networkScanEverySecondsRange, "network_scan_every")]
        where !range.contains(value) {
            throw KinkoError(.invalidInput, "\(field) is \(range.lowerBound)–\(range.upperBound) seconds; got \(value)", field: field)
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
/// both once more. With a jobs token it runs the market-surveillance scan and monitoring's
/// network scan on their schedules.
struct BackgroundDuties: Service {
    let services: Services
    let settings: ServerSettings
    let logger: Logger
    let metrics: RequestMetrics

    func run() async throws {
        var lastExported = 0
        var seconds = 0
        // One-second ticks, so that a graceful shutdown is noticed within a second.
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            seconds += 1
            if seconds % ServerSettings.refusalSummarySeconds == 0 { await flushRefusals(force: false) }
            if seconds % settings.checkpointEverySeconds == 0 { lastExported = await exportCheckpoint(after: lastExported) }
            if settings.jobsToken != nil {
                if seconds % settings.surveilScanEverySeconds == 0 { _ = await run(.surveillanceScan) }
                if seconds % settings.networkScanEverySeconds == 0 { _ = await run(.networkScan) }
            }
            if settings.reconcileToken != nil && seconds % ServerSettings.reconcileCheckSeconds == 0 { _ = await run(.reconciliation) }
        }
        await flushRefusals(force: true)
        _ = await exportCheckpoint(after: lastExported)
    }

    /// Runs one scheduled scan as the jobs token's principal (looked up again each time, so a
    /// revoked token stops the jobs); logs what it found or why it failed, and counts it.
    func run(_ job: ScheduledJob) async -> Bool {
        do {
            let caller = try await services.governance.authenticate(token: job == .reconciliation ? settings.reconcileToken : settings.jobsToken)
            let summary: String
            switch job {
            case .reconciliation:
                guard let done = try await reconcileMissedDays(by: caller) else { return true }  // nothing due: not a run
                summary = done
            case .surveillanceScan:
                let result = try await services.surveillance.scan(by: caller)
                summary = "\(result.orderEvents) order events, \(result.alerts) alerts, \(result.raised.count) new, \(result.queued.count) queued"
            case .networkScan:
                let result = try await services.monitoring.scanNetwork(by: caller)
                summary = "\(result.transfers) transfers, \(result.withinBudget) motifs within budget, \(result.raised.count) new alerts, \(result.grown.count) grown"
            }
            metrics.recordJob(job.rawValue, succeeded: true)
            logger.info("\(job.rawValue): \(summary)")
            return true
        } catch {
            metrics.recordJob(job.rawValue, succeeded: false)
            logger.error("\(job.rawValue) failed", metadata: ["error": "\(LogRedaction.describe(error))"])
            return false
        }
    }

    /// Reconciles every day of the last `reconcileLookbackDays` whose cut-off passed with no
    /// reconciliation stored, oldest first; nil when there was none. A day that fails stays
    /// unreconciled: it is counted (`kinko_custody_unreconciled_days`), logged as a warning,
    /// and shown on the console's overview until someone reconciles it.
    func reconcileMissedDays(by caller: Caller) async throws -> String? {
        let missed = try await services.custody.unreconciledDays(days: ServerSettings.reconcileLookbackDays, by: caller)
        var outcomes: [String] = [], failed: [String] = []
        // What is still unreconciled once this run is done.
        defer {
            metrics.gauge("kinko_custody_unreconciled_days", "Days of the last week whose cut-off passed with no reconciliation stored.", labels: [],
                          Double(failed.count))
        }
        guard !missed.isEmpty else { return nil }
        for day in missed {
            do {
                let result = try await services.custody.reconcile(day: day, by: caller)
                outcomes.append("\(day) \(result.isClean ? "clean" : "\(result.breaks.count) breaks")")
            } catch let error as KinkoError {
                failed.append(day)
                logger.warning("reconciliation of \(day) failed; the day stays unreconciled", metadata: ["error": "\(Problem(error).fieldAndDetail)"])
            }
        }
        guard failed.isEmpty else { throw KinkoError(.conflict, "days not reconciled: \(failed.joined(separator: ", "))") }
        return outcomes.joined(separator: "; ")
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

/// The scans `kinko serve` runs on a schedule.
public enum ScheduledJob: String, Sendable, CaseIterable {
    case surveillanceScan = "surveillance_scan"
    case networkScan = "network_scan"
    /// The daily reconciliation, once each cut-off has passed (with `reconcileToken`).
    case reconciliation
}

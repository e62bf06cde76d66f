import Foundation
public import KinkoCore

/// Every refusal is audited, but a principal who keeps getting refused cannot flood the audit
/// log: per principal, the first `refusalsPerWindowMax` refusals of a `windowSeconds` window are
/// audited one by one; after that each refusal answers `rate_limited` (HTTP 429, with
/// `Retry-After` = the rest of the window) and is only counted. When the window closes, one
/// signed summary entry records how many were suppressed and for which actions, so the log
/// still says everything happened, in one line instead of thousands.
public final class RefusalLimiter: @unchecked Sendable {
    public struct Settings: Sendable, Equatable {
        /// Refusals audited one by one per principal and window (1–10,000).
        public var refusalsPerWindowMax: Int
        /// The window, in seconds (1–3,600).
        public var windowSeconds: Int

        public static let refusalsPerWindowRange = 1...10_000
        public static let windowSecondsRange = 1...3_600

        public init(refusalsPerWindowMax: Int = 30, windowSeconds: Int = 60) throws(KinkoError) {
            guard Self.refusalsPerWindowRange.contains(refusalsPerWindowMax) else {
                throw KinkoError(.invalidInput, "refusals per window must be \(Self.refusalsPerWindowRange.lowerBound)–\(Self.refusalsPerWindowRange.upperBound); got \(refusalsPerWindowMax)",
                                 field: "refusals_per_window")
            }
            guard Self.windowSecondsRange.contains(windowSeconds) else {
                throw KinkoError(.invalidInput, "the refusal window is \(Self.windowSecondsRange.lowerBound)–\(Self.windowSecondsRange.upperBound) s; got \(windowSeconds)",
                                 field: "refusal_window_seconds")
            }
            self.refusalsPerWindowMax = refusalsPerWindowMax
            self.windowSeconds = windowSeconds
        }

        /// 30 refusals a minute per principal.
        public static let standard = Settings(unchecked: 30, 60)

        private init(unchecked max: Int, _ window: Int) {
            refusalsPerWindowMax = max
            windowSeconds = window
        }
    }

    /// The refusals of one principal suppressed in one window.
    public struct Summary: Sendable, Equatable {
        public var principal: PrincipalID
        public var principalName: String
        public var from: TimestampNanoseconds
        public var until: TimestampNanoseconds
        public var suppressed: Int
        /// Suppressed refusals per action.
        public var actions: [String: Int]
    }

    public enum Decision: Sendable, Equatable {
        /// Audit this refusal.
        case audit
        /// Do not audit it: answer `rate_limited`, retry after this many seconds.
        case limited(retryAfterSeconds: Int)
    }

    private struct Window {
        var start: TimestampNanoseconds
        var name: String
        var refusals = 0
        var suppressed = 0
        var actions: [String: Int] = [:]
    }

    public let settings: Settings
    private let lock = NSLock()
    private var windows: [PrincipalID: Window] = [:]

    public init(settings: Settings = .standard) {
        self.settings = settings
    }

    private var windowNanoseconds: UInt64 { UInt64(settings.windowSeconds) * 1_000_000_000 }

    /// Counts a refusal of `action` for `principal` at `now`: whether to audit it, and the
    /// summary of the principal's previous window if it closed with refusals suppressed.
    public func refusal(by principal: PrincipalID, name: String, action: String, at now: TimestampNanoseconds) -> (Decision, Summary?) {
        lock.withLock {
            var closed: Summary?
            var window = windows[principal] ?? Window(start: now, name: name)
            if now >= window.start &+ windowNanoseconds || now < window.start {
                closed = Self.summary(principal, window, until: now)
                window = Window(start: now, name: name)
            }
            window.refusals += 1
            let decision: Decision
            if window.refusals <= settings.refusalsPerWindowMax {
                decision = .audit
            } else {
                window.suppressed += 1
                window.actions[action, default: 0] += 1
                let left = (window.start &+ windowNanoseconds) &- now
                decision = .limited(retryAfterSeconds: max(1, Int((left + 999_999_999) / 1_000_000_000)))
            }
            windows[principal] = window
            return (decision, closed)
        }
    }

    /// The summaries of every window closed by `now` with refusals suppressed; those windows
    /// are forgotten (a server calls this every few seconds and at shutdown with `force`).
    public func closedSummaries(at now: TimestampNanoseconds, force: Bool = false) -> [Summary] {
        lock.withLock {
            var summaries: [Summary] = []
            for (principal, window) in windows where force || now >= window.start &+ windowNanoseconds {
                if let summary = Self.summary(principal, window, until: now) { summaries.append(summary) }
                windows[principal] = nil
            }
            return summaries.sorted { $0.from < $1.from }
        }
    }

    private static func summary(_ principal: PrincipalID, _ window: Window, until: TimestampNanoseconds) -> Summary? {
        guard window.suppressed > 0 else { return nil }
        return Summary(principal: principal, principalName: window.name, from: window.start, until: until, suppressed: window.suppressed,
                       actions: window.actions)
    }
}

extension Governance {
    public static let refusalSummaryAction = "audit.refusals.suppressed"

    /// Audits a refusal of `caller` (the event says what was refused), unless the caller is
    /// over the refusal limit: then it is counted for the window's summary and `rate_limited`
    /// is thrown instead. A window that closed with suppressed refusals is summarised first.
    public func auditRefusal(_ event: AuditEvent, by caller: Caller) async throws {
        let (decision, closed) = refusalLimiter.refusal(by: caller.principal, name: caller.name, action: event.action, at: clock.now())
        if let closed { try await store.appendAudit(Self.summaryEvent(closed)) }
        switch decision {
        case .audit:
            try await store.appendAudit(event)
        case .limited(let seconds):
            let settings = refusalLimiter.settings
            var error = KinkoError(.rateLimited, "\(caller.name) was refused \(settings.refusalsPerWindowMax) times within \(settings.windowSeconds) s; "
                                       + "further refusals are counted in one audit summary, not answered one by one; retry after \(seconds) s")
            error.retryAfterSeconds = seconds
            throw error
        }
    }

    /// Writes the summary of every refusal window that has closed (all of them with `force`,
    /// at shutdown); returns how many were written.
    @discardableResult
    public func flushRefusalSummaries(force: Bool = false) async throws -> Int {
        let summaries = refusalLimiter.closedSummaries(at: clock.now(), force: force)
        for summary in summaries { try await store.appendAudit(Self.summaryEvent(summary)) }
        return summaries.count
    }

    static func summaryEvent(_ summary: RefusalLimiter.Summary) -> AuditEvent {
        let actions = summary.actions.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: ",")
        return AuditEvent(principal: summary.principal, principalName: summary.principalName, role: "none", action: refusalSummaryAction,
                          requestDigest: [], result: "suppressed",
                          details: ["refusals": String(summary.suppressed), "actions": actions, "from": summary.from.iso8601, "until": summary.until.iso8601])
    }
}

import KinkoCore
public import KinkoGovernance
public import KinkoMonitoring
import Synchronization

/// Market surveillance as a service of the exchange: its rule sets and insider lists, adopted
/// under approval, and the pre-trade check the matching engine calls before accepting an order.
///
/// The check must answer within a millisecond, so the insider list in force, and the approved
/// pre-clearance requests, are read from the store at most once every `insiderListRefresh` and
/// kept parsed; a newly adopted list or a new approval takes effect within that time.
public final class Surveillance: Sendable {
    public let governance: Governance
    /// Monitoring, whose alert queue, cases and STR drafts take the market alerts the scan raises.
    public let monitoring: Monitoring
    /// How long the parsed insider list in force is used before the store is asked again.
    public static let insiderListRefresh: Duration = .seconds(1)

    private struct Loaded: Sendable {
        let at: ContinuousClock.Instant
        let text: String
        /// The approved pre-clearance requests the controls hold besides the list's own.
        let clearances: [PreClearance]
        let controls: InsiderControls
        let version: String
    }

    private let loaded = Mutex<Loaded?>(nil)

    public init(monitoring: Monitoring) {
        self.monitoring = monitoring
        governance = monitoring.governance
    }

    /// An account id is 1–64 bytes, a market 1–32 (the pre-trade check, pre-clearance requests).
    static func check(account: String, market: String) throws(KinkoError) {
        guard !account.isEmpty, account.utf8.count <= 64 else { throw KinkoError(.invalidInput, "an account id is 1–64 characters", field: "account") }
        guard !market.isEmpty, market.utf8.count <= 32 else { throw KinkoError(.invalidInput, "a market is 1–32 characters", field: "market") }
    }

    public var ruleSets: AdoptedDocuments<SurveillanceRules> { AdoptedDocuments(governance: governance) }
    public var insiderLists: AdoptedDocuments<InsiderList> { AdoptedDocuments(governance: governance) }

    /// Allow or refuse one order under the insider list in force; the answer names the list's
    /// version. Without a list in force every order is refused as `not_found`: a matching engine
    /// that cannot be told who is an insider must not assume no one is.
    public func preTrade(_ request: PreTradeRequest, by caller: Caller) async throws -> (decision: PreTradeDecision, insiderListVersion: String) {
        _ = try await governance.authorize(caller, .monitorIngest)
        try Self.check(account: request.account, market: request.market)
        let now = ContinuousClock.now
        if let current = loaded.withLock({ $0 }), now - current.at < Self.insiderListRefresh {
            return (current.controls.check(request), current.version)
        }
        guard let stored = try await insiderLists.currentVersion() else {
            throw KinkoError(.notFound, "no insider list is in force: compliance proposes one (surveil insiders propose) and adopts it after approval", field: "insiders")
        }
        let clearances = try await approvedPreClearances(at: Milliseconds(governance.clock.now() / 1_000_000))
        let reuse = loaded.withLock { $0?.text == stored.document && $0?.clearances == clearances ? $0 : nil }
        let controls = try reuse?.controls ?? {
            var list = try InsiderList(yaml: stored.document)
            list.preClearances += clearances
            return InsiderControls(list: list)
        }()
        loaded.withLock { $0 = Loaded(at: now, text: stored.document, clearances: clearances, controls: controls, version: stored.version) }
        return (controls.check(request), stored.version)
    }
}

public import KinkoCore
public import KinkoGovernance
import KinkoCustody
import KinkoMonitoring
import KinkoReserve

/// One regulatory parameter as it stood at a time: its figure, where the figure comes from in
/// law or practice, from when it applied, and the document that set it.
public struct RegulatoryParameterView: Sendable, Equatable {
    public var key: String
    public var value: String
    public var unit: String
    public var meaning: String
    public var source: String
    /// `law`, `plan`, `open` or `practice` (DOMAIN.md's marks).
    public var status: String
    /// `YYYY-MM-DD` (JST) for a dated figure, the adoption instant (ISO 8601) for a figure a
    /// rule set carries, or nil for a figure no adopted document sets yet.
    public var effectiveFrom: String?
    /// The settings document and version that set the figure.
    public var document: String
}

extension Exchange {
    /// Every regulatory parameter Kinko enforces, as it stood at `time` (default now): the
    /// law-dated regulatory settings (a figure per date), then the figures the adopted rule sets
    /// and policies carry (structuring threshold, reserve lookback, retention periods) and the
    /// travel-rule jurisdictions. Anyone who may read custody may read them: they are the law's
    /// figures and the exchange's published policies.
    public func regulatoryParameters(at time: TimestampNanoseconds? = nil, by caller: Caller) async throws -> [RegulatoryParameterView] {
        _ = try await governance.authorize(caller, .custodyRead)
        let now = clock.now()
        let time = time ?? now
        try TimestampNanoseconds.checkAccepted(time, field: "at")
        var views: [RegulatoryParameterView] = []

        let adopted = try await custody.regulatory.inForce(at: time)
        let document = adopted?.document ?? .standard
        let documentName = adopted.map { "\(RegulatorySettings.settingsKind) \($0.document.version)" } ?? "\(RegulatorySettings.settingsKind) \(RegulatorySettings.standard.version) (shipped, not adopted)"
        for parameter in RegulatorySettings.catalogue {
            let entry = document.entry(parameter, at: time)
            views.append(RegulatoryParameterView(
                key: parameter.key, value: entry.map { String($0.value) } ?? "-", unit: parameter.unit, meaning: parameter.meaning,
                source: entry?.source ?? "no figure in force on this date (the first is dated \(document.parameters[parameter.key]?.first?.effectiveFrom ?? "-"))",
                status: entry?.status.rawValue ?? "-", effectiveFrom: entry?.effectiveFrom, document: documentName))
        }

        let monitoringRules = try await monitoring.ruleSets.inForce(at: time)
        views.append(RegulatoryParameterView(
            key: "aml.structuring_threshold_jpy", value: monitoringRules.map { String($0.document.structuring.thresholdJPY) } ?? "-", unit: "JPY",
            meaning: "purchases and deposits split to stay under this figure raise the structuring rule (FSA red flags, 2019)",
            source: "Act on Prevention of Transfer of Criminal Proceeds, Enforcement Order Art. 7(1): identity verification for a spot exchange over ¥2,000,000",
            status: RegulatoryStatus.law.rawValue, effectiveFrom: monitoringRules.map { $0.adoptedAt.iso8601 },
            document: monitoringRules.map { "\(MonitoringRules.settingsKind) \($0.document.version)" } ?? "no monitoring rule set adopted"))

        let reserveRules = try await reserve.ruleSets.inForce(at: time)
        let reserveDocument = reserveRules.map { "\(RuleSet.settingsKind) \($0.document.version)" }
        views.append(RegulatoryParameterView(
            key: "reserve.lookback_completed_fiscal_years", value: reserveRules.map { String($0.document.lookbackCompletedFiscalYears) } ?? "-",
            unit: "completed fiscal years (April–March, JST) before the current one",
            meaning: "how far back the reserve's incident-history line counts losses",
            source: "open: the liability-reserve formula is not published; the analogue counts accident payments over the last 3 fiscal years (DOMAIN.md §3)",
            status: RegulatoryStatus.open.rawValue, effectiveFrom: reserveRules.map { $0.adoptedAt.iso8601 },
            document: reserveDocument ?? "no reserve rule set adopted"))
        views.append(RegulatoryParameterView(
            key: "reserve.covered_loss_types", value: (reserveRules?.document.coveredLossTypes ?? RuleSet.coveredLossTypesDefault).joined(separator: ","),
            unit: "incident loss types", meaning: "the losses the reserve fund pays compensation for; others are paid by insurance and own funds",
            source: "plan: the liability reserve compensates customers for hacks and other unauthorised outflows (DOMAIN.md §3; FIEA bill for the 2026 Diet)",
            status: RegulatoryStatus.plan.rawValue, effectiveFrom: reserveRules.map { $0.adoptedAt.iso8601 },
            document: reserveDocument ?? "Kinko's default (no reserve rule set adopted)"))

        let retention = try await Retention(customers: customers).policies.inForce(at: time)
        let policy = retention?.document ?? .statutory
        for recordClass in RecordClass.allCases {
            views.append(RegulatoryParameterView(
                key: "records.retention_years.\(recordClass.rawValue)", value: String(policy.years(recordClass)), unit: "years",
                meaning: "how long \(recordClass.rawValue) records are kept before they may be purged",
                source: "books 10 / 7 / 5 years by book (Cabinet Office Order on Crypto-Asset Exchange Service Providers); transaction and identity records 7 years (APTCP Art. 6, 7); the law's minimum for this class is \(recordClass.legalMinimumYears)",
                status: RegulatoryStatus.law.rawValue, effectiveFrom: retention.map { $0.adoptedAt.iso8601 },
                document: retention.map { "\(RetentionPolicy.settingsKind) \($0.document.version)" } ?? "statutory periods (no policy adopted)"))
        }

        let jurisdictions = try await monitoring.jurisdictionsInForce()
        let countries = jurisdictions.countries(at: time)
        views.append(RegulatoryParameterView(
            key: "aml.travel_rule_jurisdictions", value: countries.sorted().joined(separator: ","),
            unit: "ISO 3166-1 alpha-2 codes (Japan and \(countries.subtracting(["JP"]).count) others)",
            meaning: "where the other exchange must be for a transfer to or from it to carry travel-rule data",
            source: TravelRuleJurisdictions.source, status: RegulatoryStatus.law.rawValue, effectiveFrom: jurisdictions.lastChange(atOrBefore: time),
            document: "travel-rule jurisdictions \(jurisdictions.version) (the dated list in force now)"))
        return views
    }
}

import Foundation
public import KinkoCore
import Yams

/// How firm a parameter's figure is, as DOMAIN.md marks it.
public enum RegulatoryStatus: String, Sendable, Codable, CaseIterable {
    /// In force today, from the statute or a Cabinet Office Order.
    case law
    /// Announced by the FSA or reported in the press, not yet final.
    case plan
    /// Not settled anywhere: the exchange decides.
    case open
    /// The practice of custodians, not a rule.
    case practice
}

/// A parameter the law, a plan or practice sets and Kinko enforces: its key, what it means and
/// the figures it may take.
public struct RegulatoryParameter: Sendable, Equatable {
    public let key: String
    public let meaning: String
    public let unit: String
    public let range: ClosedRange<UInt64>
}

/// The regulatory parameters Kinko enforces as one versioned, law-dated document: each parameter
/// is a list of dated figures, each with its legal source, its effective date (from 00:00 JST of
/// that day) and how firm it is. A figure applies from its date until the next one's, so a
/// change is filed ahead and takes effect on its date, and a past day is judged by the figure in
/// force that day. A new version may add later figures but never change one already in effect
/// (`checkKeepsHistory`): what was in force stays what was in force.
public struct RegulatorySettings: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var value: UInt64
        /// `YYYY-MM-DD`: the figure applies from 00:00 JST of this day.
        public var effectiveFrom: String
        public var effectiveFromTime: TimestampNanoseconds
        public var source: String
        public var status: RegulatoryStatus
    }

    public var version: String
    /// Per parameter key, its figures, oldest first.
    public var parameters: [String: [Entry]]

    public static let hotShareLimit = RegulatoryParameter(
        key: "custody.hot_share_limit_basis_points", meaning: "the most customer crypto held other than cold, by JPY value, per asset and in total",
        unit: "basis points (500 = 5%)", range: 0...10_000)
    public static let guaranteeShare = RegulatoryParameter(
        key: "custody.guarantee_percent_of_hot", meaning: "the exchange's own crypto of the same kind held against hot customer crypto (performance-guarantee crypto)",
        unit: "percent of the hot quantity", range: 100...1_000)
    public static let reconciliationCutoff = RegulatoryParameter(
        key: "custody.reconciliation_cutoff_hour_jst", meaning: "the hour each business day's segregation figures are taken and reconciled",
        unit: "hour of the day, JST", range: 0...23)
    public static let whitelistWait = RegulatoryParameter(
        key: "custody.whitelist_wait_hours", meaning: "how long after its approval a new withdrawal address becomes usable",
        unit: "hours", range: 0...720)

    public static let travelRuleThreshold = RegulatoryParameter(
        key: "aml.travel_rule_threshold_jpy", meaning: "transfers to or from another exchange of this JPY value or more carry the travel rule's originator and beneficiary data",
        unit: "JPY (0: every transfer)", range: 0...1_000_000_000_000)

    /// Every parameter a document must set, in the order they are shown.
    public static let catalogue: [RegulatoryParameter] = [hotShareLimit, guaranteeShare, reconciliationCutoff, whitelistWait, travelRuleThreshold]

    public static let documentBytesMax = 64 * 1024
    public static let entriesPerParameterMax = 100
    public static let sourceLengthMax = 500

    /// The figures Kinko ships: the law where there is one, custodians' practice elsewhere.
    public static let defaultYAML = """
        # Regulatory parameters as dated figures (DOMAIN.md §2, §6). Each figure applies from 00:00 JST
        # of its effective_from day until the next figure's day. A new version may add figures dated
        # after its adoption; it may not change a figure already in effect.
        version: "2026.1"
        parameters:
          custody.hot_share_limit_basis_points:
            - value: 500
              effective_from: "2020-05-01"
              status: law
              source: "Cabinet Office Order on Crypto-Asset Exchange Service Providers, Art. 27(2): crypto held other than by the cold method at most 5% of the JPY value of customer crypto (in force with the 2019 PSA amendment, 1 May 2020)"
          custody.guarantee_percent_of_hot:
            - value: 100
              effective_from: "2020-05-01"
              status: law
              source: "Payment Services Act Art. 63-11-2: own crypto of the same kind and quantity as the customer crypto held hot (performance-guarantee crypto), kept apart (in force 1 May 2020)"
          custody.reconciliation_cutoff_hour_jst:
            - value: 17
              effective_from: "2020-05-01"
              status: practice
              source: "Cabinet Office Order Art. 27: segregation checked every business day; the hour is the exchange's choice (Kinko's default, 17:00 JST)"
          custody.whitelist_wait_hours:
            - value: 48
              effective_from: "2024-09-26"
              status: practice
              source: "FSA request of September 2024 after the DMM Bitcoin loss (a whitelist of withdrawal addresses); the 48-hour wait is custodians' practice"
          aml.travel_rule_threshold_jpy:
            - value: 0
              effective_from: "2023-06-01"
              status: open
              source: "Act on Prevention of Transfer of Criminal Proceeds Art. 10-5 (notice of crypto-asset transfers), in force 1 June 2023: the Act sets no amount; sources cite none, JPY 100,000 or USD 3,000 (DOMAIN.md 4), so every transfer carries the data until a threshold is adopted"

        """

    /// The shipped document, which is in force until a version is adopted.
    public static let standard: RegulatorySettings = {
        do { return try RegulatorySettings(yaml: defaultYAML) } catch { preconditionFailure("the default regulatory settings do not read: \(error)") }
    }()

    public init(version: String, parameters: [String: [Entry]]) {
        self.version = version
        self.parameters = parameters
    }

    struct Document: Decodable {
        struct Figure: Decodable {
            var value: UInt64
            var effective_from: String
            var status: String
            var source: String
        }

        var version: String
        var parameters: [String: [Figure]]
    }

    public init(yaml: String) throws(KinkoError) {
        guard yaml.utf8.count <= Self.documentBytesMax else {
            throw KinkoError(.limitExceeded, "regulatory settings are at most \(Self.documentBytesMax) bytes", field: "document")
        }
        let document: Document
        do { document = try YAMLDecoder().decode(Document.self, from: yaml) } catch {
            throw KinkoError(.invalidInput, "not regulatory settings (version, and parameters with dated figures): \(error)", field: "document")
        }
        guard (1...64).contains(document.version.utf8.count), !document.version.utf8.contains(where: { $0 < 0x20 }) else {
            throw KinkoError(.invalidInput, "a version is 1–64 printable characters", field: "version")
        }
        let known = Dictionary(uniqueKeysWithValues: Self.catalogue.map { ($0.key, $0) })
        var parameters: [String: [Entry]] = [:]
        for key in document.parameters.keys.sorted() {
            guard let parameter = known[key] else {
                throw KinkoError(.invalidInput, "unknown parameter \(key); one of \(Self.catalogue.map(\.key).joined(separator: ", "))", field: "parameters.\(key)")
            }
            let figures = document.parameters[key] ?? []
            guard (1...Self.entriesPerParameterMax).contains(figures.count) else {
                throw KinkoError(.invalidInput, "a parameter has 1–\(Self.entriesPerParameterMax) dated figures; got \(figures.count)", field: "parameters.\(key)")
            }
            var entries: [Entry] = []
            for (index, figure) in figures.enumerated() {
                let field = "parameters.\(key)[\(index)]"
                guard parameter.range.contains(figure.value) else {
                    throw KinkoError(.invalidInput, "\(key) is \(parameter.range.lowerBound)–\(parameter.range.upperBound) (\(parameter.unit)); got \(figure.value)", field: "\(field).value")
                }
                let time = try TimestampNanoseconds.startOfDayJST(figure.effective_from, field: "\(field).effective_from")
                if let previous = entries.last, previous.effectiveFromTime >= time {
                    throw KinkoError(.invalidInput, "figures are listed oldest first, one per day; \(figure.effective_from) does not follow \(previous.effectiveFrom)",
                                     field: "\(field).effective_from")
                }
                guard let status = RegulatoryStatus(rawValue: figure.status) else {
                    throw KinkoError(.invalidInput, "status is one of \(RegulatoryStatus.allCases.map(\.rawValue).joined(separator: ", ")); got \(figure.status)", field: "\(field).status")
                }
                let source = figure.source.trimmingCharacters(in: .whitespacesAndNewlines)
                guard (1...Self.sourceLengthMax).contains(source.count), !source.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                    throw KinkoError(.invalidInput, "a source names the law or decision in 1–\(Self.sourceLengthMax) characters, on one line", field: "\(field).source")
                }
                entries.append(Entry(value: figure.value, effectiveFrom: figure.effective_from, effectiveFromTime: time, source: source, status: status))
            }
            parameters[key] = entries
        }
        for parameter in Self.catalogue where parameters[parameter.key] == nil {
            throw KinkoError(.invalidInput, "is required (\(parameter.meaning))", field: "parameters.\(parameter.key)")
        }
        self.init(version: document.version, parameters: parameters)
    }

    /// The figure of `parameter` in force at `time`: the latest whose day has begun, or nil
    /// before the first.
    public func entry(_ parameter: RegulatoryParameter, at time: TimestampNanoseconds) -> Entry? {
        (parameters[parameter.key] ?? []).last { $0.effectiveFromTime <= time }
    }

    /// Refuses a version that would change history: every figure of `previous` already in effect
    /// at `now` must stay, unchanged, and no figure may be added with a day that has begun.
    public func checkKeepsHistory(of previous: RegulatorySettings, at now: TimestampNanoseconds) throws(KinkoError) {
        for parameter in Self.catalogue {
            let before = (previous.parameters[parameter.key] ?? []).filter { $0.effectiveFromTime <= now }
            let after = (parameters[parameter.key] ?? []).filter { $0.effectiveFromTime <= now }
            guard before != after else { continue }
            let changed = zip(before, after).first { $0.0 != $0.1 }.map { $0.0.effectiveFrom } ?? (before.count > after.count ? before[after.count].effectiveFrom : after[before.count].effectiveFrom)
            throw KinkoError(.conflict, "\(parameter.key): the figure of \(changed) is already in effect (version \(previous.version)); a new version may only add figures dated after today",
                             field: "parameters.\(parameter.key)")
        }
    }
}

/// The regulatory settings go live with one approval by a compliance officer or an admin other
/// than the one who proposed them: one person cannot loosen the hot-wallet limit.
extension RegulatorySettings: VersionedDocument {
    public static let settingsKind = "regulatory.settings"
    public static let adoptionAction = "regulatory.settings.adopt"
    public static let proposePermission = Permission.settingsPropose
    public static let readPermission = Permission.custodyRead
    public static let noun = "regulatory settings"
    public static func adoptionPolicy() throws(KinkoError) -> ApprovalPolicy { try ApprovalPolicy(approvalsRequired: 1, eligibleRoles: [.compliance, .admin]) }

    /// The history rule, at proposal and again at adoption: a version changing a figure that
    /// took effect meanwhile is refused. Before any adoption the shipped document is in force.
    public func checkFollows(_ current: RegulatorySettings?, at now: TimestampNanoseconds) throws(KinkoError) {
        try checkKeepsHistory(of: current ?? .standard, at: now)
    }
}

extension AdoptedDocuments where Document == RegulatorySettings {
    /// The version in force: the adopted one, or Kinko's shipped document before any is.
    public func inForce() async throws -> RegulatorySettings {
        try await current() ?? .standard
    }
}

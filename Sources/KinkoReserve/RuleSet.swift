import Foundation
public import KinkoCore
import Yams

/// An exact non-negative fraction written as a decimal string: `"0.0005"` is 5 / 10⁴.
public struct Rate: Sendable, Equatable, CustomStringConvertible {
    public let numerator: UInt128
    public let scale: UInt8

    public static let scaleMax: UInt8 = 18

    public init(decimal text: String, field: String) throws(KinkoError) {
        let places = text.split(separator: ".", omittingEmptySubsequences: false).dropFirst().first?.count ?? 0
        guard places <= Int(Rate.scaleMax) else {
            throw KinkoError(.invalidInput, "\"\(text)\" has \(places) decimal places; at most \(Rate.scaleMax)", field: field)
        }
        do {
            numerator = try Amount(decimal: text, scale: UInt8(places)).units
        } catch {
            throw KinkoError(error.code, error.message, field: field)
        }
        scale = UInt8(places)
    }

    public var description: String { Amount(units: numerator).compactDecimalString(scale: scale) }

    /// ⌈amount × rate⌉: a requirement is never rounded down.
    public func applied(to amount: Amount) throws(KinkoError) -> Amount {
        let product = amount.units.multipliedFullWidth(by: numerator)
        let divisor = UInt128.powerOfTen(Int(scale))
        guard product.high < divisor else { throw KinkoError(.amountOverflow, "\(amount) × \(self) is too large") }
        let (quotient, remainder) = divisor.dividingFullWidth((product.high, product.low))
        return remainder == 0 ? Amount(units: quotient) : try Amount(units: quotient).adding(Amount(units: 1))
    }

    /// ⌊amount × rate⌋: for caps (an offset is never rounded up).
    public func appliedDown(to amount: Amount) throws(KinkoError) -> Amount {
        let product = amount.units.multipliedFullWidth(by: numerator)
        let divisor = UInt128.powerOfTen(Int(scale))
        guard product.high < divisor else { throw KinkoError(.amountOverflow, "\(amount) × \(self) is too large") }
        return Amount(units: divisor.dividingFullWidth((product.high, product.low)).quotient)
    }
}

/// The liability-reserve rule set: a versioned YAML document. The FSA has not published its
/// formula; this models the plan (DOMAIN.md §3) and every default is an assumption to be
/// replaced by adopting a new version (which needs a governance approval).
///
/// required (gross) = clamp( Σ_category rate × trailing average daily volume
///                          + cold rate × cold customer crypto + hot rate × hot customer crypto
///                          + loss multiplier × losses in the last N fiscal years,
///                          floor, cap )
/// insurance offset  = min( eligible insurance, max offset share × gross )
/// required (net)    = gross − offset
public struct RuleSet: Sendable, Equatable {
    public var version: String
    public var description: String
    public var trailingDays: Int
    public var volumeRates: [String: Rate]
    public var coldRate: Rate
    public var hotRate: Rate
    /// Losses count from the start of the fiscal year this many completed fiscal years
    /// (April–March) before the current one: the current year to date always counts.
    public var lookbackCompletedFiscalYears: Int
    public var lossMultiplier: Rate
    /// The incident loss types the reserve fund pays for: the planned reserve covers hacks and
    /// other unauthorised outflows. Another loss is paid by insurance and own funds only.
    public var coveredLossTypes: [String]
    public var floor: Amount
    public var cap: Amount
    public var maxOffsetShare: Rate
    public var insuredLossTypes: [String]
    /// The document as adopted, kept verbatim.
    public var yaml: String

    public static let trailingDaysMax = 366
    public static let lookbackCompletedFiscalYearsMax = 10
    public static let yamlLengthMax = 64 * 1024

    private struct Document: Decodable {
        struct Volume: Decodable { var trailing_days: Int; var rates: [String: String] }
        struct Custody: Decodable { var cold_rate: String; var hot_rate: String }
        /// `lookback_completed_fiscal_years` (this year and N completed before it); the older
        /// `lookback_fiscal_years` (this year and N − 1 before it) is still read, so rule sets
        /// adopted before keep their meaning.
        /// `covered_loss_types` may be absent (rule sets adopted before it): the default list.
        struct Incidents: Decodable {
            var lookback_completed_fiscal_years: Int?; var lookback_fiscal_years: Int?; var loss_multiplier: String; var covered_loss_types: [String]?
        }
        struct Insurance: Decodable { var max_offset_share: String; var loss_types: [String] }
        var version: String
        var description: String?
        var volume: Volume
        var custody: Custody
        var incidents: Incidents
        var floor_jpy: String
        var cap_jpy: String
        var insurance: Insurance
    }

    public init(yaml: String) throws(KinkoError) {
        guard yaml.utf8.count <= Self.yamlLengthMax else {
            throw KinkoError(.limitExceeded, "a rule set is at most \(Self.yamlLengthMax) bytes", field: "rules")
        }
        let document: Document
        do {
            document = try YAMLDecoder().decode(Document.self, from: yaml)
        } catch let DecodingError.keyNotFound(key, context) {
            throw KinkoError(.invalidInput, "is required", field: (context.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: "."))
        } catch let DecodingError.typeMismatch(_, context) {
            throw KinkoError(.invalidInput, "has the wrong type (amounts and rates are quoted strings)", field: context.codingPath.map(\.stringValue).joined(separator: "."))
        } catch {
            throw KinkoError(.invalidInput, "not a rule set: \(error)", field: "rules")
        }
        guard !document.version.isEmpty, document.version.utf8.count <= 32 else {
            throw KinkoError(.invalidInput, "a version is 1–32 characters", field: "version")
        }
        guard (1...Self.trailingDaysMax).contains(document.volume.trailing_days) else {
            throw KinkoError(.invalidInput, "must be 1–\(Self.trailingDaysMax)", field: "volume.trailing_days")
        }
        let completedField = "incidents.lookback_completed_fiscal_years"
        switch (document.incidents.lookback_completed_fiscal_years, document.incidents.lookback_fiscal_years) {
        case (let completed?, nil):
            guard (0...Self.lookbackCompletedFiscalYearsMax).contains(completed) else {
                throw KinkoError(.invalidInput, "must be 0–\(Self.lookbackCompletedFiscalYearsMax)", field: completedField)
            }
            lookbackCompletedFiscalYears = completed
        case (nil, let years?):
            guard (1...Self.lookbackCompletedFiscalYearsMax + 1).contains(years) else {
                throw KinkoError(.invalidInput, "must be 1–\(Self.lookbackCompletedFiscalYearsMax + 1)", field: "incidents.lookback_fiscal_years")
            }
            lookbackCompletedFiscalYears = years - 1
        case (.some, .some):
            throw KinkoError(.invalidInput, "give this or the older lookback_fiscal_years, not both", field: completedField)
        case (nil, nil):
            throw KinkoError(.invalidInput, "is required", field: completedField)
        }
        var rates: [String: Rate] = [:]
        for (category, text) in document.volume.rates { rates[category] = try Rate(decimal: text, field: "volume.rates.\(category)") }
        guard !rates.isEmpty else { throw KinkoError(.invalidInput, "name at least one category", field: "volume.rates") }
        version = document.version
        description = document.description ?? ""
        trailingDays = document.volume.trailing_days
        volumeRates = rates
        coldRate = try Rate(decimal: document.custody.cold_rate, field: "custody.cold_rate")
        hotRate = try Rate(decimal: document.custody.hot_rate, field: "custody.hot_rate")
        lossMultiplier = try Rate(decimal: document.incidents.loss_multiplier, field: "incidents.loss_multiplier")
        let covered = document.incidents.covered_loss_types ?? Self.coveredLossTypesDefault
        guard (1...Self.coveredLossTypesMax).contains(covered.count) else {
            throw KinkoError(.invalidInput, "name 1–\(Self.coveredLossTypesMax) loss types", field: "incidents.covered_loss_types")
        }
        for (index, type) in covered.enumerated() where !Self.isLossType(type) {
            throw KinkoError(.invalidInput, "a loss type is 1–32 lowercase letters, digits or underscores; got \"\(type)\"", field: "incidents.covered_loss_types[\(index)]")
        }
        coveredLossTypes = covered
        do { floor = try Amount(decimal: document.floor_jpy, scale: 0) } catch { throw KinkoError(error.code, error.message, field: "floor_jpy") }
        do { cap = try Amount(decimal: document.cap_jpy, scale: 0) } catch { throw KinkoError(error.code, error.message, field: "cap_jpy") }
        guard floor <= cap else { throw KinkoError(.invalidInput, "the floor \(floor) is above the cap \(cap)", field: "floor_jpy") }
        maxOffsetShare = try Rate(decimal: document.insurance.max_offset_share, field: "insurance.max_offset_share")
        guard maxOffsetShare.numerator <= UInt128.powerOfTen(Int(maxOffsetShare.scale)) else {
            throw KinkoError(.invalidInput, "a share is at most 1", field: "insurance.max_offset_share")
        }
        insuredLossTypes = document.insurance.loss_types
        self.yaml = yaml
    }

    /// What the reserve pays for when a rule set does not say: hacks and other unauthorised
    /// outflows (DOMAIN.md §3).
    public static let coveredLossTypesDefault = ["hack", "insider_fraud", "unauthorised_outflow"]
    public static let coveredLossTypesMax = 16

    /// A loss type as incidents name it: 1–32 of `a-z`, `0-9`, `_`.
    public static func isLossType(_ type: String) -> Bool {
        (1...32).contains(type.utf8.count) && type.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F }
    }

    /// Kinko's default rule set: assumptions, documented in docs/RESERVE.md.
    public static let defaultYAML = """
        # Kinko default liability-reserve rule set. ASSUMPTIONS: the FSA formula is not final.
        version: "2026.1-default"
        description: >-
          Securities-firm analogue (金融商品取引責任準備金): rates on trailing trading volume,
          a custody-exposure term including cold holdings, past losses, floor ¥2bn, cap ¥40bn,
          insurance replacing at most half.
        volume:
          trailing_days: 90
          rates:
            spot: "0.0005"
            margin: "0.001"
            derivatives: "0.002"
        custody:
          cold_rate: "0.002"
          hot_rate: "0.02"
        incidents:
          lookback_completed_fiscal_years: 3
          loss_multiplier: "1"
          # The reserve pays for these; another loss (an operational error, say) is paid by
          # insurance and own funds.
          covered_loss_types: [hack, insider_fraud, unauthorised_outflow]
        floor_jpy: "2000000000"
        cap_jpy: "40000000000"
        insurance:
          max_offset_share: "0.5"
          loss_types: [hack, insider_fraud]

        """
}

public import KinkoCore
public import KinkoGovernance

/// The figures custody rules use. Defaults are the law where there is one (5%, guarantee =
/// hot quantity) and custodians' practice elsewhere; every one can be changed.
public struct CustodySettings: Sendable, Equatable {
    /// Hot customer crypto may be at most this share of all customer crypto by JPY value, in
    /// basis points (500 = 5%, Cabinet Office Order Art. 27(2)).
    public var hotShareLimitBasisPoints: UInt64 = 500
    /// A balance observation older than this is stale and is never used.
    public var balanceObservationAgeMaxSeconds: UInt64 = 86_400
    /// A price older than this is stale and is never used.
    public var priceObservationAgeMaxSeconds: UInt64 = 3_600
    /// A whitelisted address becomes usable this long after its approval.
    public var whitelistWaitingSeconds: UInt64 = 48 * 3_600
    /// Movements out of cold wallets wait this long after the request before they may run.
    public var coldTimeLockSeconds: UInt64 = 3_600
    /// The rolling window of the per-wallet velocity limits.
    public var velocityWindowSeconds: UInt64 = 86_400
    /// Signers a movement needs, by its JPY value: the last tier whose threshold it reaches.
    public var quorumTiers: [(thresholdJPY: UInt128, signers: Int)] = [(0, 2), (10_000_000, 3)]
    /// Movements touching a cold wallet need at least this many signers (FSA, September 2024).
    public var coldSignersMin = 2
    /// Movements expire if not approved within this time.
    public var movementExpirySeconds: UInt64 = 86_400
    /// The daily reconciliation cut-off, hour of the day in Japan time (JST, UTC+9).
    public var reconciliationCutoffHourJST = 17
    /// Performance-guarantee crypto held against hot customer crypto, in percent of the hot
    /// quantity (PSA Art. 63-11-2: the same quantity, 100).
    public var guaranteePercentOfHot: UInt64 = 100

    public init() {}

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.hotShareLimitBasisPoints == rhs.hotShareLimitBasisPoints
            && lhs.balanceObservationAgeMaxSeconds == rhs.balanceObservationAgeMaxSeconds
            && lhs.priceObservationAgeMaxSeconds == rhs.priceObservationAgeMaxSeconds
            && lhs.whitelistWaitingSeconds == rhs.whitelistWaitingSeconds && lhs.coldTimeLockSeconds == rhs.coldTimeLockSeconds
            && lhs.velocityWindowSeconds == rhs.velocityWindowSeconds
            && lhs.quorumTiers.map(\.thresholdJPY) == rhs.quorumTiers.map(\.thresholdJPY)
            && lhs.quorumTiers.map(\.signers) == rhs.quorumTiers.map(\.signers) && lhs.coldSignersMin == rhs.coldSignersMin
            && lhs.movementExpirySeconds == rhs.movementExpirySeconds
            && lhs.reconciliationCutoffHourJST == rhs.reconciliationCutoffHourJST
            && lhs.guaranteePercentOfHot == rhs.guaranteePercentOfHot
    }

    /// These settings with the regulatory figures in force at `time` in `document` (a parameter
    /// whose first figure is later than `time` keeps its value here).
    public func applying(_ document: RegulatorySettings?, at time: TimestampNanoseconds) -> CustodySettings {
        guard let document else { return self }
        var settings = self
        if let entry = document.entry(RegulatorySettings.hotShareLimit, at: time) { settings.hotShareLimitBasisPoints = entry.value }
        if let entry = document.entry(RegulatorySettings.guaranteeShare, at: time) { settings.guaranteePercentOfHot = entry.value }
        if let entry = document.entry(RegulatorySettings.reconciliationCutoff, at: time) { settings.reconciliationCutoffHourJST = Int(entry.value) }
        if let entry = document.entry(RegulatorySettings.whitelistWait, at: time) { settings.whitelistWaitingSeconds = entry.value * 3_600 }
        return settings
    }

    /// The guarantee crypto required against `hot` units: ⌈hot × percent / 100⌉ (never rounded
    /// in the exchange's favour), saturating at the largest amount.
    public func guaranteeRequired(hot: UInt128) -> UInt128 { hot.percentRoundedUp(guaranteePercentOfHot) }

    /// Signers needed for a movement of this JPY value.
    public func signers(forJPY value: UInt128, touchesCold: Bool) -> Int {
        let tier = quorumTiers.filter { value >= $0.thresholdJPY }.map(\.signers).max() ?? 1
        return touchesCold ? max(tier, coldSignersMin) : tier
    }
}

/// Percentages written from exact integers: `basisPoints(4, of: 100)` → 400.
public enum Share {
    /// `part / whole` in hundredths of a percent, rounded up (a share is never understated), or
    /// nil when the whole is zero.
    public static func basisPoints(_ part: UInt128, of whole: UInt128) -> UInt128? {
        guard whole > 0 else { return nil }
        let product = part.multipliedFullWidth(by: 10_000)
        guard product.high < whole else { return .max }
        let (quotient, remainder) = whole.dividingFullWidth((product.high, product.low))
        return remainder == 0 ? quotient : quotient + 1
    }

    /// `1234` basis points → `"12.34%"`.
    public static func percent(basisPoints: UInt128) -> String {
        let cents = basisPoints % 100
        return "\(basisPoints / 100).\(cents < 10 ? "0" : "")\(cents)%"
    }
}

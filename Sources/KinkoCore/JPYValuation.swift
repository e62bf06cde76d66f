/// How a fractional yen is turned into a whole one. Every valuation names its rule.
public enum RoundingRule: String, Sendable, Codable, CaseIterable {
    /// Toward zero (切り捨て). Kinko's default: the Japanese convention for yen amounts, and it
    /// never overstates a value.
    case down
    /// Away from zero (切り上げ): used where understating would be unsafe, e.g. a requirement.
    case up
    /// To nearest, ties away from zero (四捨五入).
    case halfUp
    /// To nearest, ties to even (banker's rounding).
    case halfEven
}

/// A price in yen for one whole unit of an asset, held exactly as `mantissa / 10^scale`.
/// `88.549` yen per XEM is `JPYPrice(mantissa: 88549, scale: 3)`.
public struct JPYPrice: Hashable, Sendable, Codable, CustomStringConvertible {
    public let mantissa: UInt128
    public let scale: UInt8

    /// Most decimal places a price may carry.
    public static let scaleMax: UInt8 = 18

    public init(mantissa: UInt128, scale: UInt8) throws(KinkoError) {
        guard scale <= JPYPrice.scaleMax else {
            throw KinkoError(.priceScaleInvalid, "price has \(scale) decimal places; at most \(JPYPrice.scaleMax)", field: "price")
        }
        self.mantissa = mantissa
        self.scale = scale
    }

    /// Parses `"88.549"`; the number of decimal places written becomes the price's scale.
    public init(decimal text: String) throws(KinkoError) {
        let places = text.split(separator: ".", omittingEmptySubsequences: false).dropFirst().first?.count ?? 0
        guard places <= Int(JPYPrice.scaleMax) else {
            throw KinkoError(.priceScaleInvalid, "price \"\(text)\" has \(places) decimal places; at most \(JPYPrice.scaleMax)", field: "price")
        }
        do {
            let amount = try Amount(decimal: text, scale: UInt8(places))
            try self.init(mantissa: amount.units, scale: UInt8(places))
        } catch {
            throw error.within("price")
        }
    }

    public var description: String { Amount(units: mantissa).decimalString(scale: scale) }
}

extension Amount {
    /// The yen value of this many units of `asset` at `price`, rounded by `rounding`.
    ///
    /// Computed exactly: `units × mantissa` is a 256-bit product, divided once by
    /// `10^(asset.scale + price.scale)`; only the final result is rounded.
    public func jpyValue(of asset: Asset, at price: JPYPrice, rounding: RoundingRule = .down) throws(KinkoError) -> Amount {
        let exponent = Int(asset.scale) + Int(price.scale)
        guard exponent <= Int(Amount.scaleMax) else {
            throw KinkoError(.valuationOverflow, "asset scale \(asset.scale) + price scale \(price.scale) exceeds \(Amount.scaleMax)")
        }
        let divisor = UInt128.powerOfTen(exponent)
        let product = units.multipliedFullWidth(by: price.mantissa)
        guard product.high < divisor else {
            throw KinkoError(.valuationOverflow, "\(units) units at \(price) yen exceeds \(UInt128.max) yen")
        }
        let (quotient, remainder) = divisor.dividingFullWidth((product.high, product.low))
        return try Amount(units: quotient).rounded(remainder: remainder, divisor: divisor, rule: rounding)
    }

    /// Applies a rounding rule to `self + remainder/divisor` (0 ≤ remainder < divisor).
    func rounded(remainder: UInt128, divisor: UInt128, rule: RoundingRule) throws(KinkoError) -> Amount {
        guard remainder != 0 else { return self }
        let half = divisor / 2
        let isExactHalf = divisor % 2 == 0 && remainder == half
        let roundUp: Bool
        switch rule {
        case .down: roundUp = false
        case .up: roundUp = true
        case .halfUp: roundUp = remainder > half || isExactHalf
        case .halfEven: roundUp = remainder > half || (isExactHalf && units % 2 == 1)
        }
        return roundUp ? try adding(Amount(units: 1)) : self
    }
}

extension UInt128 {
    /// 10^exponent for 0 ≤ exponent ≤ 38.
    public static func powerOfTen(_ exponent: Int) -> UInt128 {
        precondition((0...38).contains(exponent), "10^\(exponent) does not fit in UInt128")
        var value: UInt128 = 1
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    /// ⌈self × percent / 100⌉, exact, saturating at `.max`: a share that is never rounded in the
    /// payer's favour (the guarantee crypto hot coins require).
    public func percentRoundedUp(_ percent: UInt64) -> UInt128 {
        let product = multipliedFullWidth(by: UInt128(percent))
        guard product.high < 100 else { return .max }
        let (quotient, remainder) = UInt128(100).dividingFullWidth((product.high, product.low))
        return remainder == 0 || quotient == .max ? quotient : quotient + 1
    }
}

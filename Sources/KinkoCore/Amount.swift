/// A count of an asset's smallest unit (satoshi for BTC, wei for ETH, yen for JPY).
///
/// Money is never `Double` or `Decimal` in Kinko. Arithmetic is checked: overflow and
/// underflow are thrown as `KinkoError`, never wrapped and never a crash.
public struct Amount: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var units: UInt128

    public init(units: UInt128) { self.units = units }

    public static let zero = Amount(units: 0)
    public static let max = Amount(units: .max)

    public var isZero: Bool { units == 0 }
    public var description: String { String(units) }

    public static func < (lhs: Amount, rhs: Amount) -> Bool { lhs.units < rhs.units }

    public func adding(_ other: Amount) throws(KinkoError) -> Amount {
        let (sum, overflow) = units.addingReportingOverflow(other.units)
        if overflow {
            throw KinkoError(.amountOverflow, "\(units) + \(other.units) exceeds \(UInt128.max)")
        }
        return Amount(units: sum)
    }

    public func subtracting(_ other: Amount) throws(KinkoError) -> Amount {
        let (difference, overflow) = units.subtractingReportingOverflow(other.units)
        if overflow {
            throw KinkoError(.amountUnderflow, "\(units) - \(other.units) is below zero")
        }
        return Amount(units: difference)
    }

    public func multiplied(by factor: UInt128) throws(KinkoError) -> Amount {
        let (product, overflow) = units.multipliedReportingOverflow(by: factor)
        if overflow {
            throw KinkoError(.amountOverflow, "\(units) × \(factor) exceeds \(UInt128.max)")
        }
        return Amount(units: product)
    }

    /// Integer division rounding toward zero; the remainder is returned so nothing is lost.
    public func divided(by divisor: UInt128) throws(KinkoError) -> (quotient: Amount, remainder: Amount) {
        guard divisor != 0 else { throw KinkoError(.divisionByZero, "\(units) ÷ 0") }
        let (q, r) = units.quotientAndRemainder(dividingBy: divisor)
        return (Amount(units: q), Amount(units: r))
    }

    /// Sum of a sequence, throwing on the first overflow.
    public static func sum(_ amounts: some Sequence<Amount>) throws(KinkoError) -> Amount {
        var total = Amount.zero
        for amount in amounts { total = try total.adding(amount) }
        return total
    }
}

extension Amount: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: UInt64) { self.init(units: UInt128(value)) }
}

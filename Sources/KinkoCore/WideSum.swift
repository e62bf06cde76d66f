/// A sum of `UInt128` amounts that cannot overflow: 256 bits, enough for 2¹²⁸ addends of
/// `UInt128.max` each.
///
/// One account's balance fits in 128 bits (the ledger refuses a transfer that would overflow
/// it), but a ledger-wide total of many such balances need not: three accounts each credited
/// `UInt128.max` units are a valid state. Invariants and totals across accounts are summed in
/// this type, so a state the ledger accepted is always one it can check and open again.
public struct WideSum: Hashable, Comparable, Sendable, CustomStringConvertible {
    public private(set) var high: UInt128
    public private(set) var low: UInt128

    public init() {
        high = 0
        low = 0
    }

    public init(_ value: UInt128) {
        high = 0
        low = value
    }

    public static let zero = WideSum()

    public mutating func add(_ value: UInt128) {
        let (sum, carry) = low.addingReportingOverflow(value)
        low = sum
        // 2¹²⁸ carries would need 2¹²⁸ maximal addends: more than any loop here can run.
        if carry { high += 1 }
    }

    public mutating func add(_ other: WideSum) {
        add(other.low)
        high += other.high
    }

    /// Subtracts `value`; false (and no change) if the result would be below zero.
    @discardableResult
    public mutating func subtract(_ value: UInt128) -> Bool {
        if high == 0 && low < value { return false }
        let (difference, borrow) = low.subtractingReportingOverflow(value)
        low = difference
        if borrow { high -= 1 }
        return true
    }

    /// `self − other`, or nil if `other` is larger.
    public func minus(_ other: WideSum) -> WideSum? {
        guard self >= other else { return nil }
        let (low, borrow) = self.low.subtractingReportingOverflow(other.low)
        return WideSum(high: high - other.high - (borrow ? 1 : 0), low: low)
    }

    /// The value as a `UInt128`, or nil if it does not fit.
    public var narrowed: UInt128? { high == 0 ? low : nil }

    public static func < (lhs: WideSum, rhs: WideSum) -> Bool {
        lhs.high != rhs.high ? lhs.high < rhs.high : lhs.low < rhs.low
    }

    /// The decimal digits, exact (long division by 10¹⁹ over 64-bit limbs).
    public var description: String {
        if high == 0 { return String(low) }
        var limbs: [UInt64] = [
            UInt64(truncatingIfNeeded: high >> 64), UInt64(truncatingIfNeeded: high),
            UInt64(truncatingIfNeeded: low >> 64), UInt64(truncatingIfNeeded: low),
        ]
        let base: UInt64 = 10_000_000_000_000_000_000
        var chunks: [UInt64] = []
        while limbs.contains(where: { $0 != 0 }) {
            var remainder: UInt64 = 0
            for index in limbs.indices {
                let (quotient, rest) = base.dividingFullWidth((high: remainder, low: limbs[index]))
                limbs[index] = quotient
                remainder = rest
            }
            chunks.append(remainder)
        }
        guard let first = chunks.popLast() else { return "0" }
        var text = String(first)
        while let chunk = chunks.popLast() {
            let digits = String(chunk)
            text += String(repeating: "0", count: 19 - digits.count) + digits
        }
        return text
    }

    public init(high: UInt128, low: UInt128) {
        self.high = high
        self.low = low
    }
}

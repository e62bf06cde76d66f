/// Exact conversion between decimal strings and unit counts.
///
/// Accepted: ASCII digits, optionally one `.` followed by at most `scale` digits, with at least
/// one digit on each side of the point (`"0.5"`, not `".5"` or `"5."`). Rejected with a precise
/// code: the empty string, signs, exponents, any other character (spaces, commas, `_`), more
/// fraction digits than the scale (no silent rounding) and values past `UInt128.max` units.
extension Amount {
    /// The largest number of decimal places an asset may use: 10^38 still fits in `UInt128`.
    public static let scaleMax: UInt8 = 38
    /// Longest decimal string we look at; longer input is rejected before any arithmetic.
    public static let decimalLengthMax = 80

    public init(decimal text: String, scale: UInt8) throws(KinkoError) {
        precondition(scale <= Amount.scaleMax, "scale \(scale) past scaleMax \(Amount.scaleMax)")
        self = try Amount.parse(Array(text.utf8), text: text, scale: scale)
    }

    private static func parse(_ bytes: [UInt8], text: String, scale: UInt8) throws(KinkoError) -> Amount {
        guard !bytes.isEmpty else {
            throw KinkoError(.decimalEmpty, "an amount is required; got an empty string")
        }
        guard bytes.count <= decimalLengthMax else {
            throw KinkoError(.decimalTooLarge, "\(bytes.count) characters is longer than the \(decimalLengthMax) allowed")
        }
        var whole: [UInt8] = []
        var fraction: [UInt8] = []
        var seenPoint = false
        for (offset, byte) in bytes.enumerated() {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if seenPoint { fraction.append(byte - 48) } else { whole.append(byte - 48) }
            case UInt8(ascii: "."):
                if seenPoint {
                    throw KinkoError(.decimalMalformed, "\"\(text)\" has a second decimal point at position \(offset + 1)")
                }
                seenPoint = true
            case UInt8(ascii: "+"), UInt8(ascii: "-"):
                throw KinkoError(.decimalSign, "\"\(text)\" has a sign at position \(offset + 1); amounts are unsigned")
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                throw KinkoError(.decimalExponent, "\"\(text)\" uses an exponent; write the digits out")
            default:
                throw KinkoError(.decimalInvalidCharacter, "\"\(text)\" has an invalid character at position \(offset + 1)")
            }
        }
        if whole.isEmpty || (seenPoint && fraction.isEmpty) {
            throw KinkoError(.decimalMalformed, "\"\(text)\" needs digits on both sides of the decimal point")
        }
        if fraction.count > Int(scale) {
            throw KinkoError(
                .decimalTooManyFractionDigits,
                "\"\(text)\" has \(fraction.count) decimal places; this asset allows \(scale)")
        }
        var units: UInt128 = 0
        let padding = [UInt8](repeating: 0, count: Int(scale) - fraction.count)
        for digit in whole + fraction + padding {
            let (shifted, o1) = units.multipliedReportingOverflow(by: 10)
            let (next, o2) = shifted.addingReportingOverflow(UInt128(digit))
            if o1 || o2 {
                throw KinkoError(.decimalTooLarge, "\"\(text)\" exceeds the largest amount (\(UInt128.max) units)")
            }
            units = next
        }
        return Amount(units: units)
    }

    /// The canonical decimal form: all `scale` fraction digits, no grouping (`1.00000000`).
    public func decimalString(scale: UInt8) -> String {
        precondition(scale <= Amount.scaleMax, "scale \(scale) past scaleMax \(Amount.scaleMax)")
        let digits = String(units)
        guard scale > 0 else { return digits }
        let width = Int(scale)
        let padded = digits.count <= width
            ? String(repeating: "0", count: width - digits.count + 1) + digits
            : digits
        let split = padded.index(padded.endIndex, offsetBy: -width)
        return "\(padded[..<split]).\(padded[split...])"
    }

    /// The shortest decimal form without trailing fraction zeros (`1`, `0.5`), for people.
    public func compactDecimalString(scale: UInt8) -> String {
        var text = decimalString(scale: scale)
        guard text.contains(".") else { return text }
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}

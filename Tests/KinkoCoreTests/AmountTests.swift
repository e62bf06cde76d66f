import KinkoCore
import Testing

@Suite("Amount arithmetic")
struct AmountTests {
    // Goal: checked arithmetic never wraps — the limits themselves succeed, one past them throws.
    @Test func additionAtLimitAndPastIt() throws {
        #expect(try Amount(units: .max - 1).adding(Amount(units: 1)) == Amount.max)
        #expect(throws: KinkoError.self) { try Amount.max.adding(Amount(units: 1)) }
        let error = #expect(throws: KinkoError.self) { try Amount.max.adding(Amount.max) }
        #expect(error?.code == .amountOverflow)
    }

    @Test func subtractionBelowZeroThrows() throws {
        #expect(try Amount(units: 5).subtracting(Amount(units: 5)) == .zero)
        let error = #expect(throws: KinkoError.self) { try Amount(units: 5).subtracting(Amount(units: 6)) }
        #expect(error?.code == .amountUnderflow)
    }

    @Test func multiplicationOverflowThrows() throws {
        #expect(try Amount(units: UInt128.max / 2).multiplied(by: 2) == Amount(units: UInt128.max - 1))
        let error = #expect(throws: KinkoError.self) { try Amount(units: UInt128.max / 2 + 1).multiplied(by: 2) }
        #expect(error?.code == .amountOverflow)
    }

    @Test func divisionKeepsTheRemainder() throws {
        let (q, r) = try Amount(units: 10).divided(by: 3)
        #expect(q == Amount(units: 3) && r == Amount(units: 1))
        #expect(throws: KinkoError.self) { try Amount(units: 1).divided(by: 0) }
    }

    // Goal: property — for random pairs, checked addition agrees with the wide (256-bit) sum.
    @Test func additionMatchesWideArithmetic() throws {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<10_000 {
            let a = rng.nextUInt128(), b = rng.nextUInt128()
            let (sum, overflow) = a.addingReportingOverflow(b)
            if overflow {
                #expect(throws: KinkoError.self) { try Amount(units: a).adding(Amount(units: b)) }
            } else {
                #expect(try Amount(units: a).adding(Amount(units: b)).units == sum)
                #expect(try Amount(units: sum).subtracting(Amount(units: b)).units == a)
            }
        }
    }

    @Test func sumOfManyThrowsOnFirstOverflow() throws {
        #expect(try Amount.sum([1, 2, 3].map { Amount(units: $0) }) == Amount(units: 6))
        #expect(throws: KinkoError.self) { try Amount.sum([Amount.max, Amount(units: 1)]) }
    }
}

@Suite("Decimal strings")
struct DecimalTests {
    // Goal: the smallest BTC unit parses to exactly 1 satoshi and formats back.
    @Test func satoshiRoundTrip() throws {
        #expect(try Amount(decimal: "0.00000001", scale: 8) == Amount(units: 1))
        #expect(Amount(units: 1).decimalString(scale: 8) == "0.00000001")
        #expect(try Amount(decimal: "21000000", scale: 8) == Amount(units: 2_100_000_000_000_000))
        #expect(Amount(units: 2_100_000_000_000_000).decimalString(scale: 8) == "21000000.00000000")
        #expect(Amount(units: 150_000_000).compactDecimalString(scale: 8) == "1.5")
        #expect(try Amount(decimal: "1.5", scale: 18) == Amount(units: 1_500_000_000_000_000_000))
        #expect(try Amount(decimal: "007", scale: 0) == Amount(units: 7))
        #expect(Amount(units: 12345).decimalString(scale: 0) == "12345")
    }

    @Test(arguments: [
        ("", KinkoError.Code.decimalEmpty),
        ("-1", .decimalSign),
        ("+1", .decimalSign),
        ("1e8", .decimalExponent),
        ("1E8", .decimalExponent),
        ("1,000", .decimalInvalidCharacter),
        (" 1", .decimalInvalidCharacter),
        ("1 ", .decimalInvalidCharacter),
        ("abc", .decimalInvalidCharacter),
        ("0x10", .decimalInvalidCharacter),
        ("1_000", .decimalInvalidCharacter),
        (".5", .decimalMalformed),
        ("5.", .decimalMalformed),
        ("1.2.3", .decimalMalformed),
        ("0.000000001", .decimalTooManyFractionDigits),
    ])
    func rejectsMalformedInput(text: String, code: KinkoError.Code) throws {
        let error = #expect(throws: KinkoError.self) { try Amount(decimal: text, scale: 8) }
        #expect(error?.code == code)
    }

    // Goal: the scale is a limit — exactly `scale` digits pass, one more fails with the figures.
    @Test func fractionDigitsAtScaleAndOnePast() throws {
        #expect(try Amount(decimal: "1.12345678", scale: 8) == Amount(units: 112_345_678))
        let error = #expect(throws: KinkoError.self) { try Amount(decimal: "1.123456789", scale: 8) }
        #expect(error?.message == "\"1.123456789\" has 9 decimal places; this asset allows 8")
        #expect(throws: KinkoError.self) { try Amount(decimal: "1.5", scale: 0) }
    }

    @Test func largestValueAndOnePast() throws {
        let max = String(UInt128.max)
        #expect(try Amount(decimal: max, scale: 0) == Amount.max)
        let error = #expect(throws: KinkoError.self) { try Amount(decimal: "340282366920938463463374607431768211456", scale: 0) }
        #expect(error?.code == .decimalTooLarge)
        // The length limit: 80 characters are read, 81 are refused before any arithmetic.
        #expect(try Amount(decimal: String(repeating: "0", count: 79) + "1", scale: 0) == Amount(units: 1))
        let long = #expect(throws: KinkoError.self) { try Amount(decimal: String(repeating: "0", count: 80) + "1", scale: 0) }
        #expect(long?.message == "81 characters is longer than the 80 allowed")
    }

    // Goal: property — formatting then parsing returns the same units for every scale.
    @Test func formatParseRoundTrip() throws {
        var rng = SplitMix64(seed: 11)
        for _ in 0..<5_000 {
            let units = rng.nextUInt128() >> UInt128(rng.next() % 128)
            let scale = UInt8(rng.next() % 39)
            let text = Amount(units: units).decimalString(scale: scale)
            #expect(try Amount(decimal: text, scale: scale).units == units)
            #expect(try Amount(decimal: Amount(units: units).compactDecimalString(scale: scale), scale: scale).units == units)
        }
    }
}

import KinkoCore
import Testing

@Suite("JPY valuation")
struct ValuationTests {
    let btc: Asset
    let xem: Asset
    let eth: Asset

    init() throws {
        btc = try Asset(code: "BTC", scale: 8, kind: .crypto, ledger: 2)
        xem = try Asset(code: "XEM", scale: 6, kind: .crypto, ledger: 9)
        eth = try Asset(code: "ETH", scale: 18, kind: .crypto, ledger: 3)
    }

    // Goal: Coincheck's reference price applied exactly: 523,000,000 XEM × ¥88.549.
    @Test func coincheckCompensationValue() throws {
        let price = try JPYPrice(decimal: "88.549")
        let lost = try xem.parse("523000000")
        #expect(try lost.jpyValue(of: xem, at: price) == Amount(units: 46_311_127_000))
    }

    // Goal: each rounding rule at a fractional yen and at an exact half.
    @Test func roundingRules() throws {
        let price = try JPYPrice(decimal: "10000000")  // ¥10m per BTC
        let quarter = Amount(units: 25)  // 25 sat = ¥2.5
        #expect(try quarter.jpyValue(of: btc, at: price, rounding: .down) == Amount(units: 2))
        #expect(try quarter.jpyValue(of: btc, at: price, rounding: .up) == Amount(units: 3))
        #expect(try quarter.jpyValue(of: btc, at: price, rounding: .halfUp) == Amount(units: 3))
        #expect(try quarter.jpyValue(of: btc, at: price, rounding: .halfEven) == Amount(units: 2))
        #expect(try Amount(units: 35).jpyValue(of: btc, at: price, rounding: .halfEven) == Amount(units: 4))
        #expect(try Amount(units: 26).jpyValue(of: btc, at: price, rounding: .halfEven) == Amount(units: 3))
        #expect(try Amount(units: 24).jpyValue(of: btc, at: price, rounding: .halfUp) == Amount(units: 2))
        #expect(try Amount(units: 20).jpyValue(of: btc, at: price, rounding: .up) == Amount(units: 2))
    }

    // Goal: 18-decimal assets valued without overflow; products past 128 bits are exact.
    @Test func wideProductsAreExact() throws {
        let price = try JPYPrice(decimal: "512345.678901")
        let tenMillionEth = try eth.parse("10000000")
        #expect(try tenMillionEth.jpyValue(of: eth, at: price) == Amount(units: 5_123_456_789_010))
        let error = #expect(throws: KinkoError.self) {
            try Amount.max.jpyValue(of: eth, at: try JPYPrice(decimal: "1000000000000000000000"))
        }
        #expect(error?.code == .valuationOverflow)
    }

    @Test func priceScaleLimit() throws {
        #expect(try JPYPrice(decimal: "0.000000000000000001").scale == 18)
        let error = #expect(throws: KinkoError.self) { try JPYPrice(decimal: "0.0000000000000000001") }
        #expect(error?.code == .priceScaleInvalid)
        #expect(throws: KinkoError.self) { try JPYPrice(decimal: "-1") }
    }
}

@Suite("Largest-remainder allocation")
struct AllocationTests {
    @Test func splitsExactlyWithDeterministicTies() throws {
        let parts = try Allocation.largestRemainder(Amount(units: 100), weights: [1, 1, 1])
        #expect(parts == [34, 33, 33].map { Amount(units: $0) })
        let biased = try Allocation.largestRemainder(Amount(units: 10), weights: [3, 3, 4])
        #expect(biased == [3, 3, 4].map { Amount(units: $0) })
        let remainders = try Allocation.largestRemainder(Amount(units: 7), weights: [2, 5, 3])
        // Exact shares 1.4, 3.5, 2.1: floors 1, 3, 2 and the leftover unit goes to the 0.5.
        #expect(remainders == [1, 4, 2].map { Amount(units: $0) })
        #expect(try Allocation.largestRemainder(Amount(units: 5), weights: [0, 7]) == [0, 5].map { Amount(units: $0) })
    }

    @Test func rejectsBadWeights() throws {
        #expect((#expect(throws: KinkoError.self) { try Allocation.largestRemainder(.zero, weights: []) })?.code == .allocationNoWeights)
        #expect((#expect(throws: KinkoError.self) { try Allocation.largestRemainder(.zero, weights: [0, 0]) })?.code == .allocationZeroTotalWeight)
        #expect((#expect(throws: KinkoError.self) { try Allocation.largestRemainder(.zero, weights: [.max, 1]) })?.code == .allocationWeightsOverflow)
    }

    @Test func partsLimitAtLimitAndPast() throws {
        #expect(try Allocation.largestRemainder(Amount(units: 10), weights: [1, 1, 1], partsMax: 3).count == 3)
        let error = #expect(throws: KinkoError.self) {
            try Allocation.largestRemainder(Amount(units: 10), weights: [1, 1, 1, 1], partsMax: 3)
        }
        #expect(error?.code == .allocationTooManyParts)
        #expect(Allocation.partsMax == 50_000_000)
    }

    // Goal: property — parts always add up to the total and each is within one unit of its
    // exact share, for huge totals and weights too.
    @Test func partsAlwaysAddUp() throws {
        var rng = SplitMix64(seed: 3)
        for round in 0..<500 {
            let count = Int(rng.next() % 50) + 1
            let weightShift = UInt128(rng.next() % 100)
            let weights = (0..<count).map { _ in rng.nextUInt128() >> (28 + weightShift) }
            guard weights.contains(where: { $0 > 0 }) else { continue }
            let total = Amount(units: round % 2 == 0 ? rng.nextUInt128() : UInt128(rng.next() % 1000))
            let parts = try Allocation.largestRemainder(total, weights: weights)
            #expect(try Amount.sum(parts) == total)
            let weightSum = weights.reduce(0, +)
            for (part, weight) in zip(parts, weights) {
                let exact = total.units.multipliedFullWidth(by: weight)
                let floor = weightSum.dividingFullWidth((exact.high, exact.low)).quotient
                #expect(part.units == floor || part.units == floor + 1)
            }
        }
    }
}

@Suite("Assets and identifiers")
struct AssetAndIdentifierTests {
    @Test func assetCodeRules() throws {
        #expect(try Asset(code: "BTC", scale: 8, kind: .crypto, ledger: 2).code == "BTC")
        #expect(try Asset(code: "ABCDEFGHIJ", scale: 0, kind: .fiat, ledger: 5).code == "ABCDEFGHIJ")
        for bad in ["", "B", "btc", "ABCDEFGHIJK", "BT C"] {
            let error = #expect(throws: KinkoError.self) { try Asset(code: bad, scale: 8, kind: .crypto, ledger: 2) }
            #expect(error?.field == "code")
        }
        #expect(try Asset(code: "BIG", scale: 38, kind: .crypto, ledger: 7).scale == 38)
        #expect((#expect(throws: KinkoError.self) { try Asset(code: "BIG", scale: 39, kind: .crypto, ledger: 7) })?.field == "scale")
        #expect((#expect(throws: KinkoError.self) { try Asset(code: "BTC", scale: 8, kind: .crypto, ledger: 0) })?.field == "ledger")
    }

    @Test func identifiersParseDecimalAndUUID() throws {
        #expect(try AccountID(parsing: "42", field: "id") == AccountID(42))
        let uuid = try TransferID(parsing: "00000000-0000-0000-0000-0000000000ff", field: "id")
        #expect(uuid == TransferID(255))
        let error = #expect(throws: KinkoError.self) { try AccountID(parsing: "-1", field: "debit_account_id") }
        #expect(error?.field == "debit_account_id")
        #expect(throws: KinkoError.self) { try AccountID(parsing: "340282366920938463463374607431768211456", field: "id") }
    }

    // Goal (issue 15): an id kept in a 64-bit column is exact; one past Int64.max names nothing
    // stored instead of being clamped onto the id Int64.max.
    @Test func idsInIntegerColumnsAreExact() throws {
        #expect(try AccountID(1).storedInteger() == 1)
        #expect(try AccountID(UInt128(Int64.max)).storedInteger() == Int64.max)
        let past = #expect(throws: KinkoError.self) { try AccountID(UInt128(Int64.max) + 1).storedInteger() }
        #expect(past?.code == .notFound && past?.field == "id")
        #expect(throws: KinkoError.self) { try AccountID(UInt128.max).storedInteger() }
    }
}

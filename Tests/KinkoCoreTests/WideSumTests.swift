import KinkoCore
import Testing

@Suite("WideSum")
struct WideSumTests {
    // Goal: three maximal 128-bit amounts sum exactly, beyond 128 bits, and print in decimal
    // digit for digit (checked against Python's arbitrary-precision integers).
    @Test func sumsBeyond128BitsExactly() {
        var sum = WideSum()
        for _ in 0..<3 { sum.add(UInt128.max) }
        #expect(sum.high == 2)
        #expect(sum.low == UInt128.max - 2)
        #expect(sum.narrowed == nil)
        #expect(sum.description == "1020847100762815390390123822295304634365")
        #expect(WideSum(high: UInt128(1) << 127, low: 12345).description
            == "57896044618658097711785492504343953926634992332820282019728792003956564832313")
        #expect(WideSum(UInt128.max).description == String(UInt128.max))
        #expect(WideSum().description == "0")
    }

    // Goal: subtraction borrows across the halves and refuses to go below zero without
    // changing the value.
    @Test func subtractsWithBorrowAndRefusesBelowZero() {
        var sum = WideSum(UInt128.max)
        sum.add(5)  // 2^128 + 4
        let borrowed = sum.subtract(10)
        #expect(borrowed)
        #expect(sum == WideSum(UInt128.max - 5))
        var small = WideSum(7)
        let refused = small.subtract(8)
        #expect(!refused)
        #expect(small == WideSum(7))
        let exact = small.subtract(7)
        #expect(exact)
        #expect(small == .zero)
    }

    // Goal: property — for random addends, the wide sum minus the same addends in another
    // order returns to zero, and `minus` agrees with `subtract`.
    @Test(arguments: [1, 2, 3])
    func randomAddendsCancel(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var sum = WideSum()
        var addends: [UInt128] = []
        for _ in 0..<200 {
            let value = UInt128.max - UInt128(rng.next() % 1_000)
            addends.append(value)
            sum.add(value)
        }
        var other = WideSum()
        for value in addends.reversed() { other.add(value) }
        #expect(other == sum)
        let half = addends.prefix(100).reduce(into: WideSum()) { $0.add($1) }
        let rest = addends.suffix(100).reduce(into: WideSum()) { $0.add($1) }
        #expect(sum.minus(half) == rest)
        #expect(half.minus(sum) == nil)
        for value in addends {
            let subtracted = sum.subtract(value)
            #expect(subtracted)
        }
        #expect(sum == .zero)
    }
}

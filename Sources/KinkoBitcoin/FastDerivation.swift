import CKinkoField
import Crypto
import KinkoCore

// Public-key derivation by the million, for deposit addresses: BIP 32's unhardened child is
// the parent point plus I_L·G, so a million 2-of-3 addresses need three million generator
// multiplications. libsecp256k1 does each in constant time (about 22 µs here), as it must
// for secret keys; these points are public, so they are done here in variable time: I_L·G is
// the sum of 26 precomputed multiples of G (one per 10-bit digit; a 1.7 MB table of affine
// points built once per process), added to the parent point in affine coordinates with the
// inversions of a whole batch shared (Montgomery's trick). The additions run in C
// (Sources/CKinkoField), the table is built and checked in Swift. Anything out of the
// ordinary — a tweak of zero or ≥ n, two equal x coordinates on the way — is left to
// libsecp256k1, which also checks the results in the tests (BatchDerivationTests) and 1,000
// of them in every benchmark run. Written by hand because no package here offers batch public
// derivation; see docs/ARCHITECTURE.md.

/// An element of the field of secp256k1, p = 2^256 − 2^32 − 977: four 64-bit limbs, least
/// significant first, always fully reduced (< p).
struct FieldElement: Equatable, Sendable {
    var l0: UInt64, l1: UInt64, l2: UInt64, l3: UInt64

    /// 2^256 mod p.
    static let c: UInt64 = 0x1_0000_03D1
    static let p = FieldElement(l0: 0xFFFF_FFFE_FFFF_FC2F, l1: .max, l2: .max, l3: .max)
    static let zero = FieldElement(l0: 0, l1: 0, l2: 0, l3: 0)
    static let one = FieldElement(l0: 1, l1: 0, l2: 0, l3: 0)

    init(l0: UInt64, l1: UInt64, l2: UInt64, l3: UInt64) {
        (self.l0, self.l1, self.l2, self.l3) = (l0, l1, l2, l3)
    }

    /// 32 big-endian bytes; nil when they are not below p.
    init?(bigEndian bytes: ArraySlice<UInt8>) {
        guard bytes.count == 32 else { return nil }
        var limbs: [UInt64] = [0, 0, 0, 0]
        for (offset, byte) in bytes.enumerated() { limbs[3 - offset / 8] = limbs[3 - offset / 8] << 8 | UInt64(byte) }
        self.init(l0: limbs[0], l1: limbs[1], l2: limbs[2], l3: limbs[3])
        guard self.isReduced else { return nil }
    }

    var isReduced: Bool { !(l3 == .max && l2 == .max && l1 == .max && l0 >= Self.p.l0) }
    var isZero: Bool { l0 | l1 | l2 | l3 == 0 }
    var isOdd: Bool { l0 & 1 == 1 }

    func write(bigEndian bytes: inout [UInt8], at start: Int) {
        for (position, limb) in [l3, l2, l1, l0].enumerated() {
            for byte in 0..<8 { bytes[start + position * 8 + byte] = UInt8(truncatingIfNeeded: limb >> (56 - 8 * byte)) }
        }
    }

    @inline(__always) private var reduced: FieldElement {
        isReduced ? self : FieldElement(l0: l0 &- Self.p.l0, l1: 0, l2: 0, l3: 0)
    }

    @inline(__always) static func + (a: FieldElement, b: FieldElement) -> FieldElement {
        let (s0, o0) = a.l0.addingReportingOverflow(b.l0)
        var (s1, o1) = a.l1.addingReportingOverflow(b.l1)
        if o0 { let (t, o) = s1.addingReportingOverflow(1); s1 = t; o1 = o1 || o }
        var (s2, o2) = a.l2.addingReportingOverflow(b.l2)
        if o1 { let (t, o) = s2.addingReportingOverflow(1); s2 = t; o2 = o2 || o }
        var (s3, o3) = a.l3.addingReportingOverflow(b.l3)
        if o2 { let (t, o) = s3.addingReportingOverflow(1); s3 = t; o3 = o3 || o }
        // a + b < 2p: a carry out of 2^256 is worth c, and s + c stays below p.
        return o3 ? Self.addSmall(FieldElement(l0: s0, l1: s1, l2: s2, l3: s3), c) : FieldElement(l0: s0, l1: s1, l2: s2, l3: s3).reduced
    }

    @inline(__always) static func - (a: FieldElement, b: FieldElement) -> FieldElement {
        let (s0, b0) = a.l0.subtractingReportingOverflow(b.l0)
        var (s1, b1) = a.l1.subtractingReportingOverflow(b.l1)
        if b0 { let (t, o) = s1.subtractingReportingOverflow(1); s1 = t; b1 = b1 || o }
        var (s2, b2) = a.l2.subtractingReportingOverflow(b.l2)
        if b1 { let (t, o) = s2.subtractingReportingOverflow(1); s2 = t; b2 = b2 || o }
        var (s3, b3) = a.l3.subtractingReportingOverflow(b.l3)
        if b2 { let (t, o) = s3.subtractingReportingOverflow(1); s3 = t; b3 = b3 || o }
        guard b3 else { return FieldElement(l0: s0, l1: s1, l2: s2, l3: s3) }
        // a − b + 2^256 wrapped; a − b + p is that minus c, never below zero.
        let (r0, w0) = s0.subtractingReportingOverflow(c)
        var (r1, r2, r3) = (s1, s2, s3)
        if w0 {
            let (t1, w1) = r1.subtractingReportingOverflow(1)
            r1 = t1
            if w1 {
                let (t2, w2) = r2.subtractingReportingOverflow(1)
                r2 = t2
                if w2 { r3 &-= 1 }
            }
        }
        return FieldElement(l0: r0, l1: r1, l2: r2, l3: r3)
    }

    /// `a + small` for a value below 2^256 − small (no carry out of the top limb).
    @inline(__always) private static func addSmall(_ a: FieldElement, _ small: UInt64) -> FieldElement {
        var out = a
        let (s0, o0) = out.l0.addingReportingOverflow(small)
        out.l0 = s0
        if o0 {
            let (s1, o1) = out.l1.addingReportingOverflow(1)
            out.l1 = s1
            if o1 {
                let (s2, o2) = out.l2.addingReportingOverflow(1)
                out.l2 = s2
                if o2 { out.l3 &+= 1 }
            }
        }
        return out.reduced
    }

    @inline(__always) static func * (a: FieldElement, b: FieldElement) -> FieldElement {
        var t0: UInt64 = 0, t1: UInt64 = 0, t2: UInt64 = 0, t3: UInt64 = 0, t4: UInt64 = 0, t5: UInt64 = 0, t6: UInt64 = 0, t7: UInt64 = 0
        // One row of the schoolbook product: (2^64 − 1)² + 2(2^64 − 1) fits in 128 bits.
        @inline(__always) func row(_ ai: UInt64, _ x0: inout UInt64, _ x1: inout UInt64, _ x2: inout UInt64, _ x3: inout UInt64, _ x4: inout UInt64) {
            var acc = UInt128(ai) * UInt128(b.l0) + UInt128(x0)
            x0 = UInt64(truncatingIfNeeded: acc)
            acc = (acc >> 64) + UInt128(ai) * UInt128(b.l1) + UInt128(x1)
            x1 = UInt64(truncatingIfNeeded: acc)
            acc = (acc >> 64) + UInt128(ai) * UInt128(b.l2) + UInt128(x2)
            x2 = UInt64(truncatingIfNeeded: acc)
            acc = (acc >> 64) + UInt128(ai) * UInt128(b.l3) + UInt128(x3)
            x3 = UInt64(truncatingIfNeeded: acc)
            x4 = UInt64(truncatingIfNeeded: acc >> 64)
        }
        row(a.l0, &t0, &t1, &t2, &t3, &t4)
        row(a.l1, &t1, &t2, &t3, &t4, &t5)
        row(a.l2, &t2, &t3, &t4, &t5, &t6)
        row(a.l3, &t3, &t4, &t5, &t6, &t7)
        // L + H·2^256 ≡ L + H·c.
        var acc = UInt128(t4) * UInt128(c) + UInt128(t0)
        let r0 = UInt64(truncatingIfNeeded: acc)
        acc = (acc >> 64) + UInt128(t5) * UInt128(c) + UInt128(t1)
        let r1 = UInt64(truncatingIfNeeded: acc)
        acc = (acc >> 64) + UInt128(t6) * UInt128(c) + UInt128(t2)
        let r2 = UInt64(truncatingIfNeeded: acc)
        acc = (acc >> 64) + UInt128(t7) * UInt128(c) + UInt128(t3)
        let r3 = UInt64(truncatingIfNeeded: acc)
        let top = UInt64(truncatingIfNeeded: acc >> 64)  // below 2^34
        // r + top·2^256 ≡ r + top·c; one more carry out at most, worth c again.
        acc = UInt128(r0) + UInt128(top) * UInt128(c)
        let s0 = UInt64(truncatingIfNeeded: acc)
        acc = (acc >> 64) + UInt128(r1)
        let s1 = UInt64(truncatingIfNeeded: acc)
        acc = (acc >> 64) + UInt128(r2)
        let s2 = UInt64(truncatingIfNeeded: acc)
        acc = (acc >> 64) + UInt128(r3)
        let s3 = UInt64(truncatingIfNeeded: acc)
        let sum = FieldElement(l0: s0, l1: s1, l2: s2, l3: s3)
        return acc >> 64 == 0 ? sum.reduced : addSmall(sum, c)
    }

    @inline(__always) var squared: FieldElement { self * self }

    /// a^(p−2) = 1/a (Fermat); zero for zero.
    var inverse: FieldElement {
        // p − 2, most significant limb first.
        let exponent: [UInt64] = [.max, .max, .max, 0xFFFF_FFFE_FFFF_FC2D]
        var result = FieldElement.one
        for limb in exponent {
            for bit in stride(from: 63, through: 0, by: -1) {
                result = result.squared
                if (limb >> UInt64(bit)) & 1 == 1 { result = result * self }
            }
        }
        return result
    }
}

/// A point of secp256k1 in affine coordinates (never infinity here).
struct AffinePoint: Equatable, Sendable {
    var x: FieldElement
    var y: FieldElement

    static let generator = AffinePoint(
        x: FieldElement(l0: 0x59F2_815B_16F8_1798, l1: 0x029B_FCDB_2DCE_28D9, l2: 0x55A0_6295_CE87_0B07, l3: 0x79BE_667E_F9DC_BBAC),
        y: FieldElement(l0: 0x9C47_D08F_FB10_D4B8, l1: 0xFD17_B448_A685_5419, l2: 0x5DA4_FBFC_0E11_08A8, l3: 0x483A_DA77_26A3_C465))

    /// The compressed encoding: 02 or 03 (the parity of y), then x.
    var compressed: [UInt8] {
        var bytes = [UInt8](repeating: y.isOdd ? 3 : 2, count: 33)
        x.write(bigEndian: &bytes, at: 1)
        return bytes
    }
}

/// A point in Jacobian coordinates (X/Z², Y/Z³), for building the table.
struct JacobianPoint: Sendable {
    var x: FieldElement, y: FieldElement, z: FieldElement

    init(_ affine: AffinePoint) {
        (x, y, z) = (affine.x, affine.y, .one)
    }

    init(x: FieldElement, y: FieldElement, z: FieldElement) {
        (self.x, self.y, self.z) = (x, y, z)
    }

    /// 2·self (dbl-2009-l, a = 0).
    var doubled: JacobianPoint {
        let a = x.squared, b = y.squared, c = b.squared
        let xb = x + b
        var d = xb.squared - a - c
        d = d + d
        let e = a + a + a, f = e.squared
        let x3 = f - d - d
        let c8 = c + c + c + c + c + c + c + c
        return JacobianPoint(x: x3, y: e * (d - x3) - c8, z: (y * z) + (y * z))
    }

    /// self + q (madd-2007-bl); nil when the x coordinates agree (a doubling or infinity,
    /// which the table never needs).
    func adding(_ q: AffinePoint) -> JacobianPoint? {
        let z1z1 = z.squared
        let u2 = q.x * z1z1, s2 = q.y * z * z1z1
        let h = u2 - x
        guard !h.isZero else { return nil }
        let hh = h.squared
        let i = hh + hh + hh + hh
        let j = h * i
        let r = (s2 - y) + (s2 - y)
        let v = x * i
        let x3 = r.squared - j - v - v
        let yj = y * j
        let y3 = r * (v - x3) - yj - yj
        let z3 = (z + h).squared - z1z1 - hh
        return JacobianPoint(x: x3, y: y3, z: z3)
    }
}

/// Multiples of G for every digit of a scalar written in `bits`-bit digits: entry
/// `2^bits·i + d` is d·2^(bits·i)·G (d = 0 unused). Derivation uses 10-bit digits (26
/// windows, 26,624 points); tests also build 8-bit tables.
final class GeneratorTable: Sendable {
    let bits: Int
    let windows: Int
    let perWindow: Int
    /// x then y of each point, four limbs each, least significant first.
    let limbs: [UInt64]

    private init(bits: Int, limbs: [UInt64]) {
        self.bits = bits
        windows = (256 + bits - 1) / bits
        perWindow = 1 << bits
        self.limbs = limbs
    }

    func point(_ entry: Int) -> AffinePoint {
        let at = 8 * entry
        return AffinePoint(x: FieldElement(l0: limbs[at], l1: limbs[at + 1], l2: limbs[at + 2], l3: limbs[at + 3]),
                           y: FieldElement(l0: limbs[at + 4], l1: limbs[at + 5], l2: limbs[at + 6], l3: limbs[at + 7]))
    }

    var count: Int { limbs.count / 8 }

    /// nil only if the arithmetic meets a case the table cannot hold (it cannot, for G).
    static let shared: GeneratorTable? = build(bits: sharedBits)
    /// 10-bit digits: 26 additions per child from a 1.7 MB table that stays in cache (16-bit
    /// digits need 16 additions but a 64 MB table, and measured slower: cache misses).
    static let sharedBits = 10

    /// `bits` is 4–16.
    static func build(bits: Int) -> GeneratorTable? {
        guard (4...16).contains(bits) else { return nil }
        let windows = (256 + bits - 1) / bits, perWindow = 1 << bits
        var limbs = [UInt64](repeating: 0, count: 8 * windows * perWindow)
        var base = AffinePoint.generator
        for window in 0..<windows {
            var jacobian = [JacobianPoint](repeating: JacobianPoint(base), count: perWindow)
            jacobian[2] = JacobianPoint(base).doubled
            for digit in 3..<perWindow {
                guard let next = jacobian[digit - 1].adding(base) else { return nil }
                jacobian[digit] = next
            }
            let affine = normalize(Array(jacobian[1...]))
            for (offset, point) in affine.enumerated() {
                let at = 8 * (window * perWindow + 1 + offset)
                for (position, limb) in [point.x.l0, point.x.l1, point.x.l2, point.x.l3, point.y.l0, point.y.l1, point.y.l2, point.y.l3].enumerated() {
                    limbs[at + position] = limb
                }
            }
            // The next window's base: 2^bits times this one.
            var next = JacobianPoint(base)
            for _ in 0..<bits { next = next.doubled }
            base = normalize([next])[0]
        }
        return GeneratorTable(bits: bits, limbs: limbs)
    }

    /// Jacobian points to affine with one inversion for all of them.
    static func normalize(_ points: [JacobianPoint]) -> [AffinePoint] {
        let inverses = batchInverse(points.map(\.z))
        return zip(points, inverses).map { point, inverse in
            let squared = inverse.squared
            return AffinePoint(x: point.x * squared, y: point.y * squared * inverse)
        }
    }

    /// 1/v for every v (none zero), with one field inversion (Montgomery's trick).
    static func batchInverse(_ values: [FieldElement]) -> [FieldElement] {
        guard !values.isEmpty else { return [] }
        var prefix = [FieldElement](repeating: .one, count: values.count)
        var running = FieldElement.one
        for (index, value) in values.enumerated() {
            prefix[index] = running
            running = running * value
        }
        var inverse = running.inverse
        var result = prefix
        for index in values.indices.reversed() {
            result[index] = prefix[index] * inverse
            inverse = inverse * values[index]
        }
        return result
    }
}

/// Unhardened children of one extended public key, a batch at a time: what `PublicDeriver`
/// does, with the generator multiplication done from `GeneratorTable`.
struct BatchPublicDeriver: Sendable {
    /// The group order n, most significant limb last.
    static let order: (UInt64, UInt64, UInt64, UInt64) = (0xBFD2_5E8C_D036_4141, 0xBAAE_DCE6_AF48_A03B, 0xFFFF_FFFF_FFFF_FFFE, .max)

    let parent: AffinePoint
    let slow: PublicDeriver
    let table: GeneratorTable

    init?(_ key: ExtendedKey, slow: PublicDeriver, table: GeneratorTable? = GeneratorTable.shared) {
        guard let table, let uncompressed = try? Secp256k1.uncompressed(publicKey: key.publicKey),
            let x = FieldElement(bigEndian: uncompressed[1..<33]), let y = FieldElement(bigEndian: uncompressed[33..<65])
        else { return nil }
        parent = AffinePoint(x: x, y: y)
        self.slow = slow
        self.table = table
    }

    /// The compressed public keys of children `range`, 33 bytes each, one after the other. A
    /// child the fast path cannot make (a tweak that is zero or ≥ n, equal x coordinates on
    /// the way) is made by libsecp256k1, which throws for a child BIP 32 calls invalid.
    func children(_ range: Range<UInt32>) throws(KinkoError) -> [UInt8] {
        let count = range.count
        let windows = table.windows, perWindow = table.perWindow, bits = UInt64(table.bits), mask = UInt64(perWindow - 1)
        var digits = [Int64](repeating: 0, count: count * windows)  // per element, then per window
        var flags = [UInt8](repeating: 0, count: count)  // 1: left to libsecp256k1
        for (offset, index) in range.enumerated() {
            let tweak = slow.tweakLimbs(index)
            if tweak.0 | tweak.1 | tweak.2 | tweak.3 == 0 || !Self.belowOrder(tweak) { flags[offset] = 1 }
            func limb(_ position: UInt64) -> UInt64 {
                switch position {
                case 0: tweak.0
                case 1: tweak.1
                case 2: tweak.2
                default: tweak.3
                }
            }
            for window in 0..<windows {
                let shift = UInt64(window) * bits
                var digit = limb(shift / 64) >> (shift % 64)
                if shift % 64 + bits > 64, shift / 64 < 3 { digit |= limb(shift / 64 + 1) << (64 - shift % 64) }
                digits[offset * windows + window] = Int64(digit & mask)
            }
        }
        var xs = [UInt64](repeating: 0, count: 4 * count), ys = xs
        for offset in 0..<count {
            for (position, limb) in [parent.x.l0, parent.x.l1, parent.x.l2, parent.x.l3].enumerated() { xs[4 * offset + position] = limb }
            for (position, limb) in [parent.y.l0, parent.y.l1, parent.y.l2, parent.y.l3].enumerated() { ys[4 * offset + position] = limb }
        }
        var scratch = [UInt64](repeating: 0, count: 9 * count)
        table.limbs.withUnsafeBufferPointer { table in
            digits.withUnsafeBufferPointer { digits in
                xs.withUnsafeMutableBufferPointer { xs in
                    ys.withUnsafeMutableBufferPointer { ys in
                        flags.withUnsafeMutableBufferPointer { flags in
                            scratch.withUnsafeMutableBufferPointer { scratch in
                                for window in 0..<windows {
                                    kinko_add_window(count, window, windows, perWindow, table.baseAddress, digits.baseAddress, xs.baseAddress, ys.baseAddress,
                                                     flags.baseAddress, scratch.baseAddress)
                                }
                            }
                        }
                    }
                }
            }
        }
        var result = [UInt8](repeating: 0, count: 33 * count)
        for (offset, index) in range.enumerated() {
            let key: [UInt8]
            if flags[offset] != 0 {
                key = try slow.child(index)
            } else {
                let x = FieldElement(l0: xs[4 * offset], l1: xs[4 * offset + 1], l2: xs[4 * offset + 2], l3: xs[4 * offset + 3])
                key = AffinePoint(x: x, y: FieldElement(l0: ys[4 * offset], l1: 0, l2: 0, l3: 0)).compressed  // only y's parity is read
            }
            for (position, byte) in key.enumerated() { result[33 * offset + position] = byte }
        }
        return result
    }

    /// Whether little-endian `limbs` are below n.
    static func belowOrder(_ limbs: (UInt64, UInt64, UInt64, UInt64)) -> Bool {
        if limbs.3 != order.3 { return limbs.3 < order.3 }
        if limbs.2 != order.2 { return limbs.2 < order.2 }
        if limbs.1 != order.1 { return limbs.1 < order.1 }
        return limbs.0 < order.0
    }
}

// Arithmetic mod p = 2^256 − 2^32 − 977 and batch affine addition on secp256k1, for deriving
// public keys by the million (Sources/KinkoBitcoin/FastDerivation.swift has the same
// arithmetic in Swift, which the tests hold this to). Variable time: public data only.
#include "ckinkofield.h"

typedef unsigned __int128 u128;

static const uint64_t P0 = 0xFFFFFFFEFFFFFC2FULL;
/// 2^256 mod p.
static const uint64_t C = 0x1000003D1ULL;

static inline __attribute__((always_inline)) void fe_final(uint64_t r[4]) {
    if (r[3] == ~0ULL && r[2] == ~0ULL && r[1] == ~0ULL && r[0] >= P0) {
        r[0] -= P0;
        r[1] = r[2] = r[3] = 0;
    }
}

/// r + small, for r below 2^256 − small.
static inline __attribute__((always_inline)) void fe_add_small(uint64_t r[4], uint64_t small) {
    u128 t = (u128)r[0] + small;
    r[0] = (uint64_t)t;
    for (int i = 1; i < 4 && (t >> 64); i++) {
        t = (u128)r[i] + 1;
        r[i] = (uint64_t)t;
    }
    fe_final(r);
}

static inline __attribute__((always_inline)) void fe_add(uint64_t r[4], const uint64_t a[4], const uint64_t b[4]) {
    u128 t = 0;
    for (int i = 0; i < 4; i++) {
        t = (u128)a[i] + b[i] + (uint64_t)(t >> 64);
        r[i] = (uint64_t)t;
    }
    if (t >> 64) fe_add_small(r, C);  // a carry out of 2^256 is worth c
    else fe_final(r);
}

static inline __attribute__((always_inline)) void fe_sub(uint64_t r[4], const uint64_t a[4], const uint64_t b[4]) {
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        u128 t = (u128)a[i] - b[i] - borrow;
        r[i] = (uint64_t)t;
        borrow = (uint64_t)(t >> 64) & 1;
    }
    if (borrow) {  // a − b + 2^256 wrapped; a − b + p is that minus c
        u128 t = (u128)r[0] - C;
        r[0] = (uint64_t)t;
        borrow = (uint64_t)(t >> 64) & 1;
        for (int i = 1; i < 4 && borrow; i++) {
            t = (u128)r[i] - 1;
            r[i] = (uint64_t)t;
            borrow = (uint64_t)(t >> 64) & 1;
        }
    }
}

static inline __attribute__((always_inline)) void fe_mul_inline(uint64_t r[4], const uint64_t a[4], const uint64_t b[4]) {
    const uint64_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3], b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
    // The 512-bit product, column by column (each column: up to four 128-bit products and
    // the carries, held in three words).
    u128 m;
    uint64_t lo, mid, hi, t0, t1, t2, t3, t4, t5, t6, t7;
#define MAC(x, y) m = (u128)(x) * (y); { u128 s = (u128)lo + (uint64_t)m; lo = (uint64_t)s; s = (u128)mid + (uint64_t)(m >> 64) + (uint64_t)(s >> 64); mid = (uint64_t)s; hi += (uint64_t)(s >> 64); }
#define NEXT(out) out = lo; lo = mid; mid = hi; hi = 0;
    lo = mid = hi = 0;
    MAC(a0, b0) NEXT(t0)
    MAC(a0, b1) MAC(a1, b0) NEXT(t1)
    MAC(a0, b2) MAC(a1, b1) MAC(a2, b0) NEXT(t2)
    MAC(a0, b3) MAC(a1, b2) MAC(a2, b1) MAC(a3, b0) NEXT(t3)
    MAC(a1, b3) MAC(a2, b2) MAC(a3, b1) NEXT(t4)
    MAC(a2, b3) MAC(a3, b2) NEXT(t5)
    MAC(a3, b3) NEXT(t6)
    t7 = lo;
#undef MAC
#undef NEXT
    // L + H·2^256 ≡ L + H·c
    u128 acc = (u128)t4 * C + t0;
    uint64_t s0 = (uint64_t)acc;
    acc = (acc >> 64) + (u128)t5 * C + t1;
    uint64_t s1 = (uint64_t)acc;
    acc = (acc >> 64) + (u128)t6 * C + t2;
    uint64_t s2 = (uint64_t)acc;
    acc = (acc >> 64) + (u128)t7 * C + t3;
    uint64_t s3 = (uint64_t)acc;
    uint64_t top = (uint64_t)(acc >> 64);  // below 2^34
    acc = (u128)s0 + (u128)top * C;
    r[0] = (uint64_t)acc;
    acc = (acc >> 64) + s1;
    r[1] = (uint64_t)acc;
    acc = (acc >> 64) + s2;
    r[2] = (uint64_t)acc;
    acc = (acc >> 64) + s3;
    r[3] = (uint64_t)acc;
    if (acc >> 64) fe_add_small(r, C);
    else fe_final(r);
}

void kinko_fe_mul(uint64_t r[4], const uint64_t a[4], const uint64_t b[4]) { fe_mul_inline(r, a, b); }

void kinko_fe_inv(uint64_t r[4], const uint64_t a[4]) {
    // a^(p−2): p − 2 = 2^256 − 2^32 − 979, limbs most significant first.
    static const uint64_t e[4] = {~0ULL, ~0ULL, ~0ULL, 0xFFFFFFFEFFFFFC2DULL};
    uint64_t x[4] = {1, 0, 0, 0};
    for (int limb = 0; limb < 4; limb++) {
        for (int bit = 63; bit >= 0; bit--) {
            fe_mul_inline(x, x, x);
            if ((e[limb] >> bit) & 1) fe_mul_inline(x, x, a);
        }
    }
    for (int i = 0; i < 4; i++) r[i] = x[i];
}

void kinko_add_window(size_t count, size_t window, size_t windows, size_t per_window, const uint64_t *table, const int64_t *digits,
                      uint64_t *xs, uint64_t *ys, uint8_t *fallback, uint64_t *scratch) {
    uint64_t *differences = scratch, *prefix = scratch + 4 * count, *active = scratch + 8 * count;
    size_t used = 0;
    uint64_t running[4] = {1, 0, 0, 0};
    for (size_t k = 0; k < count; k++) {
        if (fallback[k]) continue;
        int64_t digit = digits[k * windows + window];
        if (digit == 0) continue;
        const uint64_t *q = table + 8 * (window * per_window + (size_t)digit);
        uint64_t d[4];
        fe_sub(d, q, xs + 4 * k);
        if ((d[0] | d[1] | d[2] | d[3]) == 0) {
            fallback[k] = 1;
            continue;
        }
        for (int i = 0; i < 4; i++) {
            differences[4 * used + i] = d[i];
            prefix[4 * used + i] = running[i];
        }
        fe_mul_inline(running, running, d);
        active[used++] = k;
    }
    if (used == 0) return;
    uint64_t inverse[4];
    kinko_fe_inv(inverse, running);
    for (size_t n = used; n-- > 0;) {
        size_t k = (size_t)active[n];
        uint64_t inv[4], lambda[4], t[4], x3[4], y3[4];
        fe_mul_inline(inv, prefix + 4 * n, inverse);
        fe_mul_inline(inverse, inverse, differences + 4 * n);
        const uint64_t *q = table + 8 * (window * per_window + (size_t)digits[k * windows + window]);
        uint64_t *x1 = xs + 4 * k, *y1 = ys + 4 * k;
        fe_sub(t, q + 4, y1);
        fe_mul_inline(lambda, t, inv);
        fe_mul_inline(x3, lambda, lambda);
        fe_sub(x3, x3, x1);
        fe_sub(x3, x3, q);
        fe_sub(t, x1, x3);
        fe_mul_inline(y3, lambda, t);
        fe_sub(y3, y3, y1);
        for (int i = 0; i < 4; i++) {
            x1[i] = x3[i];
            y1[i] = y3[i];
        }
    }
}

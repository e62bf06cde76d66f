// Batch affine point additions on secp256k1 for public-key derivation (see
// Sources/KinkoBitcoin/FastDerivation.swift): variable time, for public points only.
#ifndef CKINKOFIELD_H
#define CKINKOFIELD_H

#include <stddef.h>
#include <stdint.h>

/// Field elements are four 64-bit limbs, least significant first, fully reduced mod p;
/// affine points are x then y (eight limbs), laid out as the Swift types are.

/// a·b mod p (for tests: the Swift arithmetic checks it).
void kinko_fe_mul(uint64_t r[4], const uint64_t a[4], const uint64_t b[4]);
/// 1/a mod p (zero for zero).
void kinko_fe_inv(uint64_t r[4], const uint64_t a[4]);

/// For every element `k` (of `count`) not marked in `fallback` whose digit for `window` is not
/// zero, adds table point `window·per_window + digit` to (xs[k], ys[k]) in affine coordinates,
/// sharing one inversion across the batch. An element whose x coordinate equals the table
/// point's is marked in `fallback` and left as it is. `scratch` holds 9·count limbs.
void kinko_add_window(size_t count, size_t window, size_t windows, size_t per_window, const uint64_t *table, const int64_t *digits,
                      uint64_t *xs, uint64_t *ys, uint8_t *fallback, uint64_t *scratch);

#endif

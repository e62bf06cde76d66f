import CSecp256k1
public import KinkoCore

/// The secp256k1 operations Bitcoin keys need, through libsecp256k1 (Debian's
/// libsecp256k1-dev: Bitcoin Core's own library; a system-library target, `CSecp256k1`).
/// Keys are plain byte arrays at this boundary: 32-byte secret keys, 33-byte compressed points.
public enum Secp256k1 {
    /// One context for the process, randomized at start (blinding against side channels).
    /// libsecp256k1 allows concurrent use of a context for everything but randomization. Nil
    /// only if libsecp256k1 could not allocate it: then every operation fails, none traps.
    private nonisolated(unsafe) static let context: OpaquePointer? = {
        // SECP256K1_CONTEXT_NONE (1): the flags are unused since 0.2.0.
        guard let created = secp256k1_context_create(1) else { return nil }
        var seed = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for i in seed.indices { seed[i] = generator.next() }
        _ = secp256k1_context_randomize(created, seed)
        return created
    }()

    /// The context, or the error every operation answers without one.
    private static func ready() throws(KinkoError) -> OpaquePointer {
        guard let context else { throw KinkoError(.internalError, "libsecp256k1 could not allocate its context") }
        return context
    }

    /// SECP256K1_EC_COMPRESSED, written out: the macro is composed of others Swift does not import.
    private static let compressedFlag = UInt32(1 << 1 | 1 << 8)

    /// Whether `key` is a valid secret key (32 bytes, 1 … n−1).
    public static func isValidSecretKey(_ key: [UInt8]) -> Bool {
        guard let context else { return false }
        return key.count == 32 && secp256k1_ec_seckey_verify(context, key) == 1
    }

    /// The point of secret key `key`: 33 bytes compressed, or 65 uncompressed.
    public static func publicKey(secretKey key: [UInt8], compressed: Bool = true) throws(KinkoError) -> [UInt8] {
        let context = try ready()
        var point = secp256k1_pubkey()
        guard key.count == 32, secp256k1_ec_pubkey_create(context, &point, key) == 1 else { throw invalidKey("not a valid secret key") }
        return serialize(point, compressed: compressed, context: context)
    }

    /// Whether `key` is a valid point on the curve, compressed (33 bytes, 02/03) or not (65, 04).
    public static func isValidPublicKey(_ key: [UInt8]) -> Bool {
        guard let context else { return false }
        var point = secp256k1_pubkey()
        let shaped = (key.count == 33 && (key[0] == 2 || key[0] == 3)) || (key.count == 65 && key[0] == 4)
        return shaped && secp256k1_ec_pubkey_parse(context, &point, key, key.count) == 1
    }

    /// `key + tweak` mod n; fails when the tweak is not below n or the sum is zero.
    public static func add(secretKey key: [UInt8], tweak: [UInt8]) throws(KinkoError) -> [UInt8] {
        let context = try ready()
        var sum = key
        guard key.count == 32, tweak.count == 32, secp256k1_ec_seckey_tweak_add(context, &sum, tweak) == 1 else {
            throw invalidKey("the derived secret key is invalid (tweak ≥ n or a zero key)")
        }
        return sum
    }

    /// `point + tweak·G`; fails when the tweak is not below n or the sum is the point at
    /// infinity. (tweak·G comes from the generator table, then one point addition: faster
    /// than libsecp256k1's general tweak_add for the millions of derivations a wallet needs.)
    public static func add(publicKey key: [UInt8], tweak: [UInt8]) throws(KinkoError) -> [UInt8] {
        try add(parsed: try parse(publicKey: key), tweak: tweak)
    }

    /// An ECDSA signature of the 32-byte `hash` by `key`, DER-encoded, with low S (BIP 146) and
    /// the deterministic nonce of RFC 6979 (libsecp256k1's default).
    public static func sign(hash: [UInt8], secretKey key: [UInt8]) throws(KinkoError) -> [UInt8] {
        guard hash.count == 32 else { throw KinkoError(.invalidInput, "a signature hash is 32 bytes", field: "hash") }
        let context = try ready()
        var signature = secp256k1_ecdsa_signature()
        guard key.count == 32, secp256k1_ecdsa_sign(context, &signature, hash, key, nil, nil) == 1 else { throw invalidKey("not a valid secret key") }
        var output = [UInt8](repeating: 0, count: 72)
        var length = 72
        _ = secp256k1_ecdsa_signature_serialize_der(context, &output, &length, &signature)
        return Array(output.prefix(length))
    }

    /// Whether `signature` (strict DER, low S) is `publicKey`'s signature of `hash`.
    public static func verify(signature der: [UInt8], hash: [UInt8], publicKey: [UInt8]) -> Bool {
        guard let context else { return false }
        var signature = secp256k1_ecdsa_signature(), point = secp256k1_pubkey()
        guard hash.count == 32, !der.isEmpty, secp256k1_ecdsa_signature_parse_der(context, &signature, der, der.count) == 1,
            secp256k1_ec_pubkey_parse(context, &point, publicKey, publicKey.count) == 1
        else { return false }
        return secp256k1_ecdsa_verify(context, &signature, hash, &point) == 1
    }

    /// A public key parsed once, for deriving many children from it (`PublicDeriver`).
    public struct ParsedPoint: @unchecked Sendable {
        fileprivate var point: secp256k1_pubkey
    }

    public static func parse(publicKey key: [UInt8]) throws(KinkoError) -> ParsedPoint {
        let context = try ready()
        var point = secp256k1_pubkey()
        guard key.count == 33, secp256k1_ec_pubkey_parse(context, &point, key, 33) == 1 else { throw invalidKey("not a valid public key") }
        return ParsedPoint(point: point)
    }

    /// `point + tweak·G`, compressed, from an already parsed point.
    /// The 65-byte uncompressed encoding of a public key (04, x, y).
    static func uncompressed(publicKey key: [UInt8]) throws(KinkoError) -> [UInt8] {
        let context = try ready()
        var point = secp256k1_pubkey()
        guard key.count == 33 || key.count == 65, secp256k1_ec_pubkey_parse(context, &point, key, key.count) == 1 else { throw invalidKey("not a valid public key") }
        return serialize(point, compressed: false, context: context)
    }

    public static func add(parsed: ParsedPoint, tweak: [UInt8]) throws(KinkoError) -> [UInt8] {
        let context = try ready()
        var parent = parsed.point, tweakPoint = secp256k1_pubkey(), sum = secp256k1_pubkey()
        guard tweak.count == 32, secp256k1_ec_pubkey_create(context, &tweakPoint, tweak) == 1 else {
            throw invalidKey("the derivation tweak is not below the curve order")
        }
        let combined = withUnsafePointer(to: &parent) { a in
            withUnsafePointer(to: &tweakPoint) { b in
                var points: (UnsafePointer<secp256k1_pubkey>?, UnsafePointer<secp256k1_pubkey>?) = (a, b)
                return withUnsafePointer(to: &points) {
                    $0.withMemoryRebound(to: UnsafePointer<secp256k1_pubkey>?.self, capacity: 2) { secp256k1_ec_pubkey_combine(context, &sum, $0, 2) }
                }
            }
        }
        guard combined == 1 else { throw invalidKey("the derived public key is the point at infinity") }
        return serialize(sum, context: context)
    }

    private static func serialize(_ point: secp256k1_pubkey, compressed: Bool = true, context: OpaquePointer) -> [UInt8] {
        var point = point
        var length = compressed ? 33 : 65
        var output = [UInt8](repeating: 0, count: length)
        // SECP256K1_EC_UNCOMPRESSED is 1 << 1.
        _ = secp256k1_ec_pubkey_serialize(context, &output, &length, &point, compressed ? compressedFlag : UInt32(1 << 1))
        return output
    }

    private static func invalidKey(_ reason: String) -> KinkoError { KinkoError(.invalidInput, reason, field: "key") }
}

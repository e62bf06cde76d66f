public import KinkoCore

/// The Bitcoin networks Kinko addresses: each has its extended-key versions and its address
/// prefix. Testnet and regtest share `tpub`/`tprv`, so a key alone does not name its network.
public enum BitcoinNetwork: String, Sendable, CaseIterable, Codable {
    case mainnet, testnet, regtest

    /// The human-readable part of its segwit addresses.
    public var hrp: String {
        switch self {
        case .mainnet: "bc"
        case .testnet: "tb"
        case .regtest: "bcrt"
        }
    }

    var publicVersion: UInt32 { self == .mainnet ? 0x0488_B21E : 0x0435_87CF }
    var privateVersion: UInt32 { self == .mainnet ? 0x0488_ADE4 : 0x0435_8394 }
    /// BIP 48's coin type: 0 on mainnet, 1 on the test networks.
    public var coinType: UInt32 { self == .mainnet ? 0 : 1 }
}

/// One step of a BIP 32 path: an index, hardened (`'` or `h`) or not.
public struct ChildNumber: Sendable, Hashable, CustomStringConvertible {
    public static let hardenedBit: UInt32 = 0x8000_0000
    public let value: UInt32
    public var isHardened: Bool { value & Self.hardenedBit != 0 }
    public init(_ index: UInt32, hardened: Bool = false) { value = hardened ? index | Self.hardenedBit : index }
    public init(raw: UInt32) { value = raw }
    public var description: String { isHardened ? "\(value & ~Self.hardenedBit)'" : "\(value)" }
}

/// A derivation path: `m/48'/0'/0'/2'` or, inside descriptors, `48h/0h/0h/2h` (no `m`).
public struct DerivationPath: Sendable, Hashable, CustomStringConvertible {
    /// Steps one path may have at most (BIP 32 allows 255 levels of depth).
    public static let stepsMax = 255
    public var steps: [ChildNumber]
    public init(_ steps: [ChildNumber]) { self.steps = steps }

    /// Parses `m/…` (with `m` optional), steps separated by `/`, hardened as `'` or `h` (BIP
    /// 380 refuses `H`).
    public init(parsing text: String, field: String = "path") throws(KinkoError) {
        var parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if parts.first == "m" { parts.removeFirst() }
        if parts == [""] { parts = [] }
        guard parts.count <= Self.stepsMax else { throw KinkoError(.invalidInput, "more than \(Self.stepsMax) steps", field: field) }
        var steps: [ChildNumber] = []
        for part in parts {
            let hardened = part.hasSuffix("'") || part.hasSuffix("h")
            let digits = hardened ? String(part.dropLast()) : part
            guard !digits.isEmpty, digits.utf8.allSatisfy({ (48...57).contains($0) }), let index = UInt32(digits), index < ChildNumber.hardenedBit else {
                throw KinkoError(.invalidInput, "'\(part)' is not a child index (0–2147483647, hardened with ' or h)", field: field)
            }
            steps.append(ChildNumber(index, hardened: hardened))
        }
        self.steps = steps
    }

    /// `m/48'/0'/0'/2'`.
    public var description: String { (["m"] + steps.map(\.description)).joined(separator: "/") }
    /// `48'/0'/0'/2'`, as in a key origin.
    public var relative: String { steps.map(\.description).joined(separator: "/") }
}

/// A BIP 32 extended key, public or private, with its place in the tree.
public struct ExtendedKey: Sendable, Hashable {
    /// The length of a serialized extended key before its checksum.
    static let serializedBytes = 78
    /// Whether the key was written with testnet versions (`tpub`/`tprv`): testnet or regtest
    /// (the key does not say which).
    public let isTestVersion: Bool
    public let depth: UInt8
    public let parentFingerprint: [UInt8]
    public let childNumber: ChildNumber
    public let chainCode: [UInt8]
    /// 32 bytes for a private key, nil for a public one.
    public let secretKey: [UInt8]?
    /// The 33-byte compressed point.
    public let publicKey: [UInt8]

    public var isPrivate: Bool { secretKey != nil }
    /// The first four bytes of HASH160 of the public key.
    public var fingerprint: [UInt8] { Array(BitcoinHash.hash160(publicKey).prefix(4)) }

    /// The master key of `seed` (16–64 bytes), for `network`.
    public static func master(seed: [UInt8], network: BitcoinNetwork) throws(KinkoError) -> ExtendedKey {
        guard (16...64).contains(seed.count) else { throw KinkoError(.invalidInput, "a seed is 16–64 bytes; got \(seed.count)", field: "seed") }
        let i = BitcoinHash.hmacSHA512(key: Array("Bitcoin seed".utf8), data: seed)
        let key = Array(i[..<32])
        guard Secp256k1.isValidSecretKey(key) else { throw KinkoError(.invalidInput, "this seed gives an invalid master key; use another", field: "seed") }
        return ExtendedKey(isTestVersion: network != .mainnet, depth: 0, parentFingerprint: [0, 0, 0, 0], childNumber: ChildNumber(raw: 0),
                           chainCode: Array(i[32...]), secretKey: key, publicKey: try Secp256k1.publicKey(secretKey: key))
    }

    /// The child at `number`: private from a private key (hardened or not), public from a
    /// public key (not hardened).
    public func child(_ number: ChildNumber) throws(KinkoError) -> ExtendedKey {
        guard depth < 255 else { throw KinkoError(.invalidInput, "a key at depth 255 has no children", field: "path") }
        var data: [UInt8]
        if number.isHardened {
            guard let secretKey else {
                throw KinkoError(.invalidInput, "a hardened child (\(number)) needs the private key; this is a public key", field: "path")
            }
            data = [0] + secretKey
        } else {
            data = publicKey
        }
        data += Self.bigEndian(number.value)
        let i = BitcoinHash.hmacSHA512(key: chainCode, data: data)
        let tweak = Array(i[..<32])
        let chain = Array(i[32...])
        if let secretKey {
            let key = try Secp256k1.add(secretKey: secretKey, tweak: tweak)
            return ExtendedKey(isTestVersion: isTestVersion, depth: depth + 1, parentFingerprint: fingerprint, childNumber: number,
                               chainCode: chain, secretKey: key, publicKey: try Secp256k1.publicKey(secretKey: key))
        }
        return ExtendedKey(isTestVersion: isTestVersion, depth: depth + 1, parentFingerprint: fingerprint, childNumber: number,
                           chainCode: chain, secretKey: nil, publicKey: try Secp256k1.add(publicKey: publicKey, tweak: tweak))
    }

    public func derive(_ path: DerivationPath) throws(KinkoError) -> ExtendedKey {
        var key = self
        for step in path.steps { key = try key.child(step) }
        return key
    }

    /// The same key without its secret.
    public var neutered: ExtendedKey {
        ExtendedKey(isTestVersion: isTestVersion, depth: depth, parentFingerprint: parentFingerprint, childNumber: childNumber,
                    chainCode: chainCode, secretKey: nil, publicKey: publicKey)
    }

    /// The 78 bytes BIP 32 serializes (Base58Check adds the checksum); PSBTs carry these.
    public var serializedBytes: [UInt8] {
        let network: BitcoinNetwork = isTestVersion ? .testnet : .mainnet
        var bytes = Self.bigEndian(isPrivate ? network.privateVersion : network.publicVersion) + [depth] + parentFingerprint
        bytes += Self.bigEndian(childNumber.value) + chainCode
        return bytes + (secretKey.map { [0] + $0 } ?? publicKey)
    }

    /// `xpub…`/`tpub…` (or `xprv…`/`tprv…` for a private key).
    public var serialized: String { Base58.encodeCheck(serializedBytes) }

    /// The public form, serialized.
    public var serializedPublic: String { neutered.serialized }

    /// Parses an `xpub`/`xprv`/`tpub`/`tprv` string, refusing every malformed key BIP 32's
    /// test vector 5 lists, each with its reason.
    public init(parsing text: String, field: String = "key") throws(KinkoError) {
        guard let bytes = Base58.decodeCheck(text) else {
            throw KinkoError(.invalidInput, "not a Base58Check string (bad character or checksum)", field: field)
        }
        try self.init(serializedBytes: bytes, field: field)
    }

    /// Reads the 78 bytes of `serializedBytes` (as a PSBT's global xpub map holds them).
    public init(serializedBytes bytes: [UInt8], field: String = "key") throws(KinkoError) {
        func invalid(_ reason: String) -> KinkoError { KinkoError(.invalidInput, reason, field: field) }
        guard bytes.count == Self.serializedBytes else { throw invalid("an extended key is \(Self.serializedBytes) bytes; this is \(bytes.count)") }
        let version = UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3])
        let isPrivateVersion: Bool
        switch version {
        case BitcoinNetwork.mainnet.publicVersion: (isPrivateVersion, isTestVersion) = (false, false)
        case BitcoinNetwork.mainnet.privateVersion: (isPrivateVersion, isTestVersion) = (true, false)
        case BitcoinNetwork.testnet.publicVersion: (isPrivateVersion, isTestVersion) = (false, true)
        case BitcoinNetwork.testnet.privateVersion: (isPrivateVersion, isTestVersion) = (true, true)
        default: throw invalid("unknown extended key version \(String(version, radix: 16))")
        }
        depth = bytes[4]
        parentFingerprint = Array(bytes[5..<9])
        childNumber = ChildNumber(raw: UInt32(bytes[9]) << 24 | UInt32(bytes[10]) << 16 | UInt32(bytes[11]) << 8 | UInt32(bytes[12]))
        chainCode = Array(bytes[13..<45])
        let key = Array(bytes[45..<78])
        if depth == 0 {
            guard parentFingerprint == [0, 0, 0, 0] else { throw invalid("depth 0 with a non-zero parent fingerprint") }
            guard childNumber.value == 0 else { throw invalid("depth 0 with a non-zero child index") }
        }
        if isPrivateVersion {
            guard key[0] == 0 else { throw invalid(key[0] == 2 || key[0] == 3 ? "a private version with a public key" : "invalid private key prefix \(key[0])") }
            let secret = Array(key[1...])
            guard Secp256k1.isValidSecretKey(secret) else { throw invalid("the private key is not in 1 … n−1") }
            secretKey = secret
            publicKey = try Secp256k1.publicKey(secretKey: secret)
        } else {
            guard key[0] != 0 else { throw invalid("a public version with a private key") }
            guard key[0] == 2 || key[0] == 3 else { throw invalid("invalid public key prefix \(key[0])") }
            guard Secp256k1.isValidPublicKey(key) else { throw invalid("the public key is not a point on the curve") }
            secretKey = nil
            publicKey = key
        }
    }

    private init(isTestVersion: Bool, depth: UInt8, parentFingerprint: [UInt8], childNumber: ChildNumber, chainCode: [UInt8],
                 secretKey: [UInt8]?, publicKey: [UInt8]) {
        self.isTestVersion = isTestVersion
        self.depth = depth
        self.parentFingerprint = parentFingerprint
        self.childNumber = childNumber
        self.chainCode = chainCode
        self.secretKey = secretKey
        self.publicKey = publicKey
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)] }
}

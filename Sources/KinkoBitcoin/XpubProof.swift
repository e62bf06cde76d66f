public import KinkoCore

/// Proof that whoever registers an xpub holds its private key: the key at the registered path
/// signs a challenge Kinko issued, bound to the key expression itself (a signature over one
/// registration cannot be replayed for another key or another challenge).
public enum XpubProof {
    /// A challenge is 32–128 hex digits (Kinko issues 32 random bytes).
    public static let challengeHexDigits: ClosedRange<Int> = 32...128
    static let domain = "Kinko xpub registration v1"

    /// The bytes signed: the domain, the challenge and the key expression, one per line.
    public static func message(challenge: String, keyExpression: String) -> [UInt8] {
        Array("\(domain)\n\(challenge)\n\(keyExpression)".utf8)
    }

    static func checkChallenge(_ challenge: String) throws(KinkoError) {
        guard challengeHexDigits.contains(challenge.utf8.count), Hex.decode(challenge) != nil else {
            throw KinkoError(.invalidInput, "a challenge is \(challengeHexDigits.lowerBound)–\(challengeHexDigits.upperBound) hex digits", field: "challenge")
        }
    }

    /// The origin-annotated xpub at `path` and the DER signature of the challenge by that key.
    public static func sign(master: ExtendedKey, path: DerivationPath, challenge: String) throws(KinkoError) -> (keyExpression: String, signature: [UInt8]) {
        try checkChallenge(challenge)
        let expression = try SignerKeyFile.keyExpression(master: master, path: path)
        guard let secret = try master.derive(path).secretKey else {
            throw KinkoError(.invalidInput, "proving possession needs the private key", field: "key_file")
        }
        let hash = BitcoinHash.sha256(message(challenge: challenge, keyExpression: expression))
        return (expression, try Secp256k1.sign(hash: hash, secretKey: secret))
    }

    /// Checks a registration: the expression is `[fingerprint/path]xpub` with the xpub at the
    /// depth its path says, and `signature` is that xpub's key signing the challenge. Throws
    /// naming what is wrong.
    public static func verify(keyExpression: String, challenge: String, signature: [UInt8]) throws(KinkoError) {
        try checkChallenge(challenge)
        let xpub = try parse(keyExpression: keyExpression).xpub
        let hash = BitcoinHash.sha256(message(challenge: challenge, keyExpression: keyExpression))
        guard Secp256k1.verify(signature: signature, hash: hash, publicKey: xpub.publicKey) else {
            throw KinkoError(.invalidInput, "the signature is not this key's signature of the challenge", field: "signature")
        }
    }

    /// A registered key expression `[fingerprint/path]xpub`: its origin and the xpub, which
    /// must sit at the depth and child number the path says. Throws naming the field `key`.
    public static func parse(keyExpression: String) throws(KinkoError) -> (fingerprint: [UInt8], path: DerivationPath, xpub: ExtendedKey) {
        let parsed = try Descriptor(parsing: "wsh(sortedmulti(1,\(keyExpression)))", field: "key")
        let key = parsed.keys[0]
        guard case .extended(let xpub, let steps, nil, .none) = key.material, steps.steps.isEmpty, !xpub.isPrivate, let origin = key.origin else {
            throw KinkoError(.invalidInput, "register [fingerprint/path]xpub, with its origin and no steps after the key", field: "key")
        }
        guard Int(xpub.depth) == origin.path.steps.count, origin.path.steps.last.map({ $0 == xpub.childNumber }) ?? (xpub.depth == 0) else {
            throw KinkoError(.invalidInput, "the xpub is at depth \(xpub.depth), child \(xpub.childNumber); its origin path says \(origin.path)", field: "key")
        }
        return (origin.fingerprint, origin.path, xpub)
    }

    /// The id Kinko files a key under: its master fingerprint and origin path
    /// (`d34db33f/48'/0'/0'/2'`), the same for the xpub and every descriptor that names it.
    public static func keyID(fingerprint: [UInt8], path: DerivationPath) -> String {
        Hex.encode(fingerprint) + "/" + path.relative
    }
}

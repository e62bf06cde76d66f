import Crypto
import Foundation
public import KinkoCore

/// Whether a credential may be used. A token or key of a principal holding an approving role
/// is parked until a second admin approves it (`Governance.approvingRoles`).
public enum CredentialStatus: String, Sendable, Codable {
    case active
    case awaitingApproval = "awaiting_approval"
}

/// An API token as stored: only the SHA-256 of the secret, never the secret.
public struct TokenRecord: Sendable, Equatable {
    public var id: UInt64
    public var principal: PrincipalID
    public var secretHash: [UInt8]
    public var createdAt: TimestampNanoseconds
    public var expiresAt: TimestampNanoseconds?
    public var revokedAt: TimestampNanoseconds?
    public var status: CredentialStatus
    /// Who could have seen the secret besides its holder: the admin whose enrolment it was
    /// redeemed from (nil for a token the holder issued with a token of their own).
    public var issuedBy: PrincipalID?
    /// The approval that activates it, while it awaits one.
    public var requestID: ApprovalRequestID?

    public init(id: UInt64, principal: PrincipalID, secretHash: [UInt8], createdAt: TimestampNanoseconds,
                expiresAt: TimestampNanoseconds?, revokedAt: TimestampNanoseconds?, status: CredentialStatus = .active,
                issuedBy: PrincipalID? = nil, requestID: ApprovalRequestID? = nil) {
        self.id = id
        self.principal = principal
        self.secretHash = secretHash
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.status = status
        self.issuedBy = issuedBy
        self.requestID = requestID
    }

    public func isUsable(at now: TimestampNanoseconds) -> Bool {
        status == .active && revokedAt == nil && (expiresAt.map { now < $0 } ?? true)
    }

    /// What people see of a token: the first 8 bytes of its hash (never the secret).
    public var fingerprint: String { Hex.encode(secretHash.prefix(8)) }
}

/// Token secrets: `kinko_` and 64 hex digits (256 random bits).
public enum TokenSecret {
    public static let prefix = "kinko_"
    /// Longest token lifetime one may ask for: 400 days.
    public static let lifetimeSecondsMax: UInt64 = 400 * 86_400

    public static func generate() -> String { prefix + randomHex(bytes: 32) }

    /// `bytes` random bytes from the system's generator, as hex: every secret Kinko hands out.
    public static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    public static func hash(_ secret: String) -> [UInt8] { Array(SHA256.hash(data: Array(secret.utf8))) }

    public static func isWellFormed(_ secret: String) -> Bool {
        secret.hasPrefix(prefix) && secret.utf8.count == prefix.utf8.count + 64
            && secret.utf8.dropFirst(prefix.utf8.count).allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}

public enum SignatureAlgorithm: String, Sendable, CaseIterable {
    case ed25519
    case p256

    public init(parsing text: String) throws(KinkoError) {
        guard let algorithm = SignatureAlgorithm(rawValue: text) else {
            throw KinkoError(.invalidInput, "unknown algorithm \"\(text)\"; ed25519 or p256", field: "algorithm")
        }
        self = algorithm
    }
}

/// A signer's public key. Ed25519 keys are 32 raw bytes; P-256 keys are 64 raw bytes (x ‖ y),
/// 65 (0x04 ‖ x ‖ y) or 33 (compressed). Signatures: Ed25519 64 bytes; P-256 raw (r ‖ s, 64
/// bytes) or DER.
public struct SignerKey: Sendable, Equatable {
    public var id: String
    public var principal: PrincipalID
    public var algorithm: SignatureAlgorithm
    public var publicKey: [UInt8]
    public var registeredAt: TimestampNanoseconds
    public var revokedAt: TimestampNanoseconds?
    public var status: CredentialStatus
    /// The approval that activates it, while it awaits one.
    public var requestID: ApprovalRequestID?

    public init(principal: PrincipalID, algorithm: SignatureAlgorithm, publicKey: [UInt8], registeredAt: TimestampNanoseconds,
                revokedAt: TimestampNanoseconds? = nil, status: CredentialStatus = .active, requestID: ApprovalRequestID? = nil) {
        self.id = SignerKey.id(of: publicKey)
        self.principal = principal
        self.algorithm = algorithm
        self.publicKey = publicKey
        self.registeredAt = registeredAt
        self.revokedAt = revokedAt
        self.status = status
        self.requestID = requestID
    }

    /// Counts for approvals: approved (if it had to be) and not revoked.
    public var isActive: Bool { status == .active && revokedAt == nil }

    /// The first 16 bytes of SHA-256 of the public key, in hex.
    public static func id(of publicKey: [UInt8]) -> String { Hex.encode(SHA256.hash(data: publicKey).prefix(16)) }

    /// Checks the public key parses for its algorithm.
    public static func validate(algorithm: SignatureAlgorithm, publicKey: [UInt8]) throws(KinkoError) {
        switch algorithm {
        case .ed25519:
            guard (try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey)) != nil else {
                throw KinkoError(.invalidInput, "an Ed25519 public key is 32 bytes; got \(publicKey.count)", field: "public_key")
            }
        case .p256:
            guard p256Key(publicKey) != nil else {
                throw KinkoError(.invalidInput, "not a P-256 public key (64, 65 or 33 bytes); got \(publicKey.count) bytes", field: "public_key")
            }
        }
    }

    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        switch algorithm {
        case .ed25519:
            guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
            return key.isValidSignature(signature, for: message)
        case .p256:
            guard let key = Self.p256Key(publicKey) else { return false }
            let parsed = signature.count == 64
                ? try? P256.Signing.ECDSASignature(rawRepresentation: signature)
                : try? P256.Signing.ECDSASignature(derRepresentation: signature)
            guard let parsed else { return false }
            return key.isValidSignature(parsed, for: message)
        }
    }

    private static func p256Key(_ bytes: [UInt8]) -> P256.Signing.PublicKey? {
        switch bytes.count {
        case 64: try? P256.Signing.PublicKey(rawRepresentation: bytes)
        case 65: try? P256.Signing.PublicKey(x963Representation: bytes)
        case 33: try? P256.Signing.PublicKey(compressedRepresentation: bytes)
        default: nil
        }
    }

    /// The message a key's owner signs to prove possession when registering it.
    public static func registrationMessage(principal: PrincipalID, algorithm: SignatureAlgorithm, publicKey: [UInt8]) -> [UInt8] {
        CanonicalJSON.object([
            "type": "kinko.key.registration.v1", "principal": .string(String(principal.rawValue)),
            "algorithm": .string(algorithm.rawValue), "public_key": .string(Hex.encode(publicKey)),
        ]).bytes
    }
}

/// A private key held by a signer, for tools and tests: generates key pairs and signs. Kinko
/// itself never stores one.
public struct LocalSigningKey: Sendable {
    public let algorithm: SignatureAlgorithm
    public let privateKey: [UInt8]

    public init(algorithm: SignatureAlgorithm, privateKey: [UInt8]) throws(KinkoError) {
        self.algorithm = algorithm
        self.privateKey = privateKey
        _ = try publicKey()
    }

    public static func generate(_ algorithm: SignatureAlgorithm) -> LocalSigningKey {
        let raw: [UInt8] = switch algorithm {
        case .ed25519: Array(Curve25519.Signing.PrivateKey().rawRepresentation)
        case .p256: Array(P256.Signing.PrivateKey().rawRepresentation)
        }
        // A freshly generated key always parses.
        return LocalSigningKey(unchecked: algorithm, raw)
    }

    private init(unchecked algorithm: SignatureAlgorithm, _ raw: [UInt8]) {
        self.algorithm = algorithm
        self.privateKey = raw
    }

    public func publicKey() throws(KinkoError) -> [UInt8] {
        do {
            switch algorithm {
            case .ed25519: return Array(try Curve25519.Signing.PrivateKey(rawRepresentation: privateKey).publicKey.rawRepresentation)
            case .p256: return Array(try P256.Signing.PrivateKey(rawRepresentation: privateKey).publicKey.rawRepresentation)
            }
        } catch {
            throw KinkoError(.invalidInput, "not a \(algorithm.rawValue) private key", field: "private_key")
        }
    }

    public func sign(_ message: [UInt8]) throws(KinkoError) -> [UInt8] {
        do {
            switch algorithm {
            case .ed25519: return Array(try Curve25519.Signing.PrivateKey(rawRepresentation: privateKey).signature(for: message))
            case .p256: return Array(try P256.Signing.PrivateKey(rawRepresentation: privateKey).signature(for: message).rawRepresentation)
            }
        } catch {
            throw KinkoError(.invalidInput, "signing with the \(algorithm.rawValue) key failed", field: "private_key")
        }
    }

    /// Key files: `<algorithm>:<hex private key>` on one line.
    public var fileContents: String { "\(algorithm.rawValue):\(Hex.encode(privateKey))\n" }

    public init(fileContents text: String) throws(KinkoError) {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":", maxSplits: 1)
        guard parts.count == 2 else { throw KinkoError(.invalidInput, "a key file reads <algorithm>:<hex>", field: "key_file") }
        try self.init(algorithm: SignatureAlgorithm(parsing: String(parts[0])), privateKey: Hex.decode(String(parts[1]), field: "key_file"))
    }
}

import Crypto
import Foundation
public import KinkoCore

/// What a state-changing command records: who, acting in which role, did what, over which exact
/// request (its SHA-256), with what result. Modules build one per command and hand it to their
/// store, which appends it in the same transaction as the change.
public struct AuditEvent: Sendable, Equatable {
    public var principal: PrincipalID
    public var principalName: String
    /// The role that permitted the action (or `none` when refused for lack of one).
    public var role: String
    /// A stable name such as `ledger.transfers.create`.
    public var action: String
    public var requestDigest: [UInt8]
    /// `ok`, a summary such as `8189 ok, 2 exceeds_credits`, or the refusal's code.
    public var result: String
    /// Small structured facts worth finding later (batch sequence, ids, counts).
    public var details: [String: String]

    public init(
        principal: PrincipalID, principalName: String, role: String, action: String, requestDigest: [UInt8],
        result: String, details: [String: String] = [:]
    ) {
        self.principal = principal
        self.principalName = principalName
        self.role = role
        self.action = action
        self.requestDigest = requestDigest
        self.result = result
        self.details = details
    }
}

/// One entry of the audit log: its position, its time and the event. The entry's bytes are its
/// canonical JSON (`AuditEntry.bytes`); the Merkle leaf is SHA-256(0x00 ‖ bytes). The position
/// is part of the bytes, so an entry moved to another position no longer matches its leaf.
public struct AuditEntry: Sendable, Equatable {
    public var index: Int
    public var time: TimestampNanoseconds
    public var event: AuditEvent

    public var json: CanonicalJSON {
        .object([
            "type": "kinko.audit.entry.v1",
            "index": .string(String(index)),
            "time": .string(String(time)),
            "principal": .string(String(event.principal.rawValue)),
            "principal_name": .string(event.principalName),
            "role": .string(event.role),
            "action": .string(event.action),
            "request_digest": .string(Hex.encode(event.requestDigest)),
            "result": .string(event.result),
            "details": .object(event.details.mapValues { .string($0) }),
        ])
    }

    public var bytes: [UInt8] { json.bytes }

    /// Reads an entry back from its stored bytes, checking they are exactly its canonical form.
    public init(bytes: [UInt8]) throws(KinkoError) {
        let malformed = KinkoError(.storageCorrupted, "an audit entry is not a kinko.audit.entry.v1 object")
        guard case .object(let object) = try CanonicalJSON(parsing: bytes) else { throw malformed }
        func text(_ key: String) throws(KinkoError) -> String {
            guard case .string(let value)? = object[key] else { throw malformed }
            return value
        }
        guard try text("type") == "kinko.audit.entry.v1", let index = Int(try text("index")), let time = UInt64(try text("time")),
            let principal = UInt128(try text("principal")), case .object(let detailValues)? = object["details"]
        else { throw malformed }
        var details: [String: String] = [:]
        for (key, value) in detailValues {
            guard case .string(let string) = value else { throw malformed }
            details[key] = string
        }
        let event = AuditEvent(
            principal: PrincipalID(principal), principalName: try text("principal_name"), role: try text("role"),
            action: try text("action"), requestDigest: try Hex.decode(try text("request_digest"), field: "request_digest"),
            result: try text("result"), details: details)
        self.init(index: index, time: time, event: event)
        guard self.bytes == bytes else {
            throw KinkoError(.storageCorrupted, "audit entry \(index) is not in canonical form")
        }
    }

    public init(index: Int, time: TimestampNanoseconds, event: AuditEvent) {
        self.index = index
        self.time = time
        self.event = event
    }
}

/// A signed tree head: the log had `size` entries with this `root` at `time`.
public struct AuditCheckpoint: Sendable, Equatable {
    public var size: Int
    public var root: Merkle.Hash
    public var time: TimestampNanoseconds
    /// SHA-256 of the signing public key.
    public var keyID: [UInt8]
    public var signature: [UInt8]

    /// The signed message: canonical JSON of type, size, root and time.
    public static func message(size: Int, root: Merkle.Hash, time: TimestampNanoseconds) -> [UInt8] {
        CanonicalJSON.object([
            "type": "kinko.audit.checkpoint.v1", "size": .string(String(size)), "root": .string(Hex.encode(root)),
            "time": .string(String(time)),
        ]).bytes
    }

    public var message: [UInt8] { Self.message(size: size, root: root, time: time) }

    public init(size: Int, root: Merkle.Hash, time: TimestampNanoseconds, keyID: [UInt8], signature: [UInt8]) {
        self.size = size
        self.root = root
        self.time = time
        self.keyID = keyID
        self.signature = signature
    }
}

/// The server's Ed25519 key that signs checkpoints. It lives in a file outside the database
/// (`<database>.audit-key`, mode 0600), so whoever can edit the database cannot forge a
/// checkpoint. Verification needs only the public key.
public struct AuditSigner: Sendable {
    private let key: Curve25519.Signing.PrivateKey

    public init(rawRepresentation: [UInt8]) throws(KinkoError) {
        do {
            key = try Curve25519.Signing.PrivateKey(rawRepresentation: rawRepresentation)
        } catch {
            throw KinkoError(.invalidInput, "the audit signing key is not a 32-byte Ed25519 private key", field: "audit_key")
        }
    }

    public static func generate() -> (signer: AuditSigner, rawRepresentation: [UInt8]) {
        let key = Curve25519.Signing.PrivateKey()
        return (AuditSigner(key: key), Array(key.rawRepresentation))
    }

    private init(key: Curve25519.Signing.PrivateKey) { self.key = key }

    public var publicKey: [UInt8] { Array(key.publicKey.rawRepresentation) }
    /// The SHA-256 of the public key: what checkpoints carry and what an installation pins.
    public var keyID: [UInt8] { AuditKeyPin.fingerprint(of: publicKey) }

    public func checkpoint(size: Int, root: Merkle.Hash, time: TimestampNanoseconds) throws(KinkoError) -> AuditCheckpoint {
        let message = AuditCheckpoint.message(size: size, root: root, time: time)
        do {
            let signature = try key.signature(for: message)
            return AuditCheckpoint(size: size, root: root, time: time, keyID: keyID, signature: Array(signature))
        } catch {
            throw KinkoError(.storageFailure, "signing the audit checkpoint failed: \(error)")
        }
    }

    /// Loads the key from its file (hex), or reports precisely why it cannot.
    public static func load(path: String) throws(KinkoError) -> AuditSigner {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KinkoError(.notFound, "the audit signing key \(path) is missing; it is created by `kinko init`", field: "audit_key")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return try AuditSigner(rawRepresentation: Hex.decode(text, field: "audit_key"))
    }

    /// Writes a new key file (refusing to overwrite one) and its public half next to it.
    public static func create(path: String) throws(KinkoError) -> AuditSigner {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw KinkoError(.invalidInput, "an audit signing key already exists at \(path)", field: "audit_key")
        }
        let (signer, raw) = generate()
        let created = FileManager.default.createFile(
            atPath: path, contents: Data((Hex.encode(raw) + "\n").utf8), attributes: [.posixPermissions: 0o600])
        let published = FileManager.default.createFile(
            atPath: path + ".pub", contents: Data((Hex.encode(signer.publicKey) + "\n").utf8), attributes: [.posixPermissions: 0o644])
        guard created && published else {
            throw KinkoError(.storageFailure, "cannot write the audit signing key to \(path)", field: "audit_key")
        }
        return signer
    }
}

extension AuditCheckpoint {
    public func hasValidSignature(publicKey: [UInt8]) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
        return key.isValidSignature(signature, for: message)
    }
}

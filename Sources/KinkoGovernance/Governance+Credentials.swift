import Crypto
public import KinkoCore

/// A one-time code an admin creates for a principal, who redeems it for a token of their own:
/// the admin never holds a usable credential for someone else (as custody platforms enrol
/// their users). Only the code's SHA-256 is stored; it expires and works once.
public struct Enrolment: Codable, Sendable, Equatable {
    public var principal: String
    public var createdBy: String
    public var createdAt: UInt64
    public var expiresAt: UInt64
    public var redeemedAt: UInt64?
    /// Made by `kinko init` for the first admins: their first token and first key need no
    /// approval (there is nobody yet to give it).
    public var bootstrap: Bool

    public static let collection = "governance.enrolments"
    public static let lifetimeSecondsDefault: UInt64 = 72 * 3_600
    public static let lifetimeSecondsMax: UInt64 = 7 * 86_400
    public static let codePrefix = "kinko_enrol_"

    public static func generateCode() -> String { codePrefix + TokenSecret.randomHex(bytes: 24) }

    public static func isWellFormed(_ code: String) -> Bool {
        code.hasPrefix(codePrefix) && code.utf8.count == codePrefix.utf8.count + 48
            && code.utf8.dropFirst(codePrefix.utf8.count).allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// The record key: the code's SHA-256 in hex.
    public static func key(_ code: String) -> String { Hex.encode(SHA256.hash(data: Array(code.utf8))) }
}

extension Governance {
    var enrolments: RecordCollection<Enrolment> { RecordCollection(Enrolment.collection, store: store) }

    /// Whether a credential for `principal` must wait for a second admin.
    static func needsApproval(_ principal: Principal) -> Bool { !principal.roles.isDisjoint(with: approvingRoles) }

    // MARK: Enrolments

    /// Creates a one-time enrolment for `id` (admins only); the code is returned once.
    public func createEnrolment(for id: PrincipalID, lifetimeSeconds: UInt64 = Enrolment.lifetimeSecondsDefault, by caller: Caller) async throws -> String {
        let role = try await authorize(caller, .principalsEnrol, digest: Self.digest(["principal": .string(id.description)]))
        let principal = try await requirePrincipal(id)
        return try await enrol(principal, lifetimeSeconds: lifetimeSeconds, bootstrap: false, by: caller, role: role)
    }

    func enrol(_ principal: Principal, lifetimeSeconds: UInt64, bootstrap: Bool, by caller: Caller, role: Role) async throws -> String {
        guard (1...Enrolment.lifetimeSecondsMax).contains(lifetimeSeconds) else {
            throw KinkoError(.invalidInput, "an enrolment lives 1 s to \(Enrolment.lifetimeSecondsMax) s; got \(lifetimeSeconds)", field: "lifetime")
        }
        let code = Enrolment.generateCode()
        let now = clock.now()
        let enrolment = Enrolment(principal: principal.id.description, createdBy: caller.principal.description, createdAt: now,
                                  expiresAt: now + lifetimeSeconds * 1_000_000_000, redeemedAt: nil, bootstrap: bootstrap)
        let key = Enrolment.key(code)
        guard try await store.write([try enrolments.insert(key, enrolment, tag: principal.id.description)], at: now, audit: caller.event(
            .principalsEnrol, role: role, digest: Hex.decodeUnchecked(key), result: "ok",
            details: ["principal": principal.name, "expires_at": enrolment.expiresAt.iso8601, "bootstrap": String(bootstrap)]))
        else {
            throw KinkoError(.conflict, "an enrolment with this code exists already; try again")
        }
        return code
    }

    /// Redeems an enrolment code for a token of the principal's own (no caller: the code is the
    /// credential). If the principal holds an approving role the token waits for a second
    /// admin, neither the principal nor the admin who made the enrolment; a bootstrap
    /// enrolment's token is active at once.
    public func redeemEnrolment(code: String, lifetimeSeconds: UInt64? = nil) async throws -> (record: TokenRecord, secret: String, holder: Principal) {
        let refused = KinkoError(.unauthenticated, "the enrolment code is not valid (unknown, expired or already used)", field: "code")
        guard Enrolment.isWellFormed(code), let entry = try await enrolments.get(Enrolment.key(code)) else { throw refused }
        let now = clock.now()
        guard entry.value.redeemedAt == nil, now < entry.value.expiresAt, let principalID = UInt128(entry.value.principal),
            let issuer = UInt128(entry.value.createdBy)
        else { throw refused }
        let principal = try await requirePrincipal(PrincipalID(principalID))
        var redeemed = entry.value
        redeemed.redeemedAt = now
        let parked = Self.needsApproval(principal) && !entry.value.bootstrap
        let digest = Hex.decodeUnchecked(entry.key)
        let (record, secret) = try await insertToken(
            for: principal, lifetimeSeconds: lifetimeSeconds, issuedBy: issuer == Caller.system.principal.rawValue ? nil : PrincipalID(issuer), parked: parked,
            alongside: [try enrolments.update(entry, to: redeemed, tag: entry.value.principal)],
            audit: AuditEvent(principal: principal.id, principalName: principal.name, role: "enrolment", action: Permission.tokensIssue.rawValue,
                              requestDigest: digest, result: parked ? "awaiting_approval" : "ok",
                              details: ["principal": principal.name, "enrolment": "redeemed", "issued_by": entry.value.createdBy]))
        return (record, secret, principal)
    }

    // MARK: Tokens

    /// Issues another token for the caller themself (rotation, a second device). For a holder
    /// of an approving role it waits for a second admin's approval.
    public func issueOwnToken(lifetimeSeconds: UInt64?, by caller: Caller) async throws -> (TokenRecord, String) {
        let principal = try await requirePrincipal(caller.principal)
        return try await insertToken(
            for: principal, lifetimeSeconds: lifetimeSeconds, issuedBy: nil, parked: Self.needsApproval(principal), alongside: [],
            audit: caller.selfEvent(.tokensIssue, digest: Self.digest(["principal": .string(caller.principal.description)]),
                                    result: Self.needsApproval(principal) ? "awaiting_approval" : "ok", details: ["principal": principal.name]))
    }

    private func insertToken(
        for principal: Principal, lifetimeSeconds: UInt64?, issuedBy: PrincipalID?, parked: Bool, alongside: [RecordWrite], audit: AuditEvent
    ) async throws -> (TokenRecord, String) {
        if let lifetimeSeconds, !(1...TokenSecret.lifetimeSecondsMax).contains(lifetimeSeconds) {
            throw KinkoError(.invalidInput, "a token lives 1 s to \(TokenSecret.lifetimeSecondsMax) s; got \(lifetimeSeconds)", field: "lifetime")
        }
        let secret = TokenSecret.generate()
        let now = clock.now()
        let token = TokenRecord(id: 0, principal: principal.id, secretHash: TokenSecret.hash(secret), createdAt: now,
                                expiresAt: lifetimeSeconds.map { now + $0 * 1_000_000_000 }, revokedAt: nil,
                                status: parked ? .awaitingApproval : .active, issuedBy: issuedBy)
        var activation: ApprovalRequest?
        if parked {
            let payload: CanonicalJSON = ["principal": .string(principal.id.description), "name": .string(principal.name),
                                          "token": .string(token.fingerprint), "issued_by": .string(issuedBy?.description ?? "self")]
            let policy = try policy(for: Self.tokenActivationAction).excluding([principal.id] + (issuedBy.map { [$0] } ?? []))
            activation = try draftRequest(action: Self.tokenActivationAction, payload: payload, policy: policy, initiator: principal.id)
        }
        let stored = try await store.insertToken(token, activation: activation, alongside: alongside, audit: audit)
        return (stored, secret)
    }

    /// The caller's own tokens (never the secrets).
    public func ownTokens(by caller: Caller) async throws -> [TokenRecord] {
        try await store.tokens(of: caller.principal)
    }

    /// Revokes a token: the caller's own, or (admins) anyone's. Revoking only removes power, so
    /// it needs nobody else and takes effect at once.
    public func revokeToken(_ tokenID: UInt64, of principalID: PrincipalID? = nil, by caller: Caller) async throws {
        let owner = principalID ?? caller.principal
        let digest = Self.digest(["token": .string(String(tokenID)), "principal": .string(owner.description)])
        let details = ["token": String(tokenID), "principal": owner.description]
        let audit = owner == caller.principal
            ? caller.selfEvent(.tokensRevoke, digest: digest, result: "ok", details: details)
            : caller.event(.tokensRevoke, role: try await authorize(caller, .tokensRevoke, digest: digest), digest: digest, result: "ok", details: details)
        defer { authenticationCache.removeAll() }
        guard try await store.tokens(of: owner).contains(where: { $0.id == tokenID && $0.revokedAt == nil }),
            try await store.revokeToken(id: tokenID, at: clock.now(), audit: audit)
        else {
            throw KinkoError(.notFound, "no active token \(tokenID) of principal \(owner)", field: "token")
        }
    }

    // MARK: Signer keys

    /// Registers a public key for the caller. `proof` is the key's signature over
    /// `SignerKey.registrationMessage`, so nobody can register a key they do not hold. A key
    /// of a holder of an approving role waits for a second admin's approval — except the first
    /// key of an admin whose token came from `kinko init`, which starts the chain of approvals.
    public func registerKey(algorithm: SignatureAlgorithm, publicKey: [UInt8], proof: [UInt8], by caller: Caller) async throws -> SignerKey {
        try SignerKey.validate(algorithm: algorithm, publicKey: publicKey)
        let message = SignerKey.registrationMessage(principal: caller.principal, algorithm: algorithm, publicKey: publicKey)
        let digest = Array(SHA256.hash(data: message))
        var key = SignerKey(principal: caller.principal, algorithm: algorithm, publicKey: publicKey, registeredAt: clock.now())
        guard key.isValidSignature(proof, for: message) else {
            throw KinkoError(.invalidInput, "the proof is not a signature of the registration message by this key", field: "proof")
        }
        let principal = try await requirePrincipal(caller.principal)
        let keys = try await store.keys()
        if keys.contains(where: { $0.id == key.id }) {
            throw KinkoError(.conflict, "key \(key.id) is already registered", field: "public_key")
        }
        let tokens = try await store.tokens(of: principal.id)
        let issuers = Set(tokens.compactMap(\.issuedBy))
        let firstBootstrapKey = try await isBootstrapped(principal) && !keys.contains { $0.principal == principal.id }
        var activation: ApprovalRequest?
        if Self.needsApproval(principal) && !firstBootstrapKey {
            key.status = .awaitingApproval
            let payload: CanonicalJSON = ["principal": .string(principal.id.description), "name": .string(principal.name), "key": .string(key.id),
                                          "algorithm": .string(algorithm.rawValue), "public_key": .string(Hex.encode(publicKey))]
            activation = try draftRequest(action: Self.keyActivationAction, payload: payload,
                                          policy: try policy(for: Self.keyActivationAction).excluding([principal.id] + issuers), initiator: principal.id)
        }
        return try await store.insertKey(key, activation: activation, audit: caller.selfEvent(
            .keysRegister, digest: digest, result: key.status == .active ? "ok" : "awaiting_approval",
            details: ["key": key.id, "algorithm": algorithm.rawValue]))
    }

    /// Whether the principal was made by `kinko init` (its enrolment was a bootstrap one).
    private func isBootstrapped(_ principal: Principal) async throws -> Bool {
        try await enrolments.list(tag: principal.id.description).contains { $0.value.bootstrap }
    }

    /// Asks for a key to be revoked: a signer's key is part of every quorum, so removing it
    /// needs a second admin too (the key's holder may ask, or an admin).
    public func revokeKey(_ keyID: String, by caller: Caller) async throws -> ApprovalRequest {
        let digest = Self.digest(["key": .string(keyID)])
        guard let key = try await store.keys().first(where: { $0.id == keyID }), key.revokedAt == nil else {
            throw KinkoError(.notFound, "no active key \(keyID)", field: "key")
        }
        let role: Role
        if key.principal == caller.principal, let any = caller.roles.sorted().first {
            role = any
        } else {
            role = try await authorize(caller, .keysRevoke, digest: digest)
        }
        // Revocation only removes power, so the key's holder may approve it (as another admin);
        // what it must not be is one person's decision: one admin could otherwise revoke every
        // signer's key and stop every movement.
        return try await submit(action: Self.keyRevocationAction, payload: ["key": .string(keyID), "principal": .string(key.principal.description)],
                                policy: try policy(for: Self.keyRevocationAction), by: caller, role: role,
                                permission: .keysRevoke, details: ["key": keyID])
    }
}

extension Hex {
    /// Hex that we produced ourselves (a digest's text form) back to bytes.
    static func decodeUnchecked(_ text: String) -> [UInt8] { (try? Hex.decode(text, field: "hex")) ?? [] }
}

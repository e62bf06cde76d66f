import Crypto
public import KinkoCore

/// The governance service every module and both front ends (CLI, API) use: who is calling,
/// what they may do, maker-checker approvals, credentials, and the audit log.
public struct Governance: Sendable {
    public let store: any GovernanceStore
    public let clock: any WallClock
    public let permissions: PermissionTable
    public let duties: SegregationOfDuties
    public let policies: [String: ApprovalPolicy]

    public static let roleGrantAction = "governance.roles.grant"
    /// Audit entries read per round trip when verifying.
    public static let auditPageEntries = 10_000

    public init(
        store: any GovernanceStore, clock: any WallClock = SystemWallClock(), permissions: PermissionTable = .standard,
        duties: SegregationOfDuties = .standard, policies: [String: ApprovalPolicy] = Governance.standardPolicies
    ) {
        self.store = store
        self.clock = clock
        self.permissions = permissions
        self.duties = duties
        self.policies = policies
    }

    /// Granting a role needs one other admin's signed approval (see `grantRole` for bootstrap).
    public static let standardPolicies: [String: ApprovalPolicy] = {
        var policies: [String: ApprovalPolicy] = [:]
        policies[roleGrantAction] = try? ApprovalPolicy(approvalsRequired: 1, eligibleRoles: [.admin])
        return policies
    }()

    // MARK: Callers

    /// The caller holding this token, or `unauthenticated` (unknown, malformed, expired or
    /// revoked token — the message does not say which).
    public func authenticate(token: String?) async throws -> Caller {
        guard let token, !token.isEmpty else {
            throw KinkoError(.unauthenticated, "a token is required: pass --token or set KINKO_TOKEN", field: "token")
        }
        guard TokenSecret.isWellFormed(token), let record = try await store.token(secretHash: TokenSecret.hash(token)),
            record.isUsable(at: clock.now()), let principal = try await store.principal(record.principal)
        else {
            throw KinkoError(.unauthenticated, "the token is not valid (unknown, expired or revoked)", field: "token")
        }
        return Caller(principal: principal)
    }

    /// The role that allows `permission`; a refusal is audited, then thrown.
    public func authorize(_ caller: Caller, _ permission: Permission, digest: [UInt8] = []) async throws -> Role {
        do {
            return try caller.role(for: permission, table: permissions)
        } catch {
            try await store.appendAudit(AuditEvent(
                principal: caller.principal, principalName: caller.name, role: "none", action: permission.rawValue,
                requestDigest: digest, result: "forbidden"))
            throw error
        }
    }

    /// Creates the first admin and its token when there are no principals yet (`kinko init`).
    public func bootstrap(adminName: String) async throws -> (Principal, String) {
        try Principal.validate(name: adminName)
        guard try await store.principals().isEmpty else {
            throw KinkoError(.conflict, "this database already has principals; `init` runs once")
        }
        let now = clock.now()
        let digest = Self.digest(["name": .string(adminName)])
        let event = Caller.system.event(.principalsCreate, role: .admin, digest: digest, result: "ok", details: ["name": adminName, "bootstrap": "true"])
        let admin = try await store.createPrincipal(name: adminName, kind: .person, roles: [.admin], at: now, audit: event)
        let (_, secret) = try await issueToken(for: admin.id, lifetimeSeconds: nil, issuedBy: Caller(principal: admin), role: .admin)
        return (admin, secret)
    }

    // MARK: Principals and roles

    public func createPrincipal(name: String, kind: PrincipalKind, by caller: Caller) async throws -> Principal {
        try Principal.validate(name: name)
        let digest = Self.digest(["name": .string(name), "kind": .string(kind.rawValue)])
        let role = try await authorize(caller, .principalsCreate, digest: digest)
        if try await store.principal(named: name) != nil {
            throw KinkoError(.conflict, "a principal named \(name) already exists", field: "name")
        }
        return try await store.createPrincipal(
            name: name, kind: kind, roles: [], at: clock.now(),
            audit: caller.event(.principalsCreate, role: role, digest: digest, result: "ok", details: ["name": name]))
    }

    public enum GrantOutcome: Sendable, Equatable {
        /// Granted at once: the database has a single admin, who is bootstrapping it.
        case granted
        /// Waiting for approval under the role-grant policy.
        case pending(ApprovalRequest)
    }

    /// Asks for `role` to be granted. Refused at once if it would break segregation of duties.
    /// While the database has exactly one admin (bootstrap) the grant is applied directly and
    /// recorded as such; afterwards it becomes an approval request another admin must sign.
    public func grantRole(_ role: Role, to id: PrincipalID, by caller: Caller) async throws -> GrantOutcome {
        let payload: CanonicalJSON = ["principal": .string(String(id.rawValue)), "role": .string(role.rawValue)]
        let digest = Self.digest(payload)
        let acting = try await authorize(caller, .rolesGrant, digest: digest)
        let principal = try await requirePrincipal(id)
        guard !principal.roles.contains(role) else {
            throw KinkoError(.conflict, "\(principal.name) already holds \(role.rawValue)", field: "role")
        }
        try checkDuties(principal.roles.union([role]), for: principal)
        let admins = try await store.principals().filter { $0.roles.contains(.admin) }
        if admins.count <= 1 {
            try await store.setRoles(id, roles: principal.roles.union([role]), audit: caller.event(
                .rolesGrant, role: acting, digest: digest, result: "ok",
                details: ["principal": principal.name, "role": role.rawValue, "bootstrap": "true"]))
            return .granted
        }
        return .pending(try await submit(action: Self.roleGrantAction, payload: payload, by: caller, role: acting, permission: .rolesGrant))
    }

    public func revokeRole(_ role: Role, from id: PrincipalID, by caller: Caller) async throws {
        let digest = Self.digest(["principal": .string(String(id.rawValue)), "role": .string(role.rawValue)])
        let acting = try await authorize(caller, .rolesRevoke, digest: digest)
        let principal = try await requirePrincipal(id)
        guard principal.roles.contains(role) else {
            throw KinkoError(.notFound, "\(principal.name) does not hold \(role.rawValue)", field: "role")
        }
        if role == .admin, try await store.principals().filter({ $0.roles.contains(.admin) }).count == 1 {
            throw KinkoError(.conflict, "\(principal.name) is the last admin; grant admin to someone else first", field: "role")
        }
        try await store.setRoles(id, roles: principal.roles.subtracting([role]), audit: caller.event(
            .rolesRevoke, role: acting, digest: digest, result: "ok", details: ["principal": principal.name, "role": role.rawValue]))
    }

    public struct DutyConflict: Sendable, Equatable {
        public var principal: Principal
        public var conflict: SegregationOfDuties.Conflict
    }

    /// Principals holding role pairs the segregation-of-duties table forbids.
    public func dutiesReport(by caller: Caller) async throws -> [DutyConflict] {
        _ = try await authorize(caller, .governanceRead)
        return try await store.principals().flatMap { principal in
            duties.conflicts(in: principal.roles).map { DutyConflict(principal: principal, conflict: $0) }
        }
    }

    private func checkDuties(_ roles: Set<Role>, for principal: Principal) throws(KinkoError) {
        if let conflict = duties.conflicts(in: roles).first {
            throw KinkoError(
                .conflict,
                "\(principal.name) may not hold both \(conflict.first.rawValue) and \(conflict.second.rawValue): \(conflict.reason)",
                field: "role")
        }
    }

    private func requirePrincipal(_ id: PrincipalID) async throws -> Principal {
        guard let principal = try await store.principal(id) else {
            throw KinkoError(.notFound, "no principal \(id)", field: "principal")
        }
        return principal
    }

    // MARK: Tokens

    /// Issues a token; the secret is returned once and only its SHA-256 is stored.
    public func issueToken(for id: PrincipalID, lifetimeSeconds: UInt64?, by caller: Caller) async throws -> (TokenRecord, String) {
        let digest = Self.digest(["principal": .string(String(id.rawValue))])
        let role = try await authorize(caller, .tokensIssue, digest: digest)
        _ = try await requirePrincipal(id)
        return try await issueToken(for: id, lifetimeSeconds: lifetimeSeconds, issuedBy: caller, role: role)
    }

    private func issueToken(for id: PrincipalID, lifetimeSeconds: UInt64?, issuedBy caller: Caller, role: Role) async throws -> (TokenRecord, String) {
        if let lifetimeSeconds, !(1...TokenSecret.lifetimeSecondsMax).contains(lifetimeSeconds) {
            throw KinkoError(.invalidInput, "a token lives 1 s to \(TokenSecret.lifetimeSecondsMax) s; got \(lifetimeSeconds)", field: "lifetime")
        }
        let secret = TokenSecret.generate()
        let now = clock.now()
        let record = try await store.insertToken(
            principal: id, secretHash: TokenSecret.hash(secret), createdAt: now,
            expiresAt: lifetimeSeconds.map { now + $0 * 1_000_000_000 },
            audit: caller.event(.tokensIssue, role: role, digest: TokenSecret.hash(secret), result: "ok",
                                details: ["principal": String(id.rawValue)]))
        return (record, secret)
    }

    public func revokeToken(_ tokenID: UInt64, by caller: Caller) async throws {
        let digest = Self.digest(["token": .string(String(tokenID))])
        let role = try await authorize(caller, .tokensRevoke, digest: digest)
        guard try await store.revokeToken(id: tokenID, at: clock.now(), audit: caller.event(
            .tokensRevoke, role: role, digest: digest, result: "ok", details: ["token": String(tokenID)]))
        else {
            throw KinkoError(.notFound, "no active token \(tokenID)", field: "token")
        }
    }

    // MARK: Signer keys

    /// Registers a public key for the caller. `proof` is the key's signature over
    /// `SignerKey.registrationMessage`, so nobody can register a key they do not hold.
    public func registerKey(algorithm: SignatureAlgorithm, publicKey: [UInt8], proof: [UInt8], by caller: Caller) async throws -> SignerKey {
        try SignerKey.validate(algorithm: algorithm, publicKey: publicKey)
        let key = SignerKey(principal: caller.principal, algorithm: algorithm, publicKey: publicKey, registeredAt: clock.now())
        let message = SignerKey.registrationMessage(principal: caller.principal, algorithm: algorithm, publicKey: publicKey)
        let role = try await authorize(caller, .keysRegister, digest: Array(SHA256.hash(data: message)))
        guard key.isValidSignature(proof, for: message) else {
            throw KinkoError(.invalidInput, "the proof is not a signature of the registration message by this key", field: "proof")
        }
        if try await store.keys().contains(where: { $0.id == key.id }) {
            throw KinkoError(.conflict, "key \(key.id) is already registered", field: "public_key")
        }
        try await store.insertKey(key, audit: caller.event(.keysRegister, role: role, digest: Array(SHA256.hash(data: message)),
                                                           result: "ok", details: ["key": key.id, "algorithm": algorithm.rawValue]))
        return key
    }

    public func revokeKey(_ keyID: String, by caller: Caller) async throws {
        let digest = Self.digest(["key": .string(keyID)])
        let role = try await authorize(caller, .keysRevoke, digest: digest)
        guard try await store.revokeKey(id: keyID, at: clock.now(), audit: caller.event(
            .keysRevoke, role: role, digest: digest, result: "ok", details: ["key": keyID]))
        else {
            throw KinkoError(.notFound, "no active key \(keyID)", field: "key")
        }
    }

    // MARK: Approvals

    /// Files a request under the policy for `action`. Modules call this for anything that needs
    /// maker-checker (movements, reserve draws, rule changes).
    /// `policy` overrides the standing policy of the action (a movement's signers depend on its size).
    public func submit(
        action: String, payload: CanonicalJSON, policy: ApprovalPolicy? = nil, by caller: Caller, role: Role, permission: Permission,
        details: [String: String] = [:]
    ) async throws -> ApprovalRequest {
        let policy = try policy ?? self.policy(for: action)
        let now = clock.now()
        let draft = ApprovalRequest(
            id: ApprovalRequestID(0), action: action, payload: payload, policy: policy, revision: 1, initiator: caller.principal, createdAt: now,
            notBefore: now + policy.timeLockSeconds * 1_000_000_000, expiresAt: now + policy.expirySeconds * 1_000_000_000)
        return try await store.insertRequest(draft, audit: caller.event(
            permission, role: role, digest: draft.digest, result: "approval_requested",
            details: details.merging(["action": action]) { first, _ in first }))
    }

    /// Changes an open request (its initiator only). The revision and digest change, so every
    /// earlier approval stops counting.
    public func revise(_ id: ApprovalRequestID, payload: CanonicalJSON, by caller: Caller) async throws -> ApprovalRequest {
        var request = try await requireRequest(id)
        let role = try await authorize(caller, .approvalsRevise, digest: request.digest)
        guard request.initiator == caller.principal else {
            throw KinkoError(.forbidden, "only the initiator may change request \(id)")
        }
        guard request.status == .open else { throw KinkoError(.conflict, "request \(id) is \(request.status.rawValue)") }
        let policy = request.policy
        let now = clock.now()
        request.payload = payload
        request.revision += 1
        request.notBefore = now + policy.timeLockSeconds * 1_000_000_000
        request.expiresAt = now + policy.expirySeconds * 1_000_000_000
        guard try await store.reviseRequest(request, audit: caller.event(
            .approvalsRevise, role: role, digest: request.digest, result: "revised",
            details: ["request": String(id.rawValue), "revision": String(request.revision)]))
        else {
            throw KinkoError(.conflict, "request \(id) changed meanwhile; read it again")
        }
        return request
    }

    /// Records a signed approval after checking everything that can be checked now.
    public func approve(_ id: ApprovalRequestID, keyID: String, signature: [UInt8], by caller: Caller) async throws -> ApprovalEvaluation {
        let request = try await requireRequest(id)
        let digest = request.digest
        let role = try await authorize(caller, .approvalsApprove, digest: digest)
        let policy = request.policy
        func refuse(_ message: String) -> KinkoError { KinkoError(.approvalRefused, message) }
        guard request.status == .open else { throw refuse("request \(id) is \(request.status.rawValue)") }
        guard clock.now() < request.expiresAt else { throw refuse("request \(id) expired at \(request.expiresAt.iso8601)") }
        guard request.initiator != caller.principal else { throw refuse("the initiator of request \(id) cannot approve it") }
        guard !caller.roles.isDisjoint(with: policy.eligibleRoles) else {
            throw refuse("approving \(request.action) needs one of: \(policy.eligibleRoles.sorted().map(\.rawValue).joined(separator: ", "))")
        }
        let approvals = try await store.approvals(of: id)
        guard !approvals.contains(where: { $0.approver == caller.principal && $0.digest == digest }) else {
            throw refuse("\(caller.name) already approved request \(id)")
        }
        guard let key = try await store.keys().first(where: { $0.id == keyID }), key.principal == caller.principal else {
            throw refuse("key \(keyID) is not registered to \(caller.name)")
        }
        guard key.revokedAt == nil else { throw refuse("key \(keyID) was revoked") }
        guard key.isValidSignature(signature, for: digest) else {
            throw refuse("the signature does not verify against request \(id) revision \(request.revision) with key \(keyID)")
        }
        let approval = Approval(requestID: id, approver: caller.principal, keyID: keyID, digest: digest, signature: signature,
                                approvedAt: clock.now())
        try await store.insertApproval(approval, audit: caller.event(
            .approvalsApprove, role: role, digest: digest, result: "ok", details: ["request": String(id.rawValue), "key": keyID]))
        return try await evaluate(id)
    }

    public func evaluate(_ id: ApprovalRequestID) async throws -> ApprovalEvaluation {
        let request = try await requireRequest(id)
        let keys = Dictionary(try await store.keys().map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let principals = Dictionary(try await store.principals().map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return ApprovalEvaluation.evaluate(
            request, policy: request.policy, approvals: try await store.approvals(of: id), keys: keys,
            principals: principals, now: clock.now())
    }

    /// Runs an approved governance request exactly once; a second call (even a concurrent one)
    /// is refused with `conflict`.
    public func execute(_ id: ApprovalRequestID, by caller: Caller) async throws {
        let request = try await requireRequest(id)
        let role = try await authorize(caller, .approvalsExecute, digest: request.digest)
        let evaluation = try await evaluate(id)
        guard evaluation.isSatisfied else {
            throw KinkoError(.approvalRequired, "request \(id) may not run yet: \(evaluation.reasons.joined(separator: "; "))")
        }
        let effect: GovernanceEffect
        switch request.action {
        case Self.roleGrantAction:
            let (principalID, grantedRole) = try Self.roleGrant(request.payload)
            let principal = try await requirePrincipal(principalID)
            try checkDuties(principal.roles.union([grantedRole]), for: principal)
            effect = .setRoles(principalID, principal.roles.union([grantedRole]))
        default:
            throw KinkoError(.invalidInput, "\(request.action) is executed by its own module", field: "request")
        }
        guard try await store.executeRequest(id, revision: request.revision, at: clock.now(), effect: effect, audit: caller.event(
            .approvalsExecute, role: role, digest: request.digest, result: "ok",
            details: ["request": String(id.rawValue), "action": request.action, "approvers": evaluation.counted.map(\.description).joined(separator: ",")]))
        else {
            throw KinkoError(.conflict, "request \(id) was already executed or changed")
        }
    }

    static func roleGrant(_ payload: CanonicalJSON) throws(KinkoError) -> (PrincipalID, Role) {
        guard case .object(let fields) = payload, case .string(let principal)? = fields["principal"],
            case .string(let role)? = fields["role"], let id = UInt128(principal)
        else {
            throw KinkoError(.storageCorrupted, "a role-grant request has a malformed payload")
        }
        return (PrincipalID(id), try Role(parsing: role))
    }

    private func requireRequest(_ id: ApprovalRequestID) async throws -> ApprovalRequest {
        guard let request = try await store.request(id) else { throw KinkoError(.notFound, "no approval request \(id)", field: "request") }
        return request
    }

    public func policy(for action: String) throws(KinkoError) -> ApprovalPolicy {
        guard let policy = policies[action] else { throw KinkoError(.notFound, "no approval policy for \(action)", field: "action") }
        return policy
    }

    // MARK: Audit

    /// Verifies the whole log against its checkpoints with the given public key.
    public func verifyAudit(publicKey: [UInt8]) async throws -> AuditVerifier.Report {
        var entries: [StoredAuditEntry] = []
        while true {
            let page = try await store.auditEntries(from: entries.last.map { $0.position + 1 } ?? 0, limit: Self.auditPageEntries)
            guard !page.isEmpty else { break }
            entries += page
        }
        return AuditVerifier.verify(entries: entries, checkpoints: try await store.auditCheckpoints(), publicKey: publicKey)
    }

    public static func digest(_ value: CanonicalJSON) -> [UInt8] { Array(SHA256.hash(data: value.bytes)) }
}

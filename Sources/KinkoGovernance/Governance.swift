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
    /// Counts refusals per principal so that none can flood the audit log (`auditRefusal`).
    public let refusalLimiter: RefusalLimiter
    /// Tokens authenticated a moment ago, reused only where a caller asks (`authenticate(token:reusing:)`).
    public let authenticationCache = AuthenticationCache()

    public static let roleGrantAction = "governance.roles.grant"
    public static let tokenActivationAction = "governance.tokens.activate"
    public static let keyActivationAction = "governance.keys.activate"
    public static let keyRevocationAction = "governance.keys.revoke"
    /// Audit entries read per round trip when verifying.
    public static let auditPageEntries = 10_000

    /// Roles whose holders approve or move value: a new credential or key for one of them, and
    /// any grant of one, needs a second admin's signed approval.
    public static let approvingRoles: Set<Role> = [.admin, .signer, .compliance, .finance, .treasurer]

    public init(
        store: any GovernanceStore, clock: any WallClock = SystemWallClock(), permissions: PermissionTable = .standard,
        duties: SegregationOfDuties = .standard, policies: [String: ApprovalPolicy] = Governance.standardPolicies,
        refusalLimiter: RefusalLimiter = RefusalLimiter()
    ) {
        self.refusalLimiter = refusalLimiter
        self.store = store
        self.clock = clock
        self.permissions = permissions
        self.duties = duties
        self.policies = policies
    }

    /// Role grants, credential activations and key revocations each need one other admin's
    /// signed approval.
    public static let standardPolicies: [String: ApprovalPolicy] = {
        var policies: [String: ApprovalPolicy] = [:]
        for action in [roleGrantAction, tokenActivationAction, keyActivationAction, keyRevocationAction] {
            policies[action] = try? ApprovalPolicy(approvalsRequired: 1, eligibleRoles: [.admin])
        }
        return policies
    }()

    // MARK: Callers

    /// The caller holding this token, or `unauthenticated` (unknown, malformed, expired or
    /// revoked token — the message does not say which).
    ///
    /// With `reusing`, a token this process looked up less than `AuthenticationCache.lifetime`
    /// ago is not looked up again (the pre-trade check's millisecond; see `AuthenticationCache`
    /// for what that costs on revocation).
    public func authenticate(token: String?, reusing: Bool = false) async throws -> Caller {
        guard let token, !token.isEmpty else {
            throw KinkoError(.unauthenticated, "a token is required: pass --token or set KINKO_TOKEN", field: "token")
        }
        let hash = TokenSecret.hash(token)
        if reusing, let caller = authenticationCache.caller(hash: hash, now: clock.now()) { return caller }
        guard TokenSecret.isWellFormed(token), let (record, principal) = try await store.bearer(secretHash: hash),
            record.revokedAt == nil, record.expiresAt.map({ clock.now() < $0 }) ?? true, let principal
        else {
            throw KinkoError(.unauthenticated, "the token is not valid (unknown, expired or revoked)", field: "token")
        }
        guard record.status == .active else {
            // Only the holder has the secret, so saying why is safe and saves a support call.
            let request = record.requestID.map { " (approval request \($0))" } ?? ""
            throw KinkoError(.unauthenticated, "the token is not active yet: it waits for a second admin's approval\(request)", field: "token")
        }
        let caller = Caller(principal: principal)
        if reusing { authenticationCache.remember(caller, hash: hash, expiresAt: record.expiresAt) }
        return caller
    }

    /// The role that allows `permission`; a refusal is audited, then thrown.
    public func authorize(_ caller: Caller, _ permission: Permission, digest: [UInt8] = []) async throws -> Role {
        do {
            return try caller.role(for: permission, table: permissions)
        } catch {
            try await auditRefusal(AuditEvent(
                principal: caller.principal, principalName: caller.name, role: "none", action: permission.rawValue,
                requestDigest: digest, result: "forbidden"), by: caller)
            throw error
        }
    }

    /// Creates the first admins when there are no principals yet (`kinko init`), each with a
    /// one-time enrolment code (shown once) its holder redeems for a token of their own. Two
    /// admins are the minimum for anything to be approved; with one, every grant and every
    /// credential of an approving role waits until a second admin exists.
    public func bootstrap(adminNames: [String]) async throws -> [(principal: Principal, enrolmentCode: String)] {
        guard (1...Self.bootstrapAdminsMax).contains(adminNames.count) else {
            throw KinkoError(.invalidInput, "name 1–\(Self.bootstrapAdminsMax) admins; got \(adminNames.count)", field: "admin")
        }
        guard Set(adminNames).count == adminNames.count else { throw KinkoError(.invalidInput, "admin names must differ", field: "admin") }
        for name in adminNames { try Principal.validate(name: name) }
        guard try await store.principals().isEmpty else {
            throw KinkoError(.conflict, "this database already has principals; `init` runs once")
        }
        var created: [(Principal, String)] = []
        for name in adminNames {
            let digest = Self.digest(["name": .string(name)])
            let event = Caller.system.event(.principalsCreate, role: .admin, digest: digest, result: "ok", details: ["name": name, "bootstrap": "true"])
            let admin = try await store.createPrincipal(name: name, kind: .person, roles: [.admin], at: clock.now(), audit: event)
            let code = try await enrol(admin, lifetimeSeconds: Enrolment.lifetimeSecondsDefault, bootstrap: true, by: .system, role: .admin)
            created.append((admin, code))
        }
        return created
    }

    /// Most admins `kinko init` creates.
    public static let bootstrapAdminsMax = 5

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

    /// Asks for `role` to be granted. Refused at once if it would break segregation of duties;
    /// otherwise filed as an approval request another admin must sign — also while the database
    /// has a single admin, whose grants then wait for a second one. Neither the grantee nor an
    /// admin who enrolled the grantee (and so may hold their credentials) counts as approver.
    public func grantRole(_ role: Role, to id: PrincipalID, by caller: Caller) async throws -> ApprovalRequest {
        let payload: CanonicalJSON = ["principal": .string(String(id.rawValue)), "role": .string(role.rawValue)]
        let digest = Self.digest(payload)
        let acting = try await authorize(caller, .rolesGrant, digest: digest)
        let principal = try await requirePrincipal(id)
        guard !principal.roles.contains(role) else {
            throw KinkoError(.conflict, "\(principal.name) already holds \(role.rawValue)", field: "role")
        }
        let conflict: KinkoError?
        do throws(KinkoError) {
            try checkDuties(principal.roles.union([role]), for: principal)
            conflict = nil
        } catch {
            conflict = error
        }
        if let conflict {
            throw try await refused(conflict, by: caller, role: acting, .rolesGrant, digest: digest, details: ["principal": principal.name, "role": role.rawValue])
        }
        let issuers = try await store.tokens(of: id).compactMap(\.issuedBy)
        return try await submit(action: Self.roleGrantAction, payload: payload, policy: try policy(for: Self.roleGrantAction).excluding([id] + issuers),
                                by: caller, role: acting, permission: .rolesGrant, details: ["principal": principal.name, "role": role.rawValue])
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
        defer { authenticationCache.removeAll() }
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

    func requirePrincipal(_ id: PrincipalID) async throws -> Principal {
        guard let principal = try await store.principal(id) else {
            throw KinkoError(.notFound, "no principal \(id)", field: "principal")
        }
        return principal
    }

    // MARK: Approvals

    /// Files a request under the policy for `action`. Modules call this for anything that needs
    /// maker-checker (movements, reserve draws, rule changes).
    /// `policy` overrides the standing policy of the action (a movement's signers depend on its size).
    /// `alongside` gives record changes (from the new request's id) that commit with it.
    public func submit(
        action: String, payload: CanonicalJSON, policy: ApprovalPolicy? = nil, by caller: Caller, role: Role, permission: Permission,
        details: [String: String] = [:], alongside: @escaping @Sendable (ApprovalRequestID) throws -> [RecordWrite] = { _ in [] }
    ) async throws -> ApprovalRequest {
        let draft = try draftRequest(action: action, payload: payload, policy: policy, initiator: caller.principal)
        return try await store.insertRequest(draft, alongside: alongside, audit: caller.event(
            permission, role: role, digest: draft.digest, result: "approval_requested",
            details: details.merging(["action": action]) { first, _ in first }))
    }

    /// A request `caller` files, as it will be stored (the id is assigned then): for a module
    /// whose store files it in the same transaction as the change it guards.
    public func draftRequest(action: String, payload: CanonicalJSON, policy: ApprovalPolicy?, by caller: Caller) throws(KinkoError) -> ApprovalRequest {
        try draftRequest(action: action, payload: payload, policy: policy, initiator: caller.principal)
    }

    /// A request as it will be stored (the id is assigned then), for stores that file it with
    /// the change it guards.
    func draftRequest(action: String, payload: CanonicalJSON, policy: ApprovalPolicy?, initiator: PrincipalID) throws(KinkoError) -> ApprovalRequest {
        let resolved: ApprovalPolicy
        if let policy { resolved = policy } else { resolved = try self.policy(for: action) }
        let policy = resolved
        let now = clock.now()
        return ApprovalRequest(
            id: ApprovalRequestID(0), action: action, payload: payload, policy: policy, revision: 1, initiator: initiator, createdAt: now,
            notBefore: now + policy.timeLockSeconds * 1_000_000_000, expiresAt: now + policy.expirySeconds * 1_000_000_000)
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
        // Every refusal is audited: a signature that does not count is itself a fact to keep.
        func refuse(_ message: String) async throws -> KinkoError {
            try await auditRefusal(caller.event(.approvalsApprove, role: role, digest: digest, result: "refused",
                                                details: ["request": String(id.rawValue), "key": keyID, "reason": message]), by: caller)
            return KinkoError(.approvalRefused, message)
        }
        guard request.status == .open else { throw try await refuse("request \(id) is \(request.status.rawValue)") }
        guard clock.now() < request.expiresAt else { throw try await refuse("request \(id) expired at \(request.expiresAt.iso8601)") }
        guard request.initiator != caller.principal else { throw try await refuse("the initiator of request \(id) cannot approve it") }
        guard !policy.excludedApprovers.contains(caller.principal) else {
            throw try await refuse("\(caller.name) may not approve request \(id): the request concerns them or credentials they issued")
        }
        guard !caller.roles.isDisjoint(with: policy.eligibleRoles) else {
            throw try await refuse("approving \(request.action) needs one of: \(policy.eligibleRoles.sorted().map(\.rawValue).joined(separator: ", "))")
        }
        let approvals = try await store.approvals(of: id)
        guard !approvals.contains(where: { $0.approver == caller.principal && $0.digest == digest }) else {
            throw try await refuse("\(caller.name) already approved request \(id)")
        }
        guard let key = try await store.keys().first(where: { $0.id == keyID }), key.principal == caller.principal else {
            throw try await refuse("key \(keyID) is not registered to \(caller.name)")
        }
        guard key.revokedAt == nil else { throw try await refuse("key \(keyID) was revoked") }
        guard key.status == .active else { throw try await refuse("key \(keyID) is not active yet: it waits for a second admin's approval") }
        guard key.isValidSignature(signature, for: digest) else {
            throw try await refuse("the signature does not verify against request \(id) revision \(request.revision) with key \(keyID)")
        }
        let approval = Approval(requestID: id, approver: caller.principal, keyID: keyID, digest: digest, signature: signature,
                                approvedAt: clock.now())
        try await store.insertApproval(approval, audit: caller.event(
            .approvalsApprove, role: role, digest: digest, result: "ok", details: ["request": String(id.rawValue), "key": keyID]))
        let evaluation = try await evaluate(id)
        // A credential needs nothing more than the approval: it takes effect at once.
        if evaluation.isSatisfied && Self.credentialActions.contains(request.action) {
            try await run(request, evaluation: evaluation, by: caller, role: role)
        }
        return evaluation
    }

    static let credentialActions: Set<String> = [tokenActivationAction, keyActivationAction, keyRevocationAction]

    public func evaluate(_ id: ApprovalRequestID) async throws -> ApprovalEvaluation {
        let request = try await requireRequest(id)
        let keys = Dictionary(try await store.keys().map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let principals = Dictionary(try await store.principals().map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return ApprovalEvaluation.evaluate(
            request, policy: request.policy, approvals: try await store.approvals(of: id), keys: keys,
            principals: principals, now: clock.now())
    }

    /// Audits a refusal of something `caller` (acting as `role`) tried under `permission`, and
    /// returns the error to throw: every refusal leaves an audit entry, not only a missing
    /// permission.
    public func refused(_ error: KinkoError, by caller: Caller, role: Role, _ permission: Permission, digest: [UInt8] = [],
                        details: [String: String] = [:]) async throws -> KinkoError {
        var details = details
        details["reason"] = error.message
        try await auditRefusal(caller.event(permission, role: role, digest: digest, result: "refused: \(error.code.rawValue)", details: details), by: caller)
        return error
    }

    /// The evaluation of request `id` when its approvals are satisfied; otherwise the refusal
    /// (`approval_required`: "`what` is not approved yet: reasons") is audited and thrown.
    public func requireApproved(_ id: ApprovalRequestID, _ what: String, by caller: Caller, role: Role, _ permission: Permission,
                                digest: [UInt8]) async throws -> ApprovalEvaluation {
        let evaluation = try await evaluate(id)
        guard evaluation.isSatisfied else {
            throw try await refused(KinkoError(.approvalRequired, "\(what) is not approved yet: \(evaluation.reasons.joined(separator: "; "))"),
                                    by: caller, role: role, permission, digest: digest, details: ["request": id.description])
        }
        return evaluation
    }

    /// Runs an approved governance request exactly once; a second call (even a concurrent one)
    /// is refused with `conflict`.
    public func execute(_ id: ApprovalRequestID, by caller: Caller) async throws {
        let request = try await requireRequest(id)
        let role = try await authorize(caller, .approvalsExecute, digest: request.digest)
        let evaluation = try await requireApproved(id, "request \(id) (\(request.action))", by: caller, role: role, .approvalsExecute, digest: request.digest)
        try await run(request, evaluation: evaluation, by: caller, role: role)
    }

    private func run(_ request: ApprovalRequest, evaluation: ApprovalEvaluation, by caller: Caller, role: Role) async throws {
        let id = request.id
        let effect: GovernanceEffect
        switch request.action {
        case Self.roleGrantAction:
            let (principalID, grantedRole) = try Self.roleGrant(request.payload)
            let principal = try await requirePrincipal(principalID)
            try checkDuties(principal.roles.union([grantedRole]), for: principal)
            effect = .setRoles(principalID, principal.roles.union([grantedRole]))
        case Self.tokenActivationAction:
            effect = .activateToken(id)
        case Self.keyActivationAction:
            effect = .activateKey(id)
        case Self.keyRevocationAction:
            guard case .object(let fields) = request.payload, case .string(let keyID)? = fields["key"] else {
                throw KinkoError(.storageCorrupted, "a key-revocation request has a malformed payload")
            }
            effect = .revokeKey(keyID, at: clock.now())
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

    public func requireRequest(_ id: ApprovalRequestID) async throws -> ApprovalRequest {
        guard let request = try await store.request(id) else { throw KinkoError(.notFound, "no approval request \(id)", field: "request") }
        return request
    }

    public func policy(for action: String) throws(KinkoError) -> ApprovalPolicy {
        guard let policy = policies[action] else { throw KinkoError(.notFound, "no approval policy for \(action)", field: "action") }
        return policy
    }

    // MARK: Audit

    /// Verifies the whole log against its checkpoints with the given public key (one the
    /// caller holds outside the database: never the database's own record of it), and that the
    /// log extends each checkpoint in `exported` (kept outside the database).
    public func verifyAudit(publicKey: [UInt8], exported: [AuditCheckpoint] = []) async throws -> AuditVerifier.Report {
        var entries: [StoredAuditEntry] = []
        while true {
            let page = try await store.auditEntries(from: entries.last.map { $0.position + 1 } ?? 0, limit: Self.auditPageEntries)
            guard !page.isEmpty else { break }
            entries += page
        }
        var report = AuditVerifier.verify(entries: entries, checkpoints: try await store.auditCheckpoints(), publicKey: publicKey)
        if !exported.isEmpty {
            let leaves = entries.map { Merkle.leafHash($0.bytes) }
            report.problems += exported.sorted { $0.size < $1.size }.compactMap {
                AuditVerifier.problem(extending: $0, leaves: leaves, publicKey: publicKey)
            }
        }
        return report
    }

    /// The latest signed checkpoint (public: it is what an auditor exports and keeps).
    public func latestAuditCheckpoint() async throws -> AuditCheckpoint? {
        let size = try await store.auditSize()
        guard size > 0 else { return nil }
        return try await store.auditCheckpoints(sizeAtLeast: size).first { $0.size == size }
    }

    public static func digest(_ value: CanonicalJSON) -> [UInt8] { Array(SHA256.hash(data: value.bytes)) }
}

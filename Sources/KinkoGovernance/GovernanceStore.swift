public import KinkoCore

/// What executing an approved governance request changes.
public enum GovernanceEffect: Sendable, Equatable {
    case setRoles(PrincipalID, Set<Role>)
    /// The token this request was filed for becomes usable.
    case activateToken(ApprovalRequestID)
    /// The signer key this request was filed for starts counting for approvals.
    case activateKey(ApprovalRequestID)
    case revokeKey(String, at: TimestampNanoseconds)
}

/// Where principals, credentials, approvals and the audit log live. Every write appends its
/// audit event in the same transaction as the change. The same database holds the generic
/// records (`RecordStore`) that other modules keep.
public protocol GovernanceStore: RecordStore {
    func principals() async throws -> [Principal]
    func principal(_ id: PrincipalID) async throws -> Principal?
    func principal(named name: String) async throws -> Principal?
    /// Stores a new principal (the id is assigned) and returns it; `conflict` if the name is taken.
    func createPrincipal(name: String, kind: PrincipalKind, roles: Set<Role>, at time: TimestampNanoseconds, audit: AuditEvent) async throws -> Principal
    func setRoles(_ id: PrincipalID, roles: Set<Role>, audit: AuditEvent) async throws

    /// Stores a token (the id is assigned) and returns it. With `activation`, that request is
    /// stored first and the token linked to it. `alongside` record changes commit in the same
    /// transaction; if one finds the state moved, nothing is stored and `conflict` is thrown.
    func insertToken(_ token: TokenRecord, activation: ApprovalRequest?, alongside: [RecordWrite], audit: AuditEvent) async throws -> TokenRecord
    func token(secretHash: [UInt8]) async throws -> TokenRecord?
    /// The token with this secret hash and its principal, in one read (every request asks).
    func bearer(secretHash: [UInt8]) async throws -> (token: TokenRecord, principal: Principal?)?
    func tokens(of principal: PrincipalID) async throws -> [TokenRecord]
    /// False if there is no such token or it was already revoked.
    func revokeToken(id: UInt64, at time: TimestampNanoseconds, audit: AuditEvent) async throws -> Bool

    /// Stores a key; with `activation`, that request is stored first and the key linked to it.
    /// `conflict` if the key is registered already.
    func insertKey(_ key: SignerKey, activation: ApprovalRequest?, audit: AuditEvent) async throws -> SignerKey
    func keys() async throws -> [SignerKey]

    /// Stores a new request (the id is assigned) and returns it, with the record changes
    /// `alongside` makes from its id in the same transaction (`conflict` and nothing stored if
    /// one finds the state moved).
    func insertRequest(_ request: ApprovalRequest, alongside: @escaping @Sendable (ApprovalRequestID) throws -> [RecordWrite],
                       audit: AuditEvent) async throws -> ApprovalRequest
    func request(_ id: ApprovalRequestID) async throws -> ApprovalRequest?
    func requests(status: ApprovalStatus?) async throws -> [ApprovalRequest]
    /// Replaces payload and times and bumps the revision, if the stored revision is still
    /// `request.revision - 1` and the request is open.
    func reviseRequest(_ request: ApprovalRequest, audit: AuditEvent) async throws -> Bool
    /// `conflict` if this approver already approved this digest.
    func insertApproval(_ approval: Approval, audit: AuditEvent) async throws
    func approvals(of id: ApprovalRequestID) async throws -> [Approval]
    /// Marks the request executed — only if it is still open at `revision` — and applies the
    /// effect, in one transaction. False if someone else executed (or changed) it first.
    func executeRequest(_ id: ApprovalRequestID, revision: Int, at time: TimestampNanoseconds, effect: GovernanceEffect?, audit: AuditEvent) async throws -> Bool

    /// Appends an event that changes nothing else (a refusal, a bootstrap step).
    func appendAudit(_ event: AuditEvent) async throws
    /// Stored entries from `start`, in position order, at most `limit`.
    func auditEntries(from start: Int, limit: Int) async throws -> [StoredAuditEntry]
    /// The stored checkpoints of size `minimum` or more, smallest first.
    func auditCheckpoints(sizeAtLeast minimum: Int) async throws -> [AuditCheckpoint]
    func auditSize() async throws -> Int
    /// The public halves of the checkpoint keys recorded in the database, oldest first (a fallback
    /// when no independently held key is given).
    func auditPublicKeys() async throws -> [[UInt8]]
}

extension GovernanceStore {
    /// Every stored checkpoint, smallest first.
    public func auditCheckpoints() async throws -> [AuditCheckpoint] { try await auditCheckpoints(sizeAtLeast: 0) }

    public func insertRequest(_ request: ApprovalRequest, audit: AuditEvent) async throws -> ApprovalRequest {
        try await insertRequest(request, alongside: { _ in [] }, audit: audit)
    }
}

public import KinkoCore

/// What front ends read from governance, each read authorized here (a refusal is audited) and
/// every list paged, so a new front end cannot forget a check.
extension Governance {
    public static let pageDefault = 100
    public static let pageMax = 1_000

    /// A page size: `limit` if given (1–1,000), else 100.
    public static func page(_ limit: Int?) throws(KinkoError) -> Int {
        let limit = limit ?? pageDefault
        guard (1...pageMax).contains(limit) else { throw KinkoError(.limitExceeded, "limit must be 1–\(pageMax); got \(limit)", field: "limit") }
        return limit
    }

    public func principals(by caller: Caller) async throws -> [Principal] {
        _ = try await authorize(caller, .governanceRead)
        return try await store.principals()
    }

    /// A principal by name, for anyone who may manage principals or read governance.
    public func principal(named name: String, by caller: Caller) async throws -> Principal {
        if !caller.roles.contains(where: { permissions.allows($0, .principalsCreate) }) {
            _ = try await authorize(caller, .governanceRead)
        }
        guard let principal = try await store.principal(named: name) else {
            throw KinkoError(.notFound, "no principal named \(name)", field: "principal")
        }
        return principal
    }

    /// Principal names by id (for showing who approved what), to anyone who may read approvals.
    public func principalNames(by caller: Caller) async throws -> [PrincipalID: String] {
        _ = try await authorize(caller, .approvalsRead)
        return Dictionary(try await store.principals().map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
    }

    public func keys(by caller: Caller) async throws -> [SignerKey] {
        _ = try await authorize(caller, .approvalsRead)
        return try await store.keys()
    }

    /// Requests by status, newest first, at most `limit`, before id `before`.
    public func requests(status: ApprovalStatus?, before: ApprovalRequestID? = nil, limit: Int?, by caller: Caller) async throws -> [ApprovalRequest] {
        _ = try await authorize(caller, .approvalsRead)
        let size = try Self.page(limit)
        return Array(try await store.requests(status: status).filter { request in before.map { request.id < $0 } ?? true }
            .sorted { $0.id > $1.id }.prefix(size))
    }

    public func request(_ id: ApprovalRequestID, by caller: Caller) async throws -> ApprovalRequest {
        _ = try await authorize(caller, .approvalsRead)
        return try await requireRequest(id)
    }

    public func approvals(of id: ApprovalRequestID, by caller: Caller) async throws -> [Approval] {
        _ = try await authorize(caller, .approvalsRead)
        return try await store.approvals(of: id)
    }

    /// Open requests the caller could approve now: they hold an eligible role, did not file
    /// it, are not excluded, and have not approved it yet.
    public func requestsAwaiting(_ caller: Caller) async throws -> [ApprovalRequest] {
        _ = try await authorize(caller, .approvalsRead)
        var waiting: [ApprovalRequest] = []
        for request in try await store.requests(status: .open).sorted(by: { $0.id < $1.id })
        where request.initiator != caller.principal && !request.policy.excludedApprovers.contains(caller.principal)
            && !caller.roles.isDisjoint(with: request.policy.eligibleRoles) && clock.now() < request.expiresAt {
            let approvals = try await store.approvals(of: request.id)
            if !approvals.contains(where: { $0.approver == caller.principal && $0.digest == request.digest }) { waiting.append(request) }
        }
        return waiting
    }

    public func auditEntries(from start: Int, limit: Int?, by caller: Caller) async throws -> (size: Int, entries: [StoredAuditEntry]) {
        _ = try await authorize(caller, .auditRead)
        guard start >= 0 else { throw KinkoError(.invalidInput, "must not be negative", field: "from") }
        return (try await store.auditSize(), try await store.auditEntries(from: start, limit: try Self.page(limit)))
    }

    /// Which roles hold each permission.
    public func permissionTable(by caller: Caller) async throws -> PermissionTable {
        _ = try await authorize(caller, .governanceRead)
        return permissions
    }

    /// The checkpoint public key the database records that matches `pin` (held outside the
    /// database), if any: a key the database names is never trusted on its own.
    public func recordedAuditPublicKey(matching pin: AuditKeyPin) async throws -> [UInt8]? {
        try await store.auditPublicKeys().first(where: pin.matches)
    }

    /// Whether the database answers (the readiness probe: no caller, nothing returned).
    public func ping() async throws {
        _ = try await store.auditSize()
    }
}

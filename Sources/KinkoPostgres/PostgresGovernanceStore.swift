import Foundation
public import KinkoCore
public import KinkoGovernance
import PostgresNIO

/// Principals, credentials, approvals and the audit log in PostgreSQL. Every write and its
/// audit entry commit in one transaction (`KinkoPostgresDatabase.audited`).
public struct PostgresGovernanceStore: GovernanceStore, PostgresStore {
    let database: KinkoPostgresDatabase

    // MARK: Principals

    static let principalColumns = "id, name, kind, roles, created_ns"

    public func principals() async throws -> [Principal] {
        try await database.read { connection in
            try await Self.principals(connection.answered("SELECT id, name, kind, roles, created_ns FROM principals ORDER BY id", logger: logger))
        }
    }

    public func principal(_ id: PrincipalID) async throws -> Principal? {
        try await database.read { connection in
            try await Self.principals(connection.answered("SELECT id, name, kind, roles, created_ns FROM principals WHERE id = \(try id.storedInteger())",
                                                       logger: logger)).first
        }
    }

    public func principal(named name: String) async throws -> Principal? {
        try await database.read { connection in
            try await Self.principals(connection.answered("SELECT id, name, kind, roles, created_ns FROM principals WHERE name = \(name)", logger: logger)).first
        }
    }

    public func createPrincipal(name: String, kind: PrincipalKind, roles: Set<Role>, at time: TimestampNanoseconds, audit: AuditEvent) async throws -> Principal {
        try await database.audited(audit) { connection in
            let rows = try await connection.answered("""
                INSERT INTO principals (name, kind, roles, created_ns) VALUES (\(name), \(kind.rawValue), \(Self.encode(roles)), \(Int64(bitPattern: time)))
                ON CONFLICT (name) DO NOTHING RETURNING id
                """, logger: logger)
            for try await id in rows.decode(Int64.self) {
                return Principal(id: PrincipalID(UInt128(id)), name: name, kind: kind, roles: roles, createdAt: time)
            }
            throw KinkoError(.conflict, "a principal named \(name) already exists", field: "name")
        }
    }

    public func setRoles(_ id: PrincipalID, roles: Set<Role>, audit: AuditEvent) async throws {
        try await database.audited(audit) { connection in
            guard try await KinkoPostgresDatabase.affected(connection, "UPDATE principals SET roles = \(Self.encode(roles)) WHERE id = \(try id.storedInteger()) RETURNING 1",
                                          logger: logger) else {
                throw KinkoError(.notFound, "no principal \(id)", field: "principal")
            }
        }
    }

    // MARK: Tokens

    public func insertToken(_ token: TokenRecord, activation: ApprovalRequest?, alongside: [RecordWrite], audit: AuditEvent) async throws -> TokenRecord {
        do {
            return try await database.audited(audit) { connection in
                try await PostgresRecords.apply(alongside, at: token.createdAt, connection: connection, logger: logger)
                var stored = token
                if let activation { stored.requestID = try await Self.insertRequest(activation, connection: connection, logger: logger).id }
                let rows = try await connection.answered("""
                    INSERT INTO tokens (principal, secret_hash, created_ns, expires_ns, status, issued_by, request_id)
                    VALUES (\(try token.principal.storedInteger()), \(Data(token.secretHash)), \(Int64(bitPattern: token.createdAt)),
                            \(token.expiresAt.map { Int64(bitPattern: $0) }), \(token.status.rawValue), \(token.issuedBy.map { try $0.storedInteger() }),
                            \(stored.requestID.map { try $0.storedInteger() }))
                    RETURNING id
                    """, logger: logger)
                stored.id = try await KinkoPostgresDatabase.newID(rows)
                return stored
            }
        } catch is PostgresRecords.Moved {
            throw KinkoError(.conflict, "the token's enrolment changed meanwhile (used or expired); nothing was stored")
        }
    }

    public func token(secretHash: [UInt8]) async throws -> TokenRecord? {
        try await database.read { connection in
            try await Self.tokens(connection.answered("""
                SELECT id, principal, secret_hash, created_ns, expires_ns, revoked_ns, status, issued_by, request_id FROM tokens WHERE secret_hash = \(Data(secretHash))
                """, logger: logger)).first
        }
    }

    public func bearer(secretHash: [UInt8]) async throws -> (token: TokenRecord, principal: Principal?)? {
        try await database.read { connection in
            guard let token = try await Self.tokens(connection.answered("""
                SELECT id, principal, secret_hash, created_ns, expires_ns, revoked_ns, status, issued_by, request_id FROM tokens WHERE secret_hash = \(Data(secretHash))
                """, logger: logger)).first
            else { return nil }
            let principal = try await Self.principals(connection.answered(
                "SELECT id, name, kind, roles, created_ns FROM principals WHERE id = \(try token.principal.storedInteger())", logger: logger)).first
            return (token, principal)
        }
    }

    public func tokens(of principal: PrincipalID) async throws -> [TokenRecord] {
        try await database.read { connection in
            try await Self.tokens(connection.answered("""
                SELECT id, principal, secret_hash, created_ns, expires_ns, revoked_ns, status, issued_by, request_id FROM tokens
                WHERE principal = \(try principal.storedInteger()) ORDER BY id
                """, logger: logger))
        }
    }

    public func revokeToken(id: UInt64, at time: TimestampNanoseconds, audit: AuditEvent) async throws -> Bool {
        try await database.change(audit: audit) { connection in
            try await KinkoPostgresDatabase.affected(connection, """
                UPDATE tokens SET revoked_ns = \(Int64(bitPattern: time)) WHERE id = \(Int64(bitPattern: id)) AND revoked_ns IS NULL RETURNING 1
                """, logger: logger)
        }
    }

    // MARK: Keys

    public func insertKey(_ key: SignerKey, activation: ApprovalRequest?, audit: AuditEvent) async throws -> SignerKey {
        try await database.audited(audit) { connection in
            var stored = key
            if let activation { stored.requestID = try await Self.insertRequest(activation, connection: connection, logger: logger).id }
            let inserted = try await KinkoPostgresDatabase.affected(connection, """
                INSERT INTO signer_keys (id, principal, algorithm, public_key, registered_ns, status, request_id)
                VALUES (\(key.id), \(try key.principal.storedInteger()), \(key.algorithm.rawValue), \(Data(key.publicKey)),
                        \(Int64(bitPattern: key.registeredAt)), \(key.status.rawValue), \(stored.requestID.map { try $0.storedInteger() }))
                ON CONFLICT (id) DO NOTHING RETURNING 1
                """, logger: logger)
            guard inserted else { throw KinkoError(.conflict, "key \(key.id) is already registered", field: "public_key") }
            return stored
        }
    }

    public func keys() async throws -> [SignerKey] {
        try await database.read { connection in
            var keys: [SignerKey] = []
            let rows = try await connection.answered("""
                SELECT id, principal, algorithm, public_key, registered_ns, revoked_ns, status, request_id FROM signer_keys ORDER BY registered_ns, id
                """, logger: logger)
            for try await row in rows {
                let (id, principal, algorithmName, publicKey, registered, revoked, statusName, request) =
                    try row.decode((String, Int64, String, Data, Int64, Int64?, String, Int64?).self)
                guard let algorithm = SignatureAlgorithm(rawValue: algorithmName) else {
                    throw KinkoError(.storageCorrupted, "signer key \(id) has unknown algorithm \(algorithmName)")
                }
                guard let status = CredentialStatus(rawValue: statusName) else {
                    throw KinkoError(.storageCorrupted, "signer key \(id) has unknown status \(statusName)")
                }
                keys.append(SignerKey(principal: PrincipalID(UInt128(principal)), algorithm: algorithm, publicKey: [UInt8](publicKey),
                                      registeredAt: UInt64(bitPattern: registered), revokedAt: revoked.map { UInt64(bitPattern: $0) },
                                      status: status, requestID: request.map { ApprovalRequestID(UInt128($0)) }))
            }
            return keys
        }
    }

    // MARK: Approvals

    static let requestColumns = "id, action, payload, policy, revision, initiator, created_ns, not_before_ns, expires_ns, status, executed_ns"

    public func insertRequest(_ request: ApprovalRequest, alongside: @escaping @Sendable (ApprovalRequestID) throws -> [RecordWrite],
                              audit: AuditEvent) async throws -> ApprovalRequest {
        do {
            return try await database.audited(audit) { connection in
                let stored = try await Self.insertRequest(request, connection: connection, logger: logger)
                try await PostgresRecords.apply(try alongside(stored.id), at: request.createdAt, connection: connection, logger: logger)
                return stored
            }
        } catch is PostgresRecords.Moved {
            throw KinkoError(.conflict, "a record filed with the request changed meanwhile; nothing was stored")
        }
    }

    static func insertRequest(_ request: ApprovalRequest, connection: PostgresConnection, logger: Logger) async throws -> ApprovalRequest {
        let rows = try await connection.answered("""
                INSERT INTO approval_requests (action, payload, policy, revision, initiator, created_ns, not_before_ns, expires_ns, status)
                VALUES (\(request.action), \(Data(request.payload.bytes)), \(Data(request.policy.json.bytes)), \(Int32(clamping: request.revision)),
                        \(try request.initiator.storedInteger()), \(Int64(bitPattern: request.createdAt)), \(Int64(bitPattern: request.notBefore)),
                        \(Int64(bitPattern: request.expiresAt)), 'open')
                RETURNING id
                """, logger: logger)
        var stored = request
        stored.id = ApprovalRequestID(UInt128(try await KinkoPostgresDatabase.newID(rows)))
        return stored
    }

    public func request(_ id: ApprovalRequestID) async throws -> ApprovalRequest? {
        try await database.read { connection in
            try await Self.requests(connection.answered("""
                SELECT id, action, payload, policy, revision, initiator, created_ns, not_before_ns, expires_ns, status, executed_ns
                FROM approval_requests WHERE id = \(try id.storedInteger())
                """, logger: logger)).first
        }
    }

    public func requests(status: ApprovalStatus?) async throws -> [ApprovalRequest] {
        try await database.read { connection in
            try await Self.requests(connection.answered("""
                SELECT id, action, payload, policy, revision, initiator, created_ns, not_before_ns, expires_ns, status, executed_ns
                FROM approval_requests WHERE \(status?.rawValue)::text IS NULL OR status = \(status?.rawValue) ORDER BY id
                """, logger: logger))
        }
    }

    public func reviseRequest(_ request: ApprovalRequest, audit: AuditEvent) async throws -> Bool {
        try await database.change(audit: audit) { connection in
            try await KinkoPostgresDatabase.affected(connection, """
                UPDATE approval_requests SET payload = \(Data(request.payload.bytes)), revision = \(Int32(clamping: request.revision)),
                    not_before_ns = \(Int64(bitPattern: request.notBefore)), expires_ns = \(Int64(bitPattern: request.expiresAt))
                WHERE id = \(try request.id.storedInteger()) AND revision = \(Int32(clamping: request.revision - 1)) AND status = 'open'
                RETURNING 1
                """, logger: logger)
        }
    }

    public func insertApproval(_ approval: Approval, audit: AuditEvent) async throws {
        try await database.audited(audit) { connection in
            let rows = try await connection.answered("""
                INSERT INTO approvals (request, approver, digest, key_id, signature, approved_ns)
                VALUES (\(try approval.requestID.storedInteger()), \(try approval.approver.storedInteger()), \(Data(approval.digest)),
                        \(approval.keyID), \(Data(approval.signature)), \(Int64(bitPattern: approval.approvedAt)))
                ON CONFLICT (request, approver, digest) DO NOTHING RETURNING 1
                """, logger: logger)
            var inserted = false
            for try await _ in rows.decode(Int32.self) { inserted = true }
            guard inserted else { throw KinkoError(.conflict, "this approver already approved request \(approval.requestID)") }
        }
    }

    public func approvals(of id: ApprovalRequestID) async throws -> [Approval] {
        try await database.read { connection in
            var approvals: [Approval] = []
            let rows = try await connection.answered("""
                SELECT approver, key_id, digest, signature, approved_ns FROM approvals WHERE request = \(try id.storedInteger()) ORDER BY approved_ns
                """, logger: logger)
            for try await (approver, keyID, digest, signature, approved) in rows.decode((Int64, String, Data, Data, Int64).self) {
                approvals.append(Approval(requestID: id, approver: PrincipalID(UInt128(approver)), keyID: keyID, digest: [UInt8](digest),
                                          signature: [UInt8](signature), approvedAt: UInt64(bitPattern: approved)))
            }
            return approvals
        }
    }

    public func executeRequest(_ id: ApprovalRequestID, revision: Int, at time: TimestampNanoseconds, effect: GovernanceEffect?, audit: AuditEvent) async throws -> Bool {
        try await database.change(audit: audit) { connection in
            guard try await PostgresApprovals.markExecuted(connection, id: id, revision: revision, at: time, logger: logger) else { return false }
            switch effect {
            case .setRoles(let principal, let roles):
                guard try await KinkoPostgresDatabase.affected(connection, """
                    UPDATE principals SET roles = \(Self.encode(roles)) WHERE id = \(try principal.storedInteger()) RETURNING 1
                    """, logger: logger) else {
                    throw KinkoError(.notFound, "no principal \(principal)", field: "principal")
                }
            case .activateToken(let request):
                guard try await KinkoPostgresDatabase.affected(connection, """
                    UPDATE tokens SET status = 'active'
                    WHERE request_id = \(try request.storedInteger()) AND status = 'awaiting_approval' AND revoked_ns IS NULL RETURNING 1
                    """, logger: logger) else {
                    throw KinkoError(.conflict, "no token waits for request \(request) (revoked meanwhile?)")
                }
            case .activateKey(let request):
                guard try await KinkoPostgresDatabase.affected(connection, """
                    UPDATE signer_keys SET status = 'active'
                    WHERE request_id = \(try request.storedInteger()) AND status = 'awaiting_approval' AND revoked_ns IS NULL RETURNING 1
                    """, logger: logger) else {
                    throw KinkoError(.conflict, "no key waits for request \(request) (revoked meanwhile?)")
                }
            case .revokeKey(let key, let time):
                guard try await KinkoPostgresDatabase.affected(connection, """
                    UPDATE signer_keys SET revoked_ns = \(Int64(bitPattern: time)) WHERE id = \(key) AND revoked_ns IS NULL RETURNING 1
                    """, logger: logger) else {
                    throw KinkoError(.conflict, "key \(key) was revoked already")
                }
            case nil:
                break
            }
            return true
        }
    }

    // MARK: Audit

    public func appendAudit(_ event: AuditEvent) async throws {
        try await database.audited(event) { _ in () }
    }

    public func auditEntries(from start: Int, limit: Int) async throws -> [StoredAuditEntry] {
        try await database.read { connection in
            var entries: [StoredAuditEntry] = []
            let rows = try await connection.answered("""
                SELECT position, entry FROM audit_entries WHERE position >= \(Int64(start)) ORDER BY position LIMIT \(Int64(limit))
                """, logger: logger)
            for try await (position, entry) in rows.decode((Int64, Data).self) {
                entries.append(StoredAuditEntry(position: Int(position), bytes: [UInt8](entry)))
            }
            return entries
        }
    }

    public func auditCheckpoints(sizeAtLeast minimum: Int) async throws -> [AuditCheckpoint] {
        try await database.read { connection in
            var checkpoints: [AuditCheckpoint] = []
            let rows = try await connection.answered(
                "SELECT size, root, time_ns, key_id, signature FROM audit_checkpoints WHERE size >= \(Int64(minimum)) ORDER BY size", logger: logger)
            for try await (size, root, time, keyID, signature) in rows.decode((Int64, Data, Int64, Data, Data).self) {
                checkpoints.append(AuditCheckpoint(size: Int(size), root: [UInt8](root), time: UInt64(bitPattern: time), keyID: [UInt8](keyID),
                                                   signature: [UInt8](signature)))
            }
            return checkpoints
        }
    }

    public func auditSize() async throws -> Int {
        try await database.read { connection in
            for try await count in try await connection.answered("SELECT count(*) FROM audit_entries", logger: logger).decode(Int64.self) { return Int(count) }
            return 0
        }
    }

    /// The checkpoint public keys recorded in the database.
    public func auditPublicKeys() async throws -> [[UInt8]] {
        try await database.read { connection in
            var keys: [[UInt8]] = []
            for try await key in try await connection.answered("SELECT public_key FROM audit_keys ORDER BY added_ns", logger: logger).decode(Data.self) {
                keys.append([UInt8](key))
            }
            return keys
        }
    }

    // MARK: Rows

    private static func encode(_ roles: Set<Role>) -> String { roles.sorted().map(\.rawValue).joined(separator: ",") }

    private static func principals(_ rows: PostgresRowSequence) async throws -> [Principal] {
        var principals: [Principal] = []
        for try await (id, name, kindName, roleNames, created) in rows.decode((Int64, String, String, String, Int64).self) {
            guard let kind = PrincipalKind(rawValue: kindName) else { throw KinkoError(.storageCorrupted, "principal \(id) has unknown kind \(kindName)") }
            var roles: Set<Role> = []
            for name in roleNames.split(separator: ",") {
                guard let role = Role(rawValue: String(name)) else { throw KinkoError(.storageCorrupted, "principal \(id) holds unknown role \(name)") }
                roles.insert(role)
            }
            principals.append(Principal(id: PrincipalID(UInt128(id)), name: name, kind: kind, roles: roles, createdAt: UInt64(bitPattern: created)))
        }
        return principals
    }

    private static func tokens(_ rows: PostgresRowSequence) async throws -> [TokenRecord] {
        var tokens: [TokenRecord] = []
        for try await row in rows {
            let (id, principal, hash, created, expires, revoked, statusName, issuedBy, request) =
                try row.decode((Int64, Int64, Data, Int64, Int64?, Int64?, String, Int64?, Int64?).self)
            guard let status = CredentialStatus(rawValue: statusName) else { throw KinkoError(.storageCorrupted, "token \(id) has unknown status \(statusName)") }
            tokens.append(TokenRecord(id: UInt64(id), principal: PrincipalID(UInt128(principal)), secretHash: [UInt8](hash),
                                      createdAt: UInt64(bitPattern: created), expiresAt: expires.map { UInt64(bitPattern: $0) },
                                      revokedAt: revoked.map { UInt64(bitPattern: $0) }, status: status,
                                      issuedBy: issuedBy.map { PrincipalID(UInt128($0)) }, requestID: request.map { ApprovalRequestID(UInt128($0)) }))
        }
        return tokens
    }

    private static func requests(_ rows: PostgresRowSequence) async throws -> [ApprovalRequest] {
        var requests: [ApprovalRequest] = []
        for try await row in rows {
            let (id, action, payload, policy, revision, initiator, created, notBefore, expires, statusName, executed) =
                try row.decode((Int64, String, Data, Data, Int32, Int64, Int64, Int64, Int64, String, Int64?).self)
            guard let status = ApprovalStatus(rawValue: statusName) else {
                throw KinkoError(.storageCorrupted, "approval request \(id) has unknown status \(statusName)")
            }
            requests.append(ApprovalRequest(
                id: ApprovalRequestID(UInt128(id)), action: action, payload: try CanonicalJSON(parsing: [UInt8](payload)),
                policy: try ApprovalPolicy(json: CanonicalJSON(parsing: [UInt8](policy))), revision: Int(revision),
                initiator: PrincipalID(UInt128(initiator)), createdAt: UInt64(bitPattern: created), notBefore: UInt64(bitPattern: notBefore),
                expiresAt: UInt64(bitPattern: expires), status: status, executedAt: executed.map { UInt64(bitPattern: $0) }))
        }
        return requests
    }

    public init(database: KinkoPostgresDatabase) {
        self.database = database
    }
}

/// The one place that flips an approval request to executed in PostgreSQL: a compare-and-set on
/// status and revision inside the caller's transaction.
enum PostgresApprovals {
    static func markExecuted(_ connection: PostgresConnection, id: ApprovalRequestID, revision: Int, at time: TimestampNanoseconds, logger: Logger) async throws -> Bool {
        var count = 0
        let rows = try await connection.answered("""
            UPDATE approval_requests SET status = 'executed', executed_ns = \(Int64(bitPattern: time))
            WHERE id = \(try id.storedInteger()) AND revision = \(Int32(clamping: revision)) AND status = 'open' RETURNING 1
            """, logger: logger)
        for try await _ in rows.decode(Int32.self) { count += 1 }
        return count == 1
    }
}

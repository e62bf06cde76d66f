import Foundation
import GRDB
public import KinkoCore
public import KinkoGovernance

/// Principals, credentials, approvals and the audit log in the Kinko SQLite database. Every
/// write and its audit entry commit in one transaction.
public struct SQLiteGovernanceStore: GovernanceStore, SQLiteStore {
    let database: KinkoDatabase

    // MARK: Principals

    public func principals() async throws -> [Principal] {
        try await database.pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM principals ORDER BY id").map(Self.principal) }
    }

    public func principal(_ id: PrincipalID) async throws -> Principal? {
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM principals WHERE id = ?", arguments: [try id.storedInteger()]).map(Self.principal)
        }
    }

    public func principal(named name: String) async throws -> Principal? {
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM principals WHERE name = ?", arguments: [name]).map(Self.principal)
        }
    }

    public func createPrincipal(name: String, kind: PrincipalKind, roles: Set<Role>, at time: TimestampNanoseconds, audit: AuditEvent) async throws -> Principal {
        try await write(audit: audit) { db in
            if try Int.fetchOne(db, sql: "SELECT 1 FROM principals WHERE name = ?", arguments: [name]) != nil {
                throw KinkoError(.conflict, "a principal named \(name) already exists", field: "name")
            }
            try db.execute(sql: "INSERT INTO principals (name, kind, roles, created_at) VALUES (?, ?, ?, ?)",
                           arguments: [name, kind.rawValue, Self.encode(roles), Int64(bitPattern: time)])
            return Principal(id: PrincipalID(UInt128(db.lastInsertedRowID)), name: name, kind: kind, roles: roles, createdAt: time)
        }
    }

    public func setRoles(_ id: PrincipalID, roles: Set<Role>, audit: AuditEvent) async throws {
        try await write(audit: audit) { db in
            try db.execute(sql: "UPDATE principals SET roles = ? WHERE id = ?", arguments: [Self.encode(roles), try id.storedInteger()])
            guard db.changesCount == 1 else { throw KinkoError(.notFound, "no principal \(id)", field: "principal") }
        }
    }

    // MARK: Tokens

    public func insertToken(_ token: TokenRecord, activation: ApprovalRequest?, alongside: [RecordWrite], audit: AuditEvent) async throws -> TokenRecord {
        do {
            return try await write(audit: audit) { db in
                try SQLiteRecords.apply(alongside, at: token.createdAt, db: db)
                var stored = token
                stored.requestID = try activation.map { try Self.insertRequest($0, db: db).id }
                try db.execute(
                    sql: "INSERT INTO tokens (principal, secret_hash, created_at, expires_at, status, issued_by, request_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    arguments: [try token.principal.storedInteger(), Data(token.secretHash), Int64(bitPattern: token.createdAt),
                                token.expiresAt.map { Int64(bitPattern: $0) }, token.status.rawValue,
                                token.issuedBy.map { try $0.storedInteger() }, stored.requestID.map { try $0.storedInteger() }])
                stored.id = UInt64(db.lastInsertedRowID)
                return stored
            }
        } catch is SQLiteRecords.Moved {
            throw KinkoError(.conflict, "the token's enrolment changed meanwhile (used or expired); nothing was stored")
        }
    }

    public func token(secretHash: [UInt8]) async throws -> TokenRecord? {
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM tokens WHERE secret_hash = ?", arguments: [Data(secretHash)]).map(Self.token)
        }
    }

    public func bearer(secretHash: [UInt8]) async throws -> (token: TokenRecord, principal: Principal?)? {
        try await database.pool.read { db in
            guard let token = try Row.fetchOne(db, sql: "SELECT * FROM tokens WHERE secret_hash = ?", arguments: [Data(secretHash)]).map(Self.token)
            else { return nil }
            let principal = try Row.fetchOne(db, sql: "SELECT * FROM principals WHERE id = ?", arguments: [try token.principal.storedInteger()])
                .map(Self.principal)
            return (token, principal)
        }
    }

    public func tokens(of principal: PrincipalID) async throws -> [TokenRecord] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM tokens WHERE principal = ? ORDER BY id", arguments: [try principal.storedInteger()]).map(Self.token)
        }
    }

    public func revokeToken(id: UInt64, at time: TimestampNanoseconds, audit: AuditEvent) async throws -> Bool {
        do {
            try await write(audit: audit) { db in
                try db.execute(sql: "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                               arguments: [Int64(bitPattern: time), Int64(bitPattern: id)])
                guard db.changesCount == 1 else { throw NothingChanged() }
            }
            return true
        } catch is NothingChanged {
            return false
        }
    }

    // MARK: Keys

    public func insertKey(_ key: SignerKey, activation: ApprovalRequest?, audit: AuditEvent) async throws -> SignerKey {
        do {
            return try await write(audit: audit) { db in
                var stored = key
                stored.requestID = try activation.map { try Self.insertRequest($0, db: db).id }
                try db.execute(
                    sql: "INSERT INTO signer_keys (id, principal, algorithm, public_key, registered_at, status, request_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    arguments: [key.id, try key.principal.storedInteger(), key.algorithm.rawValue, Data(key.publicKey),
                                Int64(bitPattern: key.registeredAt), key.status.rawValue, stored.requestID.map { try $0.storedInteger() }])
                return stored
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw KinkoError(.conflict, "key \(key.id) is already registered", field: "public_key")
        }
    }

    public func keys() async throws -> [SignerKey] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM signer_keys ORDER BY registered_at").map { row in
                let algorithmName: String = row["algorithm"]
                guard let algorithm = SignatureAlgorithm(rawValue: algorithmName) else {
                    throw KinkoError(.storageCorrupted, "signer key \(row["id"] as String) has unknown algorithm \(algorithmName)")
                }
                let statusName: String = row["status"]
                guard let status = CredentialStatus(rawValue: statusName) else {
                    throw KinkoError(.storageCorrupted, "signer key \(row["id"] as String) has unknown status \(statusName)")
                }
                return SignerKey(principal: PrincipalID(UInt128(row["principal"] as Int64)), algorithm: algorithm,
                                 publicKey: [UInt8](row["public_key"] as Data), registeredAt: UInt64(bitPattern: row["registered_at"]),
                                 revokedAt: (row["revoked_at"] as Int64?).map { UInt64(bitPattern: $0) }, status: status,
                                 requestID: (row["request_id"] as Int64?).map { ApprovalRequestID(UInt128($0)) })
            }
        }
    }

    // MARK: Approvals

    public func insertRequest(_ request: ApprovalRequest, alongside: @escaping @Sendable (ApprovalRequestID) throws -> [RecordWrite],
                              audit: AuditEvent) async throws -> ApprovalRequest {
        do {
            return try await write(audit: audit) { db in
                let stored = try Self.insertRequest(request, db: db)
                try SQLiteRecords.apply(try alongside(stored.id), at: request.createdAt, db: db)
                return stored
            }
        } catch is SQLiteRecords.Moved {
            throw KinkoError(.conflict, "a record filed with the request changed meanwhile; nothing was stored")
        }
    }

    static func insertRequest(_ request: ApprovalRequest, db: Database) throws -> ApprovalRequest {
        try db.execute(sql: """
            INSERT INTO approval_requests (action, payload, policy, revision, initiator, created_at, not_before, expires_at, status)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open')
            """, arguments: [request.action, Data(request.payload.bytes), Data(request.policy.json.bytes), request.revision, try request.initiator.storedInteger(),
                             Int64(bitPattern: request.createdAt), Int64(bitPattern: request.notBefore), Int64(bitPattern: request.expiresAt)])
        var stored = request
        stored.id = ApprovalRequestID(UInt128(db.lastInsertedRowID))
        return stored
    }

    public func request(_ id: ApprovalRequestID) async throws -> ApprovalRequest? {
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM approval_requests WHERE id = ?", arguments: [try id.storedInteger()]).map(Self.request)
        }
    }

    public func requests(status: ApprovalStatus?) async throws -> [ApprovalRequest] {
        try await database.pool.read { db in
            if let status {
                return try Row.fetchAll(db, sql: "SELECT * FROM approval_requests WHERE status = ? ORDER BY id", arguments: [status.rawValue]).map(Self.request)
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM approval_requests ORDER BY id").map(Self.request)
        }
    }

    public func reviseRequest(_ request: ApprovalRequest, audit: AuditEvent) async throws -> Bool {
        do {
            try await write(audit: audit) { db in
                try db.execute(sql: """
                    UPDATE approval_requests SET payload = ?, revision = ?, not_before = ?, expires_at = ?
                    WHERE id = ? AND revision = ? AND status = 'open'
                    """, arguments: [Data(request.payload.bytes), request.revision, Int64(bitPattern: request.notBefore),
                                     Int64(bitPattern: request.expiresAt), try request.id.storedInteger(), request.revision - 1])
                guard db.changesCount == 1 else { throw NothingChanged() }
            }
            return true
        } catch is NothingChanged {
            return false
        }
    }

    public func insertApproval(_ approval: Approval, audit: AuditEvent) async throws {
        do {
            try await write(audit: audit) { db in
                try db.execute(sql: """
                    INSERT INTO approvals (request, approver, digest, key_id, signature, approved_at) VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [try approval.requestID.storedInteger(), try approval.approver.storedInteger(),
                                     Data(approval.digest), approval.keyID, Data(approval.signature), Int64(bitPattern: approval.approvedAt)])
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw KinkoError(.conflict, "this approver already approved request \(approval.requestID)")
        }
    }

    public func approvals(of id: ApprovalRequestID) async throws -> [Approval] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM approvals WHERE request = ? ORDER BY approved_at", arguments: [try id.storedInteger()]).map { row in
                Approval(requestID: id, approver: PrincipalID(UInt128(row["approver"] as Int64)), keyID: row["key_id"],
                         digest: [UInt8](row["digest"] as Data), signature: [UInt8](row["signature"] as Data),
                         approvedAt: UInt64(bitPattern: row["approved_at"]))
            }
        }
    }

    public func executeRequest(_ id: ApprovalRequestID, revision: Int, at time: TimestampNanoseconds, effect: GovernanceEffect?, audit: AuditEvent) async throws -> Bool {
        do {
            try await write(audit: audit) { db in
                guard try SQLiteApprovals.markExecuted(db: db, id: id, revision: revision, at: time) else { throw NothingChanged() }
                switch effect {
                case .setRoles(let principal, let roles):
                    try db.execute(sql: "UPDATE principals SET roles = ? WHERE id = ?", arguments: [Self.encode(roles), try principal.storedInteger()])
                    guard db.changesCount == 1 else { throw KinkoError(.notFound, "no principal \(principal)", field: "principal") }
                case .activateToken(let request):
                    try db.execute(sql: "UPDATE tokens SET status = 'active' WHERE request_id = ? AND status = 'awaiting_approval' AND revoked_at IS NULL",
                                   arguments: [try request.storedInteger()])
                    guard db.changesCount == 1 else { throw KinkoError(.conflict, "no token waits for request \(request) (revoked meanwhile?)") }
                case .activateKey(let request):
                    try db.execute(sql: "UPDATE signer_keys SET status = 'active' WHERE request_id = ? AND status = 'awaiting_approval' AND revoked_at IS NULL",
                                   arguments: [try request.storedInteger()])
                    guard db.changesCount == 1 else { throw KinkoError(.conflict, "no key waits for request \(request) (revoked meanwhile?)") }
                case .revokeKey(let key, let time):
                    try db.execute(sql: "UPDATE signer_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", arguments: [Int64(bitPattern: time), key])
                    guard db.changesCount == 1 else { throw KinkoError(.conflict, "key \(key) was revoked already") }
                case nil:
                    break
                }
            }
            return true
        } catch is NothingChanged {
            return false
        }
    }

    // MARK: Audit

    public func appendAudit(_ event: AuditEvent) async throws {
        try await write(audit: event) { _ in () }
    }

    public func auditEntries(from start: Int, limit: Int) async throws -> [StoredAuditEntry] {
        try await database.pool.read { db in try SQLiteAuditLog.entries(db: db, from: start, limit: limit) }
    }

    public func auditCheckpoints(sizeAtLeast minimum: Int) async throws -> [AuditCheckpoint] {
        try await database.pool.read { db in try SQLiteAuditLog.checkpoints(db: db, sizeAtLeast: minimum) }
    }

    public func auditSize() async throws -> Int {
        try await database.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_entries") ?? 0 }
    }

    /// The checkpoint public keys recorded in the database.
    public func auditPublicKeys() async throws -> [[UInt8]] {
        try await database.pool.read { db in try SQLiteAuditLog.publicKeys(db: db) }
    }

    // MARK: Rows

    private struct NothingChanged: Error {}

    private static func encode(_ roles: Set<Role>) -> String { roles.sorted().map(\.rawValue).joined(separator: ",") }

    private static func principal(_ row: Row) throws -> Principal {
        let kindName: String = row["kind"]
        guard let kind = PrincipalKind(rawValue: kindName) else {
            throw KinkoError(.storageCorrupted, "principal \(row["id"] as Int64) has unknown kind \(kindName)")
        }
        let roleNames: String = row["roles"]
        var roles: Set<Role> = []
        for name in roleNames.split(separator: ",") {
            guard let role = Role(rawValue: String(name)) else {
                throw KinkoError(.storageCorrupted, "principal \(row["id"] as Int64) holds unknown role \(name)")
            }
            roles.insert(role)
        }
        return Principal(id: PrincipalID(UInt128(row["id"] as Int64)), name: row["name"], kind: kind, roles: roles,
                         createdAt: UInt64(bitPattern: row["created_at"]))
    }

    private static func token(_ row: Row) throws -> TokenRecord {
        let statusName: String = row["status"]
        guard let status = CredentialStatus(rawValue: statusName) else {
            throw KinkoError(.storageCorrupted, "token \(row["id"] as Int64) has unknown status \(statusName)")
        }
        return TokenRecord(id: UInt64(row["id"] as Int64), principal: PrincipalID(UInt128(row["principal"] as Int64)),
                           secretHash: [UInt8](row["secret_hash"] as Data), createdAt: UInt64(bitPattern: row["created_at"]),
                           expiresAt: (row["expires_at"] as Int64?).map { UInt64(bitPattern: $0) },
                           revokedAt: (row["revoked_at"] as Int64?).map { UInt64(bitPattern: $0) }, status: status,
                           issuedBy: (row["issued_by"] as Int64?).map { PrincipalID(UInt128($0)) },
                           requestID: (row["request_id"] as Int64?).map { ApprovalRequestID(UInt128($0)) })
    }

    private static func request(_ row: Row) throws -> ApprovalRequest {
        let statusName: String = row["status"]
        guard let status = ApprovalStatus(rawValue: statusName) else {
            throw KinkoError(.storageCorrupted, "approval request \(row["id"] as Int64) has unknown status \(statusName)")
        }
        return ApprovalRequest(
            id: ApprovalRequestID(UInt128(row["id"] as Int64)), action: row["action"],
            payload: try CanonicalJSON(parsing: [UInt8](row["payload"] as Data)),
            policy: try ApprovalPolicy(json: CanonicalJSON(parsing: [UInt8](row["policy"] as Data))), revision: row["revision"],
            initiator: PrincipalID(UInt128(row["initiator"] as Int64)), createdAt: UInt64(bitPattern: row["created_at"]),
            notBefore: UInt64(bitPattern: row["not_before"]), expiresAt: UInt64(bitPattern: row["expires_at"]), status: status,
            executedAt: (row["executed_at"] as Int64?).map { UInt64(bitPattern: $0) })
    }

    public init(database: KinkoDatabase) {
        self.database = database
    }
}

/// The one place that flips an approval request to executed: a compare-and-set on its status and
/// revision, inside the caller's transaction, so the effect and the flip commit together.
enum SQLiteApprovals {
    static func markExecuted(db: Database, id: ApprovalRequestID, revision: Int, at time: TimestampNanoseconds) throws -> Bool {
        try db.execute(sql: """
            UPDATE approval_requests SET status = 'executed', executed_at = ? WHERE id = ? AND revision = ? AND status = 'open'
            """, arguments: [Int64(bitPattern: time), try id.storedInteger(), revision])
        return db.changesCount == 1
    }
}

import Foundation
import GRDB
import KinkoCore
import KinkoGovernance

/// Appends audit entries inside whatever transaction the caller is in, so the entry commits or
/// rolls back with the change it records. Each append extends the Merkle frontier and stores a
/// checkpoint signed with the server key.
enum SQLiteAuditLog {
    static func append(_ event: AuditEvent, db: Database, signer: AuditSigner?, clock: any WallClock) throws {
        guard let signer else {
            throw KinkoError(.notFound, "the audit signing key is missing; writes are refused until it is restored (see docs/RUNBOOK.md)", field: "audit_key")
        }
        let stored = try Data.fetchOne(db, sql: "SELECT frontier FROM audit_state WHERE id = 1")
        guard let stored else { throw KinkoError(.storageCorrupted, "the audit state row is missing") }
        var frontier = try MerkleFrontier(encoded: [UInt8](stored))
        let time = clock.now()
        let entry = AuditEntry(index: frontier.size, time: time, event: event)
        let bytes = entry.bytes
        try db.execute(sql: "INSERT INTO audit_entries (position, entry) VALUES (?, ?)", arguments: [entry.index, Data(bytes)])
        frontier.append(Merkle.leafHash(bytes))
        let checkpoint = try signer.checkpoint(size: frontier.size, root: frontier.root, time: time)
        try db.execute(
            sql: "INSERT INTO audit_checkpoints (size, root, time, key_id, signature) VALUES (?, ?, ?, ?, ?)",
            arguments: [checkpoint.size, Data(checkpoint.root), Int64(bitPattern: time), Data(checkpoint.keyID), Data(checkpoint.signature)])
        try db.execute(sql: "UPDATE audit_state SET frontier = ? WHERE id = 1", arguments: [Data(frontier.encoded)])
        try db.execute(
            sql: "INSERT OR IGNORE INTO audit_keys (key_id, public_key, added_at) VALUES (?, ?, ?)",
            arguments: [Data(signer.keyID), Data(signer.publicKey), Int64(bitPattern: time)])
    }

    static func entries(db: Database, from start: Int, limit: Int) throws -> [StoredAuditEntry] {
        try Row.fetchAll(db, sql: "SELECT position, entry FROM audit_entries WHERE position >= ? ORDER BY position LIMIT ?",
                         arguments: [start, limit]).map { row in
            StoredAuditEntry(position: row["position"], bytes: [UInt8](row["entry"] as Data))
        }
    }

    static func checkpoints(db: Database, sizeAtLeast minimum: Int = 0) throws -> [AuditCheckpoint] {
        try Row.fetchAll(db, sql: "SELECT size, root, time, key_id, signature FROM audit_checkpoints WHERE size >= ? ORDER BY size",
                         arguments: [minimum]).map { row in
            AuditCheckpoint(size: row["size"], root: [UInt8](row["root"] as Data), time: UInt64(bitPattern: row["time"]),
                            keyID: [UInt8](row["key_id"] as Data), signature: [UInt8](row["signature"] as Data))
        }
    }

    /// The public keys the database says signed its checkpoints (an auditor should compare them
    /// with the key published when the database was created).
    static func publicKeys(db: Database) throws -> [[UInt8]] {
        try Data.fetchAll(db, sql: "SELECT public_key FROM audit_keys ORDER BY added_at").map { [UInt8]($0) }
    }
}

extension KinkoDatabase {
    /// Runs `body` in an immediate write transaction and appends `audit` to the audit log in
    /// that same transaction: the change and its record commit together or not at all. A body
    /// that answers `false` changed nothing: it is rolled back and nothing is audited (as on
    /// PostgreSQL).
    func audited<T: Sendable>(_ audit: AuditEvent, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let signer = auditSigner
        let clock = self.clock
        return try await pool.writeWithoutTransaction { db in
            var result: T?
            try db.inTransaction(.immediate) {
                let value = try body(db)
                result = value
                if let changed = value as? Bool, !changed { return .rollback }
                try SQLiteAuditLog.append(audit, db: db, signer: signer, clock: clock)
                return .commit
            }
            guard let result else { throw KinkoError(.storageFailure, "an audited write produced no result") }
            return result
        }
    }
}

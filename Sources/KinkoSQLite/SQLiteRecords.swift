import Foundation
import GRDB
public import KinkoCore
public import KinkoGovernance

/// The generic records (`RecordStore`) in the `records` table, for every module.
enum SQLiteRecords {
    /// A change that found the state moved: the transaction rolls back.
    struct Moved: Error {}

    /// Applies `changes` inside the caller's transaction; throws `Moved` if one finds the state
    /// moved (an existing key, another version, a request no longer open at its revision).
    static func apply(_ changes: [RecordWrite], at time: TimestampNanoseconds, db: Database) throws {
        for change in changes {
            try RecordLimits.validate(change)
            switch change {
            case .insert(let collection, let key, let tag, let body):
                if try Int.fetchOne(db, sql: "SELECT 1 FROM records WHERE collection = ? AND key = ?", arguments: [collection, key]) != nil {
                    throw Moved()
                }
                try db.execute(sql: "INSERT INTO records (collection, key, tag, version, body, updated_at) VALUES (?, ?, ?, 1, ?, ?)",
                               arguments: [collection, key, tag, Data(body), Int64(bitPattern: time)])
            case .update(let collection, let key, let version, let tag, let body):
                try db.execute(sql: """
                    UPDATE records SET tag = ?, version = version + 1, body = ?, updated_at = ? WHERE collection = ? AND key = ? AND version = ?
                    """, arguments: [tag, Data(body), Int64(bitPattern: time), collection, key, version])
                guard db.changesCount == 1 else { throw Moved() }
            case .executeRequest(let id, let revision):
                guard try SQLiteApprovals.markExecuted(db: db, id: id, revision: revision, at: time) else { throw Moved() }
            case .cancelRequest(let id):
                try db.execute(sql: "UPDATE approval_requests SET status = 'cancelled' WHERE id = ? AND status = 'open'",
                               arguments: [try id.storedInteger()])
                guard db.changesCount == 1 else { throw Moved() }
            }
        }
    }

    /// Runs `body`, turning a moved state into `conflict` with `message`.
    static func moved<T>(as message: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch is Moved {
            throw KinkoError(.conflict, message)
        }
    }

    static func record(_ row: Row) -> StoredRecord {
        StoredRecord(collection: row["collection"], key: row["key"], tag: row["tag"], version: row["version"], body: [UInt8](row["body"] as Data),
                     updatedAt: UInt64(bitPattern: row["updated_at"]))
    }
}

extension SQLiteGovernanceStore {
    public func record(_ collection: String, key: String) async throws -> StoredRecord? {
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM records WHERE collection = ? AND key = ?", arguments: [collection, key]).map(SQLiteRecords.record)
        }
    }

    public func records(_ collection: String, tag: String?, after: String?, limit: Int) async throws -> [StoredRecord] {
        let limit = max(0, min(limit, RecordLimits.pageMax))
        return try await database.pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM records WHERE collection = ? AND (? IS NULL OR tag = ?) AND key > ? ORDER BY key LIMIT ?
                """, arguments: [collection, tag, tag, after ?? "", limit]).map(SQLiteRecords.record)
        }
    }

    public func write(_ changes: [RecordWrite], at time: TimestampNanoseconds, audit: AuditEvent) async throws -> Bool {
        for change in changes { try RecordLimits.validate(change) }
        do {
            try await database.audited(audit) { db in try SQLiteRecords.apply(changes, at: time, db: db) }
            return true
        } catch is SQLiteRecords.Moved {
            return false
        }
    }
}

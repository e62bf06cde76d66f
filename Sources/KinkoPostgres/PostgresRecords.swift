import Foundation
public import KinkoCore
public import KinkoGovernance
import PostgresNIO

/// The generic records (`RecordStore`) in the `records` table, for every module.
enum PostgresRecords {
    /// A change that found the state moved: the transaction rolls back.
    struct Moved: Error {}

    /// Applies `changes` inside the caller's transaction; throws `Moved` if one finds the state
    /// moved (an existing key, another version, a request no longer open at its revision).
    static func apply(_ changes: [RecordWrite], at time: TimestampNanoseconds, connection: PostgresConnection, logger: Logger) async throws {
        for change in changes {
            try RecordLimits.validate(change)
            switch change {
            case .insert(let collection, let key, let tag, let body):
                guard try await KinkoPostgresDatabase.affected(connection, """
                    INSERT INTO records (collection, key, tag, version, body, updated_ns)
                    VALUES (\(collection), \(key), \(tag), 1, \(Data(body)), \(Int64(bitPattern: time)))
                    ON CONFLICT (collection, key) DO NOTHING RETURNING 1
                    """, logger: logger) else { throw Moved() }
            case .update(let collection, let key, let version, let tag, let body):
                guard try await KinkoPostgresDatabase.affected(connection, """
                    UPDATE records SET tag = \(tag), version = version + 1, body = \(Data(body)), updated_ns = \(Int64(bitPattern: time))
                    WHERE collection = \(collection) AND key = \(key) AND version = \(version) RETURNING 1
                    """, logger: logger) else { throw Moved() }
            case .executeRequest(let id, let revision):
                guard try await PostgresApprovals.markExecuted(connection, id: id, revision: revision, at: time, logger: logger) else { throw Moved() }
            case .cancelRequest(let id):
                guard try await KinkoPostgresDatabase.affected(connection, """
                    UPDATE approval_requests SET status = 'cancelled' WHERE id = \(try id.storedInteger()) AND status = 'open' RETURNING 1
                    """, logger: logger) else { throw Moved() }
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

    static func records(_ rows: PostgresRowSequence) async throws -> [StoredRecord] {
        var records: [StoredRecord] = []
        for try await (collection, key, tag, version, body, updated) in rows.decode((String, String, String, Int64, Data, Int64).self) {
            records.append(StoredRecord(collection: collection, key: key, tag: tag, version: version, body: [UInt8](body),
                                        updatedAt: UInt64(bitPattern: updated)))
        }
        return records
    }
}

extension PostgresGovernanceStore {
    public func record(_ collection: String, key: String) async throws -> StoredRecord? {
        try await database.read { connection in
            try await PostgresRecords.records(connection.answered("""
                SELECT collection, key, tag, version, body, updated_ns FROM records WHERE collection = \(collection) AND key = \(key)
                """, logger: logger)).first
        }
    }

    public func records(_ collection: String, tag: String?, after: String?, limit: Int) async throws -> [StoredRecord] {
        let limit = Int64(max(0, min(limit, RecordLimits.pageMax)))
        return try await database.read { connection in
            try await PostgresRecords.records(connection.answered("""
                SELECT collection, key, tag, version, body, updated_ns FROM records
                WHERE collection = \(collection) AND (\(tag)::text IS NULL OR tag = \(tag)) AND key > \(after ?? "") COLLATE "C"
                ORDER BY key COLLATE "C" LIMIT \(limit)
                """, logger: logger))
        }
    }

    public func write(_ changes: [RecordWrite], at time: TimestampNanoseconds, audit: AuditEvent) async throws -> Bool {
        for change in changes { try RecordLimits.validate(change) }
        do {
            try await database.audited(audit) { connection in
                try await PostgresRecords.apply(changes, at: time, connection: connection, logger: logger)
            }
            return true
        } catch is PostgresRecords.Moved {
            return false
        }
    }
}

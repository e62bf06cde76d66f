import Foundation
import KinkoCore
import KinkoGovernance
import Logging
import PostgresNIO

/// The audit log in PostgreSQL: the same entries, Merkle frontier and signed checkpoints as in
/// SQLite. `lock` takes the audit state row `FOR UPDATE` at the start of a writing transaction,
/// which orders every audited writer of every process.
enum PostgresAuditLog {
    static func lock(_ connection: PostgresConnection, logger: Logger) async throws -> MerkleFrontier {
        let rows = try await connection.answered("SELECT frontier FROM audit_state WHERE id = 1 FOR UPDATE", logger: logger)
        var frontier: MerkleFrontier?
        // Read to the end: the statement's completion is part of its answer.
        for try await stored in rows.decode(Data.self) { frontier = try MerkleFrontier(encoded: [UInt8](stored)) }
        guard let frontier else { throw KinkoError(.storageCorrupted, "the audit state row is missing") }
        return frontier
    }

    static func append(_ event: AuditEvent, frontier: inout MerkleFrontier, connection: PostgresConnection, signer: AuditSigner?, clock: any WallClock,
                       logger: Logger) async throws {
        guard let signer else {
            throw KinkoError(.notFound, "the audit signing key is missing; writes are refused until it is restored (see docs/RUNBOOK.md)", field: "audit_key")
        }
        let time = clock.now()
        let entry = AuditEntry(index: frontier.size, time: time, event: event)
        let bytes = entry.bytes
        try await connection.answered("INSERT INTO audit_entries (position, entry) VALUES (\(Int64(entry.index)), \(Data(bytes)))", logger: logger)
        frontier.append(Merkle.leafHash(bytes))
        let checkpoint = try signer.checkpoint(size: frontier.size, root: frontier.root, time: time)
        try await connection.answered("""
            INSERT INTO audit_checkpoints (size, root, time_ns, key_id, signature)
            VALUES (\(Int64(checkpoint.size)), \(Data(checkpoint.root)), \(Int64(bitPattern: time)), \(Data(checkpoint.keyID)), \(Data(checkpoint.signature)))
            """, logger: logger)
        try await connection.answered("UPDATE audit_state SET frontier = \(Data(frontier.encoded)) WHERE id = 1", logger: logger)
        try await connection.answered("""
            INSERT INTO audit_keys (key_id, public_key, added_ns) VALUES (\(Data(signer.keyID)), \(Data(signer.publicKey)), \(Int64(bitPattern: time)))
            ON CONFLICT (key_id) DO NOTHING
            """, logger: logger)
    }
}

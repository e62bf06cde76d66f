import Foundation
public import KinkoCore
public import KinkoGovernance
public import KinkoLedger
import NIOCore
import PostgresNIO

/// The ledger's log and checkpoints in PostgreSQL: the same tables and the same bytes as the
/// SQLite store. An append runs in one transaction that takes the audit lock first (so
/// appenders in any number of processes queue), checks the head, and stores the batch, its
/// definitions, an optional checkpoint and its audit entry; a concurrent writer that got there
/// first makes it `stale`, and the ledger catches up and retries.
public struct PostgresLedgerStore: LedgerStore, PostgresStore {
    let database: KinkoPostgresDatabase
    /// `auditing: false` exists only so the benchmark can measure what the audit log costs.
    private(set) var auditing: Bool = true

    public func loadSnapshot() async throws -> LedgerSnapshot {
        // One repeatable-read transaction: definitions, pages and pending statuses from one snapshot.
        try await database.transaction { connection in
            try await connection.answered("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            var checkpoint: (Int64, Int64)?
            for try await row in try await connection.answered("SELECT sequence, timestamp FROM ledger_checkpoint WHERE id = 1", logger: logger)
                .decode((Int64, Int64).self) { checkpoint = row }
            guard let (sequence, timestamp) = checkpoint else { throw KinkoError(.storageCorrupted, "the ledger checkpoint row is missing") }
            let definitions = try await Self.records(try await connection.answered("""
                SELECT sequence, kind, timestamp, count, body, expired, failed, history FROM ledger_batches
                WHERE kind IN (1, 2) AND sequence <= \(sequence) ORDER BY sequence
                """, logger: logger))
            var pages: [BalancePage] = []
            for try await (page, balances) in try await connection.answered("SELECT page, balances FROM ledger_balance_pages ORDER BY page", logger: logger)
                .decode((Int32, Data).self) {
                pages.append(BalancePage(index: Int(page), bytes: [UInt8](balances)))
            }
            var pending: [PendingTransfer] = []
            for try await transfer in try await connection.answered("SELECT transfer FROM ledger_pending WHERE status = 1", logger: logger).decode(Data.self) {
                pending.append(PendingTransfer(transfer: try LedgerCodec.decodeTransfer([UInt8](transfer), slot: 0), status: .pending))
            }
            return LedgerSnapshot(definitions: definitions, balancePages: pages, activePending: pending,
                                  checkpointSequence: UInt64(bitPattern: sequence), checkpointTimestamp: UInt64(bitPattern: timestamp))
        }
    }

    public func headSequence() async throws -> UInt64 {
        try await database.read { connection in try await Self.head(connection, logger: logger) }
    }

    public func firstSequence(after timestamp: TimestampNanoseconds) async throws -> UInt64? {
        guard timestamp < UInt64(Int64.max) else { return nil }
        return try await database.read { connection in
            for try await first in try await connection.answered(
                "SELECT min(sequence) FROM ledger_batches WHERE kind IN (3, 4) AND timestamp > \(Int64(bitPattern: timestamp))", logger: logger).decode(Int64?.self) {
                return first.map { UInt64(bitPattern: $0) }
            }
            return nil
        }
    }

    public func batches(after sequence: UInt64, limit: Int) async throws -> [LedgerBatchRecord] {
        try await database.read { connection in
            try await Self.records(try await connection.answered("""
                SELECT sequence, kind, timestamp, count, body, expired, failed, history FROM ledger_batches
                WHERE sequence > \(Int64(bitPattern: sequence)) ORDER BY sequence LIMIT \(Int64(limit))
                """, logger: logger))
        }
    }

    public func append(
        _ record: LedgerBatchRecord, accounts: [Account], assets: [Asset], checkpoint: LedgerCheckpointWrite?, audit: AuditEvent
    ) async throws -> LedgerAppendOutcome {
        do {
            return try await database.audited(auditing ? audit : nil) { connection in
                if !auditing {
                    // Without the audit lock, the checkpoint row orders the writers.
                    try await KinkoPostgresDatabase.run("SELECT sequence FROM ledger_checkpoint WHERE id = 1 FOR UPDATE", on: connection, logger: logger)
                }
                let head = try await Self.head(connection, logger: logger)
                guard head + 1 == record.sequence else { throw Stale(head: head) }
                try await Self.insert(record, connection, logger: logger)
                for asset in assets {
                    try await connection.answered("""
                        INSERT INTO ledger_assets (ledger, code, scale, kind)
                        VALUES (\(Int64(asset.ledger)), \(asset.code), \(Int16(asset.scale)), \(asset.kind.rawValue))
                        """, logger: logger)
                }
                try await Self.insert(accounts, sequence: record.sequence, connection, logger: logger)
                if let checkpoint { try await Self.write(checkpoint, connection, logger: logger) }
                return .appended
            }
        } catch let stale as Stale {
            return .stale(head: stale.head)
        }
    }

    private struct Stale: Error { let head: UInt64 }

    public func transfers(at locations: [TransferLocation]) async throws -> [Transfer] {
        let sequences = Array(Set(locations.map { Int64(bitPattern: $0.sequence) }))
        guard !sequences.isEmpty else { return [] }
        var bodies: [UInt64: [UInt8]] = [:]
        try await database.read { connection in
            for try await (sequence, body) in try await connection.answered(
                "SELECT sequence, body FROM ledger_batches WHERE sequence = ANY(\(sequences)) AND kind = 3", logger: logger).decode((Int64, Data).self) {
                bodies[UInt64(bitPattern: sequence)] = [UInt8](body)
            }
        }
        return try locations.compactMap { location in
            guard let body = bodies[location.sequence], (location.slot + 1) * LedgerCodec.transferSize <= body.count else { return nil }
            return try LedgerCodec.decodeTransfer(body, slot: location.slot)
        }
    }

    public func pendingStatuses(_ ids: [TransferID]) async throws -> [TransferID: PendingStatus] {
        guard !ids.isEmpty else { return [:] }
        let keys = ids.map { ByteBuffer(bytes: LedgerCodec.bigEndianBytes($0.rawValue)) }
        return try await database.read { connection in
            var statuses: [TransferID: PendingStatus] = [:]
            for try await (id, raw) in try await connection.answered("SELECT id, status FROM ledger_pending WHERE id = ANY(\(keys))", logger: logger)
                .decode((Data, Int16).self) {
                let transfer = TransferID(try LedgerCodec.fromBigEndianBytes([UInt8](id)))
                guard let status = PendingStatus(rawValue: UInt8(clamping: raw)) else {
                    throw KinkoError(.storageCorrupted, "pending transfer \(transfer) has unknown status \(raw)")
                }
                statuses[transfer] = status
            }
            return statuses
        }
    }

    public func postedLocations(account: AccountID, before: TransferLocation, limit: Int) async throws -> [TransferLocation] {
        let key = Data(LedgerCodec.bigEndianBytes(account.rawValue))
        return try await database.read { connection in
            var found: [TransferLocation] = []
            // Newest window first; one round trip per page of windows that hold the account.
            let rows = try await connection.answered("""
                SELECT p.locations FROM ledger_postings p JOIN ledger_windows w ON w."window" = p."window"
                WHERE p.account_id = \(key) AND w.first_sequence <= \(Int64(bitPattern: before.sequence))
                ORDER BY p."window" DESC
                """, logger: logger)
            for try await data in rows.decode(Data.self) {
                guard found.count < limit else { continue }
                for location in try LedgerPostings.decode([UInt8](data)).reversed() where location < before && found.count < limit {
                    found.append(location)
                }
            }
            return found
        }
    }

    // MARK: Rows

    static func head(_ connection: PostgresConnection, logger: Logger) async throws -> UInt64 {
        for try await head in try await connection.answered("SELECT coalesce(max(sequence), 0) FROM ledger_batches", logger: logger).decode(Int64.self) {
            return UInt64(bitPattern: head)
        }
        return 0
    }

    static func records(_ rows: PostgresRowSequence) async throws -> [LedgerBatchRecord] {
        var records: [LedgerBatchRecord] = []
        for try await (sequence, kindRaw, timestamp, count, body, expired, failed, history)
            in rows.decode((Int64, Int16, Int64, Int32, Data, Data, Data, Data).self) {
            guard let kind = LedgerBatchKind(rawValue: UInt8(clamping: kindRaw)) else {
                throw KinkoError(.storageCorrupted, "batch \(sequence) has unknown kind \(kindRaw)")
            }
            records.append(LedgerBatchRecord(sequence: UInt64(bitPattern: sequence), kind: kind, timestamp: UInt64(bitPattern: timestamp),
                                             count: Int(count), body: [UInt8](body), expired: [UInt8](expired), failed: [UInt8](failed),
                                             history: [UInt8](history)))
        }
        return records
    }

    static func insert(_ record: LedgerBatchRecord, _ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.answered("""
            INSERT INTO ledger_batches (sequence, kind, timestamp, count, body, expired, failed, history)
            VALUES (\(Int64(bitPattern: record.sequence)), \(Int16(record.kind.rawValue)), \(Int64(bitPattern: record.timestamp)),
                    \(Int32(clamping: record.count)), \(Data(record.body)), \(Data(record.expired)), \(Data(record.failed)),
                    \(Data(record.history)))
            """, logger: logger)
    }

    /// Accounts in one statement per batch (arrays unnested), not one round trip each.
    static func insert(_ accounts: [Account], sequence: UInt64, _ connection: PostgresConnection, logger: Logger) async throws {
        guard !accounts.isEmpty else { return }
        let ids = accounts.map { ByteBuffer(bytes: LedgerCodec.bigEndianBytes($0.id.rawValue)) }
        let ledgers = accounts.map { Int64($0.ledger) }
        let codes = accounts.map { Int32($0.code) }
        let flags = accounts.map { Int32($0.flags.rawValue) }
        let classes = accounts.map { Int16($0.accountClass.rawValue) }
        let owners = accounts.map { ByteBuffer(bytes: LedgerCodec.bigEndianBytes($0.owner)) }
        let userData = accounts.map { Int64(bitPattern: $0.userData64) }
        let userData32 = accounts.map { Int64($0.userData32) }
        let timestamps = accounts.map { Int64(bitPattern: $0.timestamp) }
        try await connection.answered("""
            INSERT INTO ledger_accounts (id, ledger, code, flags, class, owner, user_data_64, user_data_32, timestamp, created_sequence)
            SELECT id, ledger, code, flags, class, owner, user_data_64, user_data_32, timestamp, \(Int64(bitPattern: sequence))
            FROM unnest(\(ids)::bytea[], \(ledgers)::bigint[], \(codes)::integer[], \(flags)::integer[], \(classes)::smallint[],
                        \(owners)::bytea[], \(userData)::bigint[], \(userData32)::bigint[], \(timestamps)::bigint[])
                 AS t(id, ledger, code, flags, class, owner, user_data_64, user_data_32, timestamp)
            """, logger: logger)
    }

    /// Balances, pending statuses and the postings of every batch since the previous checkpoint.
    static func write(_ checkpoint: LedgerCheckpointWrite, _ connection: PostgresConnection, logger: Logger) async throws {
        if !checkpoint.balancePages.isEmpty {
            let indexes = checkpoint.balancePages.map { Int32($0.index) }
            let bytes = checkpoint.balancePages.map { ByteBuffer(bytes: $0.bytes) }
            try await connection.answered("""
                INSERT INTO ledger_balance_pages (page, balances) SELECT * FROM unnest(\(indexes)::integer[], \(bytes)::bytea[])
                ON CONFLICT (page) DO UPDATE SET balances = excluded.balances
                """, logger: logger)
        }
        if !checkpoint.pending.isEmpty {
            let ids = checkpoint.pending.map { ByteBuffer(bytes: LedgerCodec.bigEndianBytes($0.transfer.id.rawValue)) }
            let statuses = checkpoint.pending.map { Int16($0.status.rawValue) }
            let expires = checkpoint.pending.map { $0.expiresAt.map { Int64(bitPattern: $0) } ?? -1 }
            let transfers = checkpoint.pending.map { ByteBuffer(bytes: LedgerCodec.encode([$0.transfer])) }
            try await connection.answered("""
                INSERT INTO ledger_pending (id, status, expires_at, transfer)
                SELECT id, status, nullif(expires_at, -1), transfer FROM unnest(\(ids)::bytea[], \(statuses)::smallint[], \(expires)::bigint[], \(transfers)::bytea[])
                     AS t(id, status, expires_at, transfer)
                ON CONFLICT (id) DO UPDATE SET status = excluded.status
                """, logger: logger)
        }
        var previous: Int64 = 0
        for try await sequence in try await connection.answered("SELECT sequence FROM ledger_checkpoint WHERE id = 1", logger: logger).decode(Int64.self) {
            previous = sequence
        }
        let window = Int64(bitPattern: checkpoint.sequence)
        try await connection.answered("""
            INSERT INTO ledger_windows ("window", first_sequence, last_sequence) VALUES (\(window), \(previous + 1), \(window))
            """, logger: logger)
        let lists = LedgerPostings.restrict(checkpoint.postings, above: UInt64(bitPattern: previous))
        if !lists.isEmpty {
            let accounts = lists.map { ByteBuffer(bytes: LedgerCodec.bigEndianBytes($0.account)) }
            let locations = lists.map { ByteBuffer(bytes: LedgerPostings.encode($0.locations)) }
            try await connection.answered("""
                INSERT INTO ledger_postings ("window", account_id, locations)
                SELECT \(window), account_id, locations FROM unnest(\(accounts)::bytea[], \(locations)::bytea[]) AS t(account_id, locations)
                """, logger: logger)
        }
        try await connection.answered("""
            UPDATE ledger_checkpoint SET sequence = \(window), timestamp = \(Int64(bitPattern: checkpoint.timestamp)) WHERE id = 1
            """, logger: logger)
    }

    public init(database: KinkoPostgresDatabase, auditing: Bool = true) {
        self.database = database
        self.auditing = auditing
    }
}

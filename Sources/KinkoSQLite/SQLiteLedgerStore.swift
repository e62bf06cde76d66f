import Foundation
import GRDB
import GRDBSQLite
public import KinkoCore
public import KinkoLedger
public import KinkoGovernance

/// The ledger's log and checkpoints in the Kinko SQLite database.
public struct SQLiteLedgerStore: LedgerStore, SQLiteStore {
    let database: KinkoDatabase
    /// `auditing: false` exists only so the benchmark can measure what the audit log costs;
    /// every other user keeps the default.
    private(set) var auditing: Bool = true

    public func loadSnapshot() async throws -> LedgerSnapshot {
        try await database.pool.read { db in
            let checkpoint = try Row.fetchOne(db, sql: "SELECT sequence, timestamp FROM ledger_checkpoint WHERE id = 1")
            guard let checkpoint else { throw KinkoError(.storageCorrupted, "the ledger checkpoint row is missing") }
            let sequence = UInt64(bitPattern: checkpoint["sequence"])
            let definitions = try Self.records(db, sql: """
                SELECT sequence, kind, timestamp, count, body, expired, failed, history FROM ledger_batches
                WHERE kind IN (1, 2) AND sequence <= ? ORDER BY sequence
                """, arguments: [Int64(bitPattern: sequence)])
            let pages = try Row.fetchAll(db, sql: "SELECT page, balances FROM ledger_balance_pages ORDER BY page").map { row in
                BalancePage(index: row["page"], bytes: [UInt8](row["balances"] as Data))
            }
            let pending = try Row.fetchAll(db, sql: "SELECT transfer FROM ledger_pending WHERE status = 1").map { row in
                PendingTransfer(transfer: try LedgerCodec.decodeTransfer([UInt8](row["transfer"] as Data), slot: 0), status: .pending)
            }
            return LedgerSnapshot(
                definitions: definitions, balancePages: pages, activePending: pending,
                checkpointSequence: sequence, checkpointTimestamp: UInt64(bitPattern: checkpoint["timestamp"]))
        }
    }

    public func headSequence() async throws -> UInt64 {
        try await database.pool.read { db in try Self.head(db) }
    }

    public func firstSequence(after timestamp: TimestampNanoseconds) async throws -> UInt64? {
        guard timestamp < UInt64(Int64.max) else { return nil }
        return try await database.pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT min(sequence) FROM ledger_batches WHERE kind IN (3, 4) AND timestamp > ?",
                               arguments: [Int64(bitPattern: timestamp)]).map { UInt64(bitPattern: $0) }
        }
    }

    public func batches(after sequence: UInt64, limit: Int) async throws -> [LedgerBatchRecord] {
        try await database.pool.read { db in try Self.batches(db, after: sequence, through: nil, limit: limit) }
    }

    public func append(
        _ record: LedgerBatchRecord, accounts: [Account], assets: [Asset], checkpoint: LedgerCheckpointWrite?,
        audit: AuditEvent
    ) async throws -> LedgerAppendOutcome {
        let signer = auditing ? database.auditSigner : nil
        let auditing = auditing
        let clock = database.clock
        return try await database.pool.writeWithoutTransaction { db in
            var outcome = LedgerAppendOutcome.appended
            try db.inTransaction(.immediate) {
                let head = try Self.head(db)
                guard head + 1 == record.sequence else {
                    outcome = .stale(head: head)
                    return .rollback
                }
                try Self.insert(record, db: db)
                for asset in assets { try Self.insert(asset, db: db) }
                for account in accounts { try Self.insert(account, sequence: record.sequence, db: db) }
                if let checkpoint { try Self.write(checkpoint, db: db) }
                if auditing { try SQLiteAuditLog.append(audit, db: db, signer: signer, clock: clock) }
                return .commit
            }
            return outcome
        }
    }

    public func transfers(at locations: [TransferLocation]) async throws -> [Transfer] {
        try await database.pool.read { db in
            var bodies: [UInt64: [UInt8]] = [:]
            var result: [Transfer] = []
            for location in locations {
                if bodies[location.sequence] == nil {
                    let row = try Row.fetchOne(
                        db, sql: "SELECT body FROM ledger_batches WHERE sequence = ? AND kind = 3",
                        arguments: [Int64(bitPattern: location.sequence)])
                    guard let row else { continue }
                    bodies[location.sequence] = [UInt8](row["body"] as Data)
                }
                guard let body = bodies[location.sequence], (location.slot + 1) * LedgerCodec.transferSize <= body.count else {
                    continue
                }
                result.append(try LedgerCodec.decodeTransfer(body, slot: location.slot))
            }
            return result
        }
    }

    public func pendingStatuses(_ ids: [TransferID]) async throws -> [TransferID: PendingStatus] {
        try await database.pool.read { db in
            var statuses: [TransferID: PendingStatus] = [:]
            for id in ids {
                let raw = try Int.fetchOne(
                    db, sql: "SELECT status FROM ledger_pending WHERE id = ?",
                    arguments: [Data(LedgerCodec.bigEndianBytes(id.rawValue))])
                guard let raw else { continue }
                guard let status = PendingStatus(rawValue: UInt8(clamping: raw)) else {
                    throw KinkoError(.storageCorrupted, "pending transfer \(id) has unknown status \(raw)")
                }
                statuses[id] = status
            }
            return statuses
        }
    }

    public func postedLocations(account: AccountID, before: TransferLocation, limit: Int) async throws -> [TransferLocation] {
        try await database.pool.read { db in
            let windows = try Row.fetchCursor(db, sql: """
                SELECT window FROM ledger_windows WHERE first_sequence <= ? ORDER BY window DESC
                """, arguments: [Int64(bitPattern: before.sequence)])
            let lookup = try db.cachedStatement(sql: "SELECT locations FROM ledger_postings WHERE window = ? AND account_id = ?")
            let key = Data(LedgerCodec.bigEndianBytes(account.rawValue))
            var found: [TransferLocation] = []
            while found.count < limit, let window = try windows.next() {
                guard let data = try Data.fetchOne(lookup, arguments: [window["window"] as Int64, key]) else { continue }
                for location in try LedgerPostings.decode([UInt8](data)).reversed() where location < before && found.count < limit {
                    found.append(location)
                }
            }
            return found
        }
    }

    // MARK: Rows

    private static func head(_ db: Database) throws -> UInt64 {
        UInt64(bitPattern: try Int64.fetchOne(db, sql: "SELECT coalesce(max(sequence), 0) FROM ledger_batches") ?? 0)
    }

    private static func batches(_ db: Database, after: UInt64, through: UInt64?, limit: Int) throws -> [LedgerBatchRecord] {
        try records(db, sql: """
            SELECT sequence, kind, timestamp, count, body, expired, failed, history FROM ledger_batches
            WHERE sequence > ? AND sequence <= ? ORDER BY sequence LIMIT ?
            """, arguments: [Int64(bitPattern: after), Int64(bitPattern: through ?? UInt64(Int64.max)), limit])
    }

    private static func records(_ db: Database, sql: String, arguments: StatementArguments) throws -> [LedgerBatchRecord] {
        try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
            let kindRaw: Int64 = row["kind"]
            guard let kind = LedgerBatchKind(rawValue: UInt8(clamping: kindRaw)) else {
                throw KinkoError(.storageCorrupted, "batch \(row["sequence"] as Int64) has unknown kind \(kindRaw)")
            }
            return LedgerBatchRecord(
                sequence: UInt64(bitPattern: row["sequence"]), kind: kind,
                timestamp: UInt64(bitPattern: row["timestamp"]), count: row["count"],
                body: [UInt8](row["body"] as Data), expired: [UInt8](row["expired"] as Data), failed: [UInt8](row["failed"] as Data),
                history: [UInt8](row["history"] as Data))
        }
    }

    private static func insert(_ record: LedgerBatchRecord, db: Database) throws {
        try db.execute(
            sql: "INSERT INTO ledger_batches (sequence, kind, timestamp, count, body, expired, failed, history) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            arguments: [
                Int64(bitPattern: record.sequence), Int(record.kind.rawValue), Int64(bitPattern: record.timestamp),
                record.count, Data(record.body), Data(record.expired), Data(record.failed), Data(record.history),
            ])
    }

    private static func insert(_ asset: Asset, db: Database) throws {
        try db.execute(
            sql: "INSERT INTO ledger_assets (ledger, code, scale, kind) VALUES (?, ?, ?, ?)",
            arguments: [Int64(asset.ledger), asset.code, Int(asset.scale), asset.kind.rawValue])
    }

    private static func insert(_ account: Account, sequence: UInt64, db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO ledger_accounts (id, ledger, code, flags, class, owner, user_data_64, user_data_32, timestamp, created_sequence)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                Data(LedgerCodec.bigEndianBytes(account.id.rawValue)), Int64(account.ledger), Int(account.code),
                Int(account.flags.rawValue), Int(account.accountClass.rawValue),
                Data(LedgerCodec.bigEndianBytes(account.owner)), Int64(bitPattern: account.userData64), Int64(account.userData32),
                Int64(bitPattern: account.timestamp), Int64(bitPattern: sequence),
            ])
    }

    /// Balances, pending statuses and the postings of every batch since the previous checkpoint
    /// (the batch being appended included).
    private static func write(_ checkpoint: LedgerCheckpointWrite, db: Database) throws {
        let page = try db.cachedStatement(sql: "INSERT OR REPLACE INTO ledger_balance_pages (page, balances) VALUES (?, ?)")
        for balancePage in checkpoint.balancePages {
            try page.execute(arguments: [balancePage.index, Data(balancePage.bytes)])
        }
        let upsert = try db.cachedStatement(sql: """
            INSERT INTO ledger_pending (id, status, expires_at, transfer) VALUES (?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET status = excluded.status
            """)
        for pending in checkpoint.pending {
            try upsert.execute(arguments: [
                Data(LedgerCodec.bigEndianBytes(pending.transfer.id.rawValue)), Int(pending.status.rawValue),
                pending.expiresAt.map { Int64(bitPattern: $0) }, Data(LedgerCodec.encode([pending.transfer])),
            ])
        }
        let previous = UInt64(bitPattern: try Int64.fetchOne(db, sql: "SELECT sequence FROM ledger_checkpoint WHERE id = 1") ?? 0)
        try db.execute(
            sql: "INSERT INTO ledger_windows (window, first_sequence, last_sequence) VALUES (?, ?, ?)",
            arguments: [Int64(bitPattern: checkpoint.sequence), Int64(bitPattern: previous + 1), Int64(bitPattern: checkpoint.sequence)])
        let insertPostings = try RawStatement(db, "INSERT INTO ledger_postings (window, account_id, locations) VALUES (?1, ?2, ?3)")
        for list in LedgerPostings.restrict(checkpoint.postings, above: previous) {
            try insertPostings.run(window: checkpoint.sequence, account: list.account, locations: LedgerPostings.encode(list.locations))
        }
        try db.execute(
            sql: "UPDATE ledger_checkpoint SET sequence = ?, timestamp = ? WHERE id = 1",
            arguments: [Int64(bitPattern: checkpoint.sequence), Int64(bitPattern: checkpoint.timestamp)])
    }

    public init(database: KinkoDatabase, auditing: Bool = true) {
        self.database = database
        self.auditing = auditing
    }
}

/// A cached statement driven through SQLite's C API: binds from the caller's buffers without
/// copying, steps, resets. For the postings insert a checkpoint runs once per touched account.
private struct RawStatement {
    let statement: Statement
    let db: Database

    init(_ db: Database, _ sql: String) throws {
        self.db = db
        statement = try db.cachedStatement(sql: sql)
    }

    func run(window: UInt64, account: UInt128, locations: [UInt8]) throws {
        let key = LedgerCodec.bigEndianBytes(account)
        try key.withUnsafeBytes { keyBytes in
            try locations.withUnsafeBytes { list in
                let handle = statement.sqliteStatement
                sqlite3_bind_int64(handle, 1, Int64(bitPattern: window))
                sqlite3_bind_blob(handle, 2, keyBytes.baseAddress, 16, nil)
                sqlite3_bind_blob(handle, 3, list.baseAddress, Int32(list.count), nil)
                try step(handle)
            }
        }
    }

    private func step(_ handle: SQLiteStatement) throws {
        let code = sqlite3_step(handle)
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        guard code == SQLITE_DONE else {
            throw KinkoError(.storageFailure, "SQLite error \(code): \(String(cString: sqlite3_errmsg(db.sqliteConnection)))")
        }
    }
}

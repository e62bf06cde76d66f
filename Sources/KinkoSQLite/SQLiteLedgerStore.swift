import Foundation
import GRDB
public import KinkoCore
public import KinkoLedger

/// The ledger's log and checkpoints in the Kinko SQLite database.
public final class SQLiteLedgerStore: LedgerStore {
    private let database: KinkoDatabase

    public init(database: KinkoDatabase) {
        self.database = database
    }

    public func loadSnapshot() async throws -> LedgerSnapshot {
        try await database.pool.read { db in
            let assets = try Row.fetchAll(db, sql: "SELECT ledger, code, scale, kind FROM ledger_assets ORDER BY ledger")
                .map(Self.asset(from:))
            var accounts: [Account] = []
            var balances: [AccountBalance] = []
            let rows = try Row.fetchCursor(db, sql: """
                SELECT id, ledger, code, flags, class, owner, user_data_64, timestamp,
                       debits_pending, debits_posted, credits_pending, credits_posted
                FROM ledger_accounts ORDER BY timestamp
                """)
            while let row = try rows.next() {
                accounts.append(try Self.account(from: row))
                balances.append(AccountBalance(
                    debitsPending: try Self.uint128(row, "debits_pending"),
                    debitsPosted: try Self.uint128(row, "debits_posted"),
                    creditsPending: try Self.uint128(row, "credits_pending"),
                    creditsPosted: try Self.uint128(row, "credits_posted")))
            }
            let pending = try Row.fetchAll(db, sql: "SELECT transfer FROM ledger_pending WHERE status = 1").map { row in
                PendingTransfer(transfer: try LedgerCodec.decodeTransfer([UInt8](row["transfer"] as Data), slot: 0), status: .pending)
            }
            let checkpoint = try Row.fetchOne(db, sql: "SELECT sequence, timestamp FROM ledger_checkpoint WHERE id = 1")
            guard let checkpoint else { throw KinkoError(.storageCorrupted, "the ledger checkpoint row is missing") }
            return LedgerSnapshot(
                assets: assets, accounts: accounts, balances: balances, activePending: pending,
                checkpointSequence: UInt64(bitPattern: checkpoint["sequence"]),
                checkpointTimestamp: UInt64(bitPattern: checkpoint["timestamp"]))
        }
    }

    public func headSequence() async throws -> UInt64 {
        try await database.pool.read { db in try Self.head(db) }
    }

    public func batches(after sequence: UInt64, limit: Int) async throws -> [LedgerBatchRecord] {
        try await database.pool.read { db in try Self.batches(db, after: sequence, through: nil, limit: limit) }
    }

    public func append(
        _ record: LedgerBatchRecord, accounts: [Account], assets: [Asset], checkpoint: LedgerCheckpointWrite?
    ) async throws -> LedgerAppendOutcome {
        try await database.pool.writeWithoutTransaction { db in
            var outcome = LedgerAppendOutcome.appended
            try db.inTransaction(.immediate) {
                let head = try Self.head(db)
                guard head + 1 == record.sequence else {
                    outcome = .stale(head: head)
                    return .rollback
                }
                try Self.insert(record, db: db)
                for asset in assets { try Self.insert(asset, db: db) }
                for account in accounts { try Self.insert(account, db: db) }
                if let checkpoint { try Self.write(checkpoint, db: db) }
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
            let rows = try Row.fetchCursor(db, sql: """
                SELECT locations FROM ledger_postings
                WHERE account_id = ? AND first_location < ? ORDER BY first_location DESC
                """, arguments: [Data(LedgerCodec.bigEndianBytes(account.rawValue)), Int64(bitPattern: before.rawValue)])
            var found: [TransferLocation] = []
            while found.count < limit, let row = try rows.next() {
                let locations = try LedgerPostings.decode([UInt8](row["locations"] as Data))
                for location in locations.reversed() where location < before && found.count < limit {
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
        let rows = try Row.fetchAll(db, sql: """
            SELECT sequence, kind, timestamp, count, body, expired FROM ledger_batches
            WHERE sequence > ? AND sequence <= ? ORDER BY sequence LIMIT ?
            """, arguments: [Int64(bitPattern: after), Int64(bitPattern: through ?? UInt64(Int64.max)), limit])
        return try rows.map { row in
            let kindRaw: Int64 = row["kind"]
            guard let kind = LedgerBatchKind(rawValue: UInt8(clamping: kindRaw)) else {
                throw KinkoError(.storageCorrupted, "batch \(row["sequence"] as Int64) has unknown kind \(kindRaw)")
            }
            return LedgerBatchRecord(
                sequence: UInt64(bitPattern: row["sequence"]), kind: kind,
                timestamp: UInt64(bitPattern: row["timestamp"]), count: row["count"],
                body: [UInt8](row["body"] as Data), expired: [UInt8](row["expired"] as Data))
        }
    }

    private static func insert(_ record: LedgerBatchRecord, db: Database) throws {
        try db.execute(
            sql: "INSERT INTO ledger_batches (sequence, kind, timestamp, count, body, expired) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [
                Int64(bitPattern: record.sequence), Int(record.kind.rawValue), Int64(bitPattern: record.timestamp),
                record.count, Data(record.body), Data(record.expired),
            ])
    }

    private static func insert(_ asset: Asset, db: Database) throws {
        try db.execute(
            sql: "INSERT INTO ledger_assets (ledger, code, scale, kind) VALUES (?, ?, ?, ?)",
            arguments: [Int64(asset.ledger), asset.code, Int(asset.scale), asset.kind.rawValue])
    }

    private static func insert(_ account: Account, db: Database) throws {
        let zero = Data(LedgerCodec.bigEndianBytes(0))
        try db.cachedStatement(sql: """
            INSERT INTO ledger_accounts (id, ledger, code, flags, class, owner, user_data_64, timestamp,
                debits_pending, debits_posted, credits_pending, credits_posted)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                Data(LedgerCodec.bigEndianBytes(account.id.rawValue)), Int64(account.ledger), Int(account.code),
                Int(account.flags.rawValue), Int(account.accountClass.rawValue),
                Data(LedgerCodec.bigEndianBytes(account.owner)), Int64(bitPattern: account.userData64),
                Int64(bitPattern: account.timestamp), zero, zero, zero, zero,
            ])
    }

    /// Balances, pending statuses and the postings of every batch since the previous checkpoint
    /// (the batch being appended included).
    private static func write(_ checkpoint: LedgerCheckpointWrite, db: Database) throws {
        let update = try db.cachedStatement(sql: """
            UPDATE ledger_accounts SET debits_pending = ?, debits_posted = ?, credits_pending = ?, credits_posted = ?
            WHERE id = ?
            """)
        for row in checkpoint.balances {
            try update.execute(arguments: [
                Data(LedgerCodec.bigEndianBytes(row.balance.debitsPending)),
                Data(LedgerCodec.bigEndianBytes(row.balance.debitsPosted)),
                Data(LedgerCodec.bigEndianBytes(row.balance.creditsPending)),
                Data(LedgerCodec.bigEndianBytes(row.balance.creditsPosted)),
                Data(LedgerCodec.bigEndianBytes(row.id.rawValue)),
            ])
            guard db.changesCount == 1 else {
                throw KinkoError(.storageCorrupted, "checkpoint names account \(row.id), which is not stored")
            }
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
        let records = try batches(db, after: previous, through: checkpoint.sequence, limit: Int(checkpoint.sequence - previous))
        let insertPostings = try db.cachedStatement(
            sql: "INSERT INTO ledger_postings (account_id, first_location, locations) VALUES (?, ?, ?)")
        for (account, locations) in try LedgerPostings.build(from: records) {
            guard let first = locations.first else { continue }
            try insertPostings.execute(arguments: [
                Data(LedgerCodec.bigEndianBytes(account)), Int64(bitPattern: first.rawValue),
                Data(LedgerPostings.encode(locations)),
            ])
        }
        try db.execute(
            sql: "UPDATE ledger_checkpoint SET sequence = ?, timestamp = ? WHERE id = 1",
            arguments: [Int64(bitPattern: checkpoint.sequence), Int64(bitPattern: checkpoint.timestamp)])
    }

    private static func asset(from row: Row) throws -> Asset {
        let kindName: String = row["kind"]
        guard let kind = Asset.Kind(rawValue: kindName) else {
            throw KinkoError(.storageCorrupted, "asset \(row["code"] as String) has unknown kind \(kindName)")
        }
        return try Asset(code: row["code"], scale: UInt8(clamping: row["scale"] as Int), kind: kind, ledger: UInt32(clamping: row["ledger"] as Int64))
    }

    private static func account(from row: Row) throws -> Account {
        let classRaw: Int = row["class"]
        guard let accountClass = AccountClass(rawValue: UInt8(clamping: classRaw)) else {
            throw KinkoError(.storageCorrupted, "an account has unknown class \(classRaw)")
        }
        return Account(
            id: AccountID(try uint128(row, "id")),
            ledger: UInt32(clamping: row["ledger"] as Int64),
            code: UInt16(clamping: row["code"] as Int),
            accountClass: accountClass,
            flags: AccountFlags(rawValue: UInt16(clamping: row["flags"] as Int)),
            owner: try uint128(row, "owner"),
            userData64: UInt64(bitPattern: row["user_data_64"]),
            timestamp: UInt64(bitPattern: row["timestamp"]))
    }

    private static func uint128(_ row: Row, _ column: String) throws -> UInt128 {
        try LedgerCodec.fromBigEndianBytes([UInt8](row[column] as Data))
    }
}

import Foundation
import GRDB
import KinkoCore

/// The comparison point for the ledger benchmark: what a careful application does with plain
/// SQL — one transaction per transfer, a conditional UPDATE of each balance (the debit side
/// refuses to go below zero when the account has a limit) and an INSERT of the transfer —
/// on the same kind of SQLite file (WAL, `synchronous=FULL`).
public final class SQLiteTransferBaseline {
    private let queue: DatabaseQueue

    public init(path: String, accounts: Int, limited: Bool, openingBalance: Int64) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: """
                CREATE TABLE accounts (id INTEGER PRIMARY KEY, limited INTEGER NOT NULL,
                                       debits INTEGER NOT NULL, credits INTEGER NOT NULL);
                CREATE TABLE transfers (id BLOB PRIMARY KEY, debit INTEGER NOT NULL, credit INTEGER NOT NULL,
                                        amount INTEGER NOT NULL) WITHOUT ROWID;
                """)
            try db.inTransaction {
                let insert = try db.makeStatement(sql: "INSERT INTO accounts VALUES (?, ?, 0, ?)")
                for id in 0..<accounts { try insert.execute(arguments: [id, limited ? 1 : 0, openingBalance]) }
                return .commit
            }
        }
    }

    /// Applies one transfer in its own transaction. Returns false when the debit account's
    /// limit refused it (the transaction is rolled back).
    public func apply(id: UInt128, debit: Int, credit: Int, amount: Int64) throws -> Bool {
        try queue.writeWithoutTransaction { db in
            var applied = false
            try db.inTransaction(.immediate) {
                try db.execute(
                    sql: "UPDATE accounts SET debits = debits + ?1 WHERE id = ?2 AND (limited = 0 OR debits + ?1 <= credits)",
                    arguments: [amount, debit])
                guard db.changesCount == 1 else { return .rollback }
                try db.execute(sql: "UPDATE accounts SET credits = credits + ? WHERE id = ?", arguments: [amount, credit])
                var idBytes = [UInt8](repeating: 0, count: 16)
                withUnsafeBytes(of: id.bigEndian) { idBytes = Array($0) }
                try db.execute(sql: "INSERT INTO transfers VALUES (?, ?, ?, ?)", arguments: [Data(idBytes), debit, credit, amount])
                applied = true
                return .commit
            }
            return applied
        }
    }
}

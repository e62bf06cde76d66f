import GRDB

/// The schema's history. A migration that has shipped is never edited: change the schema with
/// a new one. Table names are strings, not derived from types.
enum KinkoMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("2026-11-22 ledger") { db in
            try db.execute(sql: ledgerSchema)
        }
        return migrator
    }

    /// Ids and amounts are 16-byte big-endian blobs (they sort like the numbers); timestamps are
    /// nanoseconds since the epoch, UTC, as 64-bit integers.
    static let ledgerSchema = """
        CREATE TABLE ledger_assets (
            ledger INTEGER PRIMARY KEY CHECK (ledger BETWEEN 1 AND 4294967295),
            code TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 2 AND 10),
            scale INTEGER NOT NULL CHECK (scale BETWEEN 0 AND 38),
            kind TEXT NOT NULL CHECK (kind IN ('crypto', 'fiat'))
        );
        CREATE TABLE ledger_batches (
            sequence INTEGER PRIMARY KEY CHECK (sequence > 0),
            kind INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 4),
            timestamp INTEGER NOT NULL,
            count INTEGER NOT NULL CHECK (count >= 0),
            body BLOB NOT NULL,
            expired BLOB NOT NULL
        );
        CREATE TABLE ledger_accounts (
            id BLOB PRIMARY KEY CHECK (length(id) = 16),
            ledger INTEGER NOT NULL REFERENCES ledger_assets(ledger),
            code INTEGER NOT NULL CHECK (code BETWEEN 1 AND 65535),
            flags INTEGER NOT NULL,
            class INTEGER NOT NULL CHECK (class BETWEEN 1 AND 9),
            owner BLOB NOT NULL CHECK (length(owner) = 16),
            user_data_64 INTEGER NOT NULL,
            timestamp INTEGER NOT NULL,
            debits_pending BLOB NOT NULL CHECK (length(debits_pending) = 16),
            debits_posted BLOB NOT NULL CHECK (length(debits_posted) = 16),
            credits_pending BLOB NOT NULL CHECK (length(credits_pending) = 16),
            credits_posted BLOB NOT NULL CHECK (length(credits_posted) = 16)
        ) WITHOUT ROWID;
        CREATE INDEX ledger_accounts_by_owner ON ledger_accounts(owner);
        CREATE TABLE ledger_pending (
            id BLOB PRIMARY KEY CHECK (length(id) = 16),
            status INTEGER NOT NULL CHECK (status BETWEEN 1 AND 4),
            expires_at INTEGER,
            transfer BLOB NOT NULL CHECK (length(transfer) = 128)
        ) WITHOUT ROWID;
        CREATE TABLE ledger_postings (
            account_id BLOB NOT NULL CHECK (length(account_id) = 16),
            first_location INTEGER NOT NULL,
            locations BLOB NOT NULL,
            PRIMARY KEY (account_id, first_location)
        ) WITHOUT ROWID;
        CREATE TABLE ledger_checkpoint (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            sequence INTEGER NOT NULL,
            timestamp INTEGER NOT NULL
        );
        INSERT INTO ledger_checkpoint (id, sequence, timestamp) VALUES (1, 0, 0);
        """
}

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

    /// The log (`ledger_batches`) is the truth. `ledger_accounts` and `ledger_assets` repeat the
    /// definitions as rows for people reading the file with SQL; the ledger itself loads them
    /// from the log. Balances are checkpointed in pages of 256 accounts (in creation order), 64
    /// little-endian bytes an account. Ids in columns are 16-byte big-endian blobs (they sort
    /// like the numbers); timestamps are nanoseconds since the epoch, UTC, as 64-bit integers.
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
            created_sequence INTEGER NOT NULL REFERENCES ledger_batches(sequence)
        ) WITHOUT ROWID;
        CREATE INDEX ledger_accounts_by_owner ON ledger_accounts(owner);
        CREATE INDEX ledger_batches_definitions ON ledger_batches(sequence) WHERE kind IN (1, 2);
        CREATE TABLE ledger_balance_pages (
            page INTEGER PRIMARY KEY CHECK (page >= 0),
            balances BLOB NOT NULL CHECK (length(balances) > 0 AND length(balances) % 64 = 0)
        );
        CREATE TABLE ledger_pending (
            id BLOB PRIMARY KEY CHECK (length(id) = 16),
            status INTEGER NOT NULL CHECK (status BETWEEN 1 AND 4),
            expires_at INTEGER,
            transfer BLOB NOT NULL CHECK (length(transfer) = 128)
        ) WITHOUT ROWID;
        CREATE TABLE ledger_windows (
            window INTEGER PRIMARY KEY,
            first_sequence INTEGER NOT NULL,
            last_sequence INTEGER NOT NULL CHECK (last_sequence >= first_sequence)
        );
        CREATE TABLE ledger_postings (
            window INTEGER NOT NULL REFERENCES ledger_windows(window),
            account_id BLOB NOT NULL CHECK (length(account_id) = 16),
            locations BLOB NOT NULL CHECK (length(locations) > 0 AND length(locations) % 8 = 0),
            PRIMARY KEY (window, account_id)
        ) WITHOUT ROWID;
        CREATE TABLE ledger_checkpoint (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            sequence INTEGER NOT NULL,
            timestamp INTEGER NOT NULL
        );
        INSERT INTO ledger_checkpoint (id, sequence, timestamp) VALUES (1, 0, 0);
        """
}

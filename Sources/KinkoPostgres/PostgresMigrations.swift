/// The PostgreSQL schema's history, applied in order under an advisory lock (two processes
/// starting at once migrate once). A migration that has shipped is never edited.
///
/// Types: 128-bit ids (accounts, transfers, owners) are 16-byte big-endian `bytea`, exact and
/// ordered like the numbers, as in SQLite; amounts in columns are `numeric(39,0)`; the batch
/// log keeps its binary bodies (`LedgerCodec`), which are exact. Times are nanoseconds since the
/// epoch in `bigint` (the ledger needs nanosecond order, `timestamptz` has microseconds), each
/// with a generated `timestamptz` twin (`…_at`) for people and reports.
enum PostgresMigrations {
    static let all: [(name: String, sql: [String])] = [
        ("2026-11-22 ledger", ledger),
        ("2026-11-22 governance", governance),
        ("2026-11-30 custody", custody),
        ("2026-11-30 reserve", reserve),
        ("2026-11-30 monitoring", monitoring),
        ("2026-12-01 credentials and records", credentialsAndRecords),
        ("2026-12-01 quarantine class", [
            "ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_class_check",
            "ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_class_check CHECK (class BETWEEN 1 AND 10)",
        ]),
        ("2026-12-02 rule sets as settings", ["reserve_rule_sets": "reserve.rules", "monitor_rule_sets": "monitor.rules"].sorted { $0.key < $1.key }
            .flatMap { table, kind in [settingsFromRuleSets(table: table, kind: kind), "DROP TABLE \(table)"] }),
        // What the network scan reads back (`Monitoring.scanNetwork`), as in SQLite.
        ("2026-12-02 transfers between customers", [
            """
            CREATE TABLE monitor_transfers (
                event text PRIMARY KEY,
                sender bigint NOT NULL,
                receiver bigint NOT NULL,
                time_ns bigint NOT NULL,
                time_at \(at("time_ns"))
            )
            """,
            "CREATE INDEX monitor_transfers_by_time ON monitor_transfers(time_ns, event)",
            "CREATE INDEX monitor_alerts_by_event ON monitor_alerts(event)",
        ]),
        // The console's alert-volume chart counts the last 90 days' alerts per day.
        ("2026-12-03 alerts by time raised", ["CREATE INDEX monitor_alerts_by_raised ON monitor_alerts(raised_ns)"]),
        // How each incident's loss was valued, as in SQLite.
        ("2026-12-03 incident valuations", ["ALTER TABLE reserve_incidents ADD COLUMN valuation text NOT NULL DEFAULT ''"]),
        // Every run of a day's reconciliation, kept, as in SQLite.
        ("2026-12-03 reconciliation runs", [
            """
            CREATE TABLE custody_reconciliation_runs (
                day text NOT NULL,
                run integer NOT NULL,
                computed_ns bigint NOT NULL,
                computed_at \(at("computed_ns")),
                by_name text NOT NULL,
                breaks integer NOT NULL,
                report text NOT NULL,
                PRIMARY KEY (day, run)
            )
            """,
        ]),
        // The reconciliation that uses a balance is someone else's (separate duties), as in SQLite.
        ("2026-12-03 who recorded each balance", ["ALTER TABLE custody_balance_observations ADD COLUMN recorded_by text NOT NULL DEFAULT ''"]),
        // Every travel-rule message sent or received, IVMS101 JSON, kept, as in SQLite.
        ("2026-12-03 travel-rule messages", [
            """
            CREATE TABLE monitor_travel_rule_messages (
                event text PRIMARY KEY,
                customer bigint NOT NULL,
                time_ns bigint NOT NULL,
                time_at \(at("time_ns")),
                direction text NOT NULL CHECK (direction IN ('sent', 'received')),
                vasp text,
                vasp_country text,
                asset text,
                amount_jpy bigint NOT NULL,
                message text NOT NULL,
                recorded_ns bigint NOT NULL,
                recorded_at \(at("recorded_ns"))
            )
            """,
            "CREATE INDEX monitor_travel_rule_by_customer ON monitor_travel_rule_messages(customer, time_ns, event)",
        ]),
        // The reserve's holdings as a ledger class of their own, and reserve breaks, as in SQLite.
        ("2026-12-03 reserve holdings", [
            "ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_class_check",
            "ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_class_check CHECK (class BETWEEN 1 AND 11)",
            "ALTER TABLE custody_breaks DROP CONSTRAINT custody_breaks_kind_check",
            "ALTER TABLE custody_breaks ADD CONSTRAINT custody_breaks_kind_check CHECK (kind IN ('ledger', 'wallet', 'segregation', 'observation', 'reserve'))",
        ]),
        // The ids each transfers batch used up with a transient failure, as in SQLite.
        ("2026-12-04 failed transfer ids", ["ALTER TABLE ledger_batches ADD COLUMN failed bytea NOT NULL DEFAULT ''::bytea"]),
        ("2026-12-04 account history", ["ALTER TABLE ledger_batches ADD COLUMN history bytea NOT NULL DEFAULT ''::bytea"]),
        ("2026-12-04 account user_data_32", ["ALTER TABLE ledger_accounts ADD COLUMN user_data_32 bigint NOT NULL DEFAULT 0"]),
    ]

    /// Reserve and monitoring rule sets become governance settings (`AdoptedDocuments`): each
    /// row moves to `records` as the `SettingsVersion` the domain reads, with who proposed it
    /// and when from its approval request (times keep their bits, as `PostgresValues.uint` reads).
    static func settingsFromRuleSets(table: String, kind: String) -> String {
        func unsigned(_ column: String) -> String { "(\(column)::numeric + CASE WHEN \(column) < 0 THEN 18446744073709551616 ELSE 0 END)" }
        return """
            INSERT INTO records (collection, key, tag, version, body, updated_ns)
            SELECT 'settings.\(kind)', r.version, r.status, 1,
                   convert_to(json_build_object('kind', '\(kind)', 'version', r.version, 'document', r.yaml, 'status', r.status,
                                                'requestID', r.request::text, 'proposedBy', a.initiator::text,
                                                'proposedAt', \(unsigned("a.created_ns")), 'adoptedAt', \(unsigned("r.adopted_ns")))::text, 'UTF8'),
                   COALESCE(r.adopted_ns, a.created_ns)
            FROM \(table) r JOIN approval_requests a ON a.id = r.request
            """
    }

    /// Tokens and keys of approving roles wait for a second admin (`status`, the activating
    /// `request_id`); a token remembers the admin whose enrolment it came from (`issued_by`).
    /// `records` holds every module's generic records (`RecordStore`).
    static let credentialsAndRecords = [
        "ALTER TABLE tokens ADD COLUMN status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'awaiting_approval'))",
        "ALTER TABLE tokens ADD COLUMN issued_by bigint REFERENCES principals(id)",
        "ALTER TABLE tokens ADD COLUMN request_id bigint REFERENCES approval_requests(id)",
        "ALTER TABLE signer_keys ADD COLUMN status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'awaiting_approval'))",
        "ALTER TABLE signer_keys ADD COLUMN request_id bigint REFERENCES approval_requests(id)",
        """
        CREATE TABLE records (
            collection text NOT NULL CHECK (length(collection) BETWEEN 1 AND 64),
            key text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
            tag text NOT NULL,
            version bigint NOT NULL CHECK (version >= 1),
            body bytea NOT NULL,
            updated_ns bigint NOT NULL,
            updated_at \(at("updated_ns")),
            PRIMARY KEY (collection, key)
        )
        """,
        "CREATE INDEX records_by_tag ON records(collection, tag, key)",
    ]

    /// `to_timestamp` of nanoseconds, for generated columns.
    static func at(_ column: String) -> String {
        "timestamptz GENERATED ALWAYS AS (to_timestamp(\(column)::double precision / 1e9)) STORED"
    }

    static let ledger = [
        """
        CREATE TABLE ledger_assets (
            ledger bigint PRIMARY KEY CHECK (ledger BETWEEN 1 AND 4294967295),
            code text NOT NULL UNIQUE CHECK (length(code) BETWEEN 2 AND 10),
            scale smallint NOT NULL CHECK (scale BETWEEN 0 AND 38),
            kind text NOT NULL CHECK (kind IN ('crypto', 'fiat'))
        )
        """,
        """
        CREATE TABLE ledger_batches (
            sequence bigint PRIMARY KEY CHECK (sequence > 0),
            kind smallint NOT NULL CHECK (kind BETWEEN 1 AND 4),
            timestamp bigint NOT NULL,
            recorded_at \(at("timestamp")),
            count integer NOT NULL CHECK (count >= 0),
            body bytea NOT NULL,
            expired bytea NOT NULL
        )
        """,
        "CREATE INDEX ledger_batches_by_time ON ledger_batches(timestamp)",
        "CREATE INDEX ledger_batches_definitions ON ledger_batches(sequence) WHERE kind IN (1, 2)",
        """
        CREATE TABLE ledger_accounts (
            id bytea PRIMARY KEY CHECK (length(id) = 16),
            ledger bigint NOT NULL REFERENCES ledger_assets(ledger),
            code integer NOT NULL CHECK (code BETWEEN 1 AND 65535),
            flags integer NOT NULL,
            class smallint NOT NULL CHECK (class BETWEEN 1 AND 9),
            owner bytea NOT NULL CHECK (length(owner) = 16),
            user_data_64 bigint NOT NULL,
            timestamp bigint NOT NULL,
            created_at \(at("timestamp")),
            created_sequence bigint NOT NULL REFERENCES ledger_batches(sequence)
        )
        """,
        "CREATE INDEX ledger_accounts_by_owner ON ledger_accounts(owner)",
        """
        CREATE TABLE ledger_balance_pages (
            page integer PRIMARY KEY CHECK (page >= 0),
            balances bytea NOT NULL CHECK (length(balances) > 0 AND length(balances) % 64 = 0)
        )
        """,
        """
        CREATE TABLE ledger_pending (
            id bytea PRIMARY KEY CHECK (length(id) = 16),
            status smallint NOT NULL CHECK (status BETWEEN 1 AND 4),
            expires_at bigint,
            transfer bytea NOT NULL CHECK (length(transfer) = 128)
        )
        """,
        """
        CREATE TABLE ledger_windows (
            "window" bigint PRIMARY KEY,
            first_sequence bigint NOT NULL,
            last_sequence bigint NOT NULL CHECK (last_sequence >= first_sequence)
        )
        """,
        """
        CREATE TABLE ledger_postings (
            "window" bigint NOT NULL REFERENCES ledger_windows("window"),
            account_id bytea NOT NULL CHECK (length(account_id) = 16),
            locations bytea NOT NULL CHECK (length(locations) > 0 AND length(locations) % 8 = 0),
            PRIMARY KEY ("window", account_id)
        )
        """,
        """
        CREATE TABLE ledger_checkpoint (
            id smallint PRIMARY KEY CHECK (id = 1),
            sequence bigint NOT NULL,
            timestamp bigint NOT NULL
        )
        """,
        "INSERT INTO ledger_checkpoint (id, sequence, timestamp) VALUES (1, 0, 0)",
    ]

    static let governance = [
        """
        CREATE TABLE principals (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
            kind text NOT NULL CHECK (kind IN ('person', 'client')),
            roles text NOT NULL,
            created_ns bigint NOT NULL,
            created_at \(at("created_ns"))
        )
        """,
        """
        CREATE TABLE tokens (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            principal bigint NOT NULL REFERENCES principals(id),
            secret_hash bytea NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
            created_ns bigint NOT NULL,
            expires_ns bigint,
            revoked_ns bigint
        )
        """,
        """
        CREATE TABLE signer_keys (
            id text PRIMARY KEY,
            principal bigint NOT NULL REFERENCES principals(id),
            algorithm text NOT NULL CHECK (algorithm IN ('ed25519', 'p256')),
            public_key bytea NOT NULL,
            registered_ns bigint NOT NULL,
            revoked_ns bigint
        )
        """,
        """
        CREATE TABLE approval_requests (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            action text NOT NULL,
            payload bytea NOT NULL,
            policy bytea NOT NULL,
            revision integer NOT NULL CHECK (revision >= 1),
            initiator bigint NOT NULL REFERENCES principals(id),
            created_ns bigint NOT NULL,
            not_before_ns bigint NOT NULL,
            expires_ns bigint NOT NULL,
            status text NOT NULL CHECK (status IN ('open', 'executed', 'cancelled')),
            executed_ns bigint
        )
        """,
        """
        CREATE TABLE approvals (
            request bigint NOT NULL REFERENCES approval_requests(id),
            approver bigint NOT NULL REFERENCES principals(id),
            digest bytea NOT NULL CHECK (length(digest) = 32),
            key_id text NOT NULL REFERENCES signer_keys(id),
            signature bytea NOT NULL,
            approved_ns bigint NOT NULL,
            PRIMARY KEY (request, approver, digest)
        )
        """,
        """
        CREATE TABLE audit_entries (
            position bigint PRIMARY KEY CHECK (position >= 0),
            entry bytea NOT NULL
        )
        """,
        """
        CREATE TABLE audit_checkpoints (
            size bigint PRIMARY KEY CHECK (size >= 1),
            root bytea NOT NULL CHECK (length(root) = 32),
            time_ns bigint NOT NULL,
            signed_at \(at("time_ns")),
            key_id bytea NOT NULL,
            signature bytea NOT NULL
        )
        """,
        """
        CREATE TABLE audit_keys (
            key_id bytea PRIMARY KEY,
            public_key bytea NOT NULL,
            added_ns bigint NOT NULL
        )
        """,
        """
        CREATE TABLE audit_state (
            id smallint PRIMARY KEY CHECK (id = 1),
            frontier bytea NOT NULL
        )
        """,
        "INSERT INTO audit_state (id, frontier) VALUES (1, '\\x0000000000000000'::bytea)",
    ]
}

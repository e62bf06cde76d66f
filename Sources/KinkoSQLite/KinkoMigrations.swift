import GRDB

/// The schema's history. A migration that has shipped is never edited: change the schema with
/// a new one. Table names are strings, not derived from types.
enum KinkoMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("2026-11-22 ledger") { db in
            try db.execute(sql: ledgerSchema)
        }
        migrator.registerMigration("2026-11-22 governance") { db in
            try db.execute(sql: governanceSchema)
        }
        migrator.registerMigration("2026-11-22 ledger batch times") { db in
            try db.execute(sql: "CREATE INDEX ledger_batches_by_time ON ledger_batches(timestamp)")
        }
        migrator.registerMigration("2026-11-22 approval policies") { db in
            // Each request carries the policy it was filed under (part of what is signed).
            try db.execute(sql: "ALTER TABLE approval_requests ADD COLUMN policy BLOB NOT NULL DEFAULT x''")
        }
        migrator.registerMigration("2026-11-22 custody") { db in
            try db.execute(sql: custodySchema)
        }
        migrator.registerMigration("2026-11-22 reserve") { db in
            try db.execute(sql: reserveSchema)
        }
        migrator.registerMigration("2026-11-22 monitoring") { db in
            try db.execute(sql: monitoringSchema)
        }
        migrator.registerMigration("2026-12-01 credentials and records") { db in
            try db.execute(sql: credentialsAndRecordsSchema)
        }
        migrator.registerMigration("2026-12-01 quarantine class") { db in
            // SQLite cannot change a CHECK in place: the table is rebuilt with class 10 allowed.
            try db.execute(sql: """
                CREATE TABLE ledger_accounts_new (
                    id BLOB PRIMARY KEY CHECK (length(id) = 16),
                    ledger INTEGER NOT NULL REFERENCES ledger_assets(ledger),
                    code INTEGER NOT NULL CHECK (code BETWEEN 1 AND 65535),
                    flags INTEGER NOT NULL,
                    class INTEGER NOT NULL CHECK (class BETWEEN 1 AND 10),
                    owner BLOB NOT NULL CHECK (length(owner) = 16),
                    user_data_64 INTEGER NOT NULL,
                    timestamp INTEGER NOT NULL,
                    created_sequence INTEGER NOT NULL REFERENCES ledger_batches(sequence)
                ) WITHOUT ROWID;
                INSERT INTO ledger_accounts_new SELECT * FROM ledger_accounts;
                DROP TABLE ledger_accounts;
                ALTER TABLE ledger_accounts_new RENAME TO ledger_accounts;
                CREATE INDEX ledger_accounts_by_owner ON ledger_accounts(owner);
                """)
        }
        migrator.registerMigration("2026-12-02 rule sets as settings") { db in
            // Reserve and monitoring rule sets become governance settings (`AdoptedDocuments`):
            // each row moves to `records` as the `SettingsVersion` the domain reads, with who
            // proposed it and when from its approval request; the tables go.
            for (table, kind) in [("reserve_rule_sets", "reserve.rules"), ("monitor_rule_sets", "monitor.rules")] {
                try db.execute(sql: """
                    INSERT INTO records (collection, key, tag, version, body, updated_at)
                    SELECT 'settings.' || ?, r.version, r.status, 1,
                           CAST(json_object('kind', ?, 'version', r.version, 'document', r.yaml, 'status', r.status,
                                            'requestID', CAST(r.request AS TEXT), 'proposedBy', CAST(a.initiator AS TEXT),
                                            'proposedAt', a.created_at, 'adoptedAt', r.adopted_at) AS BLOB),
                           COALESCE(r.adopted_at, a.created_at)
                    FROM \(table) r JOIN approval_requests a ON a.id = r.request
                    """, arguments: [kind, kind])
                try db.execute(sql: "DROP TABLE \(table)")
            }
        }
        migrator.registerMigration("2026-12-02 transfers between customers") { db in
            // What the network scan reads back (`Monitoring.scanNetwork`): every evaluated transfer
            // between two customers, sender and receiver; network alerts are found by their
            // motif key (`event`). Transfers evaluated before this migration were not kept.
            try db.execute(sql: """
                CREATE TABLE monitor_transfers (
                    event TEXT PRIMARY KEY,
                    sender INTEGER NOT NULL,
                    receiver INTEGER NOT NULL,
                    time INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX monitor_transfers_by_time ON monitor_transfers(time, event);
                CREATE INDEX monitor_alerts_by_event ON monitor_alerts(event);
                """)
        }
        migrator.registerMigration("2026-12-03 alerts by time raised") { db in
            // The console's alert-volume chart counts the last 90 days' alerts per day.
            try db.execute(sql: "CREATE INDEX monitor_alerts_by_raised ON monitor_alerts(raised_at)")
        }
        migrator.registerMigration("2026-12-03 incident valuations") { db in
            // How each incident's loss was valued (the price, its age, stale or not), for the
            // requirement's incidents line; incidents declared before keep "".
            try db.execute(sql: "ALTER TABLE reserve_incidents ADD COLUMN valuation TEXT NOT NULL DEFAULT ''")
        }
        migrator.registerMigration("2026-12-03 reconciliation runs") { db in
            // Every run of a day's reconciliation, kept: a rerun no longer erases what the
            // earlier one found.
            try db.execute(sql: """
                CREATE TABLE custody_reconciliation_runs (
                    day TEXT NOT NULL,
                    run INTEGER NOT NULL,
                    computed_at INTEGER NOT NULL,
                    by TEXT NOT NULL,
                    breaks INTEGER NOT NULL,
                    report TEXT NOT NULL,
                    PRIMARY KEY (day, run)
                ) WITHOUT ROWID
                """)
        }
        migrator.registerMigration("2026-12-03 who recorded each balance") { db in
            // The reconciliation that uses a balance is someone else's (separate duties).
            try db.execute(sql: "ALTER TABLE custody_balance_observations ADD COLUMN recorded_by TEXT NOT NULL DEFAULT ''")
        }
        migrator.registerMigration("2026-12-03 travel-rule messages") { db in
            // Every travel-rule message sent (withdrawals) or received (deposits), IVMS101 JSON,
            // kept with its transfer's event for the transaction-record period and never deleted.
            try db.execute(sql: """
                CREATE TABLE monitor_travel_rule_messages (
                    event TEXT PRIMARY KEY,
                    customer INTEGER NOT NULL,
                    time INTEGER NOT NULL,
                    direction TEXT NOT NULL CHECK (direction IN ('sent', 'received')),
                    vasp TEXT,
                    vasp_country TEXT,
                    asset TEXT,
                    amount_jpy INTEGER NOT NULL,
                    message TEXT NOT NULL,
                    recorded_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX monitor_travel_rule_by_customer ON monitor_travel_rule_messages(customer, time, event);
                """)
        }
        migrator.registerMigration("2026-12-03 reserve holdings") { db in
            // The reserve's holdings become a ledger class of their own (11, reserve_holding),
            // and a reconciliation may find a reserve break. SQLite cannot change a CHECK in
            // place: both tables are rebuilt with the new value allowed.
            try db.execute(sql: """
                CREATE TABLE ledger_accounts_new (
                    id BLOB PRIMARY KEY CHECK (length(id) = 16),
                    ledger INTEGER NOT NULL REFERENCES ledger_assets(ledger),
                    code INTEGER NOT NULL CHECK (code BETWEEN 1 AND 65535),
                    flags INTEGER NOT NULL,
                    class INTEGER NOT NULL CHECK (class BETWEEN 1 AND 11),
                    owner BLOB NOT NULL CHECK (length(owner) = 16),
                    user_data_64 INTEGER NOT NULL,
                    timestamp INTEGER NOT NULL,
                    created_sequence INTEGER NOT NULL REFERENCES ledger_batches(sequence)
                ) WITHOUT ROWID;
                INSERT INTO ledger_accounts_new SELECT * FROM ledger_accounts;
                DROP TABLE ledger_accounts;
                ALTER TABLE ledger_accounts_new RENAME TO ledger_accounts;
                CREATE INDEX ledger_accounts_by_owner ON ledger_accounts(owner);
                CREATE TABLE custody_breaks_new (
                    day TEXT NOT NULL,
                    position INTEGER NOT NULL,
                    asset TEXT NOT NULL,
                    kind TEXT NOT NULL CHECK (kind IN ('ledger', 'wallet', 'segregation', 'observation', 'reserve')),
                    wallet TEXT,
                    size BLOB NOT NULL,
                    cause TEXT NOT NULL,
                    PRIMARY KEY (day, position)
                ) WITHOUT ROWID;
                INSERT INTO custody_breaks_new SELECT * FROM custody_breaks;
                DROP TABLE custody_breaks;
                ALTER TABLE custody_breaks_new RENAME TO custody_breaks;
                """)
        }
        migrator.registerMigration("2026-12-04 failed transfer ids") { db in
            // The ids each transfers batch used up with a transient failure (id_already_failed).
            try db.execute(sql: "ALTER TABLE ledger_batches ADD COLUMN failed BLOB NOT NULL DEFAULT x''")
        }
        migrator.registerMigration("2026-12-04 account history") { db in
            // Balances after each transfer of accounts with the history flag (get_account_balances).
            try db.execute(sql: "ALTER TABLE ledger_batches ADD COLUMN history BLOB NOT NULL DEFAULT x''")
        }
        migrator.registerMigration("2026-12-04 account user_data_32") { db in
            // The SQL rows repeat an account's user_data_32 (the log always had it); rows of
            // accounts created before say 0.
            try db.execute(sql: "ALTER TABLE ledger_accounts ADD COLUMN user_data_32 INTEGER NOT NULL DEFAULT 0")
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

    /// Principals, credentials, approvals and the audit log. Roles are stored as a sorted,
    /// comma-separated list; token secrets only as SHA-256; audit entries as their canonical
    /// bytes, one signed checkpoint per entry.
    static let governanceSchema = """
        CREATE TABLE principals (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
            kind TEXT NOT NULL CHECK (kind IN ('person', 'client')),
            roles TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE tokens (
            id INTEGER PRIMARY KEY,
            principal INTEGER NOT NULL REFERENCES principals(id),
            secret_hash BLOB NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
            created_at INTEGER NOT NULL,
            expires_at INTEGER,
            revoked_at INTEGER
        );
        CREATE TABLE signer_keys (
            id TEXT PRIMARY KEY,
            principal INTEGER NOT NULL REFERENCES principals(id),
            algorithm TEXT NOT NULL CHECK (algorithm IN ('ed25519', 'p256')),
            public_key BLOB NOT NULL,
            registered_at INTEGER NOT NULL,
            revoked_at INTEGER
        );
        CREATE TABLE approval_requests (
            id INTEGER PRIMARY KEY,
            action TEXT NOT NULL,
            payload BLOB NOT NULL,
            revision INTEGER NOT NULL CHECK (revision >= 1),
            initiator INTEGER NOT NULL REFERENCES principals(id),
            created_at INTEGER NOT NULL,
            not_before INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('open', 'executed', 'cancelled')),
            executed_at INTEGER
        );
        CREATE TABLE approvals (
            request INTEGER NOT NULL REFERENCES approval_requests(id),
            approver INTEGER NOT NULL REFERENCES principals(id),
            digest BLOB NOT NULL CHECK (length(digest) = 32),
            key_id TEXT NOT NULL REFERENCES signer_keys(id),
            signature BLOB NOT NULL,
            approved_at INTEGER NOT NULL,
            PRIMARY KEY (request, approver, digest)
        );
        CREATE TABLE audit_entries (
            position INTEGER PRIMARY KEY,
            entry BLOB NOT NULL
        );
        CREATE TABLE audit_checkpoints (
            size INTEGER PRIMARY KEY CHECK (size >= 1),
            root BLOB NOT NULL CHECK (length(root) = 32),
            time INTEGER NOT NULL,
            key_id BLOB NOT NULL,
            signature BLOB NOT NULL
        );
        CREATE TABLE audit_keys (
            key_id BLOB PRIMARY KEY,
            public_key BLOB NOT NULL,
            added_at INTEGER NOT NULL
        );
        CREATE TABLE audit_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            frontier BLOB NOT NULL
        );
        INSERT INTO audit_state (id, frontier) VALUES (1, x'0000000000000000');
        """

    /// Tokens and keys of approving roles wait for a second admin (`status`, the activating
    /// `request_id`); a token remembers the admin whose enrolment it came from (`issued_by`).
    /// `records` holds every module's generic records (`RecordStore`).
    static let credentialsAndRecordsSchema = """
        ALTER TABLE tokens ADD COLUMN status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'awaiting_approval'));
        ALTER TABLE tokens ADD COLUMN issued_by INTEGER REFERENCES principals(id);
        ALTER TABLE tokens ADD COLUMN request_id INTEGER REFERENCES approval_requests(id);
        ALTER TABLE signer_keys ADD COLUMN status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'awaiting_approval'));
        ALTER TABLE signer_keys ADD COLUMN request_id INTEGER REFERENCES approval_requests(id);
        CREATE TABLE records (
            collection TEXT NOT NULL CHECK (length(collection) BETWEEN 1 AND 64),
            key TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
            tag TEXT NOT NULL,
            version INTEGER NOT NULL CHECK (version >= 1),
            body BLOB NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (collection, key)
        ) WITHOUT ROWID;
        CREATE INDEX records_by_tag ON records(collection, tag, key);
        """

    /// Wallets, observations, the whitelist, movements and reconciliations. Amounts are 16-byte
    /// big-endian blobs like the ledger's.
    static let custodySchema = """
        CREATE TABLE custody_vendors (
            name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
            notice_date TEXT,
            notice_reference TEXT
        );
        CREATE TABLE custody_wallets (
            id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
            chain TEXT NOT NULL,
            temperature TEXT NOT NULL CHECK (temperature IN ('hot', 'cold')),
            purpose TEXT NOT NULL CHECK (purpose IN ('customer_pool', 'own_funds', 'guarantee', 'reserve')),
            vendor TEXT NOT NULL REFERENCES custody_vendors(name),
            vendor_version TEXT NOT NULL,
            frozen_at INTEGER,
            frozen_reason TEXT,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE custody_wallet_assets (
            wallet TEXT NOT NULL REFERENCES custody_wallets(id),
            asset TEXT NOT NULL,
            velocity_limit BLOB CHECK (velocity_limit IS NULL OR length(velocity_limit) = 16),
            PRIMARY KEY (wallet, asset)
        ) WITHOUT ROWID;
        CREATE TABLE custody_wallet_addresses (
            wallet TEXT NOT NULL REFERENCES custody_wallets(id),
            address TEXT NOT NULL,
            PRIMARY KEY (wallet, address)
        ) WITHOUT ROWID;
        CREATE TABLE custody_balance_observations (
            id INTEGER PRIMARY KEY,
            wallet TEXT NOT NULL REFERENCES custody_wallets(id),
            asset TEXT NOT NULL,
            amount BLOB NOT NULL CHECK (length(amount) = 16),
            observed_at INTEGER NOT NULL,
            source TEXT NOT NULL,
            recorded_at INTEGER NOT NULL
        );
        CREATE INDEX custody_balances_latest ON custody_balance_observations(wallet, asset, observed_at);
        CREATE TABLE custody_price_observations (
            id INTEGER PRIMARY KEY,
            asset TEXT NOT NULL,
            mantissa BLOB NOT NULL CHECK (length(mantissa) = 16),
            scale INTEGER NOT NULL CHECK (scale BETWEEN 0 AND 18),
            observed_at INTEGER NOT NULL,
            source TEXT NOT NULL,
            recorded_at INTEGER NOT NULL
        );
        CREATE INDEX custody_prices_latest ON custody_price_observations(asset, observed_at);
        CREATE TABLE custody_whitelist (
            id INTEGER PRIMARY KEY,
            asset TEXT NOT NULL,
            address TEXT NOT NULL CHECK (length(address) BETWEEN 1 AND 128),
            label TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'active')),
            request INTEGER NOT NULL REFERENCES approval_requests(id),
            usable_from INTEGER,
            created_at INTEGER NOT NULL,
            UNIQUE (asset, address)
        );
        CREATE TABLE custody_movements (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('hot_to_cold', 'cold_to_hot', 'withdrawal', 'guarantee_top_up')),
            from_wallet TEXT NOT NULL REFERENCES custody_wallets(id),
            to_wallet TEXT REFERENCES custody_wallets(id),
            to_address TEXT,
            asset TEXT NOT NULL,
            amount BLOB NOT NULL CHECK (length(amount) = 16),
            ledger_pending_id BLOB,
            initiator INTEGER NOT NULL REFERENCES principals(id),
            request INTEGER NOT NULL REFERENCES approval_requests(id),
            status TEXT NOT NULL CHECK (status IN ('awaiting_approval', 'released', 'completed')),
            created_at INTEGER NOT NULL,
            released_at INTEGER,
            completed_at INTEGER,
            transaction_hash TEXT,
            network_fee BLOB
        );
        CREATE INDEX custody_movements_outflows ON custody_movements(from_wallet, asset, released_at);
        CREATE TABLE custody_reconciliations (
            day TEXT NOT NULL,
            position INTEGER NOT NULL,
            asset TEXT NOT NULL,
            cutoff INTEGER NOT NULL,
            liabilities BLOB NOT NULL,
            ledger_holdings BLOB NOT NULL,
            observed BLOB,
            computed_at INTEGER NOT NULL,
            PRIMARY KEY (day, position),
            UNIQUE (day, asset)
        ) WITHOUT ROWID;
        CREATE TABLE custody_breaks (
            day TEXT NOT NULL,
            position INTEGER NOT NULL,
            asset TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('ledger', 'wallet', 'segregation', 'observation')),
            wallet TEXT,
            size BLOB NOT NULL,
            cause TEXT NOT NULL,
            PRIMARY KEY (day, position)
        ) WITHOUT ROWID;
        CREATE TABLE custody_reconciliation_days (
            day TEXT PRIMARY KEY,
            cutoff INTEGER NOT NULL,
            computed_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE custody_alerts (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            subject TEXT NOT NULL,
            message TEXT NOT NULL,
            raised_at INTEGER NOT NULL
        );
        """

    /// Rule sets, volumes, insurance, requirements, incidents and plans. Entitlements and plan
    /// lines are packed blobs (48 and 80 bytes a customer) so a 260,000-customer incident is a
    /// few rows, not hundreds of thousands.
    static let reserveSchema = """
        CREATE TABLE reserve_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            volume_watermark INTEGER NOT NULL,
            insolvent_since INTEGER
        );
        INSERT INTO reserve_state (id, volume_watermark) VALUES (1, 0);
        CREATE TABLE reserve_rule_sets (
            version TEXT PRIMARY KEY,
            yaml TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('proposed', 'adopted')),
            request INTEGER NOT NULL REFERENCES approval_requests(id),
            adopted_at INTEGER
        );
        CREATE TABLE reserve_volumes (
            day TEXT NOT NULL,
            category TEXT NOT NULL,
            source TEXT NOT NULL CHECK (source IN ('ledger', 'import')),
            amount BLOB NOT NULL CHECK (length(amount) = 16),
            PRIMARY KEY (day, category, source)
        ) WITHOUT ROWID;
        CREATE TABLE reserve_insurance (
            id INTEGER PRIMARY KEY,
            insurer TEXT NOT NULL,
            coverage TEXT NOT NULL,
            policy_limit BLOB NOT NULL CHECK (length(policy_limit) = 16),
            deductible BLOB NOT NULL CHECK (length(deductible) = 16),
            exclusions TEXT NOT NULL,
            starts TEXT NOT NULL,
            ends TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE reserve_insurance_claims (
            policy INTEGER NOT NULL REFERENCES reserve_insurance(id),
            incident INTEGER NOT NULL,
            asset TEXT NOT NULL,
            amount BLOB NOT NULL CHECK (length(amount) = 16),
            PRIMARY KEY (policy, incident, asset)
        ) WITHOUT ROWID;
        CREATE TABLE reserve_requirements (
            id INTEGER PRIMARY KEY,
            computed_at INTEGER NOT NULL,
            rule_version TEXT NOT NULL,
            gross BLOB NOT NULL,
            insurance_offset BLOB NOT NULL,
            required BLOB NOT NULL,
            funded BLOB NOT NULL,
            lines TEXT NOT NULL
        );
        CREATE TABLE reserve_incidents (
            id INTEGER PRIMARY KEY,
            loss_type TEXT NOT NULL,
            lost_at INTEGER NOT NULL,
            detected_at INTEGER NOT NULL,
            declared_at INTEGER NOT NULL,
            declared_by INTEGER NOT NULL REFERENCES principals(id),
            status TEXT NOT NULL CHECK (status IN ('declared', 'paying', 'paid')),
            paid_at INTEGER,
            loss_jpy BLOB NOT NULL
        );
        CREATE TABLE reserve_incident_losses (
            incident INTEGER NOT NULL REFERENCES reserve_incidents(id),
            position INTEGER NOT NULL,
            wallet TEXT NOT NULL REFERENCES custody_wallets(id),
            asset TEXT NOT NULL,
            amount BLOB NOT NULL CHECK (length(amount) = 16),
            PRIMARY KEY (incident, position)
        ) WITHOUT ROWID;
        CREATE TABLE reserve_entitlements (
            incident INTEGER NOT NULL REFERENCES reserve_incidents(id),
            asset TEXT NOT NULL,
            packed BLOB NOT NULL CHECK (length(packed) % 48 = 0),
            PRIMARY KEY (incident, asset)
        ) WITHOUT ROWID;
        CREATE TABLE reserve_plans (
            incident INTEGER NOT NULL REFERENCES reserve_incidents(id),
            asset TEXT NOT NULL,
            mode TEXT NOT NULL CHECK (mode IN ('in_kind', 'jpy')),
            price_mantissa BLOB,
            price_scale INTEGER,
            payment_asset TEXT NOT NULL,
            total_loss BLOB NOT NULL,
            total_payment BLOB NOT NULL,
            shortfall BLOB NOT NULL,
            sources TEXT NOT NULL,
            lines BLOB NOT NULL CHECK (length(lines) % 80 = 0),
            request INTEGER NOT NULL REFERENCES approval_requests(id),
            status TEXT NOT NULL CHECK (status IN ('proposed', 'executing', 'paid')),
            PRIMARY KEY (incident, asset)
        ) WITHOUT ROWID;
        """
}

extension KinkoMigrations {
    /// Monitoring: rule sets under approval, address lists (the current version per kind and
    /// asset, and every import in `monitor_list_imports`), KYC profiles, per-customer and per-IP
    /// state (bounded binary blobs), every evaluated event's verdict, alerts and cases.
    static let monitoringSchema = """
        CREATE TABLE monitor_meta (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            batches INTEGER NOT NULL,
            jurisdictions_version TEXT,
            jurisdictions TEXT
        );
        INSERT INTO monitor_meta (id, batches) VALUES (1, 0);
        CREATE TABLE monitor_rule_sets (
            version TEXT PRIMARY KEY,
            yaml TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('proposed', 'adopted')),
            request INTEGER NOT NULL REFERENCES approval_requests(id),
            adopted_at INTEGER
        );
        CREATE TABLE monitor_lists (
            kind TEXT NOT NULL CHECK (kind IN ('sanctioned', 'stolen')),
            asset TEXT NOT NULL,
            version TEXT NOT NULL,
            imported_at INTEGER NOT NULL,
            addresses INTEGER NOT NULL,
            PRIMARY KEY (kind, asset)
        ) WITHOUT ROWID;
        CREATE TABLE monitor_list_addresses (
            kind TEXT NOT NULL,
            asset TEXT NOT NULL,
            address TEXT NOT NULL,
            PRIMARY KEY (kind, asset, address)
        ) WITHOUT ROWID;
        CREATE TABLE monitor_list_imports (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            asset TEXT NOT NULL,
            version TEXT NOT NULL,
            imported_at INTEGER NOT NULL,
            addresses INTEGER NOT NULL
        );
        CREATE TABLE monitor_customers (
            customer INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            country TEXT NOT NULL,
            declared_income_jpy INTEGER NOT NULL,
            declared_assets_jpy INTEGER NOT NULL
        );
        CREATE TABLE monitor_state (
            customer INTEGER PRIMARY KEY,
            state BLOB NOT NULL
        );
        CREATE TABLE monitor_ip_state (
            ip TEXT PRIMARY KEY,
            state BLOB NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE monitor_alerts (
            id INTEGER PRIMARY KEY,
            event TEXT NOT NULL,
            customer INTEGER NOT NULL,
            time INTEGER NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('review', 'block')),
            rule_set TEXT NOT NULL,
            hits TEXT NOT NULL,
            scenarios TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('open', 'in_case', 'dismissed', 'closed')),
            case_id INTEGER REFERENCES monitor_cases(id),
            raised_at INTEGER NOT NULL
        );
        CREATE INDEX monitor_alerts_by_status ON monitor_alerts(status, id);
        CREATE TABLE monitor_events (
            id TEXT PRIMARY KEY,
            customer INTEGER NOT NULL,
            time INTEGER NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('clear', 'review', 'block')),
            alert INTEGER REFERENCES monitor_alerts(id),
            rule_set TEXT NOT NULL,
            batch INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE monitor_cases (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            assignee TEXT,
            status TEXT NOT NULL CHECK (status IN ('open', 'investigating', 'closed')),
            disposition TEXT,
            opened_by TEXT NOT NULL,
            opened_at INTEGER NOT NULL,
            closed_at INTEGER,
            notes TEXT NOT NULL
        );
        """
}

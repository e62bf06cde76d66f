extension PostgresMigrations {
    /// Monitoring, table for table as SQLite's `monitoringSchema`: rule sets under approval,
    /// address lists (the current version per kind and asset, and every import), KYC profiles,
    /// per-customer and per-IP state (bounded binary blobs), every evaluated event's verdict,
    /// alerts and cases.
    ///
    /// Names: a time is nanoseconds in a `bigint` named `…_ns` (SQLite's `time`, `raised_at`,
    /// `adopted_at`, `imported_at`, `opened_at`, `closed_at`), with a generated `timestamptz`
    /// twin named `…_at`. Customer ids and yen figures are 64-bit unsigned values kept bit for
    /// bit in `bigint` (`PostgresValues.int`), as SQLite keeps them. `monitor_rule_sets.seq`
    /// stands in for SQLite's rowid: rule sets are listed in the order they were proposed.
    /// `monitor_cases` comes before `monitor_alerts`, which refers to it.
    static let monitoring: [String] = [
        """
        CREATE TABLE monitor_meta (
            id smallint PRIMARY KEY CHECK (id = 1),
            batches bigint NOT NULL,
            jurisdictions_version text,
            jurisdictions text
        )
        """,
        "INSERT INTO monitor_meta (id, batches) VALUES (1, 0)",
        """
        CREATE TABLE monitor_rule_sets (
            version text PRIMARY KEY,
            seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
            yaml text NOT NULL,
            status text NOT NULL CHECK (status IN ('proposed', 'adopted')),
            request bigint NOT NULL REFERENCES approval_requests(id),
            adopted_ns bigint,
            adopted_at \(at("adopted_ns"))
        )
        """,
        """
        CREATE TABLE monitor_lists (
            kind text NOT NULL CHECK (kind IN ('sanctioned', 'stolen')),
            asset text NOT NULL,
            version text NOT NULL,
            imported_ns bigint NOT NULL,
            imported_at \(at("imported_ns")),
            addresses bigint NOT NULL,
            PRIMARY KEY (kind, asset)
        )
        """,
        """
        CREATE TABLE monitor_list_addresses (
            kind text NOT NULL,
            asset text NOT NULL,
            address text NOT NULL,
            PRIMARY KEY (kind, asset, address)
        )
        """,
        """
        CREATE TABLE monitor_list_imports (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            kind text NOT NULL,
            asset text NOT NULL,
            version text NOT NULL,
            imported_ns bigint NOT NULL,
            imported_at \(at("imported_ns")),
            addresses bigint NOT NULL
        )
        """,
        """
        CREATE TABLE monitor_customers (
            customer bigint PRIMARY KEY,
            name text NOT NULL,
            country text NOT NULL,
            declared_income_jpy bigint NOT NULL,
            declared_assets_jpy bigint NOT NULL
        )
        """,
        """
        CREATE TABLE monitor_state (
            customer bigint PRIMARY KEY,
            state bytea NOT NULL
        )
        """,
        """
        CREATE TABLE monitor_ip_state (
            ip text PRIMARY KEY,
            state bytea NOT NULL
        )
        """,
        """
        CREATE TABLE monitor_cases (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            title text NOT NULL,
            assignee text,
            status text NOT NULL CHECK (status IN ('open', 'investigating', 'closed')),
            disposition text,
            opened_by text NOT NULL,
            opened_ns bigint NOT NULL,
            opened_at \(at("opened_ns")),
            closed_ns bigint,
            closed_at \(at("closed_ns")),
            notes text NOT NULL
        )
        """,
        """
        CREATE TABLE monitor_alerts (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            event text NOT NULL,
            customer bigint NOT NULL,
            time_ns bigint NOT NULL,
            time_at \(at("time_ns")),
            outcome text NOT NULL CHECK (outcome IN ('review', 'block')),
            rule_set text NOT NULL,
            hits text NOT NULL,
            scenarios text NOT NULL,
            status text NOT NULL CHECK (status IN ('open', 'in_case', 'dismissed', 'closed')),
            case_id bigint REFERENCES monitor_cases(id),
            raised_ns bigint NOT NULL,
            raised_at \(at("raised_ns"))
        )
        """,
        "CREATE INDEX monitor_alerts_by_status ON monitor_alerts(status, id)",
        // Cases list their alerts by case_id (SQLite scans; here the table can be large).
        "CREATE INDEX monitor_alerts_by_case ON monitor_alerts(case_id, id) WHERE case_id IS NOT NULL",
        """
        CREATE TABLE monitor_events (
            id text PRIMARY KEY,
            customer bigint NOT NULL,
            time_ns bigint NOT NULL,
            time_at \(at("time_ns")),
            outcome text NOT NULL CHECK (outcome IN ('clear', 'review', 'block')),
            alert bigint REFERENCES monitor_alerts(id),
            rule_set text NOT NULL,
            batch bigint NOT NULL
        )
        """,
    ]
}

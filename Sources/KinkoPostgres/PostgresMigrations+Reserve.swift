extension PostgresMigrations {
    /// Rule sets, volumes, insurance, requirements, incidents and plans: SQLite's reserve schema
    /// with amounts (and the plan's price mantissa) in `numeric(39,0)`, entitlements and plan
    /// lines still packed `bytea` (48 and 80 bytes a customer), and nanosecond times as
    /// `…_ns bigint` (SQLite's `…_at` with `_at` dropped; `insolvent_since` becomes
    /// `insolvent_since_ns`), each with a generated `…_at` `timestamptz` twin. Rule sets gain an
    /// identity `id` that stands in for SQLite's rowid (the order they were proposed in).
    /// Runs after the custody migration (incident losses reference `custody_wallets`).
    static let reserve: [String] = [
        """
        CREATE TABLE reserve_state (
            id smallint PRIMARY KEY CHECK (id = 1),
            volume_watermark bigint NOT NULL,
            insolvent_since_ns bigint,
            insolvent_since_at \(at("insolvent_since_ns"))
        )
        """,
        "INSERT INTO reserve_state (id, volume_watermark) VALUES (1, 0)",
        """
        CREATE TABLE reserve_rule_sets (
            id bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
            version text PRIMARY KEY,
            yaml text NOT NULL,
            status text NOT NULL CHECK (status IN ('proposed', 'adopted')),
            request bigint NOT NULL REFERENCES approval_requests(id),
            adopted_ns bigint,
            adopted_at \(at("adopted_ns"))
        )
        """,
        """
        CREATE TABLE reserve_volumes (
            day text NOT NULL,
            category text NOT NULL,
            source text NOT NULL CHECK (source IN ('ledger', 'import')),
            amount numeric(39,0) NOT NULL CHECK (amount >= 0),
            PRIMARY KEY (day, category, source)
        )
        """,
        """
        CREATE TABLE reserve_insurance (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            insurer text NOT NULL,
            coverage text NOT NULL,
            policy_limit numeric(39,0) NOT NULL CHECK (policy_limit >= 0),
            deductible numeric(39,0) NOT NULL CHECK (deductible >= 0),
            exclusions text NOT NULL,
            starts text NOT NULL,
            ends text NOT NULL,
            created_ns bigint NOT NULL,
            created_at \(at("created_ns"))
        )
        """,
        """
        CREATE TABLE reserve_insurance_claims (
            policy bigint NOT NULL REFERENCES reserve_insurance(id),
            incident bigint NOT NULL,
            asset text NOT NULL,
            amount numeric(39,0) NOT NULL CHECK (amount >= 0),
            PRIMARY KEY (policy, incident, asset)
        )
        """,
        """
        CREATE TABLE reserve_requirements (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            computed_ns bigint NOT NULL,
            computed_at \(at("computed_ns")),
            rule_version text NOT NULL,
            gross numeric(39,0) NOT NULL CHECK (gross >= 0),
            insurance_offset numeric(39,0) NOT NULL CHECK (insurance_offset >= 0),
            required numeric(39,0) NOT NULL CHECK (required >= 0),
            funded numeric(39,0) NOT NULL CHECK (funded >= 0),
            lines text NOT NULL
        )
        """,
        """
        CREATE TABLE reserve_incidents (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            loss_type text NOT NULL,
            lost_ns bigint NOT NULL,
            lost_at \(at("lost_ns")),
            detected_ns bigint NOT NULL,
            detected_at \(at("detected_ns")),
            declared_ns bigint NOT NULL,
            declared_at \(at("declared_ns")),
            declared_by bigint NOT NULL REFERENCES principals(id),
            status text NOT NULL CHECK (status IN ('declared', 'paying', 'paid')),
            paid_ns bigint,
            paid_at \(at("paid_ns")),
            loss_jpy numeric(39,0) NOT NULL CHECK (loss_jpy >= 0)
        )
        """,
        """
        CREATE TABLE reserve_incident_losses (
            incident bigint NOT NULL REFERENCES reserve_incidents(id),
            position integer NOT NULL,
            wallet text NOT NULL REFERENCES custody_wallets(id),
            asset text NOT NULL,
            amount numeric(39,0) NOT NULL CHECK (amount >= 0),
            PRIMARY KEY (incident, position)
        )
        """,
        """
        CREATE TABLE reserve_entitlements (
            incident bigint NOT NULL REFERENCES reserve_incidents(id),
            asset text NOT NULL,
            packed bytea NOT NULL CHECK (length(packed) % 48 = 0),
            PRIMARY KEY (incident, asset)
        )
        """,
        """
        CREATE TABLE reserve_plans (
            incident bigint NOT NULL REFERENCES reserve_incidents(id),
            asset text NOT NULL,
            mode text NOT NULL CHECK (mode IN ('in_kind', 'jpy')),
            price_mantissa numeric(39,0) CHECK (price_mantissa >= 0),
            price_scale smallint,
            payment_asset text NOT NULL,
            total_loss numeric(39,0) NOT NULL CHECK (total_loss >= 0),
            total_payment numeric(39,0) NOT NULL CHECK (total_payment >= 0),
            shortfall numeric(39,0) NOT NULL CHECK (shortfall >= 0),
            sources text NOT NULL,
            lines bytea NOT NULL CHECK (length(lines) % 80 = 0),
            request bigint NOT NULL REFERENCES approval_requests(id),
            status text NOT NULL CHECK (status IN ('proposed', 'executing', 'paid')),
            PRIMARY KEY (incident, asset)
        )
        """,
    ]
}

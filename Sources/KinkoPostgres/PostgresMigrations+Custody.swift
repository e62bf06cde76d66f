extension PostgresMigrations {
    /// Wallets, observations, the whitelist, movements and reconciliations: SQLite's custody
    /// schema with amounts (and price mantissas) in `numeric(39,0)`, transfer ids as 16-byte
    /// `bytea`, and nanosecond times as `…_ns bigint`, the ones people read with a `…_at` twin.
    static let custody: [String] = [
        """
        CREATE TABLE custody_vendors (
            name text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
            notice_date text,
            notice_reference text
        )
        """,
        """
        CREATE TABLE custody_wallets (
            id text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
            chain text NOT NULL,
            temperature text NOT NULL CHECK (temperature IN ('hot', 'cold')),
            purpose text NOT NULL CHECK (purpose IN ('customer_pool', 'own_funds', 'guarantee', 'reserve')),
            vendor text NOT NULL REFERENCES custody_vendors(name),
            vendor_version text NOT NULL,
            frozen_ns bigint,
            frozen_reason text,
            created_ns bigint NOT NULL,
            created_at \(at("created_ns"))
        )
        """,
        """
        CREATE TABLE custody_wallet_assets (
            wallet text NOT NULL REFERENCES custody_wallets(id),
            asset text NOT NULL,
            velocity_limit numeric(39,0) CHECK (velocity_limit >= 0),
            PRIMARY KEY (wallet, asset)
        )
        """,
        """
        CREATE TABLE custody_wallet_addresses (
            wallet text NOT NULL REFERENCES custody_wallets(id),
            address text NOT NULL,
            PRIMARY KEY (wallet, address)
        )
        """,
        """
        CREATE TABLE custody_balance_observations (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            wallet text NOT NULL REFERENCES custody_wallets(id),
            asset text NOT NULL,
            amount numeric(39,0) NOT NULL CHECK (amount >= 0),
            observed_ns bigint NOT NULL,
            observed_at \(at("observed_ns")),
            source text NOT NULL,
            recorded_ns bigint NOT NULL
        )
        """,
        "CREATE INDEX custody_balances_latest ON custody_balance_observations(wallet, asset, observed_ns)",
        """
        CREATE TABLE custody_price_observations (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            asset text NOT NULL,
            mantissa numeric(39,0) NOT NULL CHECK (mantissa >= 0),
            scale smallint NOT NULL CHECK (scale BETWEEN 0 AND 18),
            observed_ns bigint NOT NULL,
            observed_at \(at("observed_ns")),
            source text NOT NULL,
            recorded_ns bigint NOT NULL
        )
        """,
        "CREATE INDEX custody_prices_latest ON custody_price_observations(asset, observed_ns)",
        """
        CREATE TABLE custody_whitelist (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            asset text NOT NULL,
            address text NOT NULL CHECK (length(address) BETWEEN 1 AND 128),
            label text NOT NULL,
            status text NOT NULL CHECK (status IN ('pending', 'active')),
            request bigint NOT NULL REFERENCES approval_requests(id),
            usable_from_ns bigint,
            created_ns bigint NOT NULL,
            UNIQUE (asset, address)
        )
        """,
        """
        CREATE TABLE custody_movements (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            kind text NOT NULL CHECK (kind IN ('hot_to_cold', 'cold_to_hot', 'withdrawal', 'guarantee_top_up')),
            from_wallet text NOT NULL REFERENCES custody_wallets(id),
            to_wallet text REFERENCES custody_wallets(id),
            to_address text,
            asset text NOT NULL,
            amount numeric(39,0) NOT NULL CHECK (amount >= 0),
            ledger_pending_id bytea CHECK (length(ledger_pending_id) = 16),
            initiator bigint NOT NULL REFERENCES principals(id),
            request bigint NOT NULL REFERENCES approval_requests(id),
            status text NOT NULL CHECK (status IN ('awaiting_approval', 'released', 'completed')),
            created_ns bigint NOT NULL,
            created_at \(at("created_ns")),
            released_ns bigint,
            completed_ns bigint,
            transaction_hash text,
            network_fee numeric(39,0) CHECK (network_fee >= 0)
        )
        """,
        "CREATE INDEX custody_movements_outflows ON custody_movements(from_wallet, asset, created_ns)",
        """
        CREATE TABLE custody_reconciliation_days (
            day text PRIMARY KEY,
            cutoff_ns bigint NOT NULL,
            computed_ns bigint NOT NULL,
            computed_at \(at("computed_ns"))
        )
        """,
        """
        CREATE TABLE custody_reconciliations (
            day text NOT NULL REFERENCES custody_reconciliation_days(day),
            position integer NOT NULL,
            asset text NOT NULL,
            liabilities numeric(39,0) NOT NULL,
            ledger_holdings numeric(39,0) NOT NULL,
            observed numeric(39,0),
            PRIMARY KEY (day, position),
            UNIQUE (day, asset)
        )
        """,
        """
        CREATE TABLE custody_breaks (
            day text NOT NULL REFERENCES custody_reconciliation_days(day),
            position integer NOT NULL,
            asset text NOT NULL,
            kind text NOT NULL CHECK (kind IN ('ledger', 'wallet', 'segregation', 'observation')),
            wallet text,
            size numeric(39,0) NOT NULL,
            cause text NOT NULL,
            PRIMARY KEY (day, position)
        )
        """,
        """
        CREATE TABLE custody_alerts (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            kind text NOT NULL,
            subject text NOT NULL,
            message text NOT NULL,
            raised_ns bigint NOT NULL,
            raised_at \(at("raised_ns"))
        )
        """,
    ]
}

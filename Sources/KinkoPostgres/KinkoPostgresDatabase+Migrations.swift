import PostgresNIO

/// Bringing a database to the current schema (`PostgresMigrations`), once, whoever starts first.
extension KinkoPostgresDatabase {
    /// Applies the migrations not yet applied, each in its own transaction, holding an advisory
    /// lock so two processes starting at once do not both migrate.
    public func migrate() async throws {
        try await transaction { connection in
            // Migrating, or waiting for another process that migrates, happens once at start
            // and may take longer than a call's deadline.
            try await Self.run("SET LOCAL statement_timeout = 0", on: connection, logger: self.logger)
            try await Self.run("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", on: connection, logger: self.logger)
            try await connection.answered("""
                CREATE TABLE IF NOT EXISTS kinko_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: self.logger)
            var applied: Set<String> = []
            for try await name in try await connection.answered("SELECT name FROM kinko_migrations", logger: self.logger).decode(String.self) {
                applied.insert(name)
            }
            for migration in PostgresMigrations.all where !applied.contains(migration.name) {
                for statement in migration.sql {
                    try await connection.answered(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                }
                try await connection.answered("INSERT INTO kinko_migrations (name) VALUES (\(migration.name))", logger: self.logger)
            }
        }
    }

    static let migrationLock: Int64 = 0x4b494e4b4f  // "KINKO"

    /// The migrations applied so far, in the order they were applied.
    public func appliedMigrations() async throws -> [String] {
        let applied = Set(try await read { connection in
            try await Self.strings(connection.answered("SELECT name FROM kinko_migrations", logger: self.logger))
        })
        return PostgresMigrations.all.map(\.name).filter(applied.contains)
    }

    static func strings(_ rows: PostgresRowSequence) async throws -> [String] {
        var result: [String] = []
        for try await value in rows.decode(String.self) { result.append(value) }
        return result
    }
}

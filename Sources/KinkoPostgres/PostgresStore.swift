import Logging

/// What every PostgreSQL store shares: its database, its logger and the column codings
/// (`PostgresValues`).
protocol PostgresStore: Sendable {
    var database: KinkoPostgresDatabase { get }
}

extension PostgresStore {
    var logger: Logger { database.logger }
    typealias V = PostgresValues
}

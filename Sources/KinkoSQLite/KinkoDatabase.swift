public import GRDB
import Foundation
import KinkoCore

/// The one SQLite database that holds all of Kinko's state (WAL mode, `synchronous=FULL`, so a
/// committed transaction survives a crash or power loss). Stores for each module share it.
public final class KinkoDatabase: Sendable {
    public let pool: DatabasePool
    public let path: String

    /// How long a writer waits for another process's write lock before failing.
    public static let busyTimeoutSeconds: Double = 30
    /// WAL pages before SQLite copies them back into the database file. Larger than SQLite's
    /// default (1,000) because one ledger batch alone is ~256 pages.
    public static let walAutocheckpointPages = 16_384

    /// Opens (creating if needed) the database at `path` and migrates it to the current schema.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(KinkoDatabase.busyTimeoutSeconds)
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(KinkoDatabase.walAutocheckpointPages)")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw KinkoError(.storageFailure, "cannot open the database at \(path): \(error)", field: "database")
        }
        self.path = path
        try KinkoMigrations.migrator.migrate(pool)
    }

    /// The migrations applied so far, oldest first.
    public func appliedMigrations() throws -> [String] {
        try pool.read { db in try KinkoMigrations.migrator.appliedMigrations(db) }
    }
}

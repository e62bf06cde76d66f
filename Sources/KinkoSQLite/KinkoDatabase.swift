public import GRDB
import Foundation
import KinkoCore

/// The one SQLite database that holds all of Kinko's state (WAL mode, `synchronous=FULL`, so a
/// committed transaction survives a crash or power loss). Stores for each module share it.
public final class KinkoDatabase: Sendable {
    public let pool: DatabasePool
    public let path: String
    private let checkpointer: WALCheckpointer

    /// How long a writer waits for another process's write lock before failing.
    public static let busyTimeoutSeconds: Double = 30
    /// WAL pages before a committing connection copies them back into the database file
    /// itself. Normally the `WALCheckpointer` thread does it long before (at 32 MiB); this is
    /// the backstop if it falls behind.
    public static let walAutocheckpointPages = 65_536
    /// Page cache per connection, in KiB: a checkpoint rewrites the balances of every account
    /// touched since the last one, and those pages should stay in memory.
    public static let cacheSizeKibibytes = 131_072

    /// Opens (creating if needed) the database at `path` and migrates it to the current schema.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(KinkoDatabase.busyTimeoutSeconds)
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(KinkoDatabase.walAutocheckpointPages)")
            try db.execute(sql: "PRAGMA cache_size = -\(KinkoDatabase.cacheSizeKibibytes)")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw KinkoError(.storageFailure, "cannot open the database at \(path): \(error)", field: "database")
        }
        self.path = path
        try KinkoMigrations.migrator.migrate(pool)
        checkpointer = WALCheckpointer(path: path)
    }

    deinit { checkpointer.stop() }

    /// The migrations applied so far, oldest first.
    public func appliedMigrations() throws -> [String] {
        try pool.read { db in try KinkoMigrations.migrator.appliedMigrations(db) }
    }
}

public import GRDB
import Foundation
public import KinkoCore
public import KinkoGovernance

/// The one SQLite database that holds all of Kinko's state (WAL mode, `synchronous=FULL`, so a
/// committed transaction survives a crash or power loss). Stores for each module share it.
public final class KinkoDatabase: Sendable {
    public let pool: DatabasePool
    public let path: String
    /// Signs audit checkpoints; nil when the key file is absent (reads and verification still work).
    public let auditSigner: AuditSigner?
    public let clock: any WallClock
    /// Copies the WAL into the database file; run it in a long-lived process (`backgroundServices`).
    public let checkpointer: WALCheckpointer

    /// Where the audit signing key lives unless told otherwise: next to the database.
    public static func defaultAuditKeyPath(for path: String) -> String { path + ".audit-key" }

    /// How long a writer waits for another process's write lock before failing.
    public static let busyTimeoutSeconds: Double = 30
    /// WAL pages before a committing connection copies them back into the database file
    /// itself. Normally the `WALCheckpointer` thread does it long before (at 32 MiB); this is
    /// the backstop if it falls behind.
    public static let walAutocheckpointPages = 65_536
    /// Page cache per connection, in KiB: a checkpoint rewrites the balances of every account
    /// touched since the last one, and those pages should stay in memory.
    public static let cacheSizeKibibytes = 131_072

    /// Opens (creating if needed) the database at `path`, migrates it to the current schema and
    /// loads the audit signing key from `auditKeyPath` if it exists.
    public init(path: String, auditKeyPath: String? = nil, clock: any WallClock = SystemWallClock()) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(KinkoDatabase.busyTimeoutSeconds)
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(KinkoDatabase.walAutocheckpointPages)")
            try db.execute(sql: "PRAGMA cache_size = -\(KinkoDatabase.cacheSizeKibibytes)")
        }
        try Self.restrictFiles(path)
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            // GRDB turns a pool's writer to `synchronous = NORMAL` when it enables WAL, after
            // `prepareDatabase` ran: a commit would then survive a crash of the process but not
            // a power cut. Kinko acknowledges a batch only once it is on disk, so the writer
            // goes back to FULL (the WAL is synced at every commit).
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        } catch {
            throw KinkoError(.storageFailure, "cannot open the database at \(path): \(error)", field: "database")
        }
        self.path = path
        self.clock = clock
        let keyPath = auditKeyPath ?? Self.defaultAuditKeyPath(for: path)
        auditSigner = FileManager.default.fileExists(atPath: keyPath) ? try AuditSigner.load(path: keyPath) : nil
        try KinkoMigrations.migrator.migrate(pool)
        checkpointer = WALCheckpointer(path: path)
    }

    /// Copies the whole WAL into the database file now and empties it (a TRUNCATE checkpoint,
    /// waiting for readers): what a benchmark does after its setup, so that its timed part
    /// starts from a checkpointed file, as a server in its steady state does.
    public func checkpointNow() throws {
        try pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
    }

    /// The writer connection's `PRAGMA synchronous` (2 is FULL: every commit is synced).
    public func writerSynchronousMode() throws -> Int {
        try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// Mode of the database, its WAL and shared-memory files: owner only (they hold every
    /// balance, identity and credential hash of the exchange).
    static let fileMode: mode_t = 0o600

    /// Creates the database file owner-only before SQLite first opens it (SQLite gives the WAL
    /// and shared-memory files the database file's mode), and takes group and other access
    /// away from an existing database and its WAL files.
    static func restrictFiles(_ path: String) throws {
        guard path != ":memory:", !path.isEmpty else { return }
        if !FileManager.default.fileExists(atPath: path) {
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, fileMode)
            if descriptor >= 0 {
                close(descriptor)
            } else if errno != EEXIST {
                throw KinkoError(.storageFailure, "cannot create the database at \(path): \(String(cString: strerror(errno)))", field: "database")
            }
        }
        for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) {
            guard chmod(file, fileMode) == 0 else {
                throw KinkoError(.storageFailure, "cannot make \(file) owner-only (mode 600): \(String(cString: strerror(errno)))", field: "database")
            }
        }
    }

    /// The migrations applied so far, oldest first.
    public func appliedMigrations() throws -> [String] {
        try pool.read { db in try KinkoMigrations.migrator.appliedMigrations(db) }
    }
}

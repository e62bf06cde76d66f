import ArgumentParser
import Foundation
import KinkoCore
import KinkoPostgres
import KinkoStores

/// `--database PATH|URL` on every command; `KINKO_DATABASE` when the flag is absent; otherwise
/// `./kinko.sqlite`. A path is the embedded SQLite database; `postgres://user[:password]@host[:port]/database`
/// is PostgreSQL (docs/POSTGRES.md).
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "The database: a SQLite file or postgres://user@host[:port]/database (default: $KINKO_DATABASE or ./kinko.sqlite).")
    var database: String?

    static let defaultPath = "kinko.sqlite"

    /// The file path or URL as given.
    var path: String {
        if let database { return database }
        if let fromEnvironment = ProcessInfo.processInfo.environment["KINKO_DATABASE"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return Self.defaultPath
    }

    var isPostgres: Bool { KinkoStores.isPostgres(path) }

    /// The database for messages: a URL without its password.
    var displayName: String { KinkoStores.displayName(for: path) }

    /// Where files that belong with the database go (demo tokens and keys): the file's
    /// directory, or the working directory for PostgreSQL.
    var directory: URL {
        isPostgres ? URL(fileURLWithPath: FileManager.default.currentDirectoryPath) : URL(fileURLWithPath: path).deletingLastPathComponent()
    }

    func validate() throws {
        if path.isEmpty { throw ValidationError("--database: give a SQLite file path or a postgres:// URL") }
        if isPostgres {
            do { try KinkoStores.validatePostgresURL(path) } catch { throw ValidationError("--database: \(error.message)") }
        }
    }

    @Option(name: .long, help: "The audit signing key file (default: <database file>.audit-key; for PostgreSQL ./<database name>.audit-key).")
    var auditKey: String?

    func openStores(clock: any WallClock = SystemWallClock(), running: KinkoPostgresDatabase.Running = .byItself) async throws -> KinkoStores {
        try await KinkoStores.open(path, auditKeyPath: auditKeyPath, clock: clock, running: running)
    }

    var auditKeyPath: String { auditKey ?? KinkoStores.defaultAuditKeyPath(for: path) }
}

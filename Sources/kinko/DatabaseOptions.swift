import ArgumentParser
import Foundation
import KinkoCore
import KinkoSQLite

/// `--database PATH` on every command; `KINKO_DATABASE` when the flag is absent; otherwise
/// `./kinko.sqlite`.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "The database file (default: $KINKO_DATABASE or ./kinko.sqlite).")
    var database: String?

    static let defaultPath = "kinko.sqlite"

    var path: String {
        if let database { return database }
        if let fromEnvironment = ProcessInfo.processInfo.environment["KINKO_DATABASE"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return Self.defaultPath
    }

    func validate() throws {
        if path.hasPrefix("postgres://") || path.hasPrefix("postgresql://") {
            throw ValidationError("--database: PostgreSQL is not supported yet; give a SQLite file path")
        }
    }

    @Option(name: .long, help: "The audit signing key file (default: <database>.audit-key).")
    var auditKey: String?

    func openDatabase() throws -> KinkoDatabase {
        try KinkoDatabase(path: path, auditKeyPath: auditKey)
    }

    var auditKeyPath: String { auditKey ?? KinkoDatabase.defaultAuditKeyPath(for: path) }
}

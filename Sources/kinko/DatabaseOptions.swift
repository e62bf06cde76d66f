import ArgumentParser
import Foundation
import KinkoCore
import KinkoLedger
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

    /// Opens the database and the ledger on it.
    func openLedger() async throws -> (KinkoDatabase, Ledger) {
        let database = try KinkoDatabase(path: path)
        let ledger = try await Ledger.open(store: SQLiteLedgerStore(database: database))
        return (database, ledger)
    }
}

import ArgumentParser
import Foundation
import KinkoCore
import KinkoGovernance
import KinkoLedger
import KinkoSQLite

/// `--token TOKEN` on every command that acts for someone; `KINKO_TOKEN` when absent.
struct TokenOptions: ParsableArguments {
    @Option(name: .long, help: "Your API token (default: $KINKO_TOKEN).")
    var token: String?

    var value: String? { token ?? ProcessInfo.processInfo.environment["KINKO_TOKEN"] }
}

/// An open database with its services and the authenticated caller.
struct Session {
    let database: KinkoDatabase
    let governance: Governance
    let caller: Caller

    /// Opens the database and authenticates the token.
    static func open(_ options: DatabaseOptions, _ token: TokenOptions) async throws -> Session {
        let database = try options.openDatabase()
        let governance = Governance(store: SQLiteGovernanceStore(database: database))
        let caller = try await governance.authenticate(token: token.value)
        return Session(database: database, governance: governance, caller: caller)
    }

    /// Checks (and on refusal audits) that the caller may run `permission`.
    @discardableResult
    func authorize(_ permission: Permission) async throws -> Role {
        try await governance.authorize(caller, permission)
    }

    func ledger() async throws -> Ledger {
        try await Ledger.open(store: SQLiteLedgerStore(database: database))
    }

    func principal(named name: String) async throws -> Principal {
        guard let principal = try await governance.store.principal(named: name) else {
            throw KinkoError(.notFound, "no principal named \(name)", field: "principal")
        }
        return principal
    }
}

/// A command that reports Kinko's errors as `error: <code> (<field>): <message>` on standard
/// error with a distinct exit status: 2 unauthenticated, 3 forbidden, 1 anything else.
protocol KinkoCommand: AsyncParsableCommand {
    func execute() async throws
}

extension KinkoCommand {
    func run() async throws {
        do {
            try await execute()
        } catch let error as KinkoError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            switch error.code {
            case .unauthenticated: throw ExitCode(2)
            case .forbidden: throw ExitCode(3)
            default: throw ExitCode(1)
            }
        }
    }
}

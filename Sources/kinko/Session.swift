import ArgumentParser
import Foundation
import KinkoControls
import KinkoCore
import KinkoGovernance
import KinkoLedger
import KinkoStores

/// `--token TOKEN` on every command that acts for someone; `KINKO_TOKEN` when absent.
struct TokenOptions: ParsableArguments {
    @Option(name: .long, help: "Your API token (default: $KINKO_TOKEN).")
    var token: String?

    var value: String? { token ?? ProcessInfo.processInfo.environment["KINKO_TOKEN"] }
}

/// An open database (SQLite or PostgreSQL) with its services and the authenticated caller.
struct Session {
    let stores: KinkoStores
    let governance: Governance
    let caller: Caller

    /// Opens the database and authenticates the token.
    static func open(_ options: DatabaseOptions, _ token: TokenOptions) async throws -> Session {
        let stores = try await options.openStores()
        let governance = Governance(store: stores.governance)
        do {
            let caller = try await governance.authenticate(token: token.value)
            return Session(stores: stores, governance: governance, caller: caller)
        } catch {
            await stores.close()
            throw error
        }
    }

    /// The exchange's services over this database (the ledger behind its transfer controls);
    /// with `inspect`, a ledger that fails its open-time check opens read-only.
    func exchange(inspect: Bool = false) async throws -> Exchange {
        Exchange(governance: governance, ledger: try await ledger(inspect: inspect), custodyStore: stores.custody, reserveStore: stores.reserve,
                 monitoringStore: stores.monitoring, clock: governance.clock)
    }

    /// The ledger service (reads and writes, authorized there).
    func ledgerService(inspect: Bool = false) async throws -> LedgerService {
        try await exchange(inspect: inspect).ledger
    }

    private func ledger(inspect: Bool) async throws -> Ledger {
        let ledger = try await Ledger.open(store: stores.ledger, mode: inspect ? .inspection : .normal)
        if let reason = await ledger.readOnlyReason {
            FileHandle.standardError.write(Data("warning: \(reason)\n".utf8))
        }
        return ledger
    }

    func principal(named name: String) async throws -> Principal {
        try await governance.principal(named: name, by: caller)
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
            if error.code == .storageCorrupted && error.message.hasPrefix("refusing to open the ledger") {
                FileHandle.standardError.write(Data("""
                    hint: read it without changing it: `kinko ledger verify --full --inspect`, `kinko ledger balances --inspect`, \
                    `kinko ledger export --inspect --out DIR` (docs/RUNBOOK.md, "A ledger that will not open")

                    """.utf8))
            }
            switch error.code {
            case .unauthenticated: throw ExitCode(2)
            case .forbidden: throw ExitCode(3)
            default: throw ExitCode(1)
            }
        }
    }
}

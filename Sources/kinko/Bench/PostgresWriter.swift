import ArgumentParser
import Foundation
import KinkoCore
import KinkoGovernance
import KinkoLedger
import KinkoPostgres

/// One of the Kinko processes of the two-process PostgreSQL test
/// (`Tests/KinkoSQLiteTests/TwoProcessesTests.swift`): contends for one customer's balance and
/// for the execution of one approved request, then prints what it got as one JSON line.
struct PostgresWriter: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pg-writer", abstract: "Contend with another process on one PostgreSQL database (for the concurrency test).",
        shouldDisplay: false)

    @Option(help: "postgres://… of the test database.") var database: String
    @Option(help: "The audit signing key file.") var auditKey: String
    @Option(help: "An operator's token (posts the transfers).") var operatorToken: String
    @Option(help: "An admin's token (executes the request).") var adminToken: String
    @Option(help: "This writer's number (makes its transfer ids unique).") var writer: Int
    @Option(help: "Transfers of 10 from account 1 to account 2 to attempt, one per batch.") var rounds: Int = 60
    @Option(help: "An approved governance request to try to execute, halfway through.") var execute: String

    func run() async throws {
        let postgres = try await KinkoPostgresDatabase.open(url: database, auditKeyPath: auditKey)
        let governance = Governance(store: PostgresGovernanceStore(database: postgres))
        let operatorCaller = try await governance.authenticate(token: operatorToken)
        let admin = try await governance.authenticate(token: adminToken)
        let ledger = try await Ledger.open(store: PostgresLedgerStore(database: postgres))
        var counts: [String: Int] = [:]
        var executed = "not tried"
        for round in 0..<rounds {
            let transfer = Transfer(id: TransferID(UInt128(50_000 + writer * 10_000 + round)), debitAccountID: AccountID(1), creditAccountID: AccountID(2),
                                    amount: 10, ledger: 2, code: .trade)
            for result in try await ledger.createTransfers([transfer], by: operatorCaller) { counts[result.name, default: 0] += 1 }
            if round == rounds / 2 {
                do {
                    try await governance.execute(try ApprovalRequestID(parsing: execute, field: "execute"), by: admin)
                    executed = "executed"
                } catch let error as KinkoError {
                    executed = error.code.rawValue
                }
            }
        }
        await postgres.close()
        let json = try JSONSerialization.data(withJSONObject: ["results": counts, "execute": executed], options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }
}

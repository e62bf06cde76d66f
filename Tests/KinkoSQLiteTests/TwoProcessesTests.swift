import Foundation
import KinkoCore
@testable import KinkoGovernance
import KinkoLedger
import KinkoPlaybook
import KinkoPostgres
import Testing

/// Two Kinko processes against one PostgreSQL database (`KINKO_TEST_POSTGRES_URL`).
@Suite("Two Kinko processes on one PostgreSQL database", .serialized)
struct TwoProcessesTests {
    // Goal: two processes side by side never break an invariant: the balance limit holds to the
    // unit (no double spend), an approved request is executed by exactly one of them, and the
    // audit log has every entry once and verifies.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["KINKO_TEST_POSTGRES_URL"].map { !$0.isEmpty } ?? false,
                   "KINKO_TEST_POSTGRES_URL is not set: the two-process PostgreSQL test is skipped"))
    func sideBySideNeverBreakAnInvariant() async throws {
        let server = try #require(ProcessInfo.processInfo.environment["KINKO_TEST_POSTGRES_URL"])
        let temp = try TemporaryDirectory()
        let name = "kinko_two_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        try await KinkoPostgresDatabase.execute(url: server, "CREATE DATABASE \(name)")
        var components = try #require(URLComponents(string: server))
        components.path = "/" + name
        let url = try #require(components.string)
        let keyPath = temp.url.appendingPathComponent("audit-key").path
        _ = try AuditSigner.create(path: keyPath)
        let database = try await KinkoPostgresDatabase.open(url: url, auditKeyPath: keyPath)

        // Two admins (so a role grant needs the other's approval), an operator, a ledger where
        // customer 1 holds 1,000.
        let governance = Governance(store: PostgresGovernanceStore(database: database))
        let staff = try await Staff.found(governance, admins: ["admin", "second.admin"])
        let (admin, adminToken) = (staff.admins[0].caller, staff.admins[0].token)
        let operatorPrincipal = try await governance.createPrincipal(name: "ops", kind: .client, by: admin)
        let request = try await governance.grantRole(.operator, to: operatorPrincipal.id, by: admin)
        try await staff.admins[1].approve(request.id, in: governance)
        // The poster gets operator through the same two-admin path, approved and executed here.
        let poster = try await staff.hire("poster", kind: .client, roles: [.operator], key: nil)
        let (operatorCaller, operatorToken) = (poster.caller, poster.token)
        let ledger = try await Ledger.open(store: PostgresLedgerStore(database: database))
        try await ledger.registerAssets(Asset.standard, by: admin)
        _ = try await ledger.createAccounts([
            Account(id: AccountID(1), ledger: 2, code: 100, accountClass: .customerLiability, flags: .debitsMustNotExceedCredits, owner: 1),
            Account(id: AccountID(2), ledger: 2, code: 100, accountClass: .customerLiability, flags: .debitsMustNotExceedCredits, owner: 2),
            Account(id: AccountID(10), ledger: 2, code: 200, accountClass: .customerCustodyHolding),
        ], by: operatorCaller)
        #expect(try await ledger.createTransfers([Transfer(id: TransferID(1), debitAccountID: AccountID(10), creditAccountID: AccountID(1), amount: 1_000,
                                                           ledger: 2, code: .deposit)], by: operatorCaller) == [.ok])

        let kinko = try kinkoExecutable()
        let children = try (0..<2).map { writer -> (Process, Pipe) in
            let process = Process()
            process.executableURL = kinko
            process.arguments = ["bench", "pg-writer", "--database", url, "--audit-key", keyPath, "--operator-token", operatorToken,
                                 "--admin-token", adminToken, "--writer", String(writer), "--rounds", "60", "--execute", request.id.description]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            return (process, output)
        }
        var outcomes: [[String: Any]] = []
        for (process, output) in children {
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            outcomes.append(try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any]))
        }
        let results = outcomes.map { $0["results"] as? [String: Int] ?? [:] }
        #expect(results.map { $0["ok"] ?? 0 }.reduce(0, +) == 100, "\(outcomes)")
        #expect(results.map { $0["exceeds_credits"] ?? 0 }.reduce(0, +) == 20, "\(outcomes)")
        // Exactly one executes; the other is refused (it finds the request executed, or loses
        // the compare-and-set if both evaluated it while it was open).
        let executions = outcomes.map { $0["execute"] as? String ?? "" }
        #expect(executions.count { $0 == "executed" } == 1, "\(outcomes)")
        #expect(executions.allSatisfy { ["executed", "conflict", "approval_required"].contains($0) }, "\(outcomes)")

        // One more view of the database, as a third process would have.
        let reopened = try await Ledger.open(store: PostgresLedgerStore(database: database))
        #expect(await reopened.account(AccountID(1))?.balance == AccountBalance(debitsPosted: 1_000, creditsPosted: 1_000))
        #expect(await reopened.account(AccountID(2))?.balance.creditsPosted == 1_000)
        #expect(try await reopened.verify(full: true).problems == [])
        #expect(try await governance.store.principal(operatorPrincipal.id)?.roles == [.operator])
        let report = try await governance.verifyAudit(publicKey: try AuditSigner.load(path: keyPath).publicKey)
        let size = try await governance.store.auditSize()
        #expect(report.isValid && report.entries == size)
        let positions = try await governance.store.auditEntries(from: 0, limit: 10_000).map(\.position)
        #expect(positions == Array(0..<size))
        await database.close()
        try? await KinkoPostgresDatabase.execute(url: server, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }
}

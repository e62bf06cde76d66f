import Foundation
import HTTPTypes
import KinkoCore
import KinkoGovernance
import Testing

/// `as_of` on balances and history, and a customer's statement, over HTTP.
@Suite("API: balances as of a past instant and customer statements")
struct StatementAPITests {
    // Goal: two deposits for customer 1 at different instants. As of an instant between them
    // the account holds the first only; history as of then lists only the first; the statement
    // over both shows opening 0, the two movements with running balances and closing 5,250 —
    // and a period that ends before it starts, or a day that does not exist, is refused naming
    // the field.
    @Test func asOfAndStatementAreExactAndBadPeriodsAreRefused() async throws {
        let fixture = try await ServerFixture()
        try await fixture.adoptMonitoring()
        try await fixture.deposit([("1", "11", "901", "5000")])
        try await Task.sleep(for: .milliseconds(5))
        try await fixture.deposit([("2", "11", "901", "250")])
        let history = try await fixture.call(.get, "/v1/ledger/accounts/11/transfers?limit=10", as: .auditor)
        let transfers = try #require(history.json["transfers"] as? [[String: Any]])
        #expect(transfers.count == 2)
        let stamp = try #require(transfers.last?["timestamp"] as? String)
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        // The API shows milliseconds; 2 ms after the first deposit is before the second (5 ms later).
        let milliseconds = UInt64(try #require(format.date(from: stamp)).timeIntervalSince1970 * 1000 + 0.5)
        let firstTime = String((milliseconds + 2) * 1_000_000)

        let past = try await fixture.call(.get, "/v1/ledger/balances?owner=1&asset=JPY&as_of=\(firstTime)", as: .auditor)
        #expect(past.status == .ok, "\(past.text)")
        let accounts = try #require(past.json["accounts"] as? [[String: Any]])
        #expect(accounts.map { $0["balance"] as? String } == ["5000"])
        let now = try await fixture.call(.get, "/v1/ledger/balances?owner=1&asset=JPY", as: .auditor)
        #expect((now.json["accounts"] as? [[String: Any]])?.map { $0["balance"] as? String } == ["5250"])
        let pastHistory = try await fixture.call(.get, "/v1/ledger/accounts/11/transfers?limit=10&as_of=\(firstTime)", as: .auditor)
        #expect((pastHistory.json["transfers"] as? [[String: Any]])?.count == 1)

        let statement = try await fixture.call(.get, "/v1/ledger/customers/1/statement?from=2026-01-01&to=2199-12-31", as: .auditor)
        #expect(statement.status == .ok, "\(statement.text)")
        let sections = try #require(statement.json["accounts"] as? [[String: Any]])
        let yen = try #require(sections.first { $0["asset"] as? String == "JPY" })
        #expect(yen["opening"] as? String == "0" && yen["closing"] as? String == "5250")
        let movements = try #require(yen["movements"] as? [[String: Any]])
        #expect(movements.map { $0["amount"] as? String } == ["+5000", "+250"])
        #expect(movements.map { $0["balance"] as? String } == ["5000", "5250"])
        let bitcoin = try #require(sections.first { $0["asset"] as? String == "BTC" })
        #expect(bitcoin["opening"] as? String == "0.00000000" && bitcoin["closing"] as? String == "0.00000000")
        #expect((bitcoin["movements"] as? [Any])?.isEmpty == true)

        let backwards = try await fixture.call(.get, "/v1/ledger/customers/1/statement?from=2026-12-31&to=2026-01-01", as: .auditor)
        #expect(backwards.status == .badRequest && backwards.text.contains("\"to\""), "\(backwards.text)")
        let notADay = try await fixture.call(.get, "/v1/ledger/balances?as_of=2026-02-30", as: .auditor)
        #expect(notADay.status == .badRequest && notADay.text.contains("as_of"), "\(notADay.text)")
        let tooFar = try await fixture.call(.get, "/v1/ledger/balances?as_of=2200-01-01", as: .auditor)
        #expect(tooFar.status == .badRequest, "\(tooFar.text)")
    }
}

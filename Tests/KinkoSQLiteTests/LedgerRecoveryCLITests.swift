import Foundation
import GRDB
import KinkoCore
import Testing

@Suite("A ledger that will not open", .serialized)
struct LedgerRecoveryCLITests {
    let demo: DemoDirectory
    var temp: TemporaryDirectory { demo.temp }

    init() throws {
        demo = try DemoDirectory()
    }

    func kinko(_ arguments: [String], as role: String, input: String? = nil) throws -> (status: Int32, output: String, error: String) {
        try demo.kinko(arguments, as: role, input: input)
    }

    // Goal: issue 22's transfer — UInt128.max between two customer liabilities without limit
    // flags — no longer bricks the database. Through the front end it is refused twice over
    // (a customer account must not overdraw; a lone trade leg debiting a customer has no
    // counter-leg); the engine-level tests show the sums would hold anyway. Afterwards every
    // command still opens the database and the full check passes.
    @Test func maximalTransferIsRefusedAndTheDatabaseStaysOpenable() throws {
        let loose = (1...3).map { #"{"id":"90000\#($0)","asset":"JPY","code":100,"class":"customer_liability","owner":"1"}"# }
            .joined(separator: "\n")
        let refusedAccounts = try kinko(["ledger", "create-accounts", "--file", "-"], as: "operator", input: loose)
        #expect(refusedAccounts.status == 1)
        #expect(refusedAccounts.error.contains("(accounts[0].flags): a customer's account must carry debits_must_not_exceed_credits"))
        let accounts = (1...3).map {
            #"{"id":"90000\#($0)","asset":"JPY","code":100,"class":"customer_liability","owner":"1","flags":"debits_must_not_exceed_credits"}"#
        }.joined(separator: "\n")
        let created = try kinko(["ledger", "create-accounts", "--file", "-"], as: "operator", input: accounts)
        #expect(created.status == 0, "\(created.error)")
        let transfer = #"""
            {"id":"910001","debit_account_id":"900001","credit_account_id":"900002","amount":"340282366920938463463374607431768211455","asset":"JPY","code":"trade"}
            """#
        let posted = try kinko(["ledger", "post", "--file", "-"], as: "operator", input: transfer)
        #expect(posted.status != 0)
        // The engine's own answer comes first (the counter-leg rule is checked when a chain
        // closes): the payer holds nothing.
        #expect(posted.output.contains("exceeds_credits") || posted.error.contains("exceeds_credits"), "\(posted.output) \(posted.error)")
        let verify = try kinko(["ledger", "verify", "--full"], as: "auditor")
        #expect(verify.status == 0, "\(verify.output) \(verify.error)")
        #expect(verify.output.hasPrefix("ledger ok:"))
    }

    // Goal: a database whose ledger fails the open-time check says exactly what failed and how
    // to read it; with --inspect it can be verified, listed and exported, and writes stay
    // refused.
    @Test func corruptedLedgerIsReadableWithInspect() throws {
        let balances = try kinko(["ledger", "balances", "--asset", "BTC", "--class", "customer_liability", "--json"], as: "auditor")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(balances.output.utf8)) as? [[String: String]])
        let victim = try #require(rows.first { ($0["credits_posted"].flatMap { UInt128($0) } ?? 0) > 0 }?["id"])
        // Give the customer's account the holding's limit flag (credits must not exceed
        // debits) inside the stored account record: the log is now inconsistent with itself.
        let queue = try DatabaseQueue(path: temp.url.appendingPathComponent("kinko.sqlite").path)
        try queue.write { db in
            for row in try Row.fetchAll(db, sql: "SELECT sequence, count, body FROM ledger_batches WHERE kind = 2") {
                var body: [UInt8] = Array(row["body"] as Data)
                let count: Int = row["count"]
                for slot in 0..<count {
                    let base = slot * 64
                    let id = body[base..<base + 16].reversed().reduce(UInt128(0)) { $0 << 8 | UInt128($1) }
                    guard String(id) == victim else { continue }
                    body[base + 46] = 4
                    body[base + 47] = 0
                    try db.execute(sql: "UPDATE ledger_batches SET body = ? WHERE sequence = ?", arguments: [Data(body), row["sequence"] as Int64])
                }
            }
        }
        let refused = try kinko(["ledger", "balances"], as: "auditor")
        #expect(refused.status == 1)
        // The customer's later debits now break the flag the record claims: replay names the
        // first transfer that no longer fits.
        #expect(refused.error.contains("error: storage_corrupted: refusing to open the ledger: batch "))
        #expect(refused.error.contains("does not replay (exceedsDebits)"))
        #expect(refused.error.contains("hint: read it without changing it: `kinko ledger verify --full --inspect`"))
        let verify = try kinko(["ledger", "verify", "--full", "--inspect"], as: "auditor")
        #expect(verify.status == 2)
        #expect(verify.output.contains("does not replay (exceedsDebits)"))
        let listed = try kinko(["ledger", "balances", "--inspect", "--json"], as: "auditor")
        #expect(listed.status == 0)
        #expect(listed.error.contains("warning: the ledger does not replay (batch "))
        #expect(listed.output.contains(#""id":"\#(victim)""#))
        let exported = try kinko(["ledger", "export", "--inspect", "--out", "export"], as: "auditor")
        #expect(exported.status == 0, "\(exported.error)")
        let transfers = try String(contentsOf: temp.url.appendingPathComponent("export/transfers.ndjson"), encoding: .utf8)
        let accounts = try String(contentsOf: temp.url.appendingPathComponent("export/accounts.ndjson"), encoding: .utf8)
        #expect(exported.output.contains("transfers to export"))
        #expect(transfers.split(separator: "\n").count > 10)
        #expect(accounts.contains(#""id":"\#(victim)""#))
        let attributes = try FileManager.default.attributesOfItem(atPath: temp.url.appendingPathComponent("export/accounts.ndjson").path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let post = #"{"id":"920001","debit_account_id":"\#(victim)","credit_account_id":"\#(victim)","amount":"1","asset":"BTC","code":"trade"}"#
        let write = try kinko(["ledger", "post", "--file", "-"], as: "operator", input: post)
        #expect(write.status == 1)
        #expect(write.error.contains("refusing to open the ledger"))
    }
}

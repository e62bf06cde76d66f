import Foundation
import KinkoCore
import Testing

@testable import KinkoLedger

@Suite("Id table and codec")
struct IDTableAndCodecTests {
    // Goal: property — the table agrees with a Dictionary through random inserts, updates and
    // removals (including ids that collide on purpose), across several growths.
    @Test func agreesWithDictionary() {
        var table = IDTable()
        var model: [UInt128: UInt64] = [:]
        var rng = SplitMix64(seed: 99)
        for step in 0..<200_000 {
            // Half the keys differ only in the high 64 bits, to stress the hash.
            let key = rng.next() % 2 == 0 ? UInt128(rng.next() % 5_000 + 1) : UInt128(rng.next() % 5_000 + 1) << 64 | 7
            switch rng.next() % 4 {
            case 0:
                table[key] = nil
                model[key] = nil
            default:
                table[key] = UInt64(step)
                model[key] = UInt64(step)
            }
            if step % 10_000 == 0 {
                #expect(table.count == model.count)
            }
        }
        #expect(table.count == model.count)
        for (key, value) in model { #expect(table[key] == value) }
        for missing in (10_000 as UInt128)..<10_100 { #expect(table[missing] == nil) }
    }

    @Test func reserveAvoidsGrowthLater() {
        var table = IDTable()
        table.reserve(100_000)
        let capacity = table.capacity
        for key in 1...100_000 as ClosedRange<UInt128> { table[key] = UInt64(key) }
        #expect(table.capacity == capacity)
        #expect(table[50_000] == 50_000)
    }

    // Goal: every field survives encoding, including the largest values.
    @Test func transferAndAccountRoundTrip() throws {
        let transfer = Transfer(
            id: TransferID(.max - 1), debitAccountID: AccountID(1 << 100), creditAccountID: AccountID(3), amount: .max,
            ledger: .max, code: TransferCode(.max), flags: [.linked, .pending], pendingID: TransferID(9),
            timeoutSeconds: .max, userData128: 1 << 127, userData64: .max, userData32: .max, timestamp: .max)
        #expect(try LedgerCodec.decodeTransfers(LedgerCodec.encode([transfer, transfer]), count: 2) == [transfer, transfer])
        let account = Account(id: AccountID(.max - 1), ledger: 7, code: .max, accountClass: .externalSettlement,
                              flags: .creditsMustNotExceedDebits, owner: .max, userData64: .max, userData32: .max, timestamp: 42)
        let packed = LedgerCodec.encode([account])
        #expect(try LedgerCodec.decodeAccounts(packed, count: 1) == [account])
        #expect(Array(packed[49..<52]) == [0, 0, 0] && Array(packed[52..<56]) == [0xFF, 0xFF, 0xFF, 0xFF])
        let assets = Asset.standard
        #expect(try LedgerCodec.decodeAssets(LedgerCodec.encode(assets), count: assets.count) == assets)
        let balances = [AccountBalance(debitsPending: 1, debitsPosted: .max, creditsPending: 3, creditsPosted: 1 << 90)]
        #expect(try LedgerCodec.decodeBalances(LedgerCodec.encodeBalances(balances[...])) == balances)
    }

    // Goal: decoding trusts nothing — a short body or an unknown class is an error, not a crash.
    @Test func corruptRecordsAreRefused() throws {
        let body = LedgerCodec.encode([Fixture.transfer(1, 2, 3, 4)])
        #expect((#expect(throws: KinkoError.self) { try LedgerCodec.decodeTransfers(Array(body.dropLast()), count: 1) })?.code == .storageCorrupted)
        var account = LedgerCodec.encode([Fixture.customer(1, owner: 1)])
        account[48] = 200
        #expect((#expect(throws: KinkoError.self) { try LedgerCodec.decodeAccounts(account, count: 1) })?.code == .storageCorrupted)
        #expect(throws: KinkoError.self) { try LedgerCodec.decodeBalances([1, 2, 3]) }
    }
}

@Suite("Input files")
struct LedgerInputTests {
    let input = LedgerInput(assets: Asset.standard)

    // Goal: a valid NDJSON line becomes the exact transfer, amount in units.
    @Test func ndjsonTransfer() throws {
        let text = """
            {"id": "7", "debit_account_id": "1", "credit_account_id": 2, "amount": "0.5", "asset": "BTC", "code": "fee", "flags": ["linked"], "user_data_64": 9}

            {"id": "00000000-0000-0000-0000-000000000008", "pending_id": "7", "flags": ["void_pending_transfer"]}
            """
        let records = try input.transfers(text, format: .ndjson).get()
        #expect(records.map(\.line) == [1, 3])
        #expect(records[0].value == Transfer(id: TransferID(7), debitAccountID: AccountID(1), creditAccountID: AccountID(2),
                                             amount: 50_000_000, ledger: 2, code: .fee, flags: .linked, userData64: 9))
        #expect(records[1].value.pendingID == TransferID(7) && records[1].value.id == TransferID(8) && records[1].value.ledger == 0)
    }

    // Goal: an imported event's own time reads as nanoseconds or a UTC instant; anything else
    // is refused naming `timestamp`.
    @Test func importedEventsCarryTheirTimestamp() throws {
        let text = """
            {"id": "7", "debit_account_id": "1", "credit_account_id": "2", "amount": "1", "asset": "BTC", "code": "trade", "flags": "imported", "timestamp": "1577836800000000001"}
            {"id": "8", "debit_account_id": "1", "credit_account_id": "2", "amount": "1", "asset": "BTC", "code": "trade", "flags": "imported", "timestamp": "2020-01-01T00:00:00.000000002Z"}
            """
        let records = try input.transfers(text, format: .ndjson).get()
        #expect(records.map(\.value.timestamp) == [1_577_836_800_000_000_001, 1_577_836_800_000_000_002])
        let accounts = try input.accounts(#"{"id": "3", "asset": "BTC", "code": 1, "class": "own_funds", "flags": "imported", "timestamp": "5"}"#,
                                          format: .ndjson).get()
        #expect(accounts.map(\.value.timestamp) == [5])
        for bad in ["yesterday", "18446744073709551616"] {
            let line = #"{"id": "9", "asset": "BTC", "code": 1, "class": "own_funds", "timestamp": "\#(bad)"}"#
            guard case .failure(let errors) = input.accounts(line, format: .ndjson) else {
                Issue.record("\(bad) was accepted")
                continue
            }
            #expect(errors.errors.map(\.field) == ["timestamp"])
        }
    }

    // Goal: every bad line is reported with its number and field; nothing is returned.
    @Test func everyBadLineIsNamed() throws {
        let text = """
            {"id": "1", "debit_account_id": "1", "credit_account_id": "2", "amount": "1", "asset": "BTC", "code": "trade"}
            {"id": "2", "debit_account_id": "1", "credit_account_id": "2", "amount": 1, "asset": "BTC", "code": "trade"}
            [1, 2]
            {"id": "3", "debit_account_id": "-4", "credit_account_id": "2", "amount": "1", "asset": "BTC", "code": "trade"}
            {"id": "4", "debit_account_id": "1", "credit_account_id": "2", "amount": "1", "asset": "BTC", "code": "gift"}
            {"id": "5", "debit_account_id": "1", "credit_account_id": "2", "asset": "BTC", "code": "trade"}
            {"id": "6", "debit_account_id": "1", "credit_account_id": "2", "amount": "1", "asset": "BTC", "code": "trade", "memo": "x"}
            {"id": "7", "debit_account_id": "1", "credit_account_id": "2", "amount": "1", "asset": "BTC", "code": "trade", "flags": ["urgent"]}
            {"id": "8", "debit_account_id": "1", "credit_account_id": "2", "amount": "1", "asset": "BTC", "code": "trade", "timeout": "4294967296"}
            """
        guard case .failure(let failure) = input.transfers(text, format: .ndjson) else {
            Issue.record("bad input was accepted")
            return
        }
        #expect(failure.errors.map(\.description) == [
            "line 2, field amount: must be a decimal string such as \"0.5\", not a JSON number",
            "line 3: not a JSON object",
            "line 4, field debit_account_id: \"-4\" is neither a decimal 128-bit number nor a UUID",
            "line 5, field code: unknown transfer code \"gift\"",
            "line 6, field amount: is required",
            "line 7, field memo: unknown field",
            "line 8, field flags: unknown transfer flag \"urgent\"",
            "line 9, field timeout: \"4294967296\" is not a whole number from 0 to 4294967295",
        ])
    }

    @Test func recordLimitAtLimitAndPast() throws {
        let line = #"{"id": "1", "owner": "1", "asset": "BTC", "code": 1, "class": "customer_liability"}"#
        let limited = LedgerInput(assets: Asset.standard, recordsMax: 2)
        #expect(try limited.accounts([line, line].joined(separator: "\n"), format: .ndjson).get().count == 2)
        guard case .failure(let failure) = limited.accounts([line, line, line].joined(separator: "\n"), format: .ndjson) else {
            Issue.record("three records passed a limit of two")
            return
        }
        #expect(failure.errors.map(\.description) == ["line 3: an input holds at most 2 records"])
        #expect(LedgerInput.recordsMax == 1_000_000)
    }

    // Goal: CSV with quotes, empty cells and `|`-separated flags; ragged rows are refused.
    @Test func csvAccountsAndTransfers() throws {
        let accounts = """
            id,asset,code,class,flags,owner
            1,BTC,100,customer_liability,"debits_must_not_exceed_credits",501
            2,JPY,"1,0",own_funds,,
            """
        guard case .failure(let failure) = input.accounts(accounts, format: .csv) else {
            Issue.record("a code of \"1,0\" was accepted")
            return
        }
        #expect(failure.errors.map(\.description) == ["line 3, field code: \"1,0\" is not a whole number from 0 to 65535"])
        let fixed = accounts.replacingOccurrences(of: "\"1,0\"", with: "7")
        let parsed = try input.accounts(fixed, format: .csv).get().map(\.value)
        #expect(parsed == [
            Account(id: AccountID(1), ledger: 2, code: 100, accountClass: .customerLiability, flags: .debitsMustNotExceedCredits, owner: 501),
            Account(id: AccountID(2), ledger: 1, code: 7, accountClass: .ownFunds),
        ])
        let transfers = "id,debit_account_id,credit_account_id,amount,asset,code,flags\n1,1,2,5,JPY,trade,linked|pending\n2,1,2\n"
        guard case .failure(let ragged) = input.transfers(transfers, format: .csv) else {
            Issue.record("a ragged row was accepted")
            return
        }
        #expect(ragged.errors.map(\.description) == ["line 3: has 3 cells; the header has 7"])
    }
}

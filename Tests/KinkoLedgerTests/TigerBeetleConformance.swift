import Foundation
import KinkoCore
@testable import KinkoLedger

/// Replays TigerBeetle's own state-machine test tables (`Resources/TigerBeetle`, Apache-2.0,
/// decoded by `scripts/tigerbeetle_tables.py`; docs/TIGERBEETLE_DSL.md says what each row
/// means) against Kinko's ledger engine, and sorts every case into:
///
/// - **agree**: Kinko answers what TigerBeetle answers;
/// - **documented**: Kinko answers what docs/LEDGER.md ("Differences from TigerBeetle") says
///   it answers instead, and nothing else;
/// - **disagree**: anything else;
/// - **unsupported**: the case uses a feature Kinko does not have (named).
///
/// A case is one `account` or `transfer` row (its result), one lookup row (found or not, and
/// the balances or amount it expects) or one query with its result rows. The engine runs with
/// a segregation table that lets every code move value between accounts of one class
/// (`own_funds`), because TigerBeetle has no classes: Kinko's table is a configuration of
/// the engine, tested on its own (TransferTests, TransferControlTests).
///
/// The clock follows TigerBeetle's test context (smt:181-256): it starts at 0, every commit
/// adds 1 and a create batch adds its event count, and `tick` adds its interval.
struct TigerBeetleConformance {
    enum Outcome: Equatable {
        case agree
        case documented(String)
        case disagree(String)
        case unsupported(String)

        var label: String {
            switch self {
            case .agree: "agree"
            case .documented: "documented"
            case .disagree: "disagree"
            case .unsupported: "unsupported"
            }
        }
    }

    struct Case {
        let table: String
        let line: Int
        let kind: String
        let outcome: Outcome
        /// The engine's state already differed from TigerBeetle's model when this case ran
        /// (an earlier event succeeded on one side only), so a disagreement may be inherited.
        let afterDivergence: Bool
    }

    struct TableReport {
        let name: String
        var cases: [Case] = []
        func count(_ label: String) -> Int { cases.filter { $0.outcome.label == label }.count }
    }

    /// The decoded tables, in file order.
    static func tables() throws -> [[String: Any]] {
        guard let url = Bundle.module.url(forResource: "state_machine_tests", withExtension: "json", subdirectory: "TigerBeetle") else {
            throw KinkoError(.invalidInput, "the TigerBeetle tables are not among the test resources")
        }
        let data = try Data(contentsOf: url)
        guard let tables = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw KinkoError(.invalidInput, "state_machine_tests.json is not a list of tables")
        }
        return tables
    }

    static func run() throws -> [TableReport] {
        try tables().map { table in
            var runner = TableRunner(name: table["name"] as? String ?? "?")
            for action in table["actions"] as? [[String: Any]] ?? [] { runner.apply(action) }
            return runner.report
        }
    }
}

// MARK: - Reading the JSON

private extension Dictionary where Key == String, Value == Any {
    func u128(_ key: String) -> UInt128 {
        if let text = self[key] as? String { return UInt128(text) ?? 0 }
        if let number = self[key] as? NSNumber { return UInt128(number.uint64Value) }
        return 0
    }
    func u128OrNil(_ key: String) -> UInt128? { self[key] is NSNull || self[key] == nil ? nil : u128(key) }
    func int(_ key: String) -> Int { (self[key] as? NSNumber)?.intValue ?? Int(self[key] as? String ?? "") ?? 0 }
    func bool(_ key: String) -> Bool { (self[key] as? Bool) ?? false }
    func dict(_ key: String) -> [String: Any] { self[key] as? [String: Any] ?? [:] }
    func string(_ key: String) -> String { self[key] as? String ?? "" }
}

// MARK: - One table

private struct TableRunner {
    var report: TigerBeetleConformance.TableReport
    let engine: LedgerEngine
    var sequence: UInt64 = 0
    /// TigerBeetle's `prepare_timestamp`.
    var clock: UInt64 = 0
    /// Every transfer the engine accepted, by id (the engine's prefetch source).
    var stored: [UInt128: Transfer] = [:]
    /// Balances after each transfer, by transfer id and account id, of accounts with `history`.
    var balancesAfter: [UInt128: [UInt128: AccountBalance]] = [:]
    var diverged = false
    /// Rows of the batch being collected, until its `commit`.
    var batch: [[String: Any]] = []

    static let ledgers: [UInt32] = Array(1...9)
    static let accountClass = AccountClass.ownFunds

    init(name: String) {
        report = .init(name: name)
        var routes: [TransferCode: [SegregationTable.Route]] = [:]
        for code in UInt16(1)...UInt16(16) { routes[TransferCode(code)] = [.init(Self.accountClass, Self.accountClass)] }
        engine = LedgerEngine(segregation: SegregationTable(routes: routes))
        engine.markTransferIndexBuilt()
        sequence += 1
        let assets = Self.ledgers.map { try! Asset(code: "L\($0)X", scale: 0, kind: .crypto, ledger: $0) }
        _ = try! engine.executeAssets(assets, sequence: sequence)
        engine.commitBatch(sequence: sequence, timestamp: 0)
    }

    mutating func record(_ row: [String: Any], _ outcome: TigerBeetleConformance.Outcome) {
        report.cases.append(.init(table: report.name, line: row.int("line"), kind: row.string("kind"), outcome: outcome, afterDivergence: diverged))
    }

    mutating func apply(_ row: [String: Any]) {
        switch row.string("kind") {
        case "setup": setup(row)
        case "tick": tick(row)
        case "commit": commit(row.string("operation"))
        default: batch.append(row)
        }
    }

    // MARK: setup and tick

    mutating func setup(_ row: [String: Any]) {
        guard let index = engine.accountIndex(of: AccountID(row.u128("account_id"))) else {
            diverged = true
            return
        }
        sequence += 1
        engine.beginBatch(sequence: sequence)
        engine.setBalance(index, AccountBalance(
            debitsPending: row.u128("debits_pending"), debitsPosted: row.u128("debits_posted"),
            creditsPending: row.u128("credits_pending"), creditsPosted: row.u128("credits_posted")))
        engine.commitBatch(sequence: sequence, timestamp: 0)
    }

    mutating func tick(_ row: [String: Any]) {
        let value = Int64(row.string("value")) ?? 0
        let interval = value.magnitude * (row.string("unit") == "seconds" ? 1_000_000_000 : 1)
        clock &+= value > 0 ? interval : (UInt64(Int64.max) - interval)
        // A pulse runs when a pending transfer is due (TigerBeetle: 1 + batch_max; the
        // amount only matters relative to timeouts of whole seconds).
        if let due = engine.expiryQueue.first?.at, due <= clock {
            clock += 1 + 8190
            sequence += 1
            _ = engine.executePulse(sequence: sequence, timestamp: clock)
            engine.commitBatch(sequence: sequence, timestamp: clock)
        }
    }

    // MARK: commit

    mutating func commit(_ operation: String) {
        let rows = batch
        batch = []
        clock += 1
        switch operation {
        case "create_accounts": createAccounts(rows)
        case "create_transfers": createTransfers(rows)
        case "lookup_accounts": for row in rows { lookupAccount(row) }
        case "lookup_transfers": for row in rows { lookupTransfer(row) }
        default:
            // Queries: one case per query row; the *_result rows after it are its answer.
            var index = 0
            while index < rows.count {
                let query = rows[index]
                var results: [[String: Any]] = []
                index += 1
                while index < rows.count, rows[index].string("kind").hasSuffix("_result") {
                    results.append(rows[index])
                    index += 1
                }
                self.query(query, results)
            }
        }
    }

    // MARK: queries

    func timestamp(ofTransfer id: UInt128?) -> UInt64 { id.map { stored[$0]?.timestamp ?? 0 } ?? 0 }
    func timestamp(ofAccount id: UInt128?) -> UInt64 { id.map { engine.account(AccountID($0))?.account.timestamp ?? 0 } ?? 0 }

    mutating func query(_ row: [String: Any], _ results: [[String: Any]]) {
        let f = row.dict("filter")
        let flags = f.dict("flags")
        let transfersByTime = stored.values.sorted { $0.timestamp < $1.timestamp }
        switch row.string("kind") {
        case "get_account_transfers", "get_account_balances":
            var filter = AccountFilter(accountID: AccountID(f.u128("account_id")), limit: UInt32(f.int("limit")),
                                       debits: flags.bool("debits"), credits: flags.bool("credits"), reversed: flags.bool("reversed"))
            filter.userData128 = f.u128("user_data_128")
            filter.userData64 = UInt64(f.u128("user_data_64"))
            filter.userData32 = UInt32(f.int("user_data_32"))
            filter.code = UInt16(f.int("code"))
            filter.timestampMin = timestamp(ofTransfer: f.u128OrNil("timestamp_min_transfer_id"))
            filter.timestampMax = timestamp(ofTransfer: f.u128OrNil("timestamp_max_transfer_id"))
            let found = filter.isValid ? LedgerQuery.select(transfersByTime, limit: filter.limit, reversed: filter.reversed, where: filter.matches) : []
            guard row.string("kind") == "get_account_balances" else {
                compare(row, found.map(\.id.rawValue), results.map { $0.u128("transfer_id") })
                return
            }
            // Balances exist only for an account with the history flag (TigerBeetle answers none).
            let history = engine.account(filter.accountID)?.account.flags.contains(.history) ?? false
            let balances = history ? found.map { balancesAfter[$0.id.rawValue]?[filter.accountID.rawValue] } : []
            let wanted = results.map {
                AccountBalance(debitsPending: $0.u128("debits_pending"), debitsPosted: $0.u128("debits_posted"),
                               creditsPending: $0.u128("credits_pending"), creditsPosted: $0.u128("credits_posted")) as AccountBalance?
            }
            record(row, balances == wanted ? .agree : .disagree("expected \(wanted.map { $0.map(Self.describe) ?? "-" }), Kinko \(balances.map { $0.map(Self.describe) ?? "-" })"))
        case "query_transfers", "query_accounts":
            var filter = QueryFilter(limit: UInt32(f.int("limit")), reversed: flags.bool("reversed"))
            filter.userData128 = f.u128("user_data_128")
            filter.userData64 = UInt64(f.u128("user_data_64"))
            filter.userData32 = UInt32(f.int("user_data_32"))
            filter.ledger = UInt32(f.int("ledger"))
            filter.code = UInt16(f.int("code"))
            let byAccounts = f.string("timestamp_ids_refer_to") == "accounts"
            let minID = f.u128OrNil("timestamp_min_transfer_id"), maxID = f.u128OrNil("timestamp_max_transfer_id")
            filter.timestampMin = byAccounts ? timestamp(ofAccount: minID) : timestamp(ofTransfer: minID)
            filter.timestampMax = byAccounts ? timestamp(ofAccount: maxID) : timestamp(ofTransfer: maxID)
            if row.string("kind") == "query_transfers" {
                let found = filter.isValid ? LedgerQuery.select(transfersByTime, limit: filter.limit, reversed: filter.reversed, where: filter.matches) : []
                compare(row, found.map(\.id.rawValue), results.map { $0.u128("transfer_id") })
                return
            }
            let found = filter.isValid
                ? LedgerQuery.select(engine.allAccounts(), limit: filter.limit, reversed: filter.reversed) { filter.matches($0.account) } : []
            if let problem = zip(found, results).lazy.compactMap({ pair -> String? in
                guard pair.1["expect"] is [String: Any] else { return nil }
                return Self.accountProblem(pair.0, expected: pair.1.dict("expect")).map { "account \(pair.0.account.id): \($0)" }
            }).first {
                record(row, .disagree(problem))
                return
            }
            compare(row, found.map(\.account.id.rawValue), results.map { $0.u128("id") })
        default:
            record(row, .unsupported(row.string("kind")))
        }
    }

    mutating func compare(_ row: [String: Any], _ found: [UInt128], _ expected: [UInt128]) {
        record(row, found == expected ? .agree : .disagree("expected \(expected), Kinko \(found)"))
    }

    /// Indices grouped into linked chains (a chain ends at its first event without `linked`).
    static func chains(_ linked: [Bool]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var start = 0
        for (index, isLinked) in linked.enumerated() where !isLinked || index == linked.count - 1 {
            result.append(start..<(index + 1))
            start = index + 1
        }
        return result
    }

    /// What TigerBeetle's expected status becomes in Kinko's vocabulary, and why (a rule of
    /// docs/LEDGER.md, "Differences from TigerBeetle"), or nil if the name is the same.
    static func accountStatusMapping(_ status: String) -> (String, String)? {
        switch status {
        case "exists_with_different_user_data_128":
            ("exists_with_different_owner", "an account's user_data_128 is Kinko's owner")
        default: nil
        }
    }

    // MARK: accounts

    /// Inputs Kinko's account cannot express: it has no balance or reserved fields.
    static func inexpressibleAccount(_ e: [String: Any]) -> String? {
        for field in ["debits_pending", "debits_posted", "credits_pending", "credits_posted"] where e.u128(field) != 0 {
            return "an account is created without balances: Kinko's input has no \(field)"
        }
        if e.int("reserved") != 0 { return "Kinko's account has no reserved field" }
        return nil
    }

    static func account(_ e: [String: Any]) -> Account {
        let flags = e.dict("flags")
        var raw: UInt16 = 0
        if flags.bool("linked") { raw |= 1 << 0 }
        if flags.bool("debits_must_not_exceed_credits") { raw |= 1 << 1 }
        if flags.bool("credits_must_not_exceed_debits") { raw |= 1 << 2 }
        if flags.bool("history") { raw |= 1 << 3 }
        if flags.bool("imported") { raw |= 1 << 4 }
        if flags.bool("closed") { raw |= 1 << 5 }
        raw |= UInt16(flags.int("padding")) << 6
        return Account(
            id: AccountID(e.u128("id")), ledger: UInt32(e.int("ledger")), code: UInt16(e.int("code")),
            accountClass: accountClass, flags: AccountFlags(rawValue: raw), owner: e.u128("user_data_128"),
            userData64: UInt64(e.u128("user_data_64")), userData32: UInt32(e.int("user_data_32")), timestamp: UInt64(e.u128("timestamp")))
    }

    mutating func createAccounts(_ rows: [[String: Any]]) {
        var events: [Account] = []
        var submitted: [(row: [String: Any], slot: Int)] = []
        let linked = rows.map { $0.dict("event").dict("flags").bool("linked") }
        for chain in Self.chains(linked) {
            if let reason = chain.lazy.compactMap({ Self.inexpressibleAccount(rows[$0].dict("event")) }).first {
                for index in chain {
                    let row = rows[index]
                    record(row, .documented(Self.inexpressibleAccount(row.dict("event")) ?? reason))
                    if row.string("status") == "created" { diverged = true }
                }
                continue
            }
            for index in chain {
                submitted.append((rows[index], events.count))
                events.append(Self.account(rows[index].dict("event")))
            }
        }
        clock += UInt64(rows.count)
        guard !events.isEmpty else { return }
        sequence += 1
        let (results, _) = engine.executeAccounts(events, sequence: sequence, timestamp: clock)
        engine.commitBatch(sequence: sequence, timestamp: clock)
        for (row, slot) in submitted {
            let expected = row.string("status")
            let actual = results[slot].name
            if (expected == "created") == (actual == "ok") && (expected == "created" || expected == actual) {
                record(row, .agree)
            } else if let (mapped, why) = Self.accountStatusMapping(expected), mapped == actual {
                record(row, .documented(why))
            } else {
                record(row, .disagree("expected \(expected), Kinko \(actual)"))
                if (expected == "created") != (actual == "ok") { diverged = true }
            }
        }
    }

    // MARK: transfers

    static func transfer(_ e: [String: Any]) -> Transfer {
        let flags = e.dict("flags")
        var raw: UInt16 = 0
        for (bit, name) in ["linked", "pending", "post_pending_transfer", "void_pending_transfer", "balancing_debit",
                            "balancing_credit", "closing_debit", "closing_credit", "imported"].enumerated() where flags.bool(name) {
            raw |= 1 << UInt16(bit)
        }
        raw |= UInt16(flags.int("padding")) << 9
        return Transfer(
            id: TransferID(e.u128("id")), debitAccountID: AccountID(e.u128("debit_account_id")),
            creditAccountID: AccountID(e.u128("credit_account_id")), amount: e.u128("amount"),
            ledger: UInt32(e.int("ledger")), code: TransferCode(UInt16(e.int("code"))), flags: TransferFlags(rawValue: raw),
            pendingID: TransferID(e.u128("pending_id")), timeoutSeconds: UInt32(e.int("timeout")),
            userData128: e.u128("user_data_128"), userData64: UInt64(e.u128("user_data_64")),
            userData32: UInt32(e.int("user_data_32")), timestamp: UInt64(e.u128("timestamp")))
    }

    mutating func createTransfers(_ rows: [[String: Any]]) {
        let events = rows.map { Self.transfer($0.dict("event")) }
        clock += UInt64(rows.count)
        guard !events.isEmpty else { return }
        sequence += 1
        let outcome = engine.executeTransfers(events, sequence: sequence, timestamp: clock, prefetch: LedgerPrefetch(transfers: stored))
        engine.commitBatch(sequence: sequence, timestamp: clock)
        for transfer in outcome.accepted { stored[transfer.id.rawValue] = transfer }
        for entry in outcome.history {
            let transfer = outcome.accepted[entry.slot]
            let account = entry.side == .debit ? transfer.debitAccountID : transfer.creditAccountID
            balancesAfter[transfer.id.rawValue, default: [:]][account.rawValue] = entry.balance
        }
        for (row, result) in zip(rows, outcome.results) {
            let expected = row.string("status")
            let actual = result.name
            if (expected == "created" && actual == "ok") || expected == actual {
                record(row, .agree)
            } else {
                record(row, .disagree("expected \(expected), Kinko \(actual)"))
                if (expected == "created") != (actual == "ok") { diverged = true }
            }
        }
    }

    // MARK: lookups

    mutating func lookupAccount(_ row: [String: Any]) {
        let found = engine.account(AccountID(row.u128("id")))
        guard row.bool("found") else {
            record(row, found == nil ? .agree : .disagree("expected no account, Kinko has one"))
            return
        }
        guard let found else {
            record(row, .disagree("expected an account, Kinko has none"))
            return
        }
        record(row, Self.accountProblem(found, expected: row.dict("expect")).map { .disagree($0) } ?? .agree)
    }

    /// What differs between an account as Kinko has it and a lookup's expectation (balances
    /// and, where the table names it, `closed`), or nil.
    static func accountProblem(_ found: (account: Account, balance: AccountBalance), expected expect: [String: Any]) -> String? {
        let wanted = AccountBalance(
            debitsPending: expect.u128("debits_pending"), debitsPosted: expect.u128("debits_posted"),
            creditsPending: expect.u128("credits_pending"), creditsPosted: expect.u128("credits_posted"))
        if found.balance != wanted { return "expected \(describe(wanted)), Kinko \(describe(found.balance))" }
        let closed = found.account.flags.contains(.closed)
        if expect["closed"] != nil && expect.bool("closed") != closed { return "expected closed \(expect.bool("closed")), Kinko \(closed)" }
        return nil
    }

    static func describe(_ b: AccountBalance) -> String {
        "dp \(b.debitsPending) dpo \(b.debitsPosted) cp \(b.creditsPending) cpo \(b.creditsPosted)"
    }

    mutating func lookupTransfer(_ row: [String: Any]) {
        let transfer = stored[row.u128("id")]
        guard row.bool("found") else {
            record(row, transfer == nil ? .agree : .disagree("expected no transfer, Kinko has one"))
            return
        }
        let expect = row.dict("expect")
        if expect["exists"] != nil {
            let wanted = expect.bool("exists")
            record(row, (transfer != nil) == wanted ? .agree : .disagree("expected exists \(wanted)"))
            return
        }
        guard let transfer else {
            record(row, .disagree("expected a transfer, Kinko has none"))
            return
        }
        if expect["amount"] != nil {
            let wanted = expect.u128("amount")
            record(row, transfer.amount == wanted ? .agree : .disagree("expected amount \(wanted), Kinko \(transfer.amount)"))
        } else {
            let wanted = UInt64(expect.u128("timestamp"))
            record(row, transfer.timestamp == wanted ? .agree : .disagree("expected timestamp \(wanted), Kinko \(transfer.timestamp)"))
        }
    }
}

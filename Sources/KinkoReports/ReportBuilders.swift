import Crypto
import Foundation
public import KinkoCore
public import KinkoCustody
public import KinkoGovernance
public import KinkoLedger
public import KinkoMonitoring
public import KinkoReserve

/// The figures behind each report, read as of its date from the ledger, custody, the reserve
/// and monitoring. Every read goes through the domain's authorized reads with the caller who
/// generates the report.
extension Reports {
    /// The sample the CPA pack draws when not told otherwise, and the most it draws.
    public static let sampleSizeDefault = 25
    public static let sampleSizeMax = 1_000
    /// How far back the CPA pack's reconciliation history reaches, in days.
    public static let historyDays = 90

    /// Options only some reports take.
    public struct Options: Sendable, Equatable {
        /// The CPA sample's seed; nil derives it from the audit date, so a regeneration draws
        /// the same sample.
        public var seed: UInt64?
        public var sampleSize: Int
        public init(seed: UInt64? = nil, sampleSize: Int = Reports.sampleSizeDefault) {
            self.seed = seed
            self.sampleSize = sampleSize
        }
    }

    func build(_ kind: ReportKind, _ period: ReportPeriod, options: Options, by caller: Caller) async throws -> ReportDocument {
        guard period.kind == kind.periodKind else {
            throw KinkoError(.invalidInput, "a \(kind.rawValue) report is for a \(kind.periodKind.rawValue), not a \(period.kind.rawValue)", field: "period")
        }
        switch (kind, period) {
        case (.segregationDaily, .day(let day)): return try await segregationDaily(day, by: caller)
        case (.customerPropertyQuarterly, .quarter): return try await customerPropertyQuarterly(period, by: caller)
        case (.cpaEvidence, .day(let day)): return try await cpaEvidence(day, options: options, by: caller)
        case (.tradeJournal, .range): return try await tradeJournal(period, by: caller)
        case (.str, .caseRecord(let id)): return try await suspiciousTransactionReport(case: id, by: caller)
        case (.fefta, .range): return try await crossBorderPayments(period, by: caller)
        case (.incidentNotice, .incident(let id)): return try await incidentNotice(id, by: caller)
        case (.reserve, .range): return try await reserveReport(period, by: caller)
        default: throw KinkoError(.invalidInput, "a \(kind.rawValue) report does not take \(period.text)", field: "period")
        }
    }

    // MARK: Shared figures

    /// Posted figures of every account as of `time`: the accounts, and per ledger and class the
    /// summed debits and credits (one pass; sums exact beyond 128 bits).
    struct Books {
        var assets: [Asset]
        var accounts: [(account: Account, balance: AccountBalance)]
        var byLedger: [UInt32: Asset]
        var totals: [UInt32: [AccountClass: PostedSummary.ClassTotal]] = [:]
        /// Where the exchange's own accounts (owner 0: wallets, own funds, the reserve) are.
        var exchangeAccounts: [AccountID: Int] = [:]

        init(assets: [Asset], accounts: [(account: Account, balance: AccountBalance)]) {
            self.assets = assets
            self.accounts = accounts
            byLedger = Dictionary(uniqueKeysWithValues: assets.map { ($0.ledger, $0) })
            // Sums in flat arrays (a slot per ledger, one per class): millions of accounts.
            var slots: [UInt32: Int] = [:], ledgers: [UInt32] = []
            var sums: [[PostedSummary.ClassTotal]] = []
            var (lastLedger, slot): (UInt32, Int) = (0, -1)
            for (index, (account, balance)) in accounts.enumerated() {
                if account.ledger != lastLedger || slot < 0 {
                    if let known = slots[account.ledger] {
                        slot = known
                    } else {
                        slot = sums.count
                        slots[account.ledger] = slot
                        ledgers.append(account.ledger)
                        sums.append([PostedSummary.ClassTotal](repeating: .init(), count: 16))
                    }
                    lastLedger = account.ledger
                }
                let column = Int(account.accountClass.rawValue)
                sums[slot][column].debitsPosted.add(balance.debitsPosted)
                sums[slot][column].creditsPosted.add(balance.creditsPosted)
                if account.owner == 0 { exchangeAccounts[account.id] = index }
            }
            for (slot, ledger) in ledgers.enumerated() {
                for accountClass in AccountClass.allCases where sums[slot][Int(accountClass.rawValue)] != .init() {
                    totals[ledger, default: [:]][accountClass] = sums[slot][Int(accountClass.rawValue)]
                }
            }
        }

        /// Σ of the classes' balances in their natural direction (all claims or all holdings).
        func total(_ asset: Asset, _ classes: Set<AccountClass>) throws(KinkoError) -> Amount {
            var sum = PostedSummary.ClassTotal()
            var claim = true
            for accountClass in classes {
                claim = accountClass.isClaim
                guard let total = totals[asset.ledger]?[accountClass] else { continue }
                sum.debitsPosted.add(total.debitsPosted)
                sum.creditsPosted.add(total.creditsPosted)
            }
            return try sum.netAmount(claim: claim, what: "\(asset.code) \(classes.map(\.name).sorted().joined(separator: "+"))")
        }

        /// An exchange account's balance (wallets, own funds).
        func balance(of id: AccountID) -> AccountBalance? { exchangeAccounts[id].map { accounts[$0].balance } }
    }

    func books(asOf time: TimestampNanoseconds, where predicate: @escaping @Sendable (Account) -> Bool = { _ in true }) async throws -> Books {
        let assets = await ledger.ledger.assets
        return Books(assets: assets, accounts: try await ledger.ledger.postedBalances(asOf: time, where: predicate))
    }

    static func text(_ amount: Amount, _ asset: Asset) -> String { amount.decimalString(scale: asset.scale) }

    static func net(_ balance: AccountBalance, _ account: Account, _ asset: Asset) -> String {
        balance.netPostedDescription(claim: account.accountClass.isClaim, scale: asset.scale)
    }

    /// Stored reconciliations of `days`, those that were run.
    func reconciliations(_ days: [String], by caller: Caller) async throws -> [Reconciliation] {
        var found: [Reconciliation] = []
        for day in days {
            do { found.append(try await custody.reconciliation(day: day, by: caller)) } catch let error as KinkoError where error.code == .notFound { continue }
        }
        return found
    }

    /// A table of reconciliation results, and one of their breaks with how each ended: cleared
    /// on the first later reconciled day that no longer shows it, or still open.
    static func history(_ results: [Reconciliation], assets: [String: Asset]) -> [ReportDocument.Table] {
        let runs = results.map { result in
            [result.day, result.cutoff.iso8601Nanoseconds, result.isClean ? "clean" : "breaks", String(result.breaks.count)]
        }
        var exceptions: [[String]] = []
        for (index, result) in results.enumerated() {
            for item in result.breaks {
                let cleared = results[(index + 1)...].first { later in
                    !later.breaks.contains { $0.asset == item.asset && $0.kind == item.kind && $0.wallet == item.wallet }
                }
                let size = assets[item.asset].map { text(item.size, $0) } ?? String(item.size.units)
                exceptions.append([result.day, item.asset, item.kind.rawValue, item.wallet ?? "", size, item.cause,
                                   cleared.map { "cleared \($0.day)" } ?? "open"])
            }
        }
        return [
            ReportDocument.Table("reconciliations", columns: ["day", "cutoff", "result", "break_count"], rows: runs),
            ReportDocument.Table("exceptions", columns: ["day", "asset", "kind", "wallet", "size", "cause", "resolution"], rows: exceptions),
        ]
    }

    // MARK: segregation-daily

    func segregationDaily(_ day: String, by caller: Caller) async throws -> ReportDocument {
        let cutoff = try Reconciliation.cutoff(day: day, hourJST: try await custody.settingsInForce(day: day).reconciliationCutoffHourJST)
        try requirePast(cutoff, field: "day")
        let result = Reconciliation.run(day: day, cutoff: cutoff, try await custody.reconciliationInputs(cutoff: cutoff))
        let stored = try await reconciliations([day], by: caller).first
        let books = try await books(asOf: cutoff)
        let assets = Dictionary(uniqueKeysWithValues: books.assets.map { ($0.code, $0) })
        var lines: [[String]] = []
        var customers: [[String]] = []
        // Customer accounts holding something, per ledger (one pass over the books).
        var holding: [UInt32: Int] = [:]
        for (account, balance) in books.accounts where account.accountClass == .customerLiability && account.owner != 0 {
            if balance.netPosted(claim: true) != 0 { holding[account.ledger, default: 0] += 1 }
        }
        for line in result.lines {
            guard let asset = assets[line.asset] else { continue }
            let guarantee = try books.total(asset, [.guaranteeCrypto])
            lines.append([line.asset, Self.text(line.liabilities, asset), Self.text(line.ledgerHoldings, asset),
                          line.observed.map { Self.text($0, asset) } ?? "", guarantee.isZero ? "0" : Self.text(guarantee, asset),
                          asset.kind == .fiat ? (line.observed.map { Self.text($0, asset) } ?? "") : ""])
            customers.append([line.asset, String(holding[asset.ledger] ?? 0), Self.text(try books.total(asset, [.customerLiability]), asset),
                              Self.text(try books.total(asset, [.quarantine]), asset)])
        }
        let following = try await reconciliations(try ReportPeriod.dayRange(from: day, to: Self.day(after: day, adding: 30)).everyDay().dropFirst().map { $0 },
                                                   by: caller)
        let history = Self.history([result] + following, assets: assets)
        // The stored day keeps its lines and breaks; the reserve's lines are in its runs' text.
        let matches = stored.map { $0.cutoff == result.cutoff && $0.lines == result.lines && $0.breaks == result.breaks }
        return ReportDocument(kind: .segregationDaily, period: .day(day), asOf: cutoff, sections: [
            .init("summary", facts: [
                .init("day", day), .init("cutoff", cutoff.iso8601Nanoseconds), .init("result", result.isClean ? "clean" : "breaks"),
                .init("breaks", String(result.breaks.count)),
                .init("stored_run", matches.map { $0 ? "matches" : "differs" } ?? "not_run"),
            ]),
            .init("assets", tables: [.init("lines", columns: ["asset", "liabilities", "ledger_holdings", "observed", "guarantee_crypto", "trust_balance"],
                                           rows: lines)]),
            .init("customer_books", tables: [.init("customer_totals", columns: ["asset", "accounts_with_balance", "liabilities", "quarantined"], rows: customers)]),
            .init("reserve", tables: [.init("reserve_lines", columns: ["asset", "fund", "ledger_holdings", "observed"], rows: result.reserveLines.compactMap { line in
                assets[line.asset].map { asset in
                    [line.asset, Self.text(line.fund, asset), Self.text(line.ledgerHoldings, asset), line.observed.map { Self.text($0, asset) } ?? ""]
                }
            })]),
            .init("breaks", tables: [history[1].filtered { $0[0] == day }]),
        ])
    }

    // MARK: customer-property-quarterly

    func customerPropertyQuarterly(_ period: ReportPeriod, by caller: Caller) async throws -> ReportDocument {
        guard let (first, last) = period.days else { throw KinkoError(.invalidInput, "no quarter", field: "quarter") }
        let asOf = try await cutoff(of: last)
        try requirePast(asOf, field: "quarter")
        let books = try await books(asOf: asOf)
        let facts = try await custody.facts(at: asOf)
        var rows: [[String]] = []
        for asset in books.assets {
            let customerHoldings = try books.total(asset, [.customerLiability, .quarantine])
            let custodyHeld = try books.total(asset, [.customerCustodyHolding])
            let own = try books.total(asset, [.ownHolding])
            let guarantee = try books.total(asset, [.guaranteeCrypto])
            var hot = UInt128(0), cold = UInt128(0), observed = UInt128(0), observedAll = true
            for wallet in facts.wallets where wallet.purpose == .customerPool && wallet.createdAt <= asOf && wallet.assets.contains(asset.code) {
                let held = books.balance(of: wallet.accountID(for: asset.code))?.netPosted(claim: false) ?? 0
                if wallet.temperature == .hot { hot += held } else { cold += held }
                if let seen = facts.balances.first(where: { $0.wallet == wallet.id && $0.asset == asset.code }) { observed += seen.amount.units } else { observedAll = false }
            }
            guard !(customerHoldings.isZero && custodyHeld.isZero && own.isZero && guarantee.isZero && hot == 0 && cold == 0) else { continue }
            let split = hot + cold
            let hotShare = split == 0 ? "" : Self.percent(hot, of: split)
            rows.append([asset.code, Self.text(customerHoldings, asset), Self.text(custodyHeld, asset), Self.text(own, asset),
                         asset.kind == .crypto ? Self.text(Amount(units: cold), asset) : "", asset.kind == .crypto ? Self.text(Amount(units: hot), asset) : "",
                         asset.kind == .crypto ? hotShare : "", asset.kind == .crypto ? Self.text(guarantee, asset) : "",
                         asset.kind == .fiat ? Self.text(custodyHeld, asset) : "",
                         observedAll ? Self.text(Amount(units: observed), asset) : ""])
        }
        let assets = Dictionary(uniqueKeysWithValues: books.assets.map { ($0.code, $0) })
        let runs = try await reconciliations(try period.everyDay(), by: caller)
        let history = Self.history(runs, assets: assets)
        return ReportDocument(kind: .customerPropertyQuarterly, period: period, asOf: asOf, sections: [
            .init("summary", facts: [
                .init("quarter", period.text), .init("first_day", first), .init("last_day", last), .init("as_of", asOf.iso8601Nanoseconds),
                .init("interim", { if case .quarter(_, _, .some) = period { "yes" } else { "no" } }()),
                .init("due", Self.quarterlyDue(period)), .init("days_reconciled", String(runs.count)),
                .init("days_with_breaks", String(runs.filter { !$0.isClean }.count)),
            ]),
            .init("holdings", tables: [.init("per_asset", columns: [
                "asset", "customer_holdings", "held_for_customers", "own_holdings", "cold", "hot", "hot_share", "guarantee_crypto", "trust_balance",
                "observed",
            ], rows: rows)]),
            .init("reconciliation_history", tables: history),
        ])
    }

    /// One month after the quarter's end: the last day of the following month.
    static func quarterlyDue(_ period: ReportPeriod) -> String {
        guard case .quarter(let year, let quarter, let through) = period, through == nil else { return "" }
        let month = quarter * 3 + 1
        let (y, m) = month > 12 ? (year + 1, month - 12) : (year, month)
        let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
        let last = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
        return String(format: "%04d-%02d-%02d", y, m, last)
    }

    static func percent(_ part: UInt128, of whole: UInt128) -> String {
        // Two decimals, rounded down: 5.00% must not read as met when it is 4.999%.
        let basis = part * 10_000 / whole
        return "\(basis / 100).\(basis % 100 < 10 ? "0" : "")\(basis % 100)%"
    }

    // MARK: cpa-evidence

    func cpaEvidence(_ day: String, options: Options, by caller: Caller) async throws -> ReportDocument {
        guard (1...Self.sampleSizeMax).contains(options.sampleSize) else {
            throw KinkoError(.limitExceeded, "a sample is 1–\(Self.sampleSizeMax) customers; got \(options.sampleSize)", field: "sample")
        }
        let asOf = try await cutoff(of: day)
        try requirePast(asOf, field: "day")
        let books = try await books(asOf: asOf) { $0.owner != 0 || $0.accountClass != .customerLiability }
        // Customer claims in (customer, account) order, as keys (the entries are large); no sort
        // when the accounts already come in that order.
        let accounts = books.accounts, byLedger = books.byLedger
        var keys: [(owner: UInt128, id: UInt128, index: Int)] = []
        keys.reserveCapacity(accounts.count)
        for (index, entry) in accounts.enumerated()
        where (entry.account.accountClass == .customerLiability || entry.account.accountClass == .quarantine) && entry.account.owner != 0
            && byLedger[entry.account.ledger] != nil {
            keys.append((entry.account.owner, entry.account.id.rawValue, index))
        }
        let before = { (a: (owner: UInt128, id: UInt128, index: Int), b: (owner: UInt128, id: UInt128, index: Int)) in
            a.owner != b.owner ? a.owner < b.owner : a.id < b.id
        }
        if !zip(keys, keys.dropFirst()).allSatisfy({ before($0, $1) }) { keys.sort(by: before) }
        // Each customer's first row: customers in ascending order, their rows from starts[k] to starts[k + 1].
        var owners: [UInt128] = [], starts: [Int] = []
        for (row, key) in keys.enumerated() where owners.last != key.owner {
            owners.append(key.owner)
            starts.append(row)
        }
        starts.append(keys.count)
        let customerRows = await Self.customerRows(keys.map(\.index), accounts: accounts, byLedger: byLedger)
        // The sample: a partial Fisher–Yates shuffle of the customers, seeded.
        let seed = options.seed ?? Self.seed(for: day)
        var rng = SplitMix64(seed: seed)
        var picks = Array(owners.indices)
        let size = min(options.sampleSize, picks.count)
        for index in 0..<size {
            let pick = index + Int(rng.next() % UInt64(picks.count - index))
            picks.swapAt(index, pick)
        }
        let sample = picks.prefix(size).sorted().flatMap { (starts[$0]..<starts[$0 + 1]).compactMap { customerRows.row($0) } }
        let facts = try await custody.facts(at: asOf)
        var walletRows: [[String]] = []
        for wallet in facts.wallets.filter({ $0.createdAt <= asOf }).sorted(by: { $0.id < $1.id }) {
            for code in wallet.assets.sorted() {
                guard let asset = books.assets.first(where: { $0.code == code }) else { continue }
                let booked = books.balance(of: wallet.accountID(for: code))
                let seen = facts.balances.first { $0.wallet == wallet.id && $0.asset == code }
                walletRows.append([wallet.id, code, wallet.temperature.rawValue, wallet.purpose.rawValue, wallet.addresses.joined(separator: " "),
                                   booked.map { $0.netPostedDescription(claim: wallet.purpose.accountClass.isClaim, scale: asset.scale) } ?? "0", seen.map { Self.text($0.amount, asset) } ?? "",
                                   seen?.observedAt.iso8601Nanoseconds ?? "", seen?.source ?? ""])
            }
        }
        let assets = Dictionary(uniqueKeysWithValues: books.assets.map { ($0.code, $0) })
        let from = Self.day(after: day, adding: -(Self.historyDays - 1))
        let runs = try await reconciliations(try ReportPeriod.dayRange(from: from, to: day).everyDay(), by: caller)
        let history = Self.history(runs, assets: assets)
        return ReportDocument(kind: .cpaEvidence, period: .day(day), asOf: asOf, sections: [
            .init("summary", facts: [
                .init("audit_date", day), .init("as_of", asOf.iso8601Nanoseconds), .init("customers", String(owners.count)),
                .init("customer_accounts", String(customerRows.count)), .init("sample_seed", String(seed)), .init("sample_size", String(size)),
                .init("history_from", from), .init("history_to", day),
            ]),
            .init("customer_balances", tables: [.init("balances", columns: ["customer", "account", "asset", "class", "balance"], packed: customerRows)]),
            .init("sample", tables: [.init("sampled_balances", columns: ["customer", "account", "asset", "class", "balance"], rows: sample)]),
            .init("wallets", tables: [.init("wallet_balances", columns: [
                "wallet", "asset", "temperature", "purpose", "addresses", "ledger_balance", "observed", "observed_at", "source",
            ], rows: walletRows)]),
            .init("reconciliation_history", tables: history),
        ])
    }

    /// One row per customer claim, in `order`: customer, account, asset, class, balance.
    /// Formatted on every core in contiguous parts, packed (two buffers a part, not an array and
    /// strings a row): the same rows, in the same order, as one pass.
    static func customerRows(_ order: [Int], accounts: [(account: Account, balance: AccountBalance)], byLedger: [UInt32: Asset],
                             parallelFrom: Int = 100_000) async -> PackedRows {
        @Sendable func format(_ part: ArraySlice<Int>) -> PackedRows {
            var rows = PackedRows(width: 5)
            // A row is about 60 bytes (two ids, an asset, a class, a balance); pages reserved
            // and not used are never touched.
            rows.reserve(rows: part.count, bytesPerRow: 96)
            for index in part {
                let (account, balance) = accounts[index]
                // The caller kept only accounts of known assets; a row names the ledger otherwise.
                let asset = byLedger[account.ledger]
                rows.appendCell(decimal(account.owner))
                rows.appendCell(decimal(account.id.rawValue))
                rows.appendCell(asset?.code ?? "ledger \(account.ledger)")
                rows.appendCell(account.accountClass.name)
                rows.appendCell(asset.map { net(balance, account, $0) } ?? "")
            }
            return rows
        }
        let parts = min(ProcessInfo.processInfo.activeProcessorCount, 8)
        guard order.count >= parallelFrom, parts > 1 else { return format(order[...]) }
        let size = (order.count + parts - 1) / parts
        return await withTaskGroup(of: (Int, PackedRows).self) { group in
            for part in 0..<parts {
                let slice = order[min(part * size, order.count)..<min((part + 1) * size, order.count)]
                group.addTask { (part, format(slice)) }
            }
            var results = [PackedRows](repeating: PackedRows(width: 5), count: parts)
            for await (part, rows) in group { results[part] = rows }
            return PackedRows(joining: results, width: 5)
        }
    }

    /// `String(value)` with one 128-bit division at most (the generic conversion divides per
    /// digit): millions of ids in a CPA pack.
    public static func decimal(_ value: UInt128) -> String {
        guard value > UInt128(UInt64.max) else { return String(UInt64(value)) }
        let (high, low) = value.quotientAndRemainder(dividingBy: 10_000_000_000_000_000_000)
        let tail = String(UInt64(low))
        return decimal(high) + String(repeating: "0", count: 19 - tail.count) + tail
    }

    /// The default sample seed of an audit date: the first 8 bytes of SHA-256 of
    /// `kinko-cpa-sample/<day>`, so anyone can recompute it.
    public static func seed(for day: String) -> UInt64 {
        Array(SHA256.hash(data: Array("kinko-cpa-sample/\(day)".utf8))).prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    static func day(after day: String, adding days: Int) -> String {
        let start = (try? CalendarDay.epochSeconds(day, field: "day")) ?? 0
        return CalendarDay.text(daysSinceEpoch: start / 86_400 + Int64(days))
    }

    /// A business day's books close at its cut-off (17:00 JST by default), as the daily
    /// reconciliation does: day and quarter reports take their figures then.
    func cutoff(of day: String) async throws -> TimestampNanoseconds {
        try Reconciliation.cutoff(day: day, hourJST: try await custody.settingsInForce(day: day).reconciliationCutoffHourJST)
    }

    func requirePast(_ time: TimestampNanoseconds, field: String) throws(KinkoError) {
        guard time <= clock.now() else {
            throw KinkoError(.invalidInput, "the period ends \(time.iso8601Nanoseconds), which has not passed yet", field: field)
        }
    }

    // MARK: trade-journal

    /// Every trade in the period, one row per customer and trade: a trade is a linked chain of
    /// `trade` legs (and its `fee` legs) in one batch. The counterparty is another customer
    /// (agency: the exchange matched them) or the exchange's own funds (own account).
    func tradeJournal(_ period: ReportPeriod, by caller: Caller) async throws -> ReportDocument {
        _ = try await ledger.assets(by: caller)
        guard let (first, last) = period.days, let asOf = try period.asOf() else { throw KinkoError(.invalidInput, "no period", field: "from") }
        let start = try TimestampNanoseconds.startOfDayJST(first, field: "from")
        let engine = ledger.ledger
        let assets = Dictionary(uniqueKeysWithValues: await engine.assets.map { ($0.ledger, $0) })
        var rows: [[String]] = []
        var after = (try await engine.firstSequence(after: start - 1) ?? UInt64.max) - 1
        let head = await engine.headSequence
        scanning: while after < head {
            let records = try await engine.batches(after: after)
            guard let lastRecord = records.last else { break }
            for record in records where record.kind == .transfers {
                let transfers = try LedgerCodec.decodeTransfers(record.body, count: record.count)
                var chain: [Transfer] = []
                for transfer in transfers {
                    if transfer.timestamp > asOf { break scanning }
                    chain.append(transfer)
                    guard !transfer.flags.contains(.linked) else { continue }
                    if transfer.timestamp >= start { rows += try await Self.journalRows(chain, engine: engine, assets: assets) }
                    chain = []
                }
            }
            after = lastRecord.sequence
        }
        return ReportDocument(kind: .tradeJournal, period: period, asOf: asOf, sections: [
            .init("summary", facts: [.init("first_day", first), .init("last_day", last), .init("trades", String(Set(rows.map { $0[0] }).count)),
                                     .init("rows", String(rows.count))]),
            .init("trades", tables: [.init("journal", columns: [
                "trade", "time", "customer", "capacity", "side", "asset", "quantity", "price_jpy", "amount_jpy", "fee", "fee_asset", "counterparty",
            ], rows: rows)]),
        ])
    }

    static func journalRows(_ chain: [Transfer], engine: Ledger, assets: [UInt32: Asset]) async throws -> [[String]] {
        let legs = chain.filter { $0.code == .trade }
        guard !legs.isEmpty, let trade = chain.first else { return [] }
        var accounts: [AccountID: Account] = [:]
        for transfer in chain {
            for id in [transfer.debitAccountID, transfer.creditAccountID] where accounts[id] == nil {
                accounts[id] = await engine.account(id)?.account
            }
        }
        // Per customer: what they gave and got in each asset, and the fees they paid.
        struct Side { var gave: [UInt32: UInt128] = [:]; var got: [UInt32: UInt128] = [:]; var fees: [UInt32: UInt128] = [:]; var counterparty: Set<String> = [] }
        var sides: [UInt128: Side] = [:]
        var order: [UInt128] = []
        func party(_ account: Account?) -> String {
            guard let account else { return "?" }
            return account.accountClass == .customerLiability ? "customer \(account.owner)" : account.accountClass.name
        }
        for leg in chain {
            let debit = accounts[leg.debitAccountID], credit = accounts[leg.creditAccountID]
            if let debit, debit.accountClass == .customerLiability {
                if sides[debit.owner] == nil { order.append(debit.owner) }
                if leg.code == .fee { sides[debit.owner, default: Side()].fees[leg.ledger, default: 0] += leg.amount } else if leg.code == .trade {
                    sides[debit.owner, default: Side()].gave[leg.ledger, default: 0] += leg.amount
                    sides[debit.owner, default: Side()].counterparty.insert(party(credit))
                }
            }
            if let credit, credit.accountClass == .customerLiability, leg.code == .trade {
                if sides[credit.owner] == nil { order.append(credit.owner) }
                sides[credit.owner, default: Side()].got[leg.ledger, default: 0] += leg.amount
                sides[credit.owner, default: Side()].counterparty.insert(party(debit))
            }
        }
        var rows: [[String]] = []
        for customer in order {
            guard let side = sides[customer] else { continue }
            let jpyLedger = assets.values.first { $0.kind == .fiat }?.ledger
            let crypto = (Array(side.got.keys) + Array(side.gave.keys)).filter { $0 != jpyLedger }
            let own = side.counterparty.contains { !$0.hasPrefix("customer") }
            let fee = side.fees.first
            let feeText = fee.flatMap { entry in assets[entry.key].map { Amount(units: entry.value).decimalString(scale: $0.scale) } } ?? "0"
            let feeAsset = fee.flatMap { assets[$0.key]?.code } ?? ""
            let counterparty = side.counterparty.sorted().joined(separator: " ")
            for ledgerNumber in Set(crypto).sorted() {
                guard let asset = assets[ledgerNumber] else { continue }
                let bought = side.got[ledgerNumber] ?? 0, sold = side.gave[ledgerNumber] ?? 0
                let quantity = bought > 0 ? bought : sold
                let paid = jpyLedger.flatMap { bought > 0 ? side.gave[$0] : side.got[$0] } ?? 0
                let sideName = jpyLedger.map { bought > 0 ? (side.gave[$0] != nil ? "buy" : "exchange") : (side.got[$0] != nil ? "sell" : "exchange") } ?? "exchange"
                rows.append([trade.id.description, trade.timestamp.iso8601Nanoseconds, String(customer), own ? "own" : "agency", sideName, asset.code,
                             Amount(units: quantity).decimalString(scale: asset.scale), paid == 0 ? "" : Self.price(jpy: paid, quantity: quantity, scale: asset.scale),
                             paid == 0 ? "" : String(paid), feeText, feeAsset, counterparty])
            }
        }
        return rows
    }

    /// JPY per whole unit, to the yen, rounded down: amount × 10^scale ÷ quantity.
    static func price(jpy: UInt128, quantity: UInt128, scale: UInt8) -> String {
        guard quantity > 0 else { return "" }
        var factor = UInt128(1)
        for _ in 0..<scale { factor *= 10 }
        let (product, overflow) = jpy.multipliedReportingOverflow(by: factor)
        return overflow ? String(jpy / quantity * factor) : String(product / quantity)
    }

    // MARK: str

    func suspiciousTransactionReport(case id: UInt64, by caller: Caller) async throws -> ReportDocument {
        let draft = try await monitoring.draftSTR(case: id, by: caller)
        let record = draft.caseRecord
        let asOf = ([record.openedAt, record.closedAt ?? 0] + record.notes.map(\.at) + draft.alerts.map(\.time)).max() ?? record.openedAt
        let profiles = Dictionary(draft.profiles.map { ($0.customer, $0) }, uniquingKeysWith: { a, _ in a })
        var kyc: [UInt64: KYCRecord] = [:]
        for subject in draft.subjects { kyc[subject] = try await customers.latest(subject) }
        let subjects = draft.subjects.map { id -> [String] in
            let profile = profiles[id], record = kyc[id]
            return [String(id), record?.name ?? profile?.name ?? "", record?.country ?? profile?.country ?? "",
                    record?.dateOfBirth ?? "", record?.address ?? "", record?.occupation ?? "",
                    record.map { "\($0.method?.rawValue ?? "") \($0.verifiedAt.map(\.iso8601Nanoseconds) ?? "")" } ?? "not verified",
                    profile.map { String($0.declaredIncomeJPY) } ?? "", profile.map { String($0.declaredAssetsJPY) } ?? ""]
        }
        var transactions: [[String]] = []
        var seen = Set<String>()
        for alert in draft.alerts.sorted(by: { $0.id < $1.id }) {
            for event in alert.hits.flatMap(\.events) + [alert.event] where seen.insert(event).inserted {
                transactions.append([event, String(alert.customer), alert.time.iso8601Nanoseconds, String(alert.id)])
            }
        }
        let grounds = draft.alerts.sorted { $0.id < $1.id }.flatMap { alert in
            alert.hits.map { [String(alert.id), alert.ruleSetVersion, $0.rule, String($0.score), $0.explanation] }
        }
        return ReportDocument(kind: .str, period: .caseRecord(id), asOf: asOf, sections: [
            .init("reporting_entity", facts: [.init("entity", draft.reportingEntity), .init("case", String(id)), .init("case_title", record.title),
                                              .init("case_status", record.status.rawValue), .init("assignee", record.assignee ?? ""),
                                              .init("opened_at", record.openedAt.iso8601Nanoseconds)]),
            .init("subjects", tables: [.init("persons", columns: [
                "customer", "name", "country", "date_of_birth", "address", "occupation", "verification", "declared_income_jpy", "declared_assets_jpy",
            ], rows: subjects)]),
            .init("transactions", tables: [.init("events", columns: ["event", "customer", "alert_time", "alert"], rows: transactions)]),
            .init("market_activity", tables: [.init("accounts", columns: ["alert", "surveillance_alert", "typology", "market", "window", "account", "customer_id"],
                                                    rows: draft.marketActivity.flatMap { item in
                                                        item.activity.accounts.map { [String(item.alert), item.activity.surveillanceAlert, item.activity.typology,
                                                                                      item.activity.market, item.activity.window, $0.account, $0.customerID] }
                                                    })]),
            .init("grounds", tables: [.init("reasons", columns: ["alert", "rule_set", "rule", "score", "explanation"], rows: grounds)]),
            .init("analyst_notes", tables: [.init("notes", columns: ["at", "author", "text"],
                                                  rows: record.notes.map { [$0.at.iso8601Nanoseconds, $0.author, $0.text] })]),
        ])
    }

    // MARK: fefta

    /// Payments of ¥30,000,000 or more to or from abroad, from the cross-border payments
    /// monitoring recorded as they were ingested.
    func crossBorderPayments(_ period: ReportPeriod, by caller: Caller) async throws -> ReportDocument {
        guard let (first, last) = period.days, let asOf = try period.asOf() else { throw KinkoError(.invalidInput, "no period", field: "from") }
        let start = try TimestampNanoseconds.startOfDayJST(first, field: "from")
        let payments = try await monitoring.crossBorderPayments(from: start, through: asOf, by: caller)
        let rows = payments.map { [$0.event, $0.time.iso8601Nanoseconds, String($0.customer), $0.direction, $0.country, $0.asset ?? "",
                                   $0.amount ?? "", String($0.amountJPY), $0.counterparty] }
        return ReportDocument(kind: .fefta, period: period, asOf: asOf, sections: [
            .init("summary", facts: [.init("first_day", first), .init("last_day", last), .init("threshold_jpy", String(CrossBorderPayment.thresholdJPY)),
                                     .init("payments", String(rows.count))]),
            .init("payments", tables: [.init("cross_border", columns: [
                "event", "time", "customer", "direction", "country", "asset", "amount", "amount_jpy", "counterparty",
            ], rows: rows)]),
        ])
    }

    // MARK: incident-notice

    func incidentNotice(_ id: UInt64, by caller: Caller) async throws -> ReportDocument {
        guard let incident = try await reserve.incidents(by: caller).first(where: { $0.id == id }) else {
            throw KinkoError(.notFound, "no incident \(id)", field: "incident")
        }
        let assets = Dictionary(uniqueKeysWithValues: try await ledger.assets(by: caller).map { ($0.code, $0) })
        let losses = incident.losses.map { loss in
            [loss.wallet, loss.asset, assets[loss.asset].map { Self.text(loss.amount, $0) } ?? String(loss.amount.units)]
        }
        var followUps: [[String]] = [[incident.declaredAt.iso8601Nanoseconds, "declared", ""]]
        var affected: [[String]] = []
        for asset in Set(incident.losses.map(\.asset)).sorted() {
            guard let stored = try? await reserve.storedPlan(incident: id, asset: asset, by: caller) else {
                affected.append([asset, "", "", "", "no plan"])
                continue
            }
            let plan = stored.plan
            let unit = assets[asset]
            let paymentUnit = assets[plan.paymentAsset]
            affected.append([asset, String(plan.entitlements.count), unit.map { Self.text(plan.totalLoss, $0) } ?? "",
                             paymentUnit.map { "\(Self.text(plan.totalPayment, $0)) \(plan.paymentAsset)" } ?? "", stored.status.rawValue])
            followUps.append(["", "plan \(asset)", "\(plan.mode) \(stored.status.rawValue), shortfall \(unit.map { Self.text(plan.shortfall, $0) } ?? "")"])
        }
        if let paid = incident.paidAt { followUps.append([paid.iso8601Nanoseconds, "paid", incident.secondsToCompensation.map { "\($0) s after detection" } ?? ""]) }
        let asOf = [incident.declaredAt, incident.paidAt ?? 0].max() ?? incident.declaredAt
        return ReportDocument(kind: .incidentNotice, period: .incident(id), asOf: asOf, sections: [
            .init("incident", facts: [
                .init("incident", String(id)), .init("loss_type", incident.lossType), .init("lost_at", incident.lostAt.iso8601Nanoseconds),
                .init("detected_at", incident.detectedAt.iso8601Nanoseconds), .init("declared_at", incident.declaredAt.iso8601Nanoseconds),
                .init("status", incident.status.rawValue), .init("loss_jpy", String(incident.lossJPY.units)),
            ], tables: [.init("losses", columns: ["wallet", "asset", "amount"], rows: losses)]),
            .init("customers", tables: [.init("affected", columns: ["asset", "customers", "loss", "compensation", "plan_status"], rows: affected)]),
            .init("follow_ups", tables: [.init("timeline", columns: ["at", "event", "detail"], rows: followUps)]),
        ])
    }

    // MARK: reserve

    func reserveReport(_ period: ReportPeriod, by caller: Caller) async throws -> ReportDocument {
        guard let (first, last) = period.days, let asOf = try period.asOf() else { throw KinkoError(.invalidInput, "no period", field: "from") }
        let start = try TimestampNanoseconds.startOfDayJST(first, field: "from")
        let points = try await reserve.adequacy(by: caller).filter { $0.time >= start && $0.time <= asOf }.sorted { $0.time < $1.time }
        let rows = points.map { [$0.time.iso8601Nanoseconds, $0.ruleVersion, String($0.required.units), String($0.funded.units),
                                 $0.isShort ? "short" : "adequate"] }
        let incidents = try await reserve.incidents(by: caller).filter { $0.declaredAt >= start && $0.declaredAt <= asOf }
        let books = try await books(asOf: asOf) { [.reserveFund, .reserveHolding].contains($0.accountClass) }
        let funds = try books.assets.compactMap { asset -> [String]? in
            let total = try books.total(asset, [.reserveFund])
            let held = try books.total(asset, [.reserveHolding])
            return total.isZero && held.isZero ? nil : [asset.code, Self.text(total, asset), Self.text(held, asset)]
        }
        return ReportDocument(kind: .reserve, period: period, asOf: asOf, sections: [
            .init("summary", facts: [
                .init("first_day", first), .init("last_day", last), .init("computations", String(points.count)),
                .init("short_computations", String(points.filter(\.isShort).count)),
                .init("latest_required_jpy", points.last.map { String($0.required.units) } ?? ""),
                .init("latest_funded_jpy", points.last.map { String($0.funded.units) } ?? ""),
            ]),
            .init("fund", tables: [.init("reserve_fund", columns: ["asset", "balance", "held_in_reserve_accounts"], rows: funds)]),
            .init("adequacy", tables: [.init("computations", columns: ["time", "rule_set", "required_jpy", "funded_jpy", "result"], rows: rows)]),
            .init("incidents", tables: [.init("declared", columns: ["incident", "loss_type", "declared_at", "loss_jpy", "status"],
                                              rows: incidents.map { [String($0.id), $0.lossType, $0.declaredAt.iso8601Nanoseconds, String($0.lossJPY.units), $0.status.rawValue] })]),
        ])
    }
}

extension ReportDocument.Table {
    func filtered(_ keep: ([String]) -> Bool) -> ReportDocument.Table {
        ReportDocument.Table(key, columns: columns, rows: rows.filter(keep))
    }
}

import ArgumentParser
import Foundation
import KinkoControls
import KinkoCore
import KinkoGovernance
import KinkoLedger

struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Accounts, transfers and balances of the segregating double-entry ledger.",
        subcommands: [
            Assets.self, AddAsset.self, CreateAccounts.self, Post.self, Balances.self, History.self, QueryTransfers.self, StatementCommand.self, ShowTransfer.self,
            Verify.self, Export.self, Pulse.self, PolicyCommand.self, ParkedCommand.self, ImportCommand.self,
        ]
    )

    struct Assets: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "List the assets and their ledger numbers.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions

        func execute() async throws {
            let session = try await Session.open(database, token)
            let rows = try await session.ledgerService().assets(by: session.caller).map { [String($0.ledger), $0.code, String($0.scale), $0.kind.rawValue] }
            print(Table(header: ["ledger", "asset", "scale", "kind"], rows: rows).rendered)
        }
    }

    struct AddAsset: KinkoCommand {
        static let configuration = CommandConfiguration(commandName: "add-asset", abstract: "Register an asset on its own ledger.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "Ticker, 2–10 upper-case letters or digits.") var code: String
        @Option(help: "Decimal places of one unit (0–38).") var scale: UInt8
        @Option(help: "crypto or fiat.") var kind: String
        @Option(help: "Ledger number (non-zero, unused).") var ledger: UInt32

        func execute() async throws {
            guard let kind = Asset.Kind(rawValue: kind) else { throw ValidationError("--kind must be crypto or fiat; got \(kind)") }
            let asset = try Asset(code: code, scale: scale, kind: kind, ledger: ledger)
            let session = try await Session.open(database, token)
            try await session.ledgerService().registerAssets([asset], by: session.caller)
            print("asset \(asset.code) on ledger \(asset.ledger), \(asset.scale) decimal places")
        }
    }

    struct CreateAccounts: KinkoCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-accounts",
            abstract: "Create accounts from an NDJSON or CSV file (fields: id, asset, code, class, flags, owner, user_data_64, user_data_32).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @OptionGroup var input: InputFileOptions

        func execute() async throws {
            let session = try await Session.open(database, token)
            let service = try await session.exchange().ledger
            let ledger = service.ledger
            try await input.submit(noun: "account", assets: ledger.assets, batchSize: ledger.limits.batchSizeMax) {
                $0.accounts($1, format: $2)
            } submit: { chunk in
                try await service.createAccounts(chunk, by: session.caller).map { ($0.name, $0.isSuccess) }
            }
        }
    }

    struct Post: KinkoCommand {
        static let configuration = CommandConfiguration(
            abstract: "Post transfers from an NDJSON or CSV file, in batches of up to 8,190, each durable before the next.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @OptionGroup var input: InputFileOptions

        func execute() async throws {
            let session = try await Session.open(database, token)
            let service = try await session.exchange().ledger
            let ledger = service.ledger
            try await input.submit(noun: "transfer", assets: ledger.assets, batchSize: ledger.limits.batchSizeMax) {
                $0.transfers($1, format: $2)
            } submit: { chunk in
                try await service.createTransfers(chunk, by: session.caller).map { ($0.name, $0.isSuccess) }
            }
        }
    }

    struct Balances: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Show account balances, in each account's natural direction.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @OptionGroup var inspection: InspectionOptions
        @Option(help: "Only this asset.") var asset: String?
        @Option(help: "Only accounts of this owner.") var owner: String?
        @Option(name: .customLong("class"), help: "Only this account class.") var accountClass: String?
        @Option(name: .customLong("as-of"), help: "Posted balances as they stood then: a JST day (its end, 23:59:59.999999999 JST) or a UTC instant such as 2026-12-31T08:00:00Z.")
        var asOf: String?
        @Flag(help: "Print JSON.") var json = false

        func execute() async throws {
            let asOfTime = try asOf.map { try TimestampNanoseconds(asOf: $0, field: "as-of") }
            let session = try await Session.open(database, token)
            let service = try await session.ledgerService(inspect: inspection.inspect)
            let ownerFilter = try owner.map { try CustomerID(parsing: $0, field: "owner").rawValue }
            var classFilter: AccountClass? = nil
            if let accountClass {
                guard let found = AccountClass(name: accountClass) else { throw ValidationError("--class: unknown class \(accountClass)") }
                classFilter = found
            }
            var accounts: [(account: Account, balance: AccountBalance)] = []
            var after: AccountID?
            repeat {
                let page = try await service.balances(asset: asset, owner: ownerFilter, accountClass: classFilter, after: after,
                                                      limit: Governance.pageMax, asOf: asOfTime, by: session.caller)
                accounts += page.accounts
                after = page.nextAfter
            } while after != nil
            let assets = Dictionary(uniqueKeysWithValues: try await service.assets(by: session.caller).map { ($0.ledger, $0) })
            if let asOfTime, !json { print("posted balances as of \(asOfTime.jst) (\(asOfTime.iso8601))") }
            print(BalanceView(accounts: accounts, assets: assets).render(json: json))
        }
    }

    struct History: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "An account's transfers, newest first.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @OptionGroup var inspection: InspectionOptions
        @Option(help: "The account id.") var account: String
        @Option(help: "Transfers per page (1–1000).") var limit: Int = 50
        @Option(help: "The cursor printed at the end of the previous page.") var before: String?
        @Option(name: .customLong("as-of"), help: "Only transfers stamped at or before this JST day's end or UTC instant.") var asOf: String?

        func validate() throws {
            guard (1...1000).contains(limit) else { throw ValidationError("--limit must be 1–1000; got \(limit)") }
        }

        func execute() async throws {
            let id = try AccountID(parsing: account, field: "account")
            var cursor = TransferLocation.end
            if let before {
                guard let raw = UInt64(before) else { throw ValidationError("--before: \(before) is not a cursor printed by this command") }
                cursor = TransferLocation(rawValue: raw)
            }
            let session = try await Session.open(database, token)
            let service = try await session.ledgerService(inspect: inspection.inspect)
            let (account, _) = try await service.account(id, by: session.caller)
            let scale = try await service.assets(by: session.caller).first { $0.ledger == account.ledger }?.scale ?? 0
            let asOfTime = try asOf.map { try TimestampNanoseconds(asOf: $0, field: "as-of") }
            let page = try await service.history(of: id, before: cursor, limit: limit, asOf: asOfTime, by: session.caller)
            let rows = page.transfers.map { entry -> [String] in
                let t = entry.transfer
                let direction = t.debitAccountID == id ? "debit" : "credit"
                let other = t.debitAccountID == id ? t.creditAccountID : t.debitAccountID
                return [t.timestamp.iso8601, String(describing: t.id), direction, String(describing: other), t.code.name,
                        Amount(units: t.amount).decimalString(scale: scale), t.flags.names.joined(separator: "|")]
            }
            print(Table(header: ["time (UTC)", "transfer", "side", "other account", "code", "amount", "flags"], rows: rows).rendered)
            if let next = page.next { print("more: --before \(next.rawValue)") }
        }
    }

    struct QueryTransfers: KinkoCommand {
        static let configuration = CommandConfiguration(
            commandName: "query-transfers",
            abstract: "Transfers by TigerBeetle's filters: one account's (get_account_transfers) or all (query_transfers), oldest first.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @OptionGroup var inspection: InspectionOptions
        @Option(help: "Only this account's transfers.") var account: String?
        @Flag(help: "With --account: only transfers debiting it.") var debitsOnly = false
        @Flag(help: "With --account: only transfers crediting it.") var creditsOnly = false
        @Option(help: "Only this asset (without --account).") var asset: String?
        @Option(help: "Only this transfer code (name or number).") var code: String?
        @Option(name: .customLong("user-data-128"), help: "Only transfers with this user_data_128.") var userData128: String?
        @Option(name: .customLong("user-data-64"), help: "Only transfers with this user_data_64.") var userData64: UInt64?
        @Option(name: .customLong("user-data-32"), help: "Only transfers with this user_data_32.") var userData32: UInt32?
        @Option(help: "Only transfers stamped at or after this UTC instant (or from this JST day's start).") var from: String?
        @Option(help: "Only transfers stamped at or before this UTC instant (or this JST day's end).") var until: String?
        @Option(help: "At most this many (1–1000).") var limit: Int = 50
        @Flag(help: "Newest first.") var reversed = false
        @Flag(help: "With --account (created with the history flag): its balances after each transfer (get_account_balances).")
        var balances = false

        func validate() throws {
            guard account != nil || !balances else { throw ValidationError("--balances needs --account") }
            guard (1...LedgerQuery.resultsMax).contains(limit) else { throw ValidationError("--limit must be 1–\(LedgerQuery.resultsMax); got \(limit)") }
            guard !(debitsOnly && creditsOnly) else { throw ValidationError("--debits-only and --credits-only exclude each other") }
            guard account != nil || !(debitsOnly || creditsOnly) else { throw ValidationError("--debits-only and --credits-only need --account") }
            guard account == nil || asset == nil else { throw ValidationError("--asset applies without --account (an account has one asset)") }
        }

        func execute() async throws {
            let session = try await Session.open(database, token)
            let service = try await session.ledgerService(inspect: inspection.inspect)
            let assets = try await service.assets(by: session.caller)
            let fromTime = try from.map { try TimestampNanoseconds(from: $0, field: "from") } ?? 0
            let untilTime = try until.map { try TimestampNanoseconds(asOf: $0, field: "until") } ?? 0
            let codeValue = try code.map { try TransferCode(parsing: $0).rawValue } ?? 0
            let user128 = try userData128.map { try AccountID(parsing: $0, field: "user-data-128").rawValue } ?? 0
            var filter = QueryFilter(limit: UInt32(limit), reversed: reversed)
            filter.code = codeValue
            filter.userData128 = user128
            filter.userData64 = userData64 ?? 0
            filter.userData32 = userData32 ?? 0
            filter.timestampMin = fromTime
            filter.timestampMax = untilTime
            let transfers: [Transfer]
            if let account {
                let narrowed = AccountFilter(accountID: try AccountID(parsing: account, field: "account"), narrowedAs: filter,
                                             debits: !creditsOnly, credits: !debitsOnly)
                if balances {
                    let found = try await service.accountBalances(narrowed, by: session.caller)
                    let ledgerNumber = await service.ledger.account(narrowed.accountID)?.account.ledger
                    let units = assets.first { $0.ledger == ledgerNumber }?.scale ?? 0
                    let rows = found.map { entry -> [String] in
                        let b = entry.balance
                        return [entry.timestamp.iso8601, String(describing: entry.transfer)]
                            + [b.debitsPending, b.debitsPosted, b.creditsPending, b.creditsPosted].map { Amount(units: $0).decimalString(scale: units) }
                    }
                    print(Table(header: ["time (UTC)", "transfer", "debits pending", "debits posted", "credits pending", "credits posted"],
                                rows: rows).rendered)
                    return
                }
                transfers = try await service.accountTransfers(narrowed, by: session.caller)
            } else {
                if let asset {
                    guard let found = assets.first(where: { $0.code == asset }) else { throw ValidationError("--asset: unknown asset \(asset)") }
                    filter.ledger = found.ledger
                }
                transfers = try await service.queryTransfers(filter, by: session.caller)
            }
            let byLedger = Dictionary(uniqueKeysWithValues: assets.map { ($0.ledger, $0) })
            let rows = transfers.map { t -> [String] in
                let asset = byLedger[t.ledger]
                return [t.timestamp.iso8601, String(describing: t.id), String(describing: t.debitAccountID), String(describing: t.creditAccountID),
                        t.code.name, Amount(units: t.amount).decimalString(scale: asset?.scale ?? 0), asset?.code ?? "", t.flags.names.joined(separator: "|")]
            }
            print(Table(header: ["time (UTC)", "transfer", "debit", "credit", "code", "amount", "asset", "flags"], rows: rows).rendered)
        }
    }

    struct StatementCommand: KinkoCommand {
        static let configuration = CommandConfiguration(
            commandName: "statement",
            abstract: "A customer's statement for a period: per account, the opening balance, every posted movement and the closing balance.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @OptionGroup var inspection: InspectionOptions
        @Option(help: "The customer id (the accounts' owner).") var customer: String
        @Option(help: "First day (JST) of the period, or the UTC instant it starts after.") var from: String
        @Option(help: "Last day (JST) of the period (to its end), or the UTC instant it ends at.") var to: String
        @Flag(help: "Print JSON.") var json = false

        func execute() async throws {
            let owner = try CustomerID(parsing: customer, field: "customer").rawValue
            // A day starts the period at 00:00 JST: the opening balance is the one just before.
            let start = from.utf8.count == 10 ? try TimestampNanoseconds.startOfDayJST(from, field: "from") - 1
                : try TimestampNanoseconds(parsing: from, field: "from")
            let end = try TimestampNanoseconds(asOf: to, field: "to")
            let session = try await Session.open(database, token)
            let service = try await session.ledgerService(inspect: inspection.inspect)
            let statement = try await service.statement(owner: owner, from: start, to: end, by: session.caller)
            print(StatementView(statement: statement).render(json: json))
        }
    }

    struct ShowTransfer: KinkoCommand {
        static let configuration = CommandConfiguration(commandName: "transfer", abstract: "Show one transfer by id.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @OptionGroup var inspection: InspectionOptions
        @Argument(help: "The transfer id.") var id: String

        func execute() async throws {
            let transferID = try TransferID(parsing: id, field: "id")
            let session = try await Session.open(database, token)
            let service = try await session.ledgerService(inspect: inspection.inspect)
            let t = try await service.transfer(transferID, by: session.caller)
            let asset = try await service.assets(by: session.caller).first { $0.ledger == t.ledger }
            let open = try await service.isOpenPending(transferID, by: session.caller)
            print("""
                transfer       \(t.id)
                time (UTC)     \(t.timestamp.iso8601)
                debit account  \(t.debitAccountID)
                credit account \(t.creditAccountID)
                amount         \(Amount(units: t.amount).decimalString(scale: asset?.scale ?? 0)) \(asset?.code ?? "ledger \(t.ledger)")
                code           \(t.code.name)
                flags          \(t.flags.names.joined(separator: ", "))
                pending id     \(t.pendingID)
                open pending   \(open ? "yes" : "no")
                """)
        }
    }

    struct Verify: KinkoCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the ledger: debits equal credits on every ledger; with --full, every balance against its transfers.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @OptionGroup var inspection: InspectionOptions
        @Flag(help: "Replay every stored batch and compare every account.") var full = false

        func execute() async throws {
            let session = try await Session.open(database, token)
            let report = try await session.ledgerService(inspect: inspection.inspect).verify(full: full, by: session.caller)
            if report.isValid {
                print("ledger ok: \(report.accounts) accounts, \(report.batches) batches" + (full ? ", \(report.transfers) transfers replayed" : ""))
            } else {
                for problem in report.problems { print("problem: \(problem)") }
                throw ExitCode(2)
            }
        }
    }

    struct Export: KinkoCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write every asset, account (with balances) and transfer as NDJSON files into a directory.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @OptionGroup var inspection: InspectionOptions
        @Option(help: "The directory to write assets.ndjson, accounts.ndjson and transfers.ndjson into (created if absent).")
        var out: String

        func execute() async throws {
            let session = try await Session.open(database, token)
            let service = try await session.ledgerService(inspect: inspection.inspect)
            let directory = URL(fileURLWithPath: out)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let assets = try await service.assets(by: session.caller)
            let byLedger = Dictionary(uniqueKeysWithValues: assets.map { ($0.ledger, $0) })
            try NDJSONFile.write(assets.map(LedgerExport.line), to: directory.appendingPathComponent("assets.ndjson"))
            let accounts = try await service.allAccounts(by: session.caller)
            try NDJSONFile.write(accounts.map { LedgerExport.line($0.account, $0.balance, asset: byLedger[$0.account.ledger]) },
                                 to: directory.appendingPathComponent("accounts.ndjson"))
            let file = try NDJSONFile(directory.appendingPathComponent("transfers.ndjson"))
            var after: UInt64 = 0, transfers = 0
            while true {
                let records = try await service.batches(after: after, by: session.caller)
                guard let last = records.last else { break }
                for record in records where record.kind == .transfers {
                    let lines = try LedgerCodec.decodeTransfers(record.body, count: record.count)
                        .map { LedgerExport.line($0, asset: byLedger[$0.ledger], batch: record.sequence) }
                    try file.append(lines)
                    transfers += lines.count
                }
                after = last.sequence
            }
            try file.close()
            print("exported \(assets.count) assets, \(accounts.count) accounts, \(transfers) transfers to \(out)")
        }
    }

    struct Pulse: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Expire pending transfers whose timeout has passed.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions

        func execute() async throws {
            let session = try await Session.open(database, token)
            let expired = try await session.ledgerService().pulse(by: session.caller)
            print("expired \(expired.count) pending transfers" + (expired.isEmpty ? "" : ": \(expired.map(\.description).joined(separator: ", "))"))
        }
    }
}

/// `--inspect` on the commands that only read the ledger.
struct InspectionOptions: ParsableArguments {
    @Flag(help: "Open a ledger that fails its open-time check read-only, to inspect and export it.")
    var inspect = false
}

/// `--file` and `--json` of the commands that read accounts or transfers.
struct InputFileOptions: ParsableArguments {
    @Option(help: "The file; .csv is read as CSV, anything else as NDJSON; - reads standard input.")
    var file: String
    @Flag(help: "Print the results as JSON.")
    var json = false

    /// Reads and checks every record, then submits them in batches of at most `batchSize`, in
    /// order, each durable before the next; prints one line per refused event and a summary.
    /// Exits 1 when any event was refused.
    func submit<Value>(
        noun: String, assets: [Asset], batchSize: Int,
        parse: (LedgerInput, String, LedgerInput.Format) -> Result<[LedgerInput.Record<Value>], LedgerInput.InputErrors>,
        submit: ([Value]) async throws -> [(String, Bool)]
    ) async throws {
        let records = try parse(LedgerInput(assets: assets), try readInput(file), LedgerInput.Format(path: file)).get()
        var outcomes: [(line: Int, result: String, ok: Bool)] = []
        for start in stride(from: 0, to: records.count, by: batchSize) {
            let chunk = Array(records[start..<min(start + batchSize, records.count)])
            let results = try await submit(chunk.map(\.value))
            outcomes += zip(chunk, results).map { ($0.line, $1.0, $1.1) }
        }
        report(outcomes, noun: noun)
        if outcomes.contains(where: { !$0.ok }) { throw ExitCode(1) }
    }

    private func report(_ outcomes: [(line: Int, result: String, ok: Bool)], noun: String) {
        if json {
            print("[" + outcomes.map { "{\"line\":\($0.line),\"result\":\"\($0.result)\"}" }.joined(separator: ",") + "]")
            return
        }
        for outcome in outcomes where !outcome.ok { print("line \(outcome.line): \(outcome.result)") }
        let created = outcomes.count { $0.result == "ok" }
        let existing = outcomes.count { $0.result == "exists" }
        let refused = outcomes.count { !$0.ok }
        print("\(outcomes.count) \(noun)s: \(created) created, \(existing) already existed, \(refused) refused")
    }
}

import ArgumentParser
import Foundation
import KinkoControls
import KinkoCore
import KinkoCustody
import KinkoGovernance
import KinkoLedger
import KinkoStores

extension Session {
    func custody() async throws -> Custody {
        try await exchange().custody
    }
}

struct CustodyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "custody",
        abstract: "Wallets, observations, the 95%-cold and guarantee rules, reconciliation, the whitelist and movements under quorum.",
        subcommands: [
            Vendor.self, AddWallet.self, Wallets.self, Freeze.self, RecordBalances.self, RecordPrices.self, Check.self,
            WhitelistAdd.self, Whitelist.self, WhitelistActivate.self, Move.self, Movements.self, Release.self, Queue.self, Complete.self,
            Reconcile.self, Report.self, Alerts.self, CustodyBitcoinCommand.self,
        ]
    )

    struct Vendor: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Register a wallet-software vendor and its advance notice to the regulator.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option var name: String
        @Option(help: "Date the notice was filed, YYYY-MM-DD (JST).") var noticeDate: String?
        @Option(help: "The regulator's reference for the notice.") var noticeReference: String?

        func execute() async throws {
            let session = try await Session.open(database, token)
            let vendor = KinkoCustody.Vendor(name: name, noticeDate: noticeDate, noticeReference: noticeReference)
            try await session.custody().saveVendor(vendor, by: session.caller)
            print("vendor \(name): " + (vendor.hasNotice ? "notice \(noticeReference ?? "") of \(noticeDate ?? "") on file" : "NO advance notice on file — its wallets are flagged"))
        }
    }

    struct AddWallet: KinkoCommand {
        static let configuration = CommandConfiguration(commandName: "add-wallet", abstract: "Register a wallet and open its ledger accounts.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "Wallet id: lower-case letters, digits, '.', '-', '_'.") var id: String
        @Option var chain: String
        @Option(help: "hot or cold.") var temperature: String
        @Option(help: "customer_pool, own_funds, guarantee or reserve.") var purpose: String
        @Option(help: "Asset codes, comma-separated.") var assets: String
        @Option(help: "Addresses, comma-separated.") var addresses: String = ""
        @Option var vendor: String
        @Option var vendorVersion: String
        @Option(help: "Velocity limits per asset, e.g. BTC=2.5,ETH=40 (outflow per window).") var velocityLimit: String = ""

        func execute() async throws {
            guard let temperature = Temperature(rawValue: temperature) else { throw ValidationError("--temperature: hot or cold") }
            guard let purpose = WalletPurpose(rawValue: purpose) else { throw ValidationError("--purpose: customer_pool, own_funds, guarantee or reserve") }
            let session = try await Session.open(database, token)
            let custody = try await session.custody()
            var limits: [String: Amount] = [:]
            for pair in velocityLimit.split(separator: ",") {
                let parts = pair.split(separator: "=")
                guard parts.count == 2, let asset = await custody.ledger.asset(code: String(parts[0])) else {
                    throw ValidationError("--velocity-limit: write ASSET=AMOUNT pairs; \(pair) is not one")
                }
                limits[asset.code] = try asset.parse(String(parts[1]))
            }
            let wallet = Wallet(id: id, chain: chain, temperature: temperature, purpose: purpose,
                                assets: assets.split(separator: ",").map(String.init), addresses: addresses.split(separator: ",").map(String.init),
                                vendor: vendor, vendorVersion: vendorVersion, velocityLimits: limits)
            let flags = try await custody.registerWallet(wallet, by: session.caller)
            print("wallet \(id) (\(temperature.rawValue), \(purpose.rawValue)) registered; ledger accounts: "
                  + wallet.assets.map { "\($0) \(wallet.accountID(for: $0))" }.joined(separator: ", "))
            for flag in flags { print("FLAG: \(flag)") }
        }
    }

    struct Wallets: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "List wallets, their ledger balances and flags.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions

        func execute() async throws {
            let session = try await Session.open(database, token)
            var rows: [[String]] = []
            for position in try await session.custody().positions(by: session.caller) {
                let wallet = position.wallet, asset = position.assetDefinition
                var flags: [String] = []
                if !position.vendorHasNotice { flags.append("vendor without notice") }
                if wallet.isFrozen { flags.append("FROZEN: \(wallet.frozenReason ?? "")") }
                rows.append([wallet.id, wallet.temperature.rawValue, wallet.purpose.rawValue, position.asset,
                             asset.map { $0.format(position.booked) } ?? "?",
                             position.observed.flatMap { o in asset.map { "\($0.format(o.amount)) @ \(o.observedAt.iso8601)" } } ?? "none",
                             "\(wallet.vendor) \(wallet.vendorVersion)", flags.joined(separator: "; ")])
            }
            print(Table(header: ["wallet", "temp", "purpose", "asset", "ledger", "observed", "vendor", "flags"], rows: rows).rendered)
        }
    }

    struct Freeze: KinkoCommand {
        static let configuration = CommandConfiguration(
            abstract: "Freeze a wallet at once (every movement is refused); --unfreeze asks to lift it (a second person who may freeze approves), --execute REQUEST lifts it.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option var wallet: String?
        @Option(help: "Why (required to freeze).") var reason: String?
        @Flag var unfreeze = false
        @Option(help: "Lift the freeze an approved request asked for.") var execute: String?

        func execute() async throws {
            let session = try await Session.open(database, token)
            let custody = try await session.custody()
            if let execute {
                try await custody.executeUnfreeze(request: try ApprovalRequestID(parsing: execute, field: "request"), by: session.caller)
                print("freeze lifted (request \(execute))")
                return
            }
            guard let wallet else { throw ValidationError("--wallet is required") }
            if unfreeze {
                let request = try await custody.requestUnfreeze(wallet, by: session.caller)
                print("approval request \(request.id) filed to lift the freeze of \(wallet); once approved: kinko custody freeze --execute \(request.id)")
            } else {
                guard let reason else { throw ValidationError("--reason is required to freeze") }
                try await custody.freeze(wallet, reason: reason, by: session.caller)
                print("wallet \(wallet) FROZEN: \(reason)")
            }
        }
    }

    struct RecordBalances: KinkoCommand {
        static let configuration = CommandConfiguration(
            commandName: "record-balances", abstract: "Record observed wallet balances: one with --wallet/--asset/--amount, or a CSV file (wallet,asset,amount,observed_at,source).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option var file: String?
        @Option var wallet: String?
        @Option var asset: String?
        @Option var amount: String?
        @Option(help: "UTC time (default: now).") var observedAt: String?
        @Option var source: String = "manual"

        func execute() async throws {
            let session = try await Session.open(database, token)
            let custody = try await session.custody()
            var rows: [[String: String]] = []
            if let file { rows = try CSVFile.rows(try readFile(file), required: ["wallet", "asset", "amount"]) }
            else if let wallet, let asset, let amount { rows = [["wallet": wallet, "asset": asset, "amount": amount, "observed_at": observedAt ?? "", "source": source]] }
            else { throw ValidationError("give --file, or --wallet, --asset and --amount") }
            var observations: [BalanceObservation] = []
            for (index, row) in rows.enumerated() {
                let line = "line \(index + 2)"
                guard let code = row["asset"], let asset = await custody.ledger.asset(code: code) else {
                    throw KinkoError(.assetNotFound, "\(line): unknown asset \(row["asset"] ?? "")", field: "asset")
                }
                do {
                    observations.append(BalanceObservation(
                        wallet: row["wallet"] ?? "", asset: code, amount: try asset.parse(row["amount"] ?? ""),
                        observedAt: try row["observed_at"].flatMap { $0.isEmpty ? nil : $0 }.map { try TimestampNanoseconds(parsing: $0, field: "observed_at") } ?? custody.clock.now(),
                        source: row["source"].flatMap { $0.isEmpty ? nil : $0 } ?? source))
                } catch let error as KinkoError {
                    throw KinkoError(error.code, "\(file == nil ? "" : "\(line): ")\(error.message)", field: error.field ?? "amount")
                }
            }
            try await custody.recordBalances(observations, by: session.caller)
            print("recorded \(observations.count) balance observation\(observations.count == 1 ? "" : "s")")
        }
    }

    struct RecordPrices: KinkoCommand {
        static let configuration = CommandConfiguration(
            commandName: "record-prices", abstract: "Record JPY prices: one with --asset/--price, or a CSV file (asset,price,observed_at,source).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option var file: String?
        @Option var asset: String?
        @Option(help: "Yen per whole unit, e.g. 15000000 or 88.549.") var price: String?
        @Option(help: "UTC time (default: now).") var observedAt: String?
        @Option var source: String = "manual"

        func execute() async throws {
            let session = try await Session.open(database, token)
            let custody = try await session.custody()
            var rows: [[String: String]] = []
            if let file { rows = try CSVFile.rows(try readFile(file), required: ["asset", "price"]) }
            else if let asset, let price { rows = [["asset": asset, "price": price, "observed_at": observedAt ?? "", "source": source]] }
            else { throw ValidationError("give --file, or --asset and --price") }
            let observations = try rows.map { row in
                PriceObservation(
                    asset: row["asset"] ?? "", price: try JPYPrice(decimal: row["price"] ?? ""),
                    observedAt: try row["observed_at"].flatMap { $0.isEmpty ? nil : $0 }.map { try TimestampNanoseconds(parsing: $0, field: "observed_at") } ?? custody.clock.now(),
                    source: row["source"].flatMap { $0.isEmpty ? nil : $0 } ?? source)
            }
            try await custody.recordPrices(observations, by: session.caller)
            print("recorded \(observations.count) price\(observations.count == 1 ? "" : "s")")
        }
    }

    struct Check: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "The 95%-cold and guarantee-crypto rules, per asset and in total, with every figure; exit 6 on fail.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Flag(help: "One JSON object.") var json = false

        func execute() async throws {
            let session = try await Session.open(database, token)
            let custody = try await session.custody()
            let check = try await custody.check(by: session.caller)
            let proposal = try await custody.rebalancingProposal(by: session.caller)
            print(json ? CustodyView.json(check, proposal) : CustodyView.text(check, proposal))
            if !check.passed { throw ExitCode(6) }
        }
    }

    struct WhitelistAdd: KinkoCommand {
        static let configuration = CommandConfiguration(commandName: "whitelist-add", abstract: "Ask for a withdrawal address to be whitelisted (needs approval, then waits 48 h).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option var asset: String
        @Option var address: String
        @Option var label: String = ""

        func execute() async throws {
            let session = try await Session.open(database, token)
            let entry = try await session.custody().requestWhitelist(asset: asset, address: address, label: label, by: session.caller)
            print("whitelist entry \(entry.id) pending; approval request \(entry.requestID) (kinko governance approve \(entry.requestID) --key-file KEY)")
        }
    }

    struct Whitelist: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "List whitelisted withdrawal addresses.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions

        func execute() async throws {
            let session = try await Session.open(database, token)
            let rows = try await session.custody().whitelist(by: session.caller).map {
                [String($0.id), $0.asset, $0.address, $0.label, $0.status.rawValue, $0.usableFrom?.iso8601 ?? "-"]
            }
            print(Table(header: ["entry", "asset", "address", "label", "status", "usable from"], rows: rows).rendered)
        }
    }

    struct WhitelistActivate: KinkoCommand {
        static let configuration = CommandConfiguration(commandName: "whitelist-activate", abstract: "Activate an approved whitelist entry; usable after the waiting period.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option var entry: UInt64

        func execute() async throws {
            let session = try await Session.open(database, token)
            let activated = try await session.custody().activateWhitelist(entry, by: session.caller)
            print("whitelist entry \(entry) active; usable from \(activated.usableFrom?.iso8601 ?? "?")")
        }
    }

    struct Move: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Request a movement; the rules run first and a refusal names the rule and figures (exit 7).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "hot_to_cold, cold_to_hot, withdrawal or guarantee_top_up.") var kind: String
        @Option var from: String
        @Option var to: String?
        @Option var address: String?
        @Option var asset: String
        @Option var amount: String
        @Option(help: "The ledger's pending withdrawal this pays out (customer pool).") var ledgerPendingID: String?

        func execute() async throws {
            guard let kind = MovementKind(rawValue: kind) else { throw ValidationError("--kind: hot_to_cold, cold_to_hot, withdrawal or guarantee_top_up") }
            let session = try await Session.open(database, token)
            let custody = try await session.custody()
            guard let asset = await custody.ledger.asset(code: self.asset) else { throw KinkoError(.assetNotFound, "unknown asset \(self.asset)", field: "asset") }
            let draft = MovementDraft(kind: kind, fromWallet: from, toWallet: to, toAddress: address, asset: asset.code,
                                      amount: try asset.parse(amount), ledgerPendingID: try ledgerPendingID.map { try TransferID(parsing: $0, field: "ledger_pending_id") })
            switch try await custody.requestMovement(draft, by: session.caller) {
            case .success(let movement):
                let request = try await session.governance.request(movement.requestID, by: session.caller)
                print("movement \(movement.id) awaiting approval: request \(movement.requestID), \(request.policy.summary)")
            case .failure(let refusal):
                FileHandle.standardError.write(Data("refused by rule \(refusal.rule.rawValue): \(refusal.message)\n".utf8))
                throw ExitCode(7)
            }
        }
    }

    struct Movements: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "List movements and their approval state.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions

        func execute() async throws {
            let session = try await Session.open(database, token)
            var rows: [[String]] = []
            for m in try await session.custody().movements(limit: Governance.pageMax, by: session.caller).reversed() {
                let approval = m.status == .awaitingApproval ? try await session.governance.evaluate(m.requestID) : nil
                let asset = Asset.standard.first { $0.code == m.draft.asset }
                rows.append([String(m.id), m.draft.kind.rawValue, m.draft.fromWallet, m.draft.toWallet ?? m.draft.toAddress ?? "",
                             "\(asset?.format(m.draft.amount) ?? m.draft.amount.description) \(m.draft.asset)", m.status.rawValue,
                             approval.map { $0.isSuccessful } ?? m.transactionHash ?? ""])
            }
            print(Table(header: ["movement", "kind", "from", "to", "amount", "status", "approval / tx"], rows: rows).rendered)
        }
    }

    struct Release: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Release an approved movement to the signer queue (exactly once; the rules run again).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option var movement: UInt64

        func execute() async throws {
            let session = try await Session.open(database, token)
            _ = try await session.custody().release(movement, by: session.caller)
            print("movement \(movement) released to the signer queue")
        }
    }

    struct Queue: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "What the exchange's signer should broadcast (released movements), as JSON lines.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions

        func execute() async throws {
            let session = try await Session.open(database, token)
            for m in try await session.custody().queue(by: session.caller) {
                let asset = Asset.standard.first { $0.code == m.draft.asset }
                print(CanonicalJSON.object([
                    "movement": .string(String(m.id)), "kind": .string(m.draft.kind.rawValue), "from_wallet": .string(m.draft.fromWallet),
                    "to": .string(m.draft.toWallet ?? m.draft.toAddress ?? ""), "asset": .string(m.draft.asset),
                    "amount": .string(asset?.format(m.draft.amount) ?? m.draft.amount.description), "request": .string(m.requestID.description),
                ]).text)
            }
        }
    }

    struct Complete: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Record a broadcast movement (transaction hash, network fee) and post it to the ledger.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option var movement: UInt64
        @Option var txHash: String
        @Option(help: "Network fee in the asset's units (default 0).") var fee: String = "0"

        func execute() async throws {
            let session = try await Session.open(database, token)
            let custody = try await session.custody()
            let stored = try await custody.movement(movement, by: session.caller)
            guard let asset = await custody.ledger.asset(code: stored.draft.asset) else {
                throw KinkoError(.assetNotFound, "movement \(movement) is in an unknown asset \(stored.draft.asset)", field: "movement")
            }
            _ = try await custody.complete(movement, transactionHash: txHash, networkFee: try asset.parse(fee), by: session.caller)
            print("movement \(movement) completed (\(txHash)) and posted to the ledger")
        }
    }

    struct Reconcile: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Reconcile a JST business day at its cut-off; breaks raise alerts (exit 8).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "YYYY-MM-DD (JST).") var day: String
        @Option(help: "text, json or csv.") var format: String = "text"

        func execute() async throws {
            let session = try await Session.open(database, token)
            let result = try await session.custody().reconcile(day: day, by: session.caller)
            print(try ReconciliationView.render(result, format: format))
            for item in result.breaks { FileHandle.standardError.write(Data("ALERT segregation break \(day) \(item.asset): \(item.cause)\n".utf8)) }
            if !result.isClean { throw ExitCode(8) }
        }
    }

    struct Report: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Show a stored reconciliation in text, JSON or CSV.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "The JST day (YYYY-MM-DD), or `last` for the latest stored reconciliation.") var day: String
        @Option(help: "text, json or csv.") var format: String = "text"
        @Flag(help: "Every run of the day, oldest first: who ran it, when, and what it found then.") var runs = false

        func execute() async throws {
            let session = try await Session.open(database, token)
            if runs {
                let day = day == "last" ? try await session.custody().latestReconciliation(by: session.caller)?.day ?? "" : day
                let found = try await session.custody().reconciliationRuns(day: day, by: session.caller)
                guard !found.isEmpty else { throw KinkoError(.notFound, "no reconciliation for \(day); run kinko custody reconcile --day \(day)", field: "day") }
                for run in found {
                    print("run \(run.run) at \(run.computedAt.iso8601) by \(run.by): \(run.isClean ? "clean" : "\(run.breakCount) breaks")")
                    print(run.report.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
                }
                return
            }
            let result: Reconciliation
            if day == "last" {
                guard let latest = try await session.custody().latestReconciliation(by: session.caller) else {
                    throw KinkoError(.notFound, "no reconciliation is stored yet; run kinko custody reconcile --day DAY", field: "day")
                }
                result = latest
            } else {
                do {
                    result = try await session.custody().reconciliation(day: day, by: session.caller)
                } catch let error as KinkoError where error.code == .notFound {
                    throw KinkoError(.notFound, "no reconciliation for \(day); run kinko custody reconcile --day \(day)", field: "day")
                }
            }
            print(try ReconciliationView.render(result, format: format))
        }
    }

    struct Alerts: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Alerts raised for the board.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions

        func execute() async throws {
            let session = try await Session.open(database, token)
            let rows = try await session.custody().alerts(by: session.caller).map {
                [String($0.id), $0.raisedAt.iso8601, $0.kind, $0.subject, $0.message]
            }
            print(Table(header: ["alert", "raised (UTC)", "kind", "subject", "message"], rows: rows).rendered)
        }
    }
}

extension ApprovalEvaluation {
    var isSuccessful: String { isSatisfied ? "approved: ready to release" : reasons.joined(separator: "; ") }
}

/// A file's text; a gzip-compressed file is decompressed (`InputFile`).
func readFile(_ path: String, field: String = "--file") throws -> String {
    try InputFile.text(atPath: path, field: field)
}

/// Observation and volume files: CSV through `CSVTable`, each row as column → trimmed cell.
enum CSVFile {
    static func rows(_ text: String, required: [String]) throws -> [[String: String]] {
        let table = try CSVTable(text, name: "--file")
        for column in required { _ = try table.column(column) }
        return table.records().map(\.values)
    }
}

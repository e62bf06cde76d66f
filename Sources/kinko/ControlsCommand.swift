import ArgumentParser
import Foundation
import KinkoControls
import KinkoCore
import KinkoGovernance
import KinkoLedger

/// Records as JSON objects for `--json` output (the same fields as the API).
private func jsonObject<T: Encodable>(_ value: T) -> Any {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    guard let data = try? encoder.encode(value), let object = try? JSONSerialization.jsonObject(with: data) else { return [:] }
    return object
}

/// `kinko ledger policy …` and `kinko ledger parked …`: the transfer-control policy and the
/// transfers it parks for a second person.
struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "The transfer-control policy: show the one in force, propose a new version, adopt an approved one.",
        subcommands: [Show.self, Propose.self, Adopt.self])

    struct Show: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Print the policy in force (YAML).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions

        func execute() async throws {
            let session = try await Session.open(database, token)
            let current = try await session.ledgerService().adoptedPolicy(by: session.caller)
            print("# version \(current?.version ?? TransferControlPolicy.standard.version) (\(current.map { "adopted \($0.adoptedAt?.iso8601 ?? "")" } ?? "built in"))")
            print(current?.document ?? TransferControlPolicy.standard.yaml)
        }
    }

    struct Propose: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Propose a new version from a YAML file (finance or compliance); another of them approves.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "The policy file (- for standard input).") var file: String

        func execute() async throws {
            let session = try await Session.open(database, token)
            let (policy, request) = try await session.exchange().ledger.policies.propose(yaml: try readInput(file), by: session.caller)
            print("transfer-control policy \(policy.version) proposed: approval request \(request.id); once approved: kinko ledger policy adopt \(policy.version)")
        }
    }

    struct Adopt: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Put an approved version in force.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Argument var version: String

        func execute() async throws {
            let session = try await Session.open(database, token)
            let policy = try await session.exchange().ledger.adoptPolicy(version: version, by: session.caller)
            print("transfer-control policy \(policy.version) in force")
        }
    }
}

struct ParkedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parked", abstract: "Transfers parked for a second person's approval: list, post once approved, cancel.",
        subcommands: [List.self, Post.self, Cancel.self])

    struct List: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "List parked transfers.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "awaiting_approval, posted or cancelled (default: all).") var status: String?
        @Option(help: "At most this many (1–1000).") var limit: Int = 100

        func execute() async throws {
            let filter = try status.map { name in
                guard let found = ParkedTransfer.Status(rawValue: name) else { throw ValidationError("--status: awaiting_approval, posted or cancelled") }
                return found
            }
            let session = try await Session.open(database, token)
            let exchange = try await session.exchange()
            var rows: [[String]] = []
            for parked in try await exchange.ledger.parkedTransfers(status: filter, limit: limit, by: session.caller) {
                let asset = await exchange.engine.asset(ledger: parked.ledger)
                rows.append([parked.transfer, parked.code, Amount(units: UInt128(parked.amount) ?? 0).decimalString(scale: asset?.scale ?? 0),
                             asset?.code ?? "?", parked.debitAccount, parked.creditAccount, parked.requestID, parked.status.rawValue])
            }
            print(Table(header: ["transfer", "code", "amount", "asset", "debit", "credit", "request", "status"], rows: rows).rendered)
        }
    }

    struct Post: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Post a parked transfer whose approval request is satisfied.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Argument(help: "The approval request.") var request: String

        func execute() async throws {
            let session = try await Session.open(database, token)
            let posted = try await session.exchange().ledger.postApproved(try ApprovalRequestID(parsing: request, field: "request"), by: session.caller)
            print("transfer \(posted.transfer) (\(posted.code)) posted")
        }
    }

    struct Cancel: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Withdraw a parked transfer (its initiator or an eligible approver): it is voided.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Argument(help: "The approval request.") var request: String

        func execute() async throws {
            let session = try await Session.open(database, token)
            let cancelled = try await session.exchange().ledger.cancelParked(try ApprovalRequestID(parsing: request, field: "request"), by: session.caller)
            print("transfer \(cancelled.transfer) (\(cancelled.code)) cancelled")
        }
    }
}

/// `kinko withdrawals …`: customer withdrawals held until monitoring or compliance clears them.
struct WithdrawalsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "withdrawals",
        abstract: "Customer withdrawals, two-phase: reserved, judged by monitoring, released only once cleared.",
        subcommands: [Request.self, List.self, Show.self, Decide.self, Clear.self, Release.self])

    static func print(_ record: WithdrawalRecord, json: Bool) {
        if json {
            Swift.print(jsonText(jsonObject(record)))
            return
        }
        Swift.print("""
            withdrawal \(record.transfer): \(record.status.rawValue) (verdict \(record.verdict)\(record.rules.isEmpty ? "" : ": " + record.rules.joined(separator: ", ")))
            customer \(record.customer), account \(record.account), \(record.amount) units of \(record.asset) to \(record.address)
            """ + (record.alert.map { "\nalert \($0)" } ?? "") + (record.clearanceRequest.map { "\nclearing request \($0)" } ?? "")
            + (record.replacedBy.map { "\nreplaced by pending transfer \($0)" } ?? ""))
    }

    struct Request: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Reserve a withdrawal and take monitoring's verdict (the exchange's systems).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "The pending transfer id (idempotent).") var id: String
        @Option(help: "The customer's liability account.") var account: String
        @Option(help: "The customer wallet (custody holding) account it leaves from.") var wallet: String
        @Option(help: "Amount in the asset's units, e.g. 0.5.") var amount: String
        @Option(help: "Its yen value.") var amountJPY: UInt64
        @Option(help: "The destination address.") var address: String
        @Option(help: "The receiving VASP, if any.") var vasp: String?
        @Option(help: "Its country (ISO 3166-1 alpha-2).") var vaspCountry: String?
        @Flag(help: "The destination is an unhosted wallet.") var unhosted = false
        @Option(help: "For unhosted wallets: low, medium or high.") var counterpartyRisk: String?
        @Flag var json = false

        func execute() async throws {
            let session = try await Session.open(database, token)
            let exchange = try await session.exchange()
            let accountID = try AccountID(parsing: account, field: "account")
            let (found, _) = try await exchange.ledger.account(accountID, by: session.caller)
            guard let asset = await exchange.engine.asset(ledger: found.ledger) else {
                throw KinkoError(.storageCorrupted, "account \(accountID) is on ledger \(found.ledger), which has no asset", field: "account")
            }
            let request = Withdrawals.Request(
                id: try TransferID(parsing: id, field: "id"), account: accountID, wallet: try AccountID(parsing: wallet, field: "wallet"),
                amount: try Amount(decimal: amount, scale: asset.scale).units, amountJPY: amountJPY, address: address, vasp: vasp, vaspCountry: vaspCountry,
                unhosted: unhosted, counterpartyRisk: counterpartyRisk)
            WithdrawalsCommand.print(try await exchange.withdrawals.request(request, by: session.caller), json: json)
        }
    }

    struct List: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "List withdrawals.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "cleared, held, blocked, rejected, released or superseded.") var status: String?
        @Option var limit: Int = 100

        func execute() async throws {
            let filter = try status.map { name in
                guard let found = WithdrawalRecord.Status(rawValue: name) else { throw ValidationError("--status: one of \(WithdrawalRecord.Status.allCases.map(\.rawValue))") }
                return found
            }
            let session = try await Session.open(database, token)
            let records = try await session.exchange().withdrawals.withdrawals(status: filter, after: nil, limit: limit, by: session.caller)
            Swift.print(Table(header: ["withdrawal", "status", "verdict", "customer", "asset", "amount", "address"], rows: records.map {
                [$0.transfer, $0.status.rawValue, $0.verdict, $0.customer, $0.asset, $0.amount, $0.address]
            }).rendered)
        }
    }

    struct Show: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Show one withdrawal with its decisions.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Argument var id: String
        @Flag var json = false

        func execute() async throws {
            let session = try await Session.open(database, token)
            WithdrawalsCommand.print(try await session.exchange().withdrawals.withdrawal(try TransferID(parsing: id, field: "id"), by: session.caller), json: json)
        }
    }

    struct Decide: KinkoCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compliance: clear or reject a held withdrawal; clearing a blocked one files a request a second officer approves.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Argument var id: String
        @Option(help: "clear or reject.") var decision: String
        @Option(help: "Why (audited).") var note: String

        func execute() async throws {
            guard let decision = Withdrawals.Decision(rawValue: decision) else { throw ValidationError("--decision: clear or reject") }
            let session = try await Session.open(database, token)
            WithdrawalsCommand.print(try await session.exchange().withdrawals.decide(try TransferID(parsing: id, field: "id"), decision, note: note,
                                                                                    by: session.caller), json: false)
        }
    }

    struct Clear: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Carry out the approved clearing of a blocked withdrawal.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Argument var id: String

        func execute() async throws {
            let session = try await Session.open(database, token)
            WithdrawalsCommand.print(try await session.exchange().withdrawals.executeClearance(try TransferID(parsing: id, field: "id"), by: session.caller),
                                     json: false)
        }
    }

    struct Release: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Pay a cleared withdrawal out (posts its pending transfer).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Argument var id: String

        func execute() async throws {
            let session = try await Session.open(database, token)
            WithdrawalsCommand.print(try await session.exchange().withdrawals.release(try TransferID(parsing: id, field: "id"), by: session.caller),
                                     json: false)
        }
    }
}

/// `kinko deposits …`: deposits screened before they are credited.
struct DepositsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deposits",
        abstract: "Screened deposits: credited, or quarantined when the source is sanctioned or stolen, until two compliance officers decide.",
        subcommands: [Record.self, List.self, Decide.self, Execute.self])

    struct Record: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Screen and credit one deposit (the exchange's systems).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option var id: String
        @Option(help: "The customer's liability account.") var account: String
        @Option(help: "The customer wallet (custody holding) account it arrived in.") var wallet: String
        @Option var amount: String
        @Option var amountJPY: UInt64
        @Option(help: "The source address.") var address: String
        @Option var transactionHash: String?

        func execute() async throws {
            let session = try await Session.open(database, token)
            let exchange = try await session.exchange()
            let accountID = try AccountID(parsing: account, field: "account")
            let (found, _) = try await exchange.ledger.account(accountID, by: session.caller)
            guard let asset = await exchange.engine.asset(ledger: found.ledger) else {
                throw KinkoError(.storageCorrupted, "account \(accountID) is on ledger \(found.ledger), which has no asset", field: "account")
            }
            let request = Deposits.Request(id: try TransferID(parsing: id, field: "id"), account: accountID, wallet: try AccountID(parsing: wallet, field: "wallet"),
                                           amount: try Amount(decimal: amount, scale: asset.scale).units, amountJPY: amountJPY, address: address,
                                           transactionHash: transactionHash)
            for record in try await exchange.deposits.record([request], by: session.caller) {
                print("deposit \(record.transfer): \(record.status.rawValue) to account \(record.credited) (verdict \(record.verdict)\(record.alert.map { ", alert \($0)" } ?? ""))")
            }
        }
    }

    struct List: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "List deposits.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "credited, quarantined, release_requested, return_requested, released or returned.") var status: String?
        @Option var limit: Int = 100

        func execute() async throws {
            let filter = try status.map { name in
                guard let found = DepositRecord.Status(rawValue: name) else { throw ValidationError("--status: one of \(DepositRecord.Status.allCases.map(\.rawValue))") }
                return found
            }
            let session = try await Session.open(database, token)
            let records = try await session.exchange().deposits.deposits(status: filter, after: nil, limit: limit, by: session.caller)
            print(Table(header: ["deposit", "status", "verdict", "customer", "asset", "amount", "source", "credited"], rows: records.map {
                [$0.transfer, $0.status.rawValue, $0.verdict, $0.customer, $0.asset, $0.amount, $0.address, $0.credited]
            }).rendered)
        }
    }

    struct Decide: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Compliance: release a quarantined deposit to the customer, or return it; a second officer approves.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Argument var id: String
        @Option(help: "release or return.") var decision: String
        @Option(help: "Why (audited).") var note: String

        func execute() async throws {
            guard let decision = Deposits.Decision(rawValue: decision) else { throw ValidationError("--decision: release or return") }
            let session = try await Session.open(database, token)
            let record = try await session.exchange().deposits.decide(try TransferID(parsing: id, field: "id"), decision, note: note, by: session.caller)
            print("deposit \(record.transfer): \(record.status.rawValue); approval request \(record.decisionRequest ?? "?"); once approved: kinko deposits execute \(record.transfer)")
        }
    }

    struct Execute: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Carry out an approved decision on a quarantined deposit.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Argument var id: String

        func execute() async throws {
            let session = try await Session.open(database, token)
            let record = try await session.exchange().deposits.execute(try TransferID(parsing: id, field: "id"), by: session.caller)
            print("deposit \(record.transfer): \(record.status.rawValue)")
        }
    }
}

/// `kinko ledger import`: migrating another ledger's history, reviewed by a second person.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Migrate another ledger's history with its original timestamps: file it for approval, then run the approved file.",
        subcommands: [Request.self, Execute.self])

    /// The two files of an import, parsed: accounts and transfers, every event `imported`,
    /// with its own `timestamp`.
    struct Files: ParsableArguments {
        @Option(help: "Accounts (NDJSON or CSV, as for create-accounts, with flags imported and a timestamp).") var accounts: String?
        @Option(help: "Transfers (NDJSON or CSV, as for post, with flags imported and a timestamp).") var transfers: String?

        func read(assets: [Asset]) throws -> (accounts: [Account], transfers: [Transfer]) {
            guard accounts != nil || transfers != nil else { throw ValidationError("give --accounts, --transfers or both") }
            let input = LedgerInput(assets: assets)
            let parsedAccounts = try accounts.map { path in
                try input.accounts(try readInput(path, field: "--accounts"), format: LedgerInput.Format(path: path)).get().map(\.value)
            } ?? []
            let parsedTransfers = try transfers.map { path in
                try input.transfers(try readInput(path, field: "--transfers"), format: LedgerInput.Format(path: path)).get().map(\.value)
            } ?? []
            return (parsedAccounts, parsedTransfers)
        }
    }

    static func show(_ summary: LedgerService.ImportSummary) {
        print("digest \(summary.digest)")
        print("\(summary.accounts) accounts, \(summary.transfers) transfers, from \(summary.first.iso8601) to \(summary.last.iso8601)")
        for (asset, amount) in summary.grossAmounts.sorted(by: { $0.key < $1.key }) { print("  \(asset): \(amount) moved (gross)") }
    }

    struct Request: KinkoCommand {
        static let configuration = CommandConfiguration(
            abstract: "File an import for approval (finance or compliance, not you); prints the request and what its approver sees.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @OptionGroup var files: Files

        func execute() async throws {
            let session = try await Session.open(database, token)
            let service = try await session.exchange().ledger
            let (accounts, transfers) = try files.read(assets: await service.ledger.assets)
            let (request, summary) = try await service.requestImport(accounts: accounts, transfers: transfers, by: session.caller)
            print("import request \(request.id) filed")
            ImportCommand.show(summary)
        }
    }

    struct Execute: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Run an approved import with the very files it was approved for.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "The approval request.") var request: String
        @OptionGroup var files: Files

        func execute() async throws {
            let session = try await Session.open(database, token)
            let service = try await session.exchange().ledger
            let (accounts, transfers) = try files.read(assets: await service.ledger.assets)
            let summary = try await service.executeImport(try ApprovalRequestID(parsing: request, field: "request"), accounts: accounts,
                                                          transfers: transfers, by: session.caller)
            print("imported")
            ImportCommand.show(summary)
        }
    }
}

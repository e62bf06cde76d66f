import ArgumentParser
import Foundation
import KinkoCore
import KinkoGovernance
import KinkoLedger
import KinkoSQLite

/// `kinko demo`: a small but realistic exchange — eight customers, JPY/BTC/ETH/XRP, deposits,
/// coins swept to cold storage, trades with fees, a two-phase withdrawal, refusals the ledger
/// makes on its own (an overdraft, an expense paid from customer money), a fee sweep out of the
/// customer pool — then the balances and the segregation totals. Running it again changes
/// nothing: every id is fixed, so each event answers `exists`.
struct Demo: KinkoCommand {
    static let configuration = CommandConfiguration(abstract: "Build a small demo exchange in the database and show it.")
    @OptionGroup var database: DatabaseOptions

    static let names: [Role: String] = [
        .admin: "kobayashi.admin", .operator: "matching-engine", .treasurer: "sato.treasury", .signer: "suzuki.signer",
        .compliance: "takahashi.compliance", .finance: "tanaka.finance", .auditor: "watanabe.audit", .inspector: "fsa.inspector",
        .administrator: "court.administrator",
    ]

    func execute() async throws {
        let tokensPath = URL(fileURLWithPath: database.path).deletingLastPathComponent().appendingPathComponent("demo-tokens.json").path
        print("Kinko demo exchange in \(database.path)\n")
        let tokens: [Role: String]
        if FileManager.default.fileExists(atPath: tokensPath) {
            tokens = try Bootstrap.readTokens(from: tokensPath)
            print("principals: already there (tokens in \(tokensPath))")
        } else {
            let (_, governance, _) = try await Bootstrap.create(database)
            tokens = try await Bootstrap.principalPerRole(governance, names: Self.names)
            try Bootstrap.writeTokens(tokens, to: tokensPath)
            print("principals: one per role — " + Role.allCases.compactMap { role in Self.names[role].map { "\($0) (\(role.rawValue))" } }.joined(separator: ", "))
            print("tokens: \(tokensPath) — e.g. KINKO_TOKEN=$(jq -r .auditor \(tokensPath)) kinko ledger balances")
        }
        let database = try database.openDatabase()
        let governance = Governance(store: SQLiteGovernanceStore(database: database))
        let admin = try await governance.authenticate(token: tokens[.admin])
        let treasurer = try await governance.authenticate(token: tokens[.treasurer])
        let exchange = try await governance.authenticate(token: tokens[.operator])
        let ledger = try await Ledger.open(store: SQLiteLedgerStore(database: database))
        let book = DemoBook()
        try await ledger.registerAssets(Asset.standard, by: admin)
        print("assets: " + (await ledger.assets.map { "\($0.code) (ledger \($0.ledger), \($0.scale) decimals)" }.joined(separator: ", ")))
        let accountResults = try await ledger.createAccounts(book.accounts, by: treasurer)
        print("accounts: \(accountResults.count { $0 == .ok }) created, \(accountResults.count { $0 == .exists }) already there")
        var log = DemoLog()
        for step in book.steps {
            let results = try await ledger.createTransfers(step.transfers, by: exchange)
            log.record(step, results)
        }
        print("")
        print(log.lines.joined(separator: "\n"))
        print("")
        try await printBalances(ledger, book: book)
    }

    private func printBalances(_ ledger: Ledger, book: DemoBook) async throws {
        let assets = await ledger.assets
        print("Customer balances")
        var rows: [[String]] = []
        for customer in DemoBook.customers {
            var row = ["\(customer.id) \(customer.name)"]
            for asset in assets {
                let balance = await ledger.account(AccountID(DemoBook.liability(customer.id, asset.ledger)))?.balance ?? .zero
                row.append(balance.netPostedDescription(claim: true, scale: asset.scale))
            }
            rows.append(row)
        }
        print(Table(header: ["customer"] + assets.map(\.code), rows: rows).rendered)
        print("")
        print("Segregation per asset (customer liabilities must equal customer custody holdings)")
        var checks: [[String]] = []
        for asset in assets {
            let accounts = await ledger.accounts { $0.ledger == asset.ledger }
            func total(_ accountClass: AccountClass) -> Amount {
                let units = accounts.filter { $0.account.accountClass == accountClass }
                    .compactMap { $0.balance.netPosted(claim: accountClass.isClaim) }.reduce(0, +)
                return Amount(units: units)
            }
            let owed = total(.customerLiability)
            let held = total(.customerCustodyHolding)
            let hot = accounts.filter { DemoBook.hotWallets.contains($0.account.id.rawValue) }
                .compactMap { $0.balance.netPosted(claim: false) }.reduce(0, +)
            let hotShare = held.isZero || asset.kind == .fiat ? "-" : String(format: "%.2f%%", Double(hot) / Double(held.units) * 100)
            checks.append([asset.code, asset.format(owed), asset.format(held), owed == held ? "balanced" : "BREAK",
                           hotShare, asset.format(total(.ownFunds))])
        }
        print(Table(header: ["asset", "owed to customers", "held for customers", "check", "hot share", "own funds"], rows: checks).rendered)
        print("\nTry: kinko ledger balances --asset BTC · kinko ledger history --account \(DemoBook.liability(1001, 2)) · kinko ledger verify --full")
    }
}

struct DemoLog {
    var lines: [String] = []

    mutating func record(_ step: DemoBook.Step, _ results: [CreateTransferResult]) {
        let outcome: String
        if results.allSatisfy({ $0 == .ok }) {
            outcome = "done"
        } else if results.allSatisfy({ $0 == .exists }) {
            outcome = "already done"
        } else {
            let refusal = results.first { !$0.isSuccess && $0 != .linkedEventFailed }
            outcome = "refused: \(refusal?.name ?? "?")"
        }
        let expectation = step.expectRefusal ? " (as it should be)" : ""
        lines.append("• \(step.title) — \(outcome)\(expectation)")
    }
}

/// The fixed accounts and events of the demo exchange. Account ids: customer liabilities are
/// `customer × 10 + ledger` (10012: customer 1001's BTC); customer custody holdings `500 +
/// ledger × 10 + 1` (hot wallet or JPY trust) and `+ 2` (cold wallet); own funds `600 + ledger`;
/// own holdings `700 + ledger`.
struct DemoBook {
    struct Customer { let id: UInt128; let name: String }
    struct Step {
        let title: String
        let transfers: [Transfer]
        var expectRefusal = false
    }

    static let customers: [Customer] = [
        .init(id: 1001, name: "Sato"), .init(id: 1002, name: "Suzuki"), .init(id: 1003, name: "Takahashi"),
        .init(id: 1004, name: "Tanaka"), .init(id: 1005, name: "Watanabe"), .init(id: 1006, name: "Ito"),
        .init(id: 1007, name: "Yamamoto"), .init(id: 1008, name: "Nakamura"),
    ]
    static let jpy: UInt32 = 1, btc: UInt32 = 2, eth: UInt32 = 3, xrp: UInt32 = 4
    static let ledgers: [UInt32] = [jpy, btc, eth, xrp]
    static func liability(_ customer: UInt128, _ ledger: UInt32) -> UInt128 { customer * 10 + UInt128(ledger) }
    static func hot(_ ledger: UInt32) -> UInt128 { 500 + UInt128(ledger) * 10 + 1 }
    static func cold(_ ledger: UInt32) -> UInt128 { 500 + UInt128(ledger) * 10 + 2 }
    static func ownFunds(_ ledger: UInt32) -> UInt128 { 600 + UInt128(ledger) }
    static func ownHolding(_ ledger: UInt32) -> UInt128 { 700 + UInt128(ledger) }
    static let hotWallets: Set<UInt128> = Set([btc, eth, xrp].map(hot))

    var accounts: [Account] {
        var accounts: [Account] = []
        for customer in Self.customers {
            for ledger in Self.ledgers {
                accounts.append(Account(id: AccountID(Self.liability(customer.id, ledger)), ledger: ledger, code: 100,
                                        accountClass: .customerLiability, flags: .debitsMustNotExceedCredits, owner: customer.id))
            }
        }
        for ledger in Self.ledgers {
            accounts.append(Account(id: AccountID(Self.hot(ledger)), ledger: ledger, code: ledger == Self.jpy ? 210 : 201,
                                    accountClass: .customerCustodyHolding, flags: .creditsMustNotExceedDebits))
            if ledger != Self.jpy {
                accounts.append(Account(id: AccountID(Self.cold(ledger)), ledger: ledger, code: 202,
                                        accountClass: .customerCustodyHolding, flags: .creditsMustNotExceedDebits))
            }
            accounts.append(Account(id: AccountID(Self.ownFunds(ledger)), ledger: ledger, code: 300, accountClass: .ownFunds))
            accounts.append(Account(id: AccountID(Self.ownHolding(ledger)), ledger: ledger, code: 301, accountClass: .ownHolding))
        }
        return accounts
    }

    private static func t(
        _ id: UInt128, _ debit: UInt128, _ credit: UInt128, _ amount: String, _ ledger: UInt32, _ code: TransferCode,
        flags: TransferFlags = [], pendingID: UInt128 = 0, timeout: UInt32 = 0
    ) -> Transfer {
        let scale = Asset.standard.first { $0.ledger == ledger }?.scale ?? 0
        let units = (try? Amount(decimal: amount, scale: scale).units) ?? 0
        precondition(units > 0 || flags.resolvesPending, "demo amount \(amount) does not parse at scale \(scale)")
        return Transfer(id: TransferID(id), debitAccountID: AccountID(debit), creditAccountID: AccountID(credit), amount: units,
                        ledger: ledger, code: code, flags: flags, pendingID: TransferID(pendingID), timeoutSeconds: timeout)
    }

    var steps: [Step] {
        let c = Self.customers.map(\.id)
        let (jpy, btc, eth, xrp) = (Self.jpy, Self.btc, Self.eth, Self.xrp)
        let l = Self.liability
        var steps: [Step] = []
        let yen = ["30000000", "12000000", "8000000", "5000000", "2500000", "1000000", "750000", "300000"]
        steps.append(Step(title: "8 customers deposit ¥59,550,000 into the customer trust account",
                          transfers: zip(c, yen).enumerated().map { i, pair in
                              Self.t(UInt128(1 + i), Self.hot(jpy), l(pair.0, jpy), pair.1, jpy, .deposit)
                          }))
        let coins: [(UInt32, [String])] = [
            (btc, ["2.5", "1.2", "0.8", "0.45", "0.3", "0.05", "0.02", "0.01"]),
            (eth, ["40", "15", "9.5", "6", "2", "1", "0.5", "0.25"]),
            (xrp, ["250000", "80000", "40000", "12000", "5000", "1500", "900", "100"]),
        ]
        for (index, (ledger, amounts)) in coins.enumerated() {
            let code = Asset.standard.first { $0.ledger == ledger }?.code ?? "?"
            steps.append(Step(title: "customers deposit \(code) into the hot wallet",
                              transfers: zip(c, amounts).enumerated().map { i, pair in
                                  Self.t(UInt128(100 * (index + 1) + i), Self.hot(ledger), l(pair.0, ledger), pair.1, ledger, .deposit)
                              }))
        }
        steps.append(Step(title: "treasury sweeps 95%+ of each coin to cold storage (hot → cold)", transfers: [
            Self.t(401, Self.cold(btc), Self.hot(btc), "5.1", btc, .custodyTransfer),
            Self.t(402, Self.cold(eth), Self.hot(eth), "71", eth, .custodyTransfer),
            Self.t(403, Self.cold(xrp), Self.hot(xrp), "372000", xrp, .custodyTransfer),
        ]))
        steps.append(Step(title: "Sato buys 0.5 BTC from Suzuki at ¥15,000,000 — both legs and both ¥7,500 fees as one linked chain", transfers: [
            Self.t(501, l(c[0], jpy), l(c[1], jpy), "7500000", jpy, .trade, flags: .linked),
            Self.t(502, l(c[1], btc), l(c[0], btc), "0.5", btc, .trade, flags: .linked),
            Self.t(503, l(c[0], jpy), Self.ownFunds(jpy), "7500", jpy, .fee, flags: .linked),
            Self.t(504, l(c[1], jpy), Self.ownFunds(jpy), "7500", jpy, .fee),
        ]))
        steps.append(Step(title: "Takahashi buys 10,000 XRP from Ito for ¥900,000 — Ito has only 1,500 XRP", transfers: [
            Self.t(511, l(c[2], jpy), l(c[5], jpy), "900000", jpy, .trade, flags: .linked),
            Self.t(512, l(c[5], xrp), l(c[2], xrp), "10000", xrp, .trade, flags: .linked),
            Self.t(513, l(c[2], jpy), Self.ownFunds(jpy), "900", jpy, .fee),
        ], expectRefusal: true))
        steps.append(Step(title: "Watanabe buys 2 ETH from Sato at ¥500,000 with a ¥1,000 fee", transfers: [
            Self.t(521, l(c[4], jpy), l(c[0], jpy), "1000000", jpy, .trade, flags: .linked),
            Self.t(522, l(c[0], eth), l(c[4], eth), "2", eth, .trade, flags: .linked),
            Self.t(523, l(c[4], jpy), Self.ownFunds(jpy), "1000", jpy, .fee),
        ]))
        steps.append(Step(title: "Tanaka requests a 0.2 BTC withdrawal: reserved as a pending transfer (1 h timeout)", transfers: [
            Self.t(601, l(c[3], btc), Self.hot(btc), "0.2", btc, .withdrawal, flags: .pending, timeout: 3600),
        ]))
        steps.append(Step(title: "the signer broadcasts it; the pending withdrawal is posted", transfers: [
            Self.t(602, 0, 0, "0", 0, TransferCode(0), flags: .postPendingTransfer, pendingID: 601),
        ]))
        steps.append(Step(title: "Nakamura tries to withdraw 1 BTC while holding 0.01 BTC", transfers: [
            Self.t(603, l(c[7], btc), Self.hot(btc), "1", btc, .withdrawal),
        ], expectRefusal: true))
        steps.append(Step(title: "someone tries to pay the office rent (¥50,000) from a customer's yen", transfers: [
            Self.t(701, l(c[0], jpy), Self.ownHolding(jpy), "50000", jpy, .expense),
        ], expectRefusal: true))
        steps.append(Step(title: "the ¥16,000 of fees is swept out of the customer trust to the exchange's own bank account", transfers: [
            Self.t(702, Self.ownHolding(jpy), Self.hot(jpy), "16000", jpy, .segregationSweep),
        ]))
        steps.append(Step(title: "the exchange pays ¥6,000 of its own expenses from its own funds", transfers: [
            Self.t(703, Self.ownFunds(jpy), Self.ownHolding(jpy), "6000", jpy, .expense),
        ]))
        return steps
    }
}

import ArgumentParser
import Foundation
import KinkoCore
import KinkoCustody
import KinkoGovernance
import KinkoPlaybook
import KinkoLedger
import KinkoReserve
import KinkoSQLite

/// `kinko bench incident`: Coincheck's count — a hack affecting 260,000 customers. Setup (not
/// timed): customers with XRP and yen accounts, deposits, a funded reserve, the incident
/// declared (wallet frozen, entitlements snapshotted). Timed: making the plan, then — after the
/// approvals, which are people — paying it: every write-off and payment posted durably.
struct BenchIncident: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "incident", abstract: "Compensation of N customers: plan and post.")

    @Option(help: "Affected customers (1–2,000,000).") var customers: Int = 260_000
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard (1...2_000_000).contains(customers) else { throw ValidationError("--customers must be 1–2000000") }
    }

    func run() async throws {
        let directory = try benchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("incident.sqlite").path
        _ = try AuditSigner.create(path: KinkoDatabase.defaultAuditKeyPath(for: path))
        let clock = ManualWallClock(1_795_305_600_000_000_000)
        let database = try KinkoDatabase(path: path, clock: clock)
        let governance = Governance(store: SQLiteGovernanceStore(database: database), clock: clock)
        let staff = try await Staff.found(governance, admins: ["bench.admin", "bench.second-admin"])
        let admin = staff.admins[0].caller
        func person(_ name: String, _ roles: [Role]) async throws -> (Caller, LocalSigningKey) {
            let member = try await staff.hire(name, roles: roles)
            guard let key = member.key else { throw BenchError.setupFailed("no key for \(name)") }
            return (member.caller, key)
        }
        let (finance, _) = try await person("bench.finance", [.finance])
        let (finance2, finance2Key) = try await person("bench.finance2", [.finance])
        let (compliance, complianceKey) = try await person("bench.compliance", [.compliance])
        let (treasurer, _) = try await person("bench.treasury", [.treasurer, .operator])
        let ledger = try await Ledger.open(store: SQLiteLedgerStore(database: database), clock: clock)
        try await ledger.registerAssets(Asset.standard, by: admin)
        let custody = Custody(governance: governance, ledger: ledger, store: SQLiteCustodyStore(database: database), clock: clock)
        let reserve = Reserve(governance: governance, ledger: ledger, custody: custody, store: SQLiteReserveStore(database: database), clock: clock)
        try await custody.saveVendor(Vendor(name: "v", noticeDate: "2026-04-01", noticeReference: "r"), by: treasurer)
        for (id, purpose, asset) in [("xrp-hot", WalletPurpose.customerPool, "XRP"), ("jpy-trust", .customerPool, "JPY"), ("jpy-own", .ownFunds, "JPY")] {
            _ = try await custody.registerWallet(Wallet(id: id, chain: "b", temperature: .hot, purpose: purpose, assets: [asset], vendor: "v", vendorVersion: "1"), by: treasurer)
        }
        let batch = ledger.limits.batchSizeMax
        let accounts = (0..<customers).flatMap { (index: Int) -> [Account] in
            let owner = UInt128(index + 1)
            return [Account(id: AccountID(owner << 8 | 4), ledger: 4, code: 100, accountClass: .customerLiability, flags: .debitsMustNotExceedCredits, owner: owner),
                    Account(id: AccountID(owner << 8 | 1), ledger: 1, code: 100, accountClass: .customerLiability, flags: .debitsMustNotExceedCredits, owner: owner)]
        }
        for chunk in accounts.chunked(batch) { _ = try await ledger.createAccounts(chunk, by: treasurer) }
        let hot = Wallet.accountID(wallet: "xrp-hot", asset: "XRP")
        let deposits = (0..<customers).map { (index: Int) -> Transfer in
            let owner = UInt128(index + 1)
            return Transfer(id: TransferID(owner << 8 | 4), debitAccountID: hot, creditAccountID: AccountID(owner << 8 | 4),
                            amount: UInt128(index % 10_000 + 1) * 1_000_000, ledger: 4, code: .deposit)
        }
        for chunk in deposits.chunked(batch) { _ = try await ledger.createTransfers(chunk, by: treasurer) }
        let own = Wallet.accountID(wallet: "jpy-own", asset: "JPY")
        _ = try await ledger.createTransfers([Transfer(id: TransferID(1), debitAccountID: own, creditAccountID: Custody.feeAccountID(asset: "JPY"),
                                                       amount: 100_000_000_000, ledger: 1, code: .capital)], by: treasurer)
        let funding = try await reserve.requestFunding(Amount(units: 50_000_000_000), release: false, by: finance)
        try await DemoSigners.approve(funding.id, governance: governance, by: [(compliance, complianceKey)])
        _ = try await reserve.executeFunding(funding.id, by: finance)
        try await custody.recordPrices([PriceObservation(asset: "XRP", price: try JPYPrice(decimal: "90"), observedAt: clock.now(), source: "bench")], by: treasurer)
        clock.advance(seconds: 60)
        let lostAt = clock.now()
        clock.advance(seconds: 60)
        let total = deposits.reduce(UInt128(0)) { $0 + $1.amount }
        let incident = try await reserve.declare(lossType: "hack", losses: [IncidentLoss(wallet: "xrp-hot", asset: "XRP", amount: Amount(units: total / 2))],
                                                 lostAt: lostAt, detectedAt: clock.now(), by: finance)

        let planStarted = ContinuousClock.now
        let plan = try await reserve.plan(incident: incident.id, asset: "XRP", mode: .jpy(try JPYPrice(decimal: "88.549")), by: finance)
        let planSeconds = (ContinuousClock.now - planStarted).milliseconds / 1000
        try await DemoSigners.approve(plan.requestID, governance: governance, by: [(finance2, finance2Key), (compliance, complianceKey)])
        let payStarted = ContinuousClock.now
        _ = try await reserve.pay(incident: incident.id, asset: "XRP", by: finance)
        let paySeconds = (ContinuousClock.now - payStarted).milliseconds / 1000
        let posted = plan.plan.entitlements.count * 2
        if json {
            print(#"{"workload":"incident","customers":\#(customers),"transfers":\#(posted),"plan_seconds":\#(String(format: "%.3f", planSeconds)),"pay_seconds":\#(String(format: "%.3f", paySeconds)),"total_seconds":\#(String(format: "%.3f", planSeconds + paySeconds))}"#)
        } else {
            print("incident: \(customers) customers — plan \(String(format: "%.3f", planSeconds)) s, payment (\(posted) write-offs and payments, durable) \(String(format: "%.3f", paySeconds)) s, total \(String(format: "%.3f", planSeconds + paySeconds)) s")
        }
    }
}

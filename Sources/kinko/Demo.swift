import ArgumentParser
import Foundation
import KinkoControls
import KinkoCore
import KinkoCustody
import KinkoGovernance
import KinkoLedger
import KinkoMonitoring
import KinkoPlaybook
import KinkoReserve
import KinkoStores
import KinkoSurveillance

/// `kinko demo`: a small but realistic exchange, run through one business day. Principals for
/// every role; wallets (one vendor without its advance notice, so its wallets are flagged);
/// eight customers depositing yen, BTC, ETH and XRP; the custody check failing with everything
/// hot, its rebalancing proposal carried out as movements signed by the signers; trades with
/// fees, a two-phase withdrawal and three refusals the ledger makes on its own; observations that
/// agree with the books; the check passing; and the day's segregation reconciliation, clean.
///
/// The business day is the last one (JST) whose 17:00 cut-off has passed, so the reconciliation
/// can run; the events are stamped within it. Running the demo again changes nothing: every id
/// is fixed, so each event answers `exists`.
struct Demo: KinkoCommand {
    static let configuration = CommandConfiguration(abstract: "Build a small demo exchange in the database and show it.")
    @OptionGroup var database: DatabaseOptions

    static let names: [Role: String] = [
        .admin: "kobayashi.admin", .operator: "matching-engine", .treasurer: "sato.treasury", .signer: "suzuki.signer",
        .compliance: "takahashi.compliance", .finance: "tanaka.finance", .auditor: "watanabe.audit", .inspector: "fsa.inspector",
        .administrator: "court.administrator",
    ]
    static let secondAdmin = "nakamura.admin"
    /// People beyond one per role: more signers for the quorum, a second finance and a second
    /// compliance officer to approve what the first ones file.
    static let extraPeople: [(name: String, role: Role, algorithm: SignatureAlgorithm)] = [
        ("ito.signer", .signer, .ed25519), ("yamada.signer", .signer, .ed25519),
        ("yamamoto.finance", .finance, .p256), ("mori.compliance", .compliance, .ed25519),
    ]
    static let extraSigners = ["ito.signer", "yamada.signer"]

    func execute() async throws {
        let directory = database.directory
        let tokensPath = directory.appendingPathComponent("demo-tokens.json").path
        let keysPath = directory.appendingPathComponent("demo-keys").path
        let realNow = SystemWallClock().now()
        let (day, cutoff) = try Self.lastClosedDay(now: realNow)
        let clock = ManualWallClock(cutoff - 8 * 3_600_000_000_000)
        print("Kinko demo exchange in \(database.displayName) — business day \(day) (JST), cut-off \(cutoff.iso8601)\n")
        let fresh = !FileManager.default.fileExists(atPath: tokensPath)
        if fresh {
            let (created, governance, _) = try await Bootstrap.create(database)
            let tokens = try await DemoPeople.hire(governance, directory: keysPath)
            await created.close()
            try Bootstrap.writeTokens(tokens, to: tokensPath)
            print("principals: one per role — " + Role.allCases.compactMap { role in Self.names[role].map { "\($0) (\(role.rawValue))" } }.joined(separator: ", ")
                  + "; and \(Self.secondAdmin), " + Self.extraPeople.map(\.name).joined(separator: ", "))
            print("each redeemed an enrolment code for a token of their own; tokens and keys of approving roles were approved by the second admin")
            print("tokens: \(tokensPath) — e.g. export KINKO_TOKEN=$(python3 -c 'import json; print(json.load(open(\"demo-tokens.json\"))[\"auditor\"])')")
        } else {
            print("principals: already there (tokens in \(tokensPath))")
        }
        let stores = try await database.openStores(clock: clock)
        let governance = Governance(store: stores.governance, clock: clock)
        let people = try await DemoPeople.load(governance, directory: keysPath)
        let caller = { (role: Role) throws -> Caller in try DemoPeople.member(people, Self.names[role] ?? "").caller }
        let (admin, treasurer, exchange) = (try caller(.admin), try caller(.treasurer), try caller(.operator))
        let (finance, compliance) = (try caller(.finance), try caller(.compliance))
        let signers = try ([Self.names[.signer] ?? ""] + Self.extraSigners).map { try DemoPeople.keyed(people, $0) }
        let reviewer = try DemoPeople.keyed(people, "mori.compliance")
        // The front-end path: every transfer passes the transfer controls, deposits are
        // screened, withdrawals wait for their verdict.
        let kinko = Exchange(governance: governance, ledger: try await Ledger.open(store: stores.ledger, clock: clock), custodyStore: stores.custody,
                             reserveStore: stores.reserve, monitoringStore: stores.monitoring, clock: clock, reportingEntity: "Kinko demo exchange")
        let (custody, service) = (kinko.custody, kinko.ledger)
        let book = DemoBook()

        try await service.registerAssets(Asset.standard, by: admin)
        let existing = Set(try await custody.wallets(by: treasurer).map(\.id))
        for vendor in DemoBook.vendors { try await custody.saveVendor(vendor, by: treasurer) }
        for wallet in DemoBook.wallets where !existing.contains(wallet.id) { _ = try await custody.registerWallet(wallet, by: treasurer) }
        print("wallets: \(DemoBook.wallets.count) (hot and cold customer wallets, guarantee and own-funds wallets, the yen trust)")
        let accountResults = try await service.createAccounts(book.accounts, by: exchange)
        print("customer accounts: \(accountResults.count { $0 == .ok }) created, \(accountResults.count { $0 == .exists }) already there")

        // Monitoring goes live before the first deposit is credited: every deposit and
        // withdrawal takes its verdict from it.
        try await DemoMonitoring.goLive(kinko.monitoring, compliance: compliance, reviewer: reviewer)

        var log = DemoLog()
        log.record(book.capital, try await service.createTransfers(book.capital.transfers, by: treasurer))
        print("\n" + log.lines.joined(separator: "\n"))
        try await DemoDeposits.run(kinko, book: book, by: exchange)
        try await DemoBitcoin.setUp(kinko, book: book, treasurer: treasurer, exchange: exchange, signers: signers, directory: keysPath)
        clock.advance(seconds: 600)
        try await DemoObservations.record(custody, by: treasurer, at: clock.now())

        let before = try await custody.check(by: treasurer)
        let proposal = try await custody.rebalancingProposal(by: treasurer)
        print("\n" + CustodyView.text(before, proposal) + "\n")
        if try await custody.movements(limit: 1, by: treasurer).isEmpty {
            let intruder = try DemoPeople.keyed(people, admin.name)
            for (index, step) in proposal.enumerated() {
                try await DemoSigners.carryOut(step, custody: custody, governance: governance, treasurer: treasurer, exchange: exchange, signers: signers,
                                               intruder: index == 0 ? intruder : nil) { movement in
                    // Bitcoin moves on chain: a PSBT signed by two file signers.
                    guard movement.draft.asset == BitcoinCustody.asset, movement.draft.kind == .hotToCold else { return false }
                    try await DemoBitcoin.settle(movement, kinko: kinko, treasurer: treasurer, exchange: exchange,
                                                 finance: try DemoPeople.keyed(people, "yamamoto.finance"), signers: signers, directory: keysPath)
                    return true
                }
            }
        }
        clock.advance(seconds: 600)
        log = DemoLog()
        for step in book.steps { log.record(step, try await service.createTransfers(step.transfers, by: step.isCapital ? treasurer : exchange)) }
        print("\n" + log.lines.joined(separator: "\n"))
        try await DemoWithdrawals.run(kinko, compliance: try DemoPeople.keyed(people, compliance.name), exchange: exchange, clock: clock)

        // The chain and the trust bank agree with the books, just before the cut-off.
        clock.advance(seconds: max(1, (cutoff - 60_000_000_000 - min(clock.now(), cutoff - 60_000_000_000)) / 1_000_000_000))
        let reconciliation: Reconciliation
        if let stored = try await custody.latestReconciliation(by: treasurer), stored.day == day {
            reconciliation = stored  // the day was reconciled by an earlier run; later events must not be observed as of it
        } else {
            try await DemoObservations.record(custody, by: treasurer, at: clock.now())
            print("\n" + CustodyView.text(try await custody.check(by: treasurer), []))
            clock.advance(seconds: 120)
            // The treasurer recorded the balances, so finance reconciles (separate duties).
            reconciliation = try await custody.reconcile(day: day, by: finance)
        }
        print("\n" + (try ReconciliationView.render(reconciliation, format: "text")))
        try await DemoSweep.run(service, book: book, treasurer: treasurer, approver: try DemoPeople.keyed(people, "yamamoto.finance"))

        // After the cut-off: the liability reserve, and a small hack paid the same day.
        let approvers = [try DemoPeople.keyed(people, "yamamoto.finance"), try DemoPeople.keyed(people, compliance.name)]
        try await DemoReserve.run(kinko.reserve, finance: finance, approvers: approvers, clock: clock)

        // Monitoring: the day's other events judged as they arrive; the sanctions alert worked to an STR.
        try await DemoMonitoring.run(kinko.monitoring, reports: kinko.reports, compliance: compliance, reviewer: reviewer, exchange: exchange, clock: clock)

        // Market surveillance: a spoofing alert from the morning's XYZ/JPY stream; staff refused in a blackout.
        try await DemoSurveillance.run(Surveillance(monitoring: kinko.monitoring), compliance: compliance, reviewer: reviewer, exchange: exchange, clock: clock)


        // Back to the present: observe again so `kinko custody check` finds fresh figures now.
        clock.advance(seconds: max(0, (realNow - min(realNow, clock.now())) / 1_000_000_000))
        try await DemoObservations.record(custody, by: treasurer, at: clock.now())

        // The books for the day (its cut-off has passed): the quarter to date, the CPA's
        // evidence pack, the daily segregation report and the incident's notice, each approved
        // by a second finance officer.
        try await DemoReports.run(kinko.reports, day: day, finance: finance, approver: try DemoPeople.keyed(people, "yamamoto.finance").0,
                                  incidents: try await kinko.reserve.incidents(by: finance).map(\.id))
        print("")
        try await printBalances(service, by: finance)
        await stores.close()
    }

    /// The last JST day whose cut-off (17:00) is not in the future.
    static func lastClosedDay(now: TimestampNanoseconds) throws -> (String, TimestampNanoseconds) {
        for daysBack in 0...1 {
            let seconds = Double(now / 1_000_000_000) - Double(daysBack * 86_400) + 9 * 3600
            let day = Date(timeIntervalSince1970: seconds).formatted(Date.ISO8601FormatStyle().year().month().day())
            let cutoff = try Reconciliation.cutoff(day: day, hourJST: CustodySettings().reconciliationCutoffHourJST)
            if cutoff <= now { return (day, cutoff) }
        }
        throw KinkoError(.invalidInput, "no closed business day found")
    }

    private func printBalances(_ ledger: LedgerService, by reader: Caller) async throws {
        let assets = try await ledger.assets(by: reader)
        print("Customer balances")
        var rows: [[String]] = []
        for customer in DemoBook.customers {
            var row = ["\(customer.id) \(customer.name)"]
            for asset in assets {
                let balance = try await ledger.account(AccountID(DemoBook.liability(customer.id, asset.ledger)), by: reader).balance
                row.append(balance.netPostedDescription(claim: true, scale: asset.scale))
            }
            rows.append(row)
        }
        print(Table(header: ["customer"] + assets.map(\.code), rows: rows).rendered)
        print("""

            Try: kinko custody wallets · kinko custody check · kinko custody report --day <day> --format csv · kinko custody movements
                 kinko ledger balances --asset BTC · kinko ledger history --account \(DemoBook.liability(1001, 2)) · kinko audit verify
                 kinko reserve adequacy · kinko incident list · kinko monitor alerts · kinko monitor alert 1 · kinko monitor str 1
            (each with KINKO_TOKEN set to a token from demo-tokens.json; signer keys for approvals are in demo-keys/)
            """)
    }
}

/// The demo's people. Fresh, they are brought on as an exchange would: two admins from
/// `kinko init`, then one principal per role and the extra people, each redeeming an enrolment
/// code for a token of their own and registering a key of their own (tokens and keys of
/// approving roles approved by the second admin). Their tokens and keys are kept in
/// `demo-keys/` (a real person keeps them on a device of their own).
enum DemoPeople {
    /// Hires everyone, writes `<name>.token` and `<name>.key` into `directory`, and returns the
    /// token of the principal per role (for `demo-tokens.json`).
    static func hire(_ governance: Governance, directory: String) async throws -> [Role: String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let staff = try await Staff.found(governance, admins: [Demo.names[.admin] ?? "admin", Demo.secondAdmin])
        var members = staff.admins
        var tokens: [Role: String] = [.admin: staff.admins[0].token]
        for role in Role.allCases where role != .admin {
            let name = Demo.names[role] ?? role.rawValue
            let client = role == .operator
            let member = try await staff.hire(name, kind: client ? .client : .person, roles: [role], key: client ? nil : (role == .signer ? .p256 : .ed25519))
            tokens[role] = member.token
            members.append(member)
        }
        for extra in Demo.extraPeople {
            members.append(try await staff.hire(extra.name, roles: [extra.role], key: extra.algorithm))
        }
        for member in members {
            try write(member.token, to: "\(directory)/\(member.name).token")
            if let key = member.key { try write(key.fileContents, to: "\(directory)/\(member.name).key") }
        }
        return tokens
    }

    /// Everyone in `directory`, authenticated with their own token.
    static func load(_ governance: Governance, directory: String) async throws -> [String: Member] {
        var people: [String: Member] = [:]
        for file in try FileManager.default.contentsOfDirectory(atPath: directory) where file.hasSuffix(".token") {
            let name = String(file.dropLast(".token".count))
            let token = try String(contentsOfFile: "\(directory)/\(file)", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let keyPath = "\(directory)/\(name).key"
            let key = FileManager.default.fileExists(atPath: keyPath)
                ? try LocalSigningKey(fileContents: try String(contentsOfFile: keyPath, encoding: .utf8)) : nil
            people[name] = Member(caller: try await governance.authenticate(token: token), token: token, key: key)
        }
        return people
    }

    static func member(_ people: [String: Member], _ name: String) throws -> Member {
        guard let member = people[name] else { throw KinkoError(.notFound, "the demo has nobody named \(name) in demo-keys/") }
        return member
    }

    static func keyed(_ people: [String: Member], _ name: String) throws -> (Caller, LocalSigningKey) {
        let member = try member(people, name)
        guard let key = member.key else { throw KinkoError(.notFound, "\(name) has no key in demo-keys/") }
        return (member.caller, key)
    }

    private static func write(_ text: String, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw KinkoError(.storageFailure, "cannot write \(path)")
        }
    }
}

/// Approvals and movements signed by the demo's people.
enum DemoSigners {
    static func approve(_ id: ApprovalRequestID, governance: Governance, by people: [(Caller, LocalSigningKey)]) async throws {
        guard let reader = people.first?.0 else { return }
        let request = try await governance.request(id, by: reader)
        for (person, key) in people {
            _ = try await governance.approve(id, keyID: SignerKey.id(of: try key.publicKey()), signature: try key.sign(request.digest), by: person)
        }
    }

    /// Request → as many signatures as the policy asks → release → broadcast → posted.
    /// `intruder` (an admin) first tries to sign the movement as if they were a signer, and is
    /// refused.
    static func carryOut(
        _ step: ProposedMovement, custody: Custody, governance: Governance, treasurer: Caller, exchange: Caller, signers: [(Caller, LocalSigningKey)],
        intruder: (Caller, LocalSigningKey)? = nil, onChain: (Movement) async throws -> Bool = { _ in false }
    ) async throws {
        let draft = MovementDraft(kind: step.kind, fromWallet: step.from, toWallet: step.to, asset: step.asset, amount: step.amount)
        let movement = try await custody.requestMovement(draft, by: treasurer).get()
        let request = try await governance.request(movement.requestID, by: treasurer)
        if let (admin, key) = intruder {
            do {
                _ = try await governance.approve(request.id, keyID: SignerKey.id(of: try key.publicKey()), signature: try key.sign(request.digest), by: admin)
                print("• \(admin.name) signed movement \(movement.id) — THIS MUST NOT HAPPEN")
            } catch let error as KinkoError {
                print("• \(admin.name) tries to sign movement \(movement.id) as a signer — refused: \(error.message)")
            }
        }
        let needed = request.policy.approvalsRequired
        for (signer, key) in signers.prefix(needed) {
            _ = try await governance.approve(request.id, keyID: SignerKey.id(of: try key.publicKey()), signature: try key.sign(request.digest), by: signer)
        }
        let released = try await custody.release(movement.id, by: treasurer)
        let asset = Asset.standard.first { $0.code == step.asset }
        print("• movement \(movement.id): \(step.kind.rawValue) \(asset?.format(step.amount) ?? "") \(step.asset) \(step.from) → \(step.to) — signed by \(signers.prefix(needed).map(\.0.name).joined(separator: ", ")) (\(needed) of \(signers.count)), released")
        if try await onChain(released) { return }
        _ = try await custody.complete(movement.id, transactionHash: "demo-tx-\(movement.id)", networkFee: .zero, by: exchange)
        print("  broadcast, posted")
    }
}

/// The reserve part of the demo day: a demo-sized rule set adopted under approval, insurance,
/// funding under approval, the requirement, and a 1,000 XRP hack of the hot wallet compensated
/// in yen at a fixed reference price, approved by finance and compliance, paid at once.
enum DemoReserve {
    static func run(_ reserve: Reserve, finance: Caller, approvers: [(Caller, LocalSigningKey)], clock: ManualWallClock) async throws {
        let compliance = [approvers[1]]
        if try await reserve.ruleSets.versions(by: finance).isEmpty {
            let yaml = RuleSet.defaultYAML.replacingOccurrences(of: "2026.1-default", with: "2026.1-demo")
                .replacingOccurrences(of: "floor_jpy: \"2000000000\"", with: "floor_jpy: \"5000000\"")
            let (rules, request) = try await reserve.ruleSets.propose(yaml: yaml, by: finance)
            try await DemoSigners.approve(request.id, governance: reserve.governance, by: compliance)
            _ = try await reserve.ruleSets.adopt(version: rules.version, by: finance)
            _ = try await reserve.addPolicy(InsurancePolicy(id: 0, insurer: "tokio-marine", coverage: ["hack"], limit: Amount(units: 3_000_000),
                                                            deductible: Amount(units: 100_000), starts: "2026-04-01", ends: "2027-03-31"), by: finance)
            let funding = try await reserve.requestFunding(Amount(units: 3_000_000), release: false, by: finance)
            try await DemoSigners.approve(funding.id, governance: reserve.governance, by: compliance)
            _ = try await reserve.executeFunding(funding.id, by: finance)
            print("\nreserve: rule set \(rules.version) adopted (floor cut to ¥5,000,000 for a demo-sized exchange), a ¥3,000,000 hack policy, ¥3,000,000 funded")
        }
        _ = try await reserve.refreshVolumes(by: finance)
        let (requirement, funded) = try await reserve.compute(by: finance)
        print("\n" + ReserveView.render(requirement, funded: funded, json: false))

        guard try await reserve.incidents(by: finance).isEmpty else {
            print("\nincident: already declared and paid (kinko incident list)")
            return
        }
        clock.advance(seconds: 60)
        let lostAt = clock.now()
        clock.advance(seconds: 300)
        let incident = try await reserve.declare(lossType: "hack", losses: [IncidentLoss(wallet: "xrp-hot", asset: "XRP", amount: Amount(units: 1_000_000_000))],
                                                 lostAt: lostAt, detectedAt: clock.now(), by: finance)
        print("\nincident \(incident.id): 1,000 XRP stolen from xrp-hot at \(lostAt.iso8601), detected 5 minutes later; xrp-hot frozen")
        clock.advance(seconds: 600)
        let plan = try await reserve.plan(incident: incident.id, asset: "XRP", mode: .jpy(try JPYPrice(decimal: "90")), by: finance)
        print(IncidentView.plan(plan))
        try await DemoSigners.approve(plan.requestID, governance: reserve.governance, by: approvers)
        clock.advance(seconds: 300)
        let paid = try await reserve.pay(incident: incident.id, asset: "XRP", by: finance)
        print("approved by \(approvers.map(\.0.name).joined(separator: " and ")); paid: \(paid.secondsToCompensation.map { "\($0 / 60) minutes" } ?? "-") from detection to the last payment")
    }
}

/// Records what the chain and the trust bank would show: each wallet's ledger holding.
enum DemoObservations {
    static func record(_ custody: Custody, by caller: Caller, at time: TimestampNanoseconds) async throws {
        let demoWallets = Set(DemoBook.wallets.map(\.id))
        let balances = try await custody.positions(by: caller).filter { demoWallets.contains($0.wallet.id) }.map {
            BalanceObservation(wallet: $0.wallet.id, asset: $0.asset, amount: $0.booked, observedAt: time, source: "demo node")
        }
        try await custody.recordBalances(balances, by: caller)
        try await custody.recordPrices(try DemoBook.prices.sorted { $0.key < $1.key }.map {
            PriceObservation(asset: $0.key, price: try JPYPrice(decimal: $0.value), observedAt: time, source: "demo feed")
        }, by: caller)
    }
}

struct DemoLog {
    var lines: [String] = []

    mutating func record(_ step: DemoBook.Step, _ results: [CreateTransferResult]) {
        let outcome: String
        if results.allSatisfy({ $0 == .ok }) {
            outcome = "done"
        } else if results.allSatisfy({ $0 == .pendingApproval }) {
            outcome = "parked for a second person's approval"
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
        /// The exchange's own money moves: the treasurer posts it, not the exchange's systems.
        var isCapital: Bool { transfers.first?.code == .capital }
    }

    static let customers: [Customer] = [
        .init(id: 1001, name: "Sato"), .init(id: 1002, name: "Suzuki"), .init(id: 1003, name: "Takahashi"),
        .init(id: 1004, name: "Tanaka"), .init(id: 1005, name: "Watanabe"), .init(id: 1006, name: "Ito"),
        .init(id: 1007, name: "Yamamoto"), .init(id: 1008, name: "Nakamura"),
    ]
    static let jpy: UInt32 = 1, btc: UInt32 = 2, eth: UInt32 = 3, xrp: UInt32 = 4
    static let ledgers: [UInt32] = [jpy, btc, eth, xrp]
    static func liability(_ customer: UInt128, _ ledger: UInt32) -> UInt128 { customer * 10 + UInt128(ledger) }
    static func code(_ ledger: UInt32) -> String { Asset.standard.first { $0.ledger == ledger }?.code ?? "?" }
    /// The hot wallet of a coin, or for JPY the customer money trust account.
    static func hot(_ ledger: UInt32) -> UInt128 {
        Wallet.accountID(wallet: ledger == jpy ? "jpy-trust" : "\(code(ledger).lowercased())-hot", asset: code(ledger)).rawValue
    }
    static func ownFunds(_ ledger: UInt32) -> UInt128 { Custody.feeAccountID(asset: code(ledger)).rawValue }
    static func ownHolding(_ ledger: UInt32) -> UInt128 {
        Wallet.accountID(wallet: "\(code(ledger).lowercased())-own", asset: code(ledger)).rawValue
    }

    /// The wallets of the demo exchange: per coin a hot and a cold customer wallet, a guarantee
    /// wallet and an own-funds wallet; for yen the customer trust account and the own bank account.
    static var wallets: [Wallet] {
        var wallets: [Wallet] = []
        for (code, chain) in [("BTC", "bitcoin"), ("ETH", "ethereum"), ("XRP", "xrpl")] {
            let id = code.lowercased()
            wallets.append(Wallet(id: "\(id)-hot", chain: chain, temperature: .hot, purpose: .customerPool, assets: [code], addresses: ["\(id)-hot-address-1"], vendor: "ginkgo-custody", vendorVersion: "5.1.0"))
            wallets.append(Wallet(id: "\(id)-cold", chain: chain, temperature: .cold, purpose: .customerPool, assets: [code], addresses: ["\(id)-cold-address-1"], vendor: "ginkgo-custody", vendorVersion: "5.1.0"))
            wallets.append(Wallet(id: "\(id)-guarantee", chain: chain, temperature: .cold, purpose: .guarantee, assets: [code], vendor: "ginkgo-custody", vendorVersion: "5.1.0"))
            wallets.append(Wallet(id: "\(id)-own", chain: chain, temperature: .hot, purpose: .ownFunds, assets: [code], vendor: "inhouse-signer", vendorVersion: "0.9"))
        }
        wallets.append(Wallet(id: "jpy-trust", chain: "bank-trust", temperature: .cold, purpose: .customerPool, assets: ["JPY"], vendor: "trust-bank", vendorVersion: "n/a"))
        wallets.append(Wallet(id: "jpy-own", chain: "bank", temperature: .cold, purpose: .ownFunds, assets: ["JPY"], vendor: "trust-bank", vendorVersion: "n/a"))
        wallets.append(Wallet(id: "jpy-reserve", chain: "bank", temperature: .cold, purpose: .reserve, assets: ["JPY"], vendor: "trust-bank", vendorVersion: "n/a"))
        return wallets
    }

    static let vendors = [
        KinkoCustody.Vendor(name: "ginkgo-custody", noticeDate: "2026-04-01", noticeReference: "KFB-2026-0117"),
        KinkoCustody.Vendor(name: "trust-bank", noticeDate: "2026-04-01", noticeReference: "KFB-2026-0118"),
        KinkoCustody.Vendor(name: "inhouse-signer"),
    ]

    static let prices: [String: String] = ["BTC": "15000000", "ETH": "500000", "XRP": "90"]

    /// Customer liability accounts; wallet accounts are opened when the wallets are registered.
    var accounts: [Account] {
        Self.customers.flatMap { customer in
            Self.ledgers.map { ledger in
                Account(id: AccountID(Self.liability(customer.id, ledger)), ledger: ledger, code: 100,
                        accountClass: .customerLiability, flags: .debitsMustNotExceedCredits, owner: customer.id)
            }
        }
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

    var capital: Step {
        Step(title: "the exchange puts its own capital in: ¥10,000,000, 1 BTC, 10 ETH, 50,000 XRP", transfers: [
            Self.t(801, Self.ownHolding(Self.jpy), Self.ownFunds(Self.jpy), "10000000", Self.jpy, .capital),
            Self.t(802, Self.ownHolding(Self.btc), Self.ownFunds(Self.btc), "1", Self.btc, .capital),
            Self.t(803, Self.ownHolding(Self.eth), Self.ownFunds(Self.eth), "10", Self.eth, .capital),
            Self.t(804, Self.ownHolding(Self.xrp), Self.ownFunds(Self.xrp), "50000", Self.xrp, .capital),
        ])
    }

    /// The day's deposits, screened before they are credited: yen from the customers' banks,
    /// coins from their own addresses — and 0.5 ETH for Nakamura from an OFAC-listed address.
    var deposits: [(title: String, requests: [Deposits.Request])] {
        let c = Self.customers.map(\.id)
        let yen = ["30000000", "12000000", "8000000", "5000000", "2500000", "1000000", "750000", "300000"]
        let coins: [(UInt32, [String])] = [
            (Self.jpy, yen),
            (Self.btc, ["2.5", "1.2", "0.8", "0.45", "0.3", "0.05", "0.02", "0.01"]),
            (Self.eth, ["40", "15", "9.5", "6", "2", "1", "0.5", "0.25"]),
            (Self.xrp, ["250000", "80000", "40000", "12000", "5000", "1500", "900", "100"]),
        ]
        var groups: [(String, [Deposits.Request])] = []
        for (index, (ledger, amounts)) in coins.enumerated() {
            let code = Self.code(ledger)
            let requests = zip(c, amounts).enumerated().map { i, pair in
                Self.deposit(UInt128(index == 0 ? 1 + i : 100 * index + i), customer: pair.0, ledger: ledger, amount: pair.1,
                             from: ledger == Self.jpy ? "bank-\(pair.0)" : "\(code.lowercased())-address-of-\(pair.0)")
            }
            groups.append((ledger == Self.jpy ? "8 customers deposit ¥59,550,000 into the customer trust account" : "customers deposit \(code) into the hot wallet",
                           requests))
        }
        groups.append(("Nakamura receives 0.5 ETH from an OFAC-listed address",
                       [Self.deposit(350, customer: c[7], ledger: Self.eth, amount: "0.5", from: DemoMonitoring.sanctionedETH)]))
        return groups
    }

    static func deposit(_ id: UInt128, customer: UInt128, ledger: UInt32, amount: String, from address: String) -> Deposits.Request {
        let asset = Asset.standard.first { $0.ledger == ledger }
        let units = (try? Amount(decimal: amount, scale: asset?.scale ?? 0).units) ?? 0
        let jpy = (try? Amount(units: units).jpyValue(of: asset ?? Asset.standard[0], at: JPYPrice(decimal: prices[code(ledger)] ?? "1"),
                                                       rounding: .down).units) ?? 0
        return Deposits.Request(id: TransferID(id), account: AccountID(liability(customer, ledger)), wallet: AccountID(hot(ledger)), amount: units,
                                amountJPY: UInt64(clamping: jpy), address: address)
    }

    /// The day's trades and what the ledger refuses on its own.
    var steps: [Step] {
        let c = Self.customers.map(\.id)
        let (jpy, btc, eth, xrp) = (Self.jpy, Self.btc, Self.eth, Self.xrp)
        let l = Self.liability
        var steps: [Step] = []
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
        steps.append(Step(title: "someone posts a lone trade leg moving 0.1 BTC from Sato to the exchange's own funds", transfers: [
            Self.t(531, l(c[0], btc), Self.ownFunds(btc), "0.1", btc, .trade),
        ], expectRefusal: true))
        steps.append(Step(title: "someone posts a withdrawal straight to the ledger, around monitoring", transfers: [
            Self.t(603, l(c[7], btc), Self.hot(btc), "0.01", btc, .withdrawal),
        ], expectRefusal: true))
        steps.append(Step(title: "someone tries to pay the office rent (¥50,000) from a customer's yen", transfers: [
            Self.t(701, l(c[0], jpy), Self.ownHolding(jpy), "50000", jpy, .expense),
        ], expectRefusal: true))
        steps.append(Step(title: "the exchange pays ¥6,000 of its own expenses from its own funds", transfers: [
            Self.t(703, Self.ownFunds(jpy), Self.ownHolding(jpy), "6000", jpy, .expense),
        ]))
        return steps
    }

    /// After the reconciliation proved them held: the day's fees swept to the exchange's own account.
    static var sweep: Transfer { t(702, ownHolding(jpy), hot(jpy), "16000", jpy, .segregationSweep) }
}

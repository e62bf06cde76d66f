import Foundation
import KinkoBitcoin
import KinkoControls
import KinkoCore
import KinkoCustody
import KinkoGovernance
import KinkoLedger
import KinkoMonitoring
import KinkoPlaybook
import KinkoReports
import KinkoReserve
import KinkoStores
import Testing

/// "Nobody alone": every operation that moves value or weakens a control, tried by one person
/// of every role with everything that person can legitimately obtain (their own token and key,
/// enrolments they may create, principals they may create and the codes that come with them).
/// Each attempt must be refused, or parked until a second person acts — never carried out —
/// no guarded balance may move, and every attempt leaves an audit entry. docs/SECURITY.md
/// prints the matrix this suite produces (`KINKO_WRITE_DOCS=1 swift test --filter OnePerson`
/// rewrites it; the test fails when the page and the suite disagree).
@Suite("One person alone, on every database", .serialized)
struct OnePersonTests {
    typealias W = ControlWorld

    enum Outcome: Equatable, Sendable {
        /// Refused, with the error or result code.
        case refused(String)
        /// Filed or held, waiting for a second person; doing the rest alone was refused.
        case parked(String)
        /// Carried out by one person: the suite fails.
        case done(String)

        var cell: String {
            switch self {
            case .refused("forbidden"): "403"
            case .refused(let code): "✗ \(code)"
            case .parked(let what): "⏸ \(what)"
            case .done(let what): "DONE: \(what)"
            }
        }
    }

    /// One attempt by one person.
    struct Try: Sendable {
        let w: ControlWorld
        let actor: Member
        let role: Role
        /// Unique per attempt and role: transfer ids, names and versions are derived from it.
        let serial: UInt128
        let backend: Backend

        var me: Caller { actor.caller }
        var x: Exchange { w.x }
        var g: Governance { w.governance }
        func id(_ k: UInt128 = 0) -> TransferID { TransferID(1_000_000 + serial * 10 + k) }

        /// Posts transfers through the controls. A refusal ends the attempt; a parked transfer
        /// is pushed on alone (approved with one's own key, posted by oneself) and then withdrawn.
        func post(_ events: [Transfer]) async throws -> Outcome {
            let results = try await x.ledger.createTransfers(events, by: me)
            if let refused = results.first(where: { !$0.isSuccess }) { return .refused(refused.name) }
            guard let index = results.firstIndex(of: .pendingApproval) else { return .done("posted \(results.map(\.name))") }
            let parked = try #require(try await x.ledger.parkedTransfer(events[index].id))
            let request = ApprovalRequestID(try #require(UInt128(parked.requestID)))
            let outcome = await alone(request) { _ = try await x.ledger.postApproved(request, by: me) }
            _ = try await x.ledger.cancelParked(request, by: me)
            return outcome
        }

        /// Tries to finish what waits for approval alone: approve `request` with one's own key
        /// (refused: the initiator does not count), then `finish`. Parked when `finish` is refused.
        func alone(_ request: ApprovalRequestID, _ what: String = "parked", finish: () async throws -> Void) async -> Outcome {
            if let evaluation = try? await actor.approve(request, in: g), evaluation.isSatisfied { return .done("approved their own request \(request)") }
            do {
                try await finish()
                return .done("finished alone")
            } catch is KinkoError {
                return .parked(what)
            } catch {
                return .done("unexpected \(error)")
            }
        }

        /// A principal of one's own making: created, enrolled and redeemed by the actor.
        func puppet() async throws -> Member {
            let principal = try await g.createPrincipal(name: "puppet.\(serial)", kind: .person, by: me)
            let code = try await g.createEnrolment(for: principal.id, by: me)
            let (_, token, _) = try await g.redeemEnrolment(code: code)
            return Member(caller: try await g.authenticate(token: token), token: token, key: nil)
        }
    }

    struct Attempt: Sendable {
        let id: String
        let title: String
        /// One of the cases issue 13 lists as bypassed on f0b7dc9.
        let listed: Bool
        /// The roles it applies to (nil: every role); the others show "—".
        let only: Set<Role>?
        /// Runs on a database of its own (no audit check on the shared one).
        let ownDatabase: Bool
        let run: @Sendable (Try) async throws -> Outcome

        init(_ id: String, _ title: String, listed: Bool = false, only: Set<Role>? = nil, ownDatabase: Bool = false,
             _ run: @escaping @Sendable (Try) async throws -> Outcome) {
            self.id = id
            self.title = title
            self.listed = listed
            self.only = only
            self.ownDatabase = ownDatabase
            self.run = run
        }
    }

    static func transfer(_ t: Try, _ debit: AccountID, _ credit: AccountID, _ amount: UInt128, ledger: UInt32, _ code: TransferCode,
                         flags: TransferFlags = [], k: UInt128 = 0) -> Transfer {
        Transfer(id: t.id(k), debitAccountID: debit, creditAccountID: credit, amount: amount, ledger: ledger, code: code, flags: flags)
    }

    // MARK: The attempts

    static let attempts: [Attempt] = ledgerAttempts + flowAttempts + custodyAttempts + governanceAttempts + reportAttempts

    static let ledgerAttempts: [Attempt] = [
        Attempt("V1", "Post a lone trade leg moving a customer's bitcoin to the exchange's own funds", listed: true) { t in
            try await t.post([transfer(t, W.c1BTC, W.ownBTC, W.btc("0.1"), ledger: 2, .trade)])
        },
        Attempt("V2", "Post a linked \"trade\" whose counter-leg pays a different customer") { t in
            try await t.post([transfer(t, W.c1BTC, W.ownBTC, W.btc("0.1"), ledger: 2, .trade, flags: .linked),
                              transfer(t, W.ownJPY, W.c2JPY, 1_000, ledger: 1, .trade, k: 1)])
        },
        Attempt("V3", "Sweep ¥400 of the proven surplus out of the customer trust, and post it oneself", listed: true) { t in
            try await t.post([transfer(t, W.jpyOwnHolding, W.trust, 400, ledger: 1, .segregationSweep)])
        },
        Attempt("V4", "Sweep ¥600 when the reconciliation proved ¥500 above what customers are owed") { t in
            try await t.post([transfer(t, W.jpyOwnHolding, W.trust, 600, ledger: 1, .segregationSweep)])
        },
        Attempt("V5", "Post a reserve_release (nothing funded above the requirement)", listed: true) { t in
            try await t.post([transfer(t, W.reserveJPY, W.ownJPY, 1, ledger: 1, .reserveRelease)])
        },
        Attempt("V6", "Post a reserve_draw into compensation payable", listed: true) { t in
            try await t.post([transfer(t, W.reserveJPY, W.payableJPY, 1_000, ledger: 1, .reserveDraw)])
        },
        Attempt("V7", "Post a reserve_funding from own funds") { t in
            try await t.post([transfer(t, W.ownJPY, W.reserveJPY, 1_000, ledger: 1, .reserveFunding)])
        },
        Attempt("V8", "Release 0.15 BTC of guarantee crypto (0.14 BTC above the hot customer coins)", listed: true) { t in
            try await t.post([transfer(t, W.btcOwnHolding, W.btcGuarantee, W.btc("0.15"), ledger: 2, .guaranteeRelease)])
        },
        Attempt("V9", "Release 0.05 BTC of guarantee crypto (within the cover)", listed: true) { t in
            try await t.post([transfer(t, W.btcOwnHolding, W.btcGuarantee, W.btc("0.05"), ledger: 2, .guaranteeRelease)])
        },
        Attempt("V10", "Book 0.15 BTC from cold to hot (above the guarantee cover)") { t in
            try await t.post([transfer(t, W.btcHot, W.btcCold, W.btc("0.15"), ledger: 2, .custodyTransfer)])
        },
        Attempt("V11", "Write a customer's bitcoin off as an incident loss") { t in
            try await t.post([transfer(t, W.c1BTC, W.btcCold, W.btc("0.1"), ledger: 2, .incidentLoss)])
        },
        Attempt("V12", "Correct a customer's balance in the exchange's favour") { t in
            try await t.post([transfer(t, W.c1JPY, W.ownJPY, 1_000, ledger: 1, .correction)])
        },
        Attempt("V13", "Credit a customer from own funds by correction") { t in
            try await t.post([transfer(t, W.ownJPY, W.c2JPY, 1_000, ledger: 1, .correction)])
        },
        Attempt("V14", "Charge a customer a ¥5,000 fee (the schedule allows ¥1,000 without a trade)") { t in
            try await t.post([transfer(t, W.c1JPY, W.ownJPY, 5_000, ledger: 1, .fee)])
        },
        Attempt("V15", "Post a withdrawal in one step, not pending", listed: true) { t in
            try await t.post([transfer(t, W.c1BTC, W.btcHot, W.btc("0.01"), ledger: 2, .withdrawal)])
        },
        Attempt("V16", "Reserve a withdrawal in the ledger and post it without monitoring", listed: true) { t in
            let results = try await t.x.ledger.createTransfers([transfer(t, W.c1BTC, W.btcHot, W.btc("0.01"), ledger: 2, .withdrawal, flags: .pending)], by: t.me)
            guard results == [.ok] else { return .refused(results[0].name) }
            let post = Transfer(id: t.id(1), debitAccountID: AccountID(0), creditAccountID: AccountID(0), amount: Transfer.amountWholePending,
                                ledger: 0, code: TransferCode(0), flags: .postPendingTransfer, pendingID: t.id())
            let outcome = try await t.post([post])
            let void = Transfer(id: t.id(2), debitAccountID: AccountID(0), creditAccountID: AccountID(0), amount: 0, ledger: 0, code: TransferCode(0),
                                flags: .voidPendingTransfer, pendingID: t.id())
            #expect(try await t.x.ledger.createTransfers([void], by: t.me) == [.ok])
            return outcome
        },
        Attempt("V17", "Credit a deposit straight to a customer, bypassing screening", listed: true) { t in
            try await t.post([transfer(t, W.btcHot, W.c1BTC, W.btc("1"), ledger: 2, .deposit)])
        },
        Attempt("V18", "Open a customer account that may overdraw") { t in
            let results = try await t.x.ledger.createAccounts([
                Account(id: AccountID(UInt128(9_000_000) + t.serial), ledger: 1, code: 100, accountClass: .customerLiability, owner: 9),
            ], by: t.me)
            return results == [.ok] ? .done("opened") : .refused(results[0].name)
        },
        Attempt("V19", "Release a quarantined deposit to the customer by posting quarantine_release", listed: true) { t in
            try await t.post([transfer(t, W.c2Quarantine, W.c2BTC, W.btc("0.5"), ledger: 2, .quarantineRelease)])
        },
        Attempt("P1", "Adopt a weaker transfer-control policy (no counter-leg for trades)") { t in
            let yaml = TransferControlPolicy.defaultYAML.replacingOccurrences(of: "2026.1-default", with: "weak-\(t.serial)")
                .replacingOccurrences(of: "trade_needs_counter_leg: true", with: "trade_needs_counter_leg: false")
            let (policy, request) = try await t.x.ledger.policies.propose(yaml: yaml, by: t.me)
            return await t.alone(request.id) { _ = try await t.x.ledger.adoptPolicy(version: policy.version, by: t.me) }
        },
        Attempt("P2", "Post a correction someone else parked, which nobody approved") { t in
            _ = try await t.x.ledger.postApproved(t.w.parkedCorrectionRequest, by: t.me)
            return .done("posted")
        },
        Attempt("P3", "Import another ledger's history alone: file it, approve one's own request, run it") { t in
            let history = Transfer(id: t.id(1), debitAccountID: W.c1BTC, creditAccountID: W.c2BTC, amount: 1, ledger: 2, code: .trade,
                                   flags: .imported, timestamp: t.w.f.clock.now() - 1)
            let (request, _) = try await t.x.ledger.requestImport(accounts: [], transfers: [history], by: t.me)
            return await t.alone(request.id, "filed") {
                do {
                    _ = try await t.x.ledger.executeImport(request.id, accounts: [], transfers: [history], by: t.me)
                } catch let error as KinkoError where error.code == .approvalRequired || error.code == .forbidden {
                    throw error
                } catch {
                    return  // past the approval: counted as carried out
                }
            }
        },
    ]

    static let flowAttempts: [Attempt] = [
        Attempt("W1", "Withdraw to an OFAC-listed address", listed: true) { t in
            let record = try await t.x.withdrawals.request(Withdrawals.Request(
                id: t.id(), account: W.c1BTC, wallet: W.btcHot, amount: W.btc("0.01"), amountJPY: 150_000, address: W.sanctioned), by: t.me)
            switch record.status {
            case .blocked: return .refused("blocked")
            case .held: return .parked("held")
            default: return .done(record.status.rawValue)
            }
        },
        Attempt("W2", "Clear a blocked withdrawal alone", listed: true) { t in
            let record = try await t.x.withdrawals.decide(W.blockedWithdrawal, .clear, note: "looks fine to me", by: t.me)
            guard let text = record.clearanceRequest, let request = UInt128(text) else { return .done(record.status.rawValue) }
            return await t.alone(ApprovalRequestID(request)) { _ = try await t.x.withdrawals.executeClearance(W.blockedWithdrawal, by: t.me) }
        },
        Attempt("W3", "Release (post) a blocked withdrawal", listed: true) { t in
            _ = try await t.x.withdrawals.release(W.blockedWithdrawal, by: t.me)
            return .done("released")
        },
        Attempt("W4", "Release a withdrawal held for review") { t in
            _ = try await t.x.withdrawals.release(W.heldWithdrawal, by: t.me)
            return .done("released")
        },
        Attempt("W5", "Send a held withdrawal's coins through custody", listed: true) { t in
            let draft = MovementDraft(kind: .withdrawal, fromWallet: "btc-hot", toAddress: W.whitelisted, asset: "BTC", amount: Amount(units: W.btc("0.02")),
                                      ledgerPendingID: W.heldWithdrawal)
            switch try await t.x.custody.requestMovement(draft, by: t.me) {
            case .failure(let refusal): return .refused(refusal.rule.rawValue)
            case .success(let movement): return await t.alone(movement.requestID) { _ = try await t.x.custody.release(movement.id, by: t.me) }
            }
        },
        Attempt("W6", "Record a deposit from a sanctioned address", listed: true) { t in
            let records = try await t.x.deposits.record([Deposits.Request(
                id: t.id(), account: W.c2BTC, wallet: W.btcCold, amount: W.btc("0.01"), amountJPY: 150_000, address: W.sanctioned)], by: t.me)
            return records.first?.status == .quarantined ? .parked("quarantined") : .done(records.first?.status.rawValue ?? "?")
        },
        Attempt("W7", "Release a quarantined deposit to the customer alone") { t in
            let record = try await t.x.deposits.decide(W.quarantinedDeposit, .release, note: "false positive", by: t.me)
            guard let text = record.decisionRequest, let request = UInt128(text) else { return .done(record.status.rawValue) }
            return await t.alone(ApprovalRequestID(request)) { _ = try await t.x.deposits.execute(W.quarantinedDeposit, by: t.me) }
        },
        Attempt("M1", "Replace the sanctions list with one that drops the listed address", listed: true) { t in
            let list = try AddressList(kind: .sanctioned, asset: "BTC", version: "cleaned-\(t.serial)", text: "bc1qsomebody0else\n")
            let request = try await t.x.monitoring.proposeList(list, by: t.me)
            return await t.alone(request.id) { try await t.x.monitoring.activateList(list, request: request.id, by: t.me) }
        },
        Attempt("M2", "Adopt a monitoring rule set") { t in
            let yaml = MonitoringRules.defaultYAML.replacingOccurrences(of: "2026.3-default", with: "lenient-\(t.serial)")
            let (rules, request) = try await t.x.monitoring.ruleSets.propose(yaml: yaml, by: t.me)
            return await t.alone(request.id) { _ = try await t.x.monitoring.ruleSets.adopt(version: rules.version, by: t.me) }
        },
        Attempt("M3", "Dismiss the blocking sanctions alert", listed: true) { t in
            switch try await t.x.monitoring.dismiss(t.w.blockAlert, reason: "known customer", by: t.me) {
            case .dismissed: return .done("dismissed")
            case .awaitingApproval(let request):
                return await t.alone(request.id) { try await t.x.monitoring.executeDismissal(request: request.id, by: t.me) }
            }
        },
        Attempt("M4", "Replace the travel-rule jurisdictions") { t in
            let request = try await t.x.monitoring.proposeJurisdictions(try TravelRuleJurisdictions(version: "j-\(t.serial)", countries: ["JP"]), by: t.me)
            return await t.alone(request.id) { _ = try await t.x.monitoring.activateJurisdictions(request: request.id, by: t.me) }
        },
    ]

    static let custodyAttempts: [Attempt] = [
        Attempt("C1", "Request a hot → cold movement and release it without signers", listed: true) { t in
            let draft = MovementDraft(kind: .hotToCold, fromWallet: "btc-hot", toWallet: "btc-cold", asset: "BTC", amount: Amount(units: W.btc("0.001")))
            switch try await t.x.custody.requestMovement(draft, by: t.me) {
            case .failure(let refusal): return .refused(refusal.rule.rawValue)
            case .success(let movement): return await t.alone(movement.requestID) { _ = try await t.x.custody.release(movement.id, by: t.me) }
            }
        },
        Attempt("C2", "Sign a movement waiting for signers and release it", listed: true) { t in
            let movement = try await t.x.custody.movement(t.w.pendingMovement, by: t.me)
            try await t.actor.approve(movement.requestID, in: t.g)
            _ = try await t.x.custody.release(movement.id, by: t.me)
            return .done("released")
        },
        Attempt("C3", "Send 0.15 BTC out of the guarantee wallet (0.2 BTC covering 0.1 BTC hot)", listed: true) { t in
            let draft = MovementDraft(kind: .withdrawal, fromWallet: "btc-guarantee", toAddress: W.whitelisted, asset: "BTC", amount: Amount(units: W.btc("0.15")))
            switch try await t.x.custody.requestMovement(draft, by: t.me) {
            case .failure(let refusal): return .refused(refusal.rule.rawValue)
            case .success(let movement): return await t.alone(movement.requestID) { _ = try await t.x.custody.release(movement.id, by: t.me) }
            }
        },
        Attempt("C4", "Move 0.12 BTC cold → hot (hot would exceed the guarantee crypto)", listed: true) { t in
            let draft = MovementDraft(kind: .coldToHot, fromWallet: "btc-cold", toWallet: "btc-hot", asset: "BTC", amount: Amount(units: W.btc("0.12")))
            switch try await t.x.custody.requestMovement(draft, by: t.me) {
            case .failure(let refusal): return .refused(refusal.rule.rawValue)
            case .success(let movement): return await t.alone(movement.requestID) { _ = try await t.x.custody.release(movement.id, by: t.me) }
            }
        },
        Attempt("C5", "Lift the freeze another officer put on a wallet", listed: true) { t in
            let request = try await t.x.custody.requestUnfreeze(W.frozenWallet, by: t.me)
            return await t.alone(request.id) { _ = try await t.x.custody.executeUnfreeze(request: request.id, by: t.me) }
        },
        Attempt("C6", "Whitelist a new withdrawal address and activate it") { t in
            let entry = try await t.x.custody.requestWhitelist(asset: "BTC", address: "bc1qattacker\(t.serial)", label: "mine", by: t.me)
            return await t.alone(entry.requestID) { _ = try await t.x.custody.activateWhitelist(entry.id, by: t.me) }
        },
        Attempt("C7", "Raise the hot-wallet limit to 10% from tomorrow (a regulatory setting)") { t in
            let tomorrow = CalendarDay.text(daysSinceEpoch: try CalendarDay.epochSeconds(t.x.clock.now().jstDay, field: "day") / 86_400 + 1)
            let yaml = RegulatorySettings.defaultYAML.replacingOccurrences(of: "version: \"2026.1\"", with: "version: \"loose-\(t.serial)\"")
                .replacingOccurrences(of: "1 May 2020)\"", with: "1 May 2020)\"\n    - {value: 1000, effective_from: \"\(tomorrow)\", status: open, source: \"mine\"}")
            let (settings, request) = try await t.x.custody.regulatory.propose(yaml: yaml, by: t.me)
            return await t.alone(request.id) { _ = try await t.x.custody.regulatory.adopt(version: settings.version, by: t.me) }
        },
        Attempt("B1", "Adopt a 2-of-3 Bitcoin cold wallet (three signers' registered keys) without its signers") { t in
            let descriptor = "wsh(sortedmulti(2,\(t.w.vaultKeys.prefix(3).map { $0 + "/<0;1>/*" }.joined(separator: ","))))"
            let (_, request) = try await t.x.bitcoin.proposeWallet("btc-vault", descriptor: descriptor, network: .regtest, tier: .cold, by: t.me)
            return await t.alone(request.id) { _ = try await t.x.bitcoin.adoptWallet("btc-vault", by: t.me) }
        },
        Attempt("B2", "Propose a Bitcoin cold wallet in which one signer holds two of the three keys") { t in
            let keys = [t.w.vaultKeys[0], t.w.vaultKeys[3], t.w.vaultKeys[1]]
            let descriptor = "wsh(sortedmulti(2,\(keys.map { $0 + "/<0;1>/*" }.joined(separator: ","))))"
            let (_, request) = try await t.x.bitcoin.proposeWallet("btc-vault2", descriptor: descriptor, network: .regtest, tier: .cold, by: t.me)
            return await t.alone(request.id) { _ = try await t.x.bitcoin.adoptWallet("btc-vault2", by: t.me) }
        },
        Attempt("B3", "Register an xpub by answering the challenge Kinko issued to another signer") { t in
            let master = try ExtendedKey.master(seed: [UInt8](repeating: 0x77, count: 32), network: .regtest)
            let proof = try XpubProof.sign(master: master, path: try DerivationPath(parsing: "m/48'/1'/\(t.serial)'/2'"), challenge: t.w.foreignChallenge)
            _ = try await t.x.bitcoin.registerXpub(key: proof.keyExpression, challenge: t.w.foreignChallenge, signature: proof.signature, vendor: "vendor-a", by: t.me)
            return .done("registered")
        },
        Attempt("B4", "Make the PSBT of a movement still waiting for its signers") { t in
            _ = try await t.x.bitcoin.buildPSBT(movement: t.w.pendingMovement, by: t.me)
            return .done("PSBT built")
        },
        Attempt("R1", "Release ¥2,000,000 from the reserve (the whole fund is ¥1,000,000)", listed: true) { t in
            let request = try await t.x.reserve.requestFunding(Amount(units: 2_000_000), release: true, by: t.me)
            return await t.alone(request.id) { _ = try await t.x.reserve.executeFunding(request.id, by: t.me) }
        },
        Attempt("R2", "Fund the reserve with nobody's approval") { t in
            let request = try await t.x.reserve.requestFunding(Amount(units: 1_000), release: false, by: t.me)
            return await t.alone(request.id) { _ = try await t.x.reserve.executeFunding(request.id, by: t.me) }
        },
        Attempt("R3", "Adopt a reserve rule set") { t in
            let yaml = RuleSet.defaultYAML.replacingOccurrences(of: "2026.1-default", with: "thin-\(t.serial)")
            let (rules, request) = try await t.x.reserve.ruleSets.propose(yaml: yaml, by: t.me)
            return await t.alone(request.id) { _ = try await t.x.reserve.ruleSets.adopt(version: rules.version, by: t.me) }
        },
    ]

    static let reportAttempts: [Attempt] = [
        Attempt("D1", "Generate a daily segregation report and make it final oneself") { t in
            // A day of one's own, so no one else's generation is in the way.
            let day = CalendarDay.text(daysSinceEpoch: 19_500 + Int64(t.serial))
            _ = try await t.x.reports.generate(.segregationDaily, .day(day), by: t.me)
            _ = try await t.x.reports.approve(.segregationDaily, .day(day), by: t.me)
            return .done("made final alone")
        },
        Attempt("D2", "Put a retention policy in force that keeps verification records 30 years instead of 7") { t in
            let yaml = RetentionPolicy.defaultYAML.replacingOccurrences(of: "2026.1", with: "own-\(t.serial)")
                .replacingOccurrences(of: "verification: 7", with: "verification: 30")
            let policies = AdoptedDocuments<RetentionPolicy>(governance: t.g)
            let (_, request) = try await policies.propose(yaml: yaml, by: t.me)
            return await t.alone(request.id) { _ = try await policies.adopt(version: "own-\(t.serial)", by: t.me) }
        },
    ]

    static let governanceAttempts: [Attempt] = [
        Attempt("G1", "Get a usable token for a signer (enrol the signer and redeem the code oneself)", listed: true) { t in
            let signer = try await t.g.principal(named: t.w.signers[0].name, by: t.me)
            let code = try await t.g.createEnrolment(for: signer.id, by: t.me)
            let (record, secret, _) = try await t.g.redeemEnrolment(code: code)
            guard let request = record.requestID else { return .done("token active at once") }
            return await t.alone(request) { _ = try await t.g.authenticate(token: secret) }
        },
        Attempt("G2", "Grant oneself treasurer", listed: true) { t in
            let request = try await t.g.grantRole(.treasurer, to: t.me.principal, by: t.me)
            return await t.alone(request.id) { try await t.g.execute(request.id, by: t.me) }
        },
        Attempt("G3", "Make a principal of one's own an admin (a second admin in one's pocket)", listed: true) { t in
            let puppet = try await t.puppet()
            let request = try await t.g.grantRole(.admin, to: puppet.caller.principal, by: t.me)
            return await t.alone(request.id) { try await t.g.execute(request.id, by: t.me) }
        },
        Attempt("G4", "Create a principal, redeem its enrolment oneself, make it a signer", listed: true) { t in
            let puppet = try await t.puppet()
            let request = try await t.g.grantRole(.signer, to: puppet.caller.principal, by: t.me)
            return await t.alone(request.id) { try await t.g.execute(request.id, by: t.me) }
        },
        Attempt("G5", "Register a key as a principal whose enrolment one redeemed, and approve with it", listed: true) { t in
            var puppet = try await t.puppet()
            let key = LocalSigningKey.generate(.ed25519)
            _ = try await Staff.register(key, for: puppet.caller, in: t.g)
            puppet.key = key
            let request = try await t.g.grantRole(.signer, to: puppet.caller.principal, by: t.me)
            try await puppet.approve(request.id, in: t.g)
            try await t.g.execute(request.id, by: t.me)
            return .done("granted")
        },
        Attempt("G6", "Revoke a signer's key (to break a quorum)") { t in
            let key = try #require(try await t.g.keys(by: t.me).first { $0.principal == t.w.signers[1].caller.principal && $0.status == .active })
            let request = try await t.g.revokeKey(key.id, by: t.me)
            return await t.alone(request.id) { try await t.g.execute(request.id, by: t.me) }
        },
        Attempt("G7", "Register a new key of one's own and approve a movement with it at once") { t in
            let key = LocalSigningKey.generate(.p256)
            _ = try await Staff.register(key, for: t.me, in: t.g)
            let movement = try await t.x.custody.movement(t.w.pendingMovement, by: t.me)
            try await Member(caller: t.me, token: t.actor.token, key: key).approve(movement.requestID, in: t.g)
            return .done("approved")
        },
        Attempt("G8", "As the only admin after `kinko init`, grant a helper treasurer (and oneself finance)", listed: true, only: [.admin], ownDatabase: true) { t in
            var outcome = Outcome.done("nothing tried")
            try await StoreHarness.with(t.backend) { harness in
                let clock = ManualWallClock(W.start)
                let governance = Governance(store: try await harness.stores(clock: clock).governance, clock: clock)
                let (_, code) = try #require(try await governance.bootstrap(adminNames: ["solo.admin"]).first)
                let (_, token, _) = try await governance.redeemEnrolment(code: code)
                let key = LocalSigningKey.generate(.ed25519)
                let solo = Member(caller: try await governance.authenticate(token: token), token: token, key: key)
                _ = try await Staff.register(key, for: solo.caller, in: governance)
                let selfGrant = await #expect(throws: KinkoError.self) { try await governance.grantRole(.finance, to: solo.caller.principal, by: solo.caller) }
                #expect(selfGrant?.code == .conflict)
                let helper = try await governance.createPrincipal(name: "helper.one", kind: .person, by: solo.caller)
                let request = try await governance.grantRole(.treasurer, to: helper.id, by: solo.caller)
                _ = try? await solo.approve(request.id, in: governance)
                do {
                    try await governance.execute(request.id, by: solo.caller)
                } catch is KinkoError {
                    outcome = .parked("waits for a second admin")
                }
            }
            return outcome
        },
    ]

    // MARK: The run

    // Goal: the matrix of every attempt by every role is all refusals and parked requests, on
    // SQLite and PostgreSQL alike; no guarded balance moves; every attempt is audited; the
    // cases issue 13 lists are all there; and docs/SECURITY.md prints exactly this matrix.
    @Test(arguments: Backend.configured) func nobodyMovesValueOrWeakensAControlAlone(_ backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let w = try await ControlWorld.build(harness)
            var rows: [[String]] = []
            var failures: [String] = []
            for (a, attempt) in Self.attempts.enumerated() {
                var row: [String] = []
                for (r, role) in Role.allCases.enumerated() {
                    if let only = attempt.only, !only.contains(role) {
                        row.append("—")
                        continue
                    }
                    let t = Try(w: w, actor: try #require(w.actors[role]), role: role, serial: UInt128(a * 16 + r + 1), backend: backend)
                    let balances = await w.guardedBalances()
                    let audited = try await w.f.stores.governance.auditSize()
                    let outcome: Outcome
                    do {
                        outcome = try await attempt.run(t)
                    } catch let error as KinkoError {
                        outcome = .refused(error.code.rawValue)
                    }
                    if case .done(let what) = outcome { failures.append("\(attempt.id) as \(role.rawValue) was carried out: \(what)") }
                    if await w.guardedBalances() != balances { failures.append("\(attempt.id) as \(role.rawValue) moved a guarded balance") }
                    if !attempt.ownDatabase, try await w.f.stores.governance.auditSize() == audited {
                        failures.append("\(attempt.id) as \(role.rawValue) (\(outcome.cell)) left no audit entry")
                    }
                    row.append(outcome.cell)
                }
                rows.append(row)
            }
            #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
            #expect(Self.attempts.count >= 40)
            #expect(Set(Self.attempts.map(\.id)).count == Self.attempts.count)
            #expect(Self.attempts.filter(\.listed).count >= 20)
            let matrix = Self.render(rows)
            try Self.checkDocument(matrix)
        }
    }

    static let beginMarker = "<!-- one-person matrix: generated by Tests/KinkoStoreContractTests/OnePersonTests.swift; do not edit -->"
    static let endMarker = "<!-- end of the one-person matrix -->"

    static func render(_ rows: [[String]]) -> String {
        let roles = Role.allCases.map(\.rawValue)
        var lines = ["| # | attempt | " + roles.joined(separator: " | ") + " |", "|---|---|" + roles.map { _ in "---" }.joined(separator: "|") + "|"]
        for (attempt, row) in zip(attempts, rows) {
            lines.append("| \(attempt.id)\(attempt.listed ? "\\*" : "") | \(attempt.title) | " + row.joined(separator: " | ") + " |")
        }
        let cells = rows.flatMap { $0 }
        let refused = cells.filter { $0 == "403" || $0.hasPrefix("✗") }.count, parked = cells.filter { $0.hasPrefix("⏸") }.count
        lines.append("")
        lines.append("\(attempts.count) attempts × \(roles.count) roles: \(refused) refused, \(parked) parked, \(cells.filter { $0 == "—" }.count) not applicable, "
            + "\(cells.filter { $0.hasPrefix("DONE") }.count) carried out alone.")
        return lines.joined(separator: "\n")
    }

    /// Compares the matrix with the one in docs/SECURITY.md (or writes it there with
    /// `KINKO_WRITE_DOCS=1`).
    static func checkDocument(_ matrix: String) throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/SECURITY.md")
        let text = try String(contentsOf: url, encoding: .utf8)
        let begin = try #require(text.range(of: beginMarker), "docs/SECURITY.md has no matrix marker")
        let end = try #require(text.range(of: endMarker, range: begin.upperBound..<text.endIndex))
        let current = text[begin.upperBound..<end.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
        if ProcessInfo.processInfo.environment["KINKO_WRITE_DOCS"] == "1" {
            try (text[..<begin.upperBound] + "\n" + matrix + "\n" + text[end.lowerBound...]).write(to: url, atomically: true, encoding: .utf8)
        } else {
            #expect(current == matrix, "docs/SECURITY.md's matrix differs from the suite's: run KINKO_WRITE_DOCS=1 swift test --filter OnePerson")
        }
    }
}

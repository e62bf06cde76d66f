import Foundation
import KinkoControls
import KinkoCore
import KinkoGovernance
import KinkoLedger
import KinkoMonitoring

/// The demo's deposits: screened, credited — or quarantined when the source is sanctioned.
enum DemoDeposits {
    static func run(_ kinko: Exchange, book: DemoBook, by exchange: Caller) async throws {
        for (title, requests) in book.deposits {
            let records = try await kinko.deposits.record(requests, by: exchange)
            let quarantined = records.filter { $0.status == .quarantined }
            let outcome = quarantined.isEmpty
                ? "screened, credited"
                : "screened: the source is on the sanctions list — credited to the customer's quarantine account, not their balance (alert \(quarantined.first?.alert ?? "?")), until two compliance officers decide"
            print("• \(title) — \(outcome)")
        }
    }
}

/// The demo's withdrawals, each reserved and judged in one flow: one cleared and released, one
/// to a sanctioned address blocked and voided, one abroad without full travel-rule data held
/// for review and cleared by compliance, and one the customer cannot cover.
enum DemoWithdrawals {
    static func run(_ kinko: Exchange, compliance: (Caller, LocalSigningKey), exchange: Caller, clock: ManualWallClock) async throws {
        let c = DemoBook.customers.map(\.id)
        let (btc, eth) = (DemoBook.btc, DemoBook.eth)
        let travel = TravelRuleParty(name: "Tanaka Taro", account: "1004", geographicAddress: "1-1 Marunouchi, Tokyo")
        let requests: [(String, Withdrawals.Request)] = [
            ("Tanaka withdraws 0.2 BTC to his own wallet at bitFlyer", Withdrawals.Request(
                id: TransferID(601), account: AccountID(DemoBook.liability(c[3], btc)), wallet: AccountID(DemoBook.hot(btc)), amount: 20_000_000,
                amountJPY: 3_000_000, address: "bc1qtanaka0own0wallet", vasp: "bitFlyer", vaspCountry: "JP", originator: travel, beneficiary: travel)),
            ("Ito withdraws 0.24 ETH to an OFAC-listed address", Withdrawals.Request(
                id: TransferID(611), account: AccountID(DemoBook.liability(c[5], eth)), wallet: AccountID(DemoBook.hot(eth)),
                amount: 240_000_000_000_000_000, amountJPY: 120_000, address: DemoMonitoring.sanctionedETH.lowercased(), vasp: "bitbank", vaspCountry: "JP",
                originator: TravelRuleParty(name: "Ito Taro", account: "1006", geographicAddress: "2-3 Umeda, Osaka"),
                beneficiary: TravelRuleParty(name: "Ito Taro", account: "1006", geographicAddress: "2-3 Umeda, Osaka"))),
            ("Yamamoto withdraws 0.02 BTC to an unhosted wallet nobody has assessed yet", Withdrawals.Request(
                id: TransferID(621), account: AccountID(DemoBook.liability(c[6], btc)), wallet: AccountID(DemoBook.hot(btc)), amount: 2_000_000,
                amountJPY: 300_000, address: "bc1qyamamoto0cold0wallet", unhosted: true)),
        ]
        for (title, request) in requests {
            let record = try await kinko.withdrawals.request(request, by: exchange)
            var line = "• \(title) — verdict \(record.verdict)\(record.rules.isEmpty ? "" : " (\(record.rules.joined(separator: ", ")))"): \(record.status.rawValue)"
            switch record.status {
            case .cleared:
                _ = try await kinko.withdrawals.release(request.id, by: exchange)
                line += "; released and posted"
            case .blocked:
                line += "; the reservation was voided and nothing can release it"
            case .held:
                clock.advance(seconds: 900)
                _ = try await kinko.withdrawals.decide(request.id, .clear, note: "The customer proved control of the wallet (signed message); risk assessed low",
                                                       by: compliance.0)
                _ = try await kinko.withdrawals.release(request.id, by: exchange)
                line += "; \(compliance.0.name) checked it and cleared it 15 minutes later; released and posted"
            case .rejected, .released, .superseded:
                line += " (from an earlier run)"
            }
            print(line)
        }
        do {
            _ = try await kinko.withdrawals.request(Withdrawals.Request(
                id: TransferID(631), account: AccountID(DemoBook.liability(c[7], btc)), wallet: AccountID(DemoBook.hot(btc)), amount: 100_000_000,
                amountJPY: 15_000_000, address: "bc1qnakamura", unhosted: true, counterpartyRisk: "low"), by: exchange)
            print("• Nakamura withdraws 1 BTC while holding 0.01 BTC — reserved (THIS MUST NOT HAPPEN)")
        } catch let error as KinkoError {
            print("• Nakamura tries to withdraw 1 BTC while holding 0.01 BTC — refused (as it should be): \(error.message)")
        }
    }
}

/// The day's fees swept out of the customer trust after the reconciliation proved them held:
/// posted by treasury, parked, approved by a second finance officer, then posted.
enum DemoSweep {
    static func run(_ service: LedgerService, book: DemoBook, treasurer: Caller, approver: (Caller, LocalSigningKey)) async throws {
        let sweep = DemoBook.sweep
        if try await service.parkedTransfer(sweep.id)?.status == .posted {
            print("\n• the ¥16,000 of fees was swept by an earlier run")
            return
        }
        let result = try await service.createTransfers([sweep], by: treasurer)[0]
        guard let parked = try await service.parkedTransfer(sweep.id), let request = ApprovalRequestID(parsing: parked.requestID) else {
            print("\n• the fee sweep was not parked: \(result.name)")
            return
        }
        _ = try await DemoSigners.approve(request, governance: service.governance, by: [approver])
        _ = try await service.postApproved(request, by: treasurer)
        print("\n• \(treasurer.name) sweeps the day's ¥16,000 of fees out of the customer trust — \(result.name); approved by \(approver.0.name) (request \(request)); posted within the headroom the reconciliation proved")
    }
}

extension ApprovalRequestID {
    init?(parsing text: String) {
        guard let value = UInt128(text) else { return nil }
        self.init(value)
    }
}

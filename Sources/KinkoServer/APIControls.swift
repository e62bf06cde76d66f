import Foundation
import KinkoControls
import KinkoCore
import KinkoGovernance
import KinkoLedger
import KinkoMonitoring
import OpenAPIRuntime

/// The exchange's controls over HTTP: the transfer-control policy and the transfers it parks,
/// withdrawals held until monitoring (or compliance) clears them, and screened deposits.
extension KinkoAPI {
    // MARK: Transfer-control policy

    static func policyView(_ version: SettingsVersion) -> Components.Schemas.TransferPolicy {
        .init(version: version.version, status: version.status.rawValue, yaml: version.document, request: version.requestID,
              proposedBy: version.proposedBy, adoptedAt: version.adoptedAt?.iso8601)
    }

    func getTransferPolicy(_ input: Operations.GetTransferPolicy.Input) async throws -> Operations.GetTransferPolicy.Output {
        if let current = try await services.ledgerService.adoptedPolicy(by: try caller()) { return .ok(.init(body: .json(Self.policyView(current)))) }
        let builtIn = TransferControlPolicy.standard
        return .ok(.init(body: .json(.init(version: builtIn.version, status: "built_in", yaml: builtIn.yaml))))
    }

    func listTransferPolicies(_ input: Operations.ListTransferPolicies.Input) async throws -> Operations.ListTransferPolicies.Output {
        let versions = try await services.ledgerService.policies.versions(by: try caller())
        return .ok(.init(body: .json(.init(policies: versions.map(Self.policyView)))))
    }

    func proposeTransferPolicy(_ input: Operations.ProposeTransferPolicy.Input) async throws -> Operations.ProposeTransferPolicy.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        let (_, request) = try await services.ledgerService.policies.propose(yaml: body.yaml, by: caller)
        return .accepted(.init(body: .json(try await approvalView(request))))
    }

    func adoptTransferPolicy(_ input: Operations.AdoptTransferPolicy.Input) async throws -> Operations.AdoptTransferPolicy.Output {
        let caller = try caller()
        _ = try await services.ledgerService.adoptPolicy(version: input.path.version, by: caller)
        guard let current = try await services.ledgerService.policies.currentVersion() else {
            throw KinkoError(.storageFailure, "the adopted policy cannot be read back")
        }
        return .ok(.init(body: .json(Self.policyView(current))))
    }

    // MARK: Parked transfers

    func parkedView(_ parked: ParkedTransfer) async -> Components.Schemas.ParkedTransfer {
        let asset = await ledger.asset(ledger: parked.ledger)
        return .init(transfer: parked.transfer, code: parked.code, asset: asset?.code ?? "ledger \(parked.ledger)",
                     amount: Amount(units: UInt128(parked.amount) ?? 0).decimalString(scale: asset?.scale ?? 0), debitAccount: parked.debitAccount,
                     creditAccount: parked.creditAccount, initiator: parked.initiator, request: parked.requestID, status: parked.status.rawValue,
                     resolvedBy: parked.resolvedBy)
    }

    func listParkedTransfers(_ input: Operations.ListParkedTransfers.Input) async throws -> Operations.ListParkedTransfers.Output {
        let status = input.query.status.flatMap { ParkedTransfer.Status(rawValue: $0.rawValue) }
        var views: [Components.Schemas.ParkedTransfer] = []
        for parked in try await services.ledgerService.parkedTransfers(status: status, limit: input.query.limit, by: try caller()) {
            views.append(await parkedView(parked))
        }
        return .ok(.init(body: .json(.init(parked: views))))
    }

    func postParkedTransfer(_ input: Operations.PostParkedTransfer.Input) async throws -> Operations.PostParkedTransfer.Output {
        let posted = try await services.ledgerService.postApproved(try ApprovalRequestID(parsing: input.path.request, field: "request"), by: try caller())
        return .ok(.init(body: .json(await parkedView(posted))))
    }

    func cancelParkedTransfer(_ input: Operations.CancelParkedTransfer.Input) async throws -> Operations.CancelParkedTransfer.Output {
        let cancelled = try await services.ledgerService.cancelParked(try ApprovalRequestID(parsing: input.path.request, field: "request"), by: try caller())
        return .ok(.init(body: .json(await parkedView(cancelled))))
    }

    // MARK: Withdrawals

    static func party(_ party: Components.Schemas.TravelRuleParty?) -> TravelRuleParty? {
        party.map {
            TravelRuleParty(name: $0.name, account: $0.account, geographicAddress: $0.geographicAddress, nationalID: $0.nationalId,
                            dateOfBirth: $0.dateOfBirth, placeOfBirth: $0.placeOfBirth)
        }
    }

    func withdrawalView(_ w: WithdrawalRecord) async -> Components.Schemas.Withdrawal {
        let asset = await ledger.asset(code: w.asset)
        return .init(id: w.transfer, account: w.account, wallet: w.wallet, customer: w.customer, asset: w.asset,
                     amount: Amount(units: UInt128(w.amount) ?? 0).decimalString(scale: asset?.scale ?? 0), amountJpy: w.amountJPY, address: w.address,
                     verdict: w.verdict, alert: w.alert, rules: w.rules, status: w.status.rawValue, requestedBy: w.requestedBy,
                     requestedAt: w.requestedAt.iso8601, decisions: w.decisions.map { .init(by: $0.by, at: $0.at.iso8601, action: $0.action, note: $0.note) },
                     clearanceRequest: w.clearanceRequest, replacedBy: w.replacedBy, releasedAs: w.releasedAs)
    }

    /// A decimal amount in the asset of account `account`.
    func units(_ text: String, account: AccountID, field: String) async throws -> UInt128 {
        let (found, _) = try await services.ledgerService.account(account, by: try caller())
        guard let asset = await ledger.asset(ledger: found.ledger) else {
            throw KinkoError(.storageCorrupted, "account \(account) is on ledger \(found.ledger), which has no asset", field: "account")
        }
        do {
            return try Amount(decimal: text, scale: asset.scale).units
        } catch {
            throw KinkoError(error.code, error.message, field: field)
        }
    }

    func requestWithdrawal(_ input: Operations.RequestWithdrawal.Input) async throws -> Operations.RequestWithdrawal.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        let account = try AccountID(parsing: body.account, field: "account")
        guard let amountJPY = UInt64(exactly: body.amountJpy) else { throw KinkoError(.invalidInput, "must not be negative", field: "amount_jpy") }
        let timeout = try body.timeout.map { value throws(KinkoError) -> UInt32 in
            guard let seconds = UInt32(exactly: value) else { throw KinkoError(.invalidInput, "must be 1–\(Withdrawals.timeoutSecondsMax)", field: "timeout") }
            return seconds
        } ?? Withdrawals.timeoutSecondsDefault
        let request = Withdrawals.Request(
            id: try TransferID(parsing: body.id, field: "id"), account: account, wallet: try AccountID(parsing: body.wallet, field: "wallet"),
            amount: try await units(body.amount, account: account, field: "amount"), amountJPY: amountJPY, address: body.address, vasp: body.vasp,
            vaspCountry: body.vaspCountry, unhosted: body.unhosted ?? false, originator: Self.party(body.originator),
            beneficiary: Self.party(body.beneficiary), counterpartyRisk: body.counterpartyRisk?.rawValue, timeoutSeconds: timeout)
        return .created(.init(body: .json(await withdrawalView(try await services.withdrawals.request(request, by: caller)))))
    }

    func listWithdrawals(_ input: Operations.ListWithdrawals.Input) async throws -> Operations.ListWithdrawals.Output {
        let status = input.query.status.flatMap { WithdrawalRecord.Status(rawValue: $0.rawValue) }
        let after = try input.query.after.map { try TransferID(parsing: $0, field: "after") }
        var views: [Components.Schemas.Withdrawal] = []
        for record in try await services.withdrawals.withdrawals(status: status, after: after, limit: input.query.limit, by: try caller()) {
            views.append(await withdrawalView(record))
        }
        return .ok(.init(body: .json(.init(withdrawals: views))))
    }

    func getWithdrawal(_ input: Operations.GetWithdrawal.Input) async throws -> Operations.GetWithdrawal.Output {
        .ok(.init(body: .json(await withdrawalView(try await services.withdrawals.withdrawal(try TransferID(parsing: input.path.id, field: "id"), by: try caller())))))
    }

    func decideWithdrawal(_ input: Operations.DecideWithdrawal.Input) async throws -> Operations.DecideWithdrawal.Output {
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        let record = try await services.withdrawals.decide(try TransferID(parsing: input.path.id, field: "id"), body.decision == .clear ? .clear : .reject,
                                                           note: body.note, by: try caller())
        return .ok(.init(body: .json(await withdrawalView(record))))
    }

    func executeWithdrawalClearance(_ input: Operations.ExecuteWithdrawalClearance.Input) async throws -> Operations.ExecuteWithdrawalClearance.Output {
        let record = try await services.withdrawals.executeClearance(try TransferID(parsing: input.path.id, field: "id"), by: try caller())
        return .ok(.init(body: .json(await withdrawalView(record))))
    }

    func releaseWithdrawal(_ input: Operations.ReleaseWithdrawal.Input) async throws -> Operations.ReleaseWithdrawal.Output {
        let record = try await services.withdrawals.release(try TransferID(parsing: input.path.id, field: "id"), by: try caller())
        return .ok(.init(body: .json(await withdrawalView(record))))
    }

    // MARK: Deposits

    func depositView(_ d: DepositRecord) async -> Components.Schemas.Deposit {
        let asset = await ledger.asset(code: d.asset)
        return .init(id: d.transfer, credited: d.credited, account: d.customerAccount, wallet: d.wallet, customer: d.customer, asset: d.asset,
                     amount: Amount(units: UInt128(d.amount) ?? 0).decimalString(scale: asset?.scale ?? 0), amountJpy: d.amountJPY, address: d.address,
                     transactionHash: d.transactionHash, verdict: d.verdict, alert: d.alert, rules: d.rules, status: d.status.rawValue,
                     decisionRequest: d.decisionRequest, notes: d.notes)
    }

    func recordDeposits(_ input: Operations.RecordDeposits.Input) async throws -> Operations.RecordDeposits.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        var requests: [Deposits.Request] = []
        for (index, deposit) in body.deposits.enumerated() {
            do {
                let account = try AccountID(parsing: deposit.account, field: "account")
                guard let amountJPY = UInt64(exactly: deposit.amountJpy) else { throw KinkoError(.invalidInput, "must not be negative", field: "amount_jpy") }
                requests.append(Deposits.Request(
                    id: try TransferID(parsing: deposit.id, field: "id"), account: account, wallet: try AccountID(parsing: deposit.wallet, field: "wallet"),
                    amount: try await units(deposit.amount, account: account, field: "amount"), amountJPY: amountJPY, address: deposit.address,
                    transactionHash: deposit.transactionHash))
            } catch let error as KinkoError {
                throw error.within("deposits[\(index)]")
            }
        }
        var views: [Components.Schemas.Deposit] = []
        for record in try await services.deposits.record(requests, by: caller) { views.append(await depositView(record)) }
        return .ok(.init(body: .json(.init(deposits: views))))
    }

    func listDeposits(_ input: Operations.ListDeposits.Input) async throws -> Operations.ListDeposits.Output {
        let status = input.query.status.flatMap { DepositRecord.Status(rawValue: $0.rawValue) }
        let after = try input.query.after.map { try TransferID(parsing: $0, field: "after") }
        var views: [Components.Schemas.Deposit] = []
        for record in try await services.deposits.deposits(status: status, after: after, limit: input.query.limit, by: try caller()) {
            views.append(await depositView(record))
        }
        return .ok(.init(body: .json(.init(deposits: views))))
    }

    func decideDeposit(_ input: Operations.DecideDeposit.Input) async throws -> Operations.DecideDeposit.Output {
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        let record = try await services.deposits.decide(try TransferID(parsing: input.path.id, field: "id"), body.decision == .release ? .release : .return,
                                                        note: body.note, by: try caller())
        return .ok(.init(body: .json(await depositView(record))))
    }

    func executeDepositDecision(_ input: Operations.ExecuteDepositDecision.Input) async throws -> Operations.ExecuteDepositDecision.Output {
        let record = try await services.deposits.execute(try TransferID(parsing: input.path.id, field: "id"), by: try caller())
        return .ok(.init(body: .json(await depositView(record))))
    }
}

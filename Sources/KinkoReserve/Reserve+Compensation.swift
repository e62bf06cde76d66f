public import KinkoCore
import KinkoCustody
public import KinkoGovernance
import KinkoLedger

extension Reserve {
    /// Builds the compensation plan for one lost asset of an incident and files it for approval
    /// by finance and compliance.
    public func plan(incident id: UInt64, asset code: String, mode: CompensationMode, by caller: Caller) async throws -> StoredPlan {
        let incident = try await requireIncident(id)
        guard let asset = await ledger.asset(code: code) else { throw KinkoError(.assetNotFound, "unknown asset \(code)", field: "asset") }
        let paymentCode: String
        switch mode {
        case .inKind: paymentCode = code
        case .jpy: paymentCode = "JPY"
        }
        guard let paymentAsset = await ledger.asset(code: paymentCode) else { throw KinkoError(.assetNotFound, "unknown asset \(paymentCode)") }
        let role = try await governance.authorize(caller, .incidentPlan)
        if let existing = try await store.plan(incident: id, asset: code) {
            throw KinkoError(.conflict, "incident \(id) already has a \(code) plan (request \(existing.requestID)); revise it through its request")
        }
        try await ensureAccounts(asset: paymentCode, by: caller)
        let plan = try CompensationPlan.make(
            incident: incident, asset: asset, paymentAsset: paymentAsset, mode: mode,
            entitlements: try await store.entitlements(incident: id, asset: code),
            available: try await sources(for: incident, paymentAsset: paymentAsset))
        let missing = try await paymentAccounts(plan, paymentAsset: paymentAsset).filter { $0 == nil }.count
        guard missing == 0 else {
            throw KinkoError(.invalidInput, "\(missing) affected customers have no \(paymentCode) account to be paid into; open them first", field: "mode")
        }
        var payload: [String: CanonicalJSON] = [
            "incident": .string(String(id)), "asset": .string(code), "payment_asset": .string(paymentCode),
            "customers": .string(String(plan.entitlements.count)), "total_loss": .string(asset.format(plan.totalLoss)),
            "total_payment": .string(paymentAsset.format(plan.totalPayment)), "shortfall": .string(paymentAsset.format(plan.shortfall)),
            "lines_sha256": .string(Hex.encode(plan.digest)),
            "sources": .array(plan.sources.map { .string("\($0.kind.rawValue)\($0.policy.map { ":\($0)" } ?? "")=\(paymentAsset.format($0.amount))") }),
        ]
        if case .jpy(let price) = mode { payload["reference_price"] = .string(price.description) }
        let request = try await governance.submit(action: Self.planAction, payload: .object(payload), policy: Self.planPolicy, by: caller,
                                                  role: role, permission: .incidentPlan)
        try await store.savePlan(plan, requestID: request.id, audit: caller.event(
            .incidentPlan, role: role, digest: request.digest, result: "proposed",
            details: ["incident": String(id), "asset": code, "customers": String(plan.entitlements.count), "request": request.id.description]))
        return StoredPlan(plan: plan, requestID: request.id, status: .proposed)
    }

    /// In order: the reserve fund, insurance policies in force on the day of the loss that cover
    /// its type (yen only), own funds.
    private func sources(for incident: Incident, paymentAsset: Asset) async throws -> [CompensationSource] {
        // The reserve fund pays only for the loss types the rule set in force covers.
        let covered = try await ruleSets.current()?.coveredLossTypes ?? RuleSet.coveredLossTypesDefault
        var sources: [CompensationSource] = []
        if covered.contains(incident.lossType) {
            sources.append(CompensationSource(kind: .reserveFund, amount: await funded(asset: paymentAsset.code)))
        }
        if paymentAsset.code == "JPY" {
            let day = JST.day(of: incident.lostAt)
            for policy in try await store.policies() where policy.inForce(on: day) && policy.covers(incident.lossType) {
                sources.append(CompensationSource(kind: .insurance, amount: policy.payable(for: incident.lossJPY), policy: policy.id))
            }
        }
        let own = await ledger.account(Custody.feeAccountID(asset: paymentAsset.code))?.balance.netPosted(claim: true) ?? 0
        sources.append(CompensationSource(kind: .ownFunds, amount: Amount(units: own)))
        return sources
    }

    /// Each affected customer's account in the payment asset (their own account when paid in kind).
    private func paymentAccounts(_ plan: CompensationPlan, paymentAsset: Asset) async throws -> [AccountID?] {
        if plan.paymentAsset == plan.asset { return plan.entitlements.map(\.account) }
        var byOwner: [UInt128: AccountID] = [:]
        let accounts = await ledger.accounts(ledger: paymentAsset.ledger, accountClass: .customerLiability)
        byOwner.reserveCapacity(accounts.count)
        for account in accounts { byOwner[account.owner] = byOwner[account.owner] ?? account.id }
        return plan.entitlements.map { byOwner[$0.owner] }
    }

    /// Pays an approved plan: funding from its sources, the write-off of each customer's share of
    /// the stolen coins, each payment, and the transfer of the paid value into the customer pool
    /// from the exchange's own holding. Every transfer's id is derived from the plan, so a retry
    /// after a failure or crash posts only what is missing, never twice.
    public func pay(incident id: UInt64, asset code: String, by caller: Caller) async throws -> Incident {
        let incident = try await requireIncident(id)
        guard let stored = try await store.plan(incident: id, asset: code) else { throw KinkoError(.notFound, "no \(code) plan for incident \(id)", field: "asset") }
        guard stored.status != .paid else { throw KinkoError(.conflict, "the \(code) plan of incident \(id) was paid already") }
        guard let request = try await governance.store.request(stored.requestID) else { throw KinkoError(.notFound, "no request \(stored.requestID)") }
        let role = try await governance.authorize(caller, .incidentPay, digest: request.digest)
        if stored.status == .proposed {
            _ = try await governance.requireApproved(request.id, "the \(code) plan of incident \(id)", by: caller, role: role, .incidentPay,
                                                     digest: request.digest)
        }
        let plan = stored.plan
        guard plan.shortfall.isZero else {
            throw KinkoError(.conflict, "the plan is short by \(plan.shortfall) units; fund the reserve or own funds and make a new plan")
        }
        guard try await store.startExecution(incident: id, asset: code, requestID: request.id, revision: request.revision, at: clock.now(), audit: caller.event(
            .incidentPay, role: role, digest: request.digest, result: "executing", details: ["incident": String(id), "asset": code]))
        else {
            throw KinkoError(.conflict, "the \(code) plan of incident \(id) changed or was paid meanwhile")
        }
        for batch in try await transfers(plan, incident: incident).chunked(ledger.limits.batchSizeMax) {
            let results = try await ledger.createTransfers(batch, by: caller)
            if let bad = results.firstIndex(where: { !$0.isSuccess }) {
                throw KinkoError(.conflict, "the ledger refused transfer \(batch[bad].id) of the plan: \(results[bad].name); fix it and run pay again")
            }
        }
        let paidAt = clock.now()
        let claims = plan.sources.compactMap { source in source.policy.map { (policy: $0, amount: source.amount) } }
        try await store.finishExecution(incident: id, asset: code, paidAt: paidAt, claims: claims, audit: caller.event(
            .incidentPay, role: role, digest: request.digest, result: "paid",
            details: ["incident": String(id), "asset": code, "customers": String(plan.entitlements.count),
                      "seconds_from_detection": String((paidAt - min(paidAt, incident.detectedAt)) / 1_000_000_000)]))
        return try await requireIncident(id)
    }

    /// The plan as ledger transfers, in the order they must post.
    func transfers(_ plan: CompensationPlan, incident: Incident) async throws -> [Transfer] {
        guard let asset = await ledger.asset(code: plan.asset), let paymentAsset = await ledger.asset(code: plan.paymentAsset) else {
            throw KinkoError(.assetNotFound, "the plan names an unknown asset")
        }
        let base = Self.derivedID("kinko.compensation:\(plan.incident):\(plan.asset)").rawValue & ~UInt128(0xFFFF_FFFF_FFFF)
        func id(_ kind: UInt128, _ index: Int) -> TransferID { TransferID(base | kind << 40 | UInt128(index)) }
        let payable = Self.compensationPayableAccountID(asset: plan.paymentAsset)
        var transfers: [Transfer] = []
        for (index, source) in plan.sources.enumerated() {
            let (from, code): (AccountID, TransferCode) = switch source.kind {
            case .reserveFund: (Self.reserveFundAccountID(asset: plan.paymentAsset), .reserveDraw)
            case .insurance: (Self.insuranceReceivableAccountID(asset: plan.paymentAsset), .insuranceClaim)
            case .ownFunds: (Custody.feeAccountID(asset: plan.paymentAsset), .ownFundsCompensation)
            }
            transfers.append(Transfer(id: id(1, index), debitAccountID: from, creditAccountID: payable, amount: source.amount.units,
                                      ledger: paymentAsset.ledger, code: code))
        }
        // The stolen coins leave the customers' claims, wallet by wallet, in the order declared.
        var wallets = incident.losses.filter { $0.asset == plan.asset }.map { (account: Wallet.accountID(wallet: $0.wallet, asset: $0.asset), left: $0.amount.units) }
        var walletIndex = 0
        for (index, (entitlement, share)) in zip(plan.entitlements, plan.shares).enumerated() where !share.isZero {
            var owed = share.units
            var part = 0
            while owed > 0, walletIndex < wallets.count {
                let take = min(owed, wallets[walletIndex].left)
                if take > 0 {
                    transfers.append(Transfer(id: id(2, index * 4 + part), debitAccountID: entitlement.account, creditAccountID: wallets[walletIndex].account,
                                              amount: take, ledger: asset.ledger, code: .incidentLoss))
                    part += 1
                }
                owed -= take
                wallets[walletIndex].left -= take
                if wallets[walletIndex].left == 0 { walletIndex += 1 }
            }
        }
        let accounts = try await paymentAccounts(plan, paymentAsset: paymentAsset)
        for (index, (account, payment)) in zip(accounts, plan.payments).enumerated() where !payment.isZero {
            guard let account else { throw KinkoError(.notFound, "customer \(plan.entitlements[index].owner) has no \(plan.paymentAsset) account") }
            transfers.append(Transfer(id: id(3, index), debitAccountID: payable, creditAccountID: account, amount: payment.units,
                                      ledger: paymentAsset.ledger, code: .compensation))
        }
        // What customers were paid must be held for them: from own holdings into the pool.
        let wallets2 = try await custody.store.wallets()
        if let pool = wallets2.first(where: { $0.purpose == .customerPool && $0.assets.contains(plan.paymentAsset) && !$0.isFrozen }),
            let own = wallets2.first(where: { $0.purpose == .ownFunds && $0.assets.contains(plan.paymentAsset) && !$0.isFrozen })
        {
            transfers.append(Transfer(id: id(4, 0), debitAccountID: pool.accountID(for: plan.paymentAsset), creditAccountID: own.accountID(for: plan.paymentAsset),
                                      amount: plan.totalPayment.units, ledger: paymentAsset.ledger, code: .segregationSweep))
        }
        return transfers
    }

    private func requireIncident(_ id: UInt64) async throws -> Incident {
        guard let incident = try await store.incidents().first(where: { $0.id == id }) else {
            throw KinkoError(.notFound, "no incident \(id)", field: "incident")
        }
        return incident
    }

    /// Per customer: what they held, their share of the loss, what they were paid and the
    /// transfer that paid them.
    public func statement(incident id: UInt64, asset code: String, by caller: Caller) async throws -> [(entitlement: Entitlement, share: Amount, payment: Amount, transfer: TransferID)] {
        _ = try await governance.authorize(caller, .reserveRead)
        guard let stored = try await store.plan(incident: id, asset: code) else { throw KinkoError(.notFound, "no \(code) plan for incident \(id)", field: "asset") }
        let base = Self.derivedID("kinko.compensation:\(id):\(code)").rawValue & ~UInt128(0xFFFF_FFFF_FFFF)
        return stored.plan.entitlements.indices.map { index in
            (stored.plan.entitlements[index], stored.plan.shares[index], stored.plan.payments[index], TransferID(base | 3 << 40 | UInt128(index)))
        }
    }

    // MARK: Insolvency

    /// Freezes every wallet and records the exchange as insolvent: from now on only the
    /// administrator's distribution follows.
    /// Freezes the exchange (every wallet); returns when insolvency began.
    @discardableResult
    public func enterInsolvency(by caller: Caller) async throws -> TimestampNanoseconds {
        let role = try await governance.authorize(caller, .insolvencyFreeze)
        guard try await store.insolvencySince() == nil else { throw KinkoError(.conflict, "the exchange is already in insolvency") }
        let since = clock.now()
        try await store.enterInsolvency(at: since, audit: caller.event(.insolvencyFreeze, role: role, digest: Governance.digest(["insolvency": "freeze"]), result: "frozen"))
        for wallet in try await custody.store.wallets() where !wallet.isFrozen {
            try await custody.freeze(wallet.id, reason: "insolvency", by: caller)
        }
        return since
    }

    /// The distribution schedule from the ledger as it stands: claims are customer liabilities;
    /// what is available is customer custody holdings plus guarantee crypto.
    public func distributionSchedule(by caller: Caller) async throws -> DistributionSchedule {
        _ = try await governance.authorize(caller, .insolvencyRead)
        let summary = try await ledger.postedSummary(asOf: .max, accounts: [])
        var entries: [(asset: Asset, claims: [Entitlement], customerHoldings: Amount, guarantee: Amount)] = []
        for asset in await ledger.assets {
            let claims = await ledger.accounts { $0.ledger == asset.ledger && $0.accountClass == .customerLiability }
                .map { Entitlement(account: $0.account.id, owner: $0.account.owner, amount: Amount(units: $0.balance.netPosted(claim: true) ?? 0)) }
            guard !claims.isEmpty else { continue }
            let totals = summary.totals[asset.ledger] ?? [:]
            entries.append((asset, claims,
                            try (totals[.customerCustodyHolding] ?? .init()).netAmount(claim: false, what: "\(asset.code) customer custody holdings"),
                            try (totals[.guaranteeCrypto] ?? .init()).netAmount(claim: false, what: "\(asset.code) guarantee crypto")))
        }
        return try DistributionSchedule.make(claims: entries)
    }
}

extension Array {
    func chunked(_ size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}

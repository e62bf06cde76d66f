import Foundation
import KinkoCore
import KinkoCustody
import KinkoGovernance
import KinkoLedger
import KinkoReserve
import OpenAPIRuntime

/// The liability reserve (rule sets, volumes, insurance, funding), incidents and compensation,
/// and insolvency: the same domain calls as `kinko reserve`, `kinko incident` and
/// `kinko insolvency`. The reserve service checks each caller's permission.
extension KinkoAPI {
    var reserve: Reserve { services.reserve }

    static func yen(_ text: String, field: String) throws(KinkoError) -> Amount {
        do { return try Amount(decimal: text, scale: 0) } catch { throw KinkoError(error.code, error.message, field: field) }
    }

    static func ruleSetView(_ version: SettingsVersion) -> Components.Schemas.RuleSet {
        .init(version: version.version, status: version.status.rawValue, request: version.requestID, adoptedAt: version.adoptedAt?.iso8601)
    }

    /// The three rule-set operations every `AdoptedDocuments` shares (reserve and monitoring).
    func ruleSetViews<D>(_ documents: AdoptedDocuments<D>) async throws -> Components.Schemas.RuleSets {
        .init(ruleSets: try await documents.versions(by: try caller()).map(Self.ruleSetView))
    }

    func proposeRuleSet<D>(_ documents: AdoptedDocuments<D>, _ body: Components.Schemas.RuleSetInput?) async throws -> Components.Schemas.RuleSet {
        guard let body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        let (document, request) = try await documents.propose(yaml: body.yaml, by: try caller())
        return .init(version: document.version, status: SettingsVersion.Status.proposed.rawValue, request: request.id.description)
    }

    func adoptRuleSet<D>(_ documents: AdoptedDocuments<D>, version: String) async throws -> Components.Schemas.RuleSet {
        let caller = try caller()
        _ = try await documents.adopt(version: version, by: caller)
        return Self.ruleSetView(try await documents.version(version, by: caller))
    }

    // MARK: Rule sets

    func listReserveRuleSets(_ input: Operations.ListReserveRuleSets.Input) async throws -> Operations.ListReserveRuleSets.Output {
        .ok(.init(body: .json(try await ruleSetViews(reserve.ruleSets))))
    }

    func proposeReserveRules(_ input: Operations.ProposeReserveRules.Input) async throws -> Operations.ProposeReserveRules.Output {
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        return .created(.init(body: .json(try await proposeRuleSet(reserve.ruleSets, body))))
    }

    func adoptReserveRules(_ input: Operations.AdoptReserveRules.Input) async throws -> Operations.AdoptReserveRules.Output {
        .ok(.init(body: .json(try await adoptRuleSet(reserve.ruleSets, version: input.path.version))))
    }

    // MARK: Volumes and insurance

    /// The newest rows the API lists of daily volumes.
    static let volumeRowsMax = 400

    func volumesView(by caller: Caller) async throws -> Components.Schemas.Volumes {
        let rows = try await reserve.volumes(by: caller).flatMap { category, days in days.map { (day: $0.key, category: category, amount: $0.value) } }
            .sorted { ($0.day, $0.category) < ($1.day, $1.category) }
        return .init(volumes: rows.suffix(Self.volumeRowsMax).map { .init(day: $0.day, category: $0.category, amountJpy: $0.amount.description) })
    }

    func listVolumes(_ input: Operations.ListVolumes.Input) async throws -> Operations.ListVolumes.Output {
        .ok(.init(body: .json(try await volumesView(by: try caller()))))
    }

    func importVolumes(_ input: Operations.ImportVolumes.Input) async throws -> Operations.ImportVolumes.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        let rows = try body.volumes.enumerated().map { index, row in
            VolumeRow(day: row.day, category: row.category, amount: try Self.yen(row.amountJpy, field: "volumes[\(index)].amount_jpy"))
        }
        try await reserve.importVolumes(rows, by: caller)
        return .ok(.init(body: .json(try await volumesView(by: caller))))
    }

    func refreshVolumes(_ input: Operations.RefreshVolumes.Input) async throws -> Operations.RefreshVolumes.Output {
        let caller = try caller()
        try await ledger.refresh()
        return .ok(.init(body: .json(.init(recorded: try await reserve.refreshVolumes(by: caller)))))
    }

    static func policyView(_ p: InsurancePolicy) -> Components.Schemas.Policy {
        .init(id: String(p.id), insurer: p.insurer, coverage: p.coverage, limit: p.limit.description, deductible: p.deductible.description,
              claimed: p.claimed.description, remaining: p.remaining.description, starts: p.starts, ends: p.ends, exclusions: p.exclusions)
    }

    func listPolicies(_ input: Operations.ListPolicies.Input) async throws -> Operations.ListPolicies.Output {
        .ok(.init(body: .json(.init(policies: try await reserve.insurancePolicies(by: try caller()).map(Self.policyView)))))
    }

    func addPolicy(_ input: Operations.AddPolicy.Input) async throws -> Operations.AddPolicy.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        let policy = InsurancePolicy(id: 0, insurer: body.insurer, coverage: body.coverage, limit: try Self.yen(body.limit, field: "limit"),
                                     deductible: try Self.yen(body.deductible ?? "0", field: "deductible"), exclusions: body.exclusions ?? [],
                                     starts: body.starts, ends: body.ends)
        return .created(.init(body: .json(Self.policyView(try await reserve.addPolicy(policy, by: caller)))))
    }

    // MARK: Funding

    func requestFunding(_ input: Operations.RequestFunding.Input) async throws -> Operations.RequestFunding.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        try await ledger.refresh()
        let request = try await reserve.requestFunding(try Self.yen(body.amount, field: "amount"), release: body.release ?? false, by: caller)
        return .created(.init(body: .json(try await approvalView(request))))
    }

    func executeFunding(_ input: Operations.ExecuteFunding.Input) async throws -> Operations.ExecuteFunding.Output {
        let caller = try caller()
        try await ledger.refresh()
        let funded = try await reserve.executeFunding(try ApprovalRequestID(parsing: input.path.request, field: "request"), by: caller)
        return .ok(.init(body: .json(.init(funded: funded.description))))
    }

    // MARK: Incidents and compensation

    func incidentView(_ incident: Incident) async -> Components.Schemas.Incident {
        let assets = await assetsByCode()
        return .init(id: Int(incident.id), lossType: incident.lossType, lostAt: incident.lostAt.iso8601, detectedAt: incident.detectedAt.iso8601,
                     losses: incident.losses.map { "\($0.amount.decimalString(scale: assets[$0.asset]?.scale ?? 0)) \($0.asset) from \($0.wallet)" },
                     status: .init(rawValue: incident.status.rawValue) ?? .declared, lossJpy: incident.lossJPY.description, valuation: incident.valuation.isEmpty ? nil : incident.valuation, paidAt: incident.paidAt?.iso8601,
                     secondsToCompensation: incident.secondsToCompensation.map { Int(clamping: $0) })
    }

    func declareIncident(_ input: Operations.DeclareIncident.Input) async throws -> Operations.DeclareIncident.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        try await ledger.refresh()
        var losses: [IncidentLoss] = []
        for (index, loss) in body.losses.enumerated() {
            let asset = try await asset(loss.asset, field: "losses[\(index)].asset")
            losses.append(IncidentLoss(wallet: loss.wallet, asset: asset.code, amount: try asset.parse(loss.amount, field: "losses[\(index)].amount")))
        }
        let incident = try await reserve.declare(
            lossType: body.lossType ?? "hack", losses: losses, lostAt: try TimestampNanoseconds(parsing: body.lostAt, field: "lost_at"),
            detectedAt: try Self.time(body.detectedAt, field: "detected_at", default: services.clock.now()), by: caller)
        return .created(.init(body: .json(await incidentView(incident))))
    }

    static func incidentID(_ text: String) throws(KinkoError) -> UInt64 { try uint64(text, field: "id") }

    func planView(_ stored: StoredPlan) async -> Components.Schemas.Plan {
        let plan = stored.plan
        let assets = await assetsByCode()
        func f(_ code: String, _ amount: Amount) -> String { amount.decimalString(scale: assets[code]?.scale ?? 0) }
        var price: String?
        if case .jpy(let reference) = plan.mode { price = reference.description }
        return .init(incident: String(plan.incident), asset: plan.asset, paymentAsset: plan.paymentAsset, referencePrice: price, request: stored.requestID.description,
                     customers: plan.entitlements.count, totalLoss: f(plan.asset, plan.totalLoss), totalPayment: f(plan.paymentAsset, plan.totalPayment),
                     shortfall: f(plan.paymentAsset, plan.shortfall),
                     sources: plan.sources.map { .init(kind: $0.kind.rawValue, policy: $0.policy.map(String.init), amount: f(plan.paymentAsset, $0.amount)) })
    }

    func planCompensation(_ input: Operations.PlanCompensation.Input) async throws -> Operations.PlanCompensation.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        let mode: CompensationMode
        switch body.mode {
        case .inKind: mode = .inKind
        case .jpy:
            guard let price = body.price else { throw KinkoError(.invalidInput, "is required to compensate in yen", field: "price") }
            do { mode = .jpy(try JPYPrice(decimal: price)) } catch { throw KinkoError(error.code, error.message, field: "price") }
        }
        try await ledger.refresh()
        let stored = try await reserve.plan(incident: try Self.incidentID(input.path.id), asset: body.asset, mode: mode, by: caller)
        return .created(.init(body: .json(await planView(stored))))
    }

    func getPlan(_ input: Operations.GetPlan.Input) async throws -> Operations.GetPlan.Output {
        let stored = try await reserve.storedPlan(incident: try Self.incidentID(input.path.id), asset: input.path.asset, by: try caller())
        return .ok(.init(body: .json(await planView(stored))))
    }

    func payPlan(_ input: Operations.PayPlan.Input) async throws -> Operations.PayPlan.Output {
        let caller = try caller()
        try await ledger.refresh()
        let incident = try await reserve.pay(incident: try Self.incidentID(input.path.id), asset: input.path.asset, by: caller)
        return .ok(.init(body: .json(await incidentView(incident))))
    }

    func planStatement(_ input: Operations.PlanStatement.Input) async throws -> Operations.PlanStatement.Output {
        let caller = try caller()
        let lines = try await reserve.statement(incident: try Self.incidentID(input.path.id), asset: input.path.asset, by: caller)
        return .ok(.init(body: .json(.init(lines: lines.map {
            .init(owner: String($0.entitlement.owner), account: $0.entitlement.account.description, heldAtLoss: $0.entitlement.amount.description,
                  lossShare: $0.share.description, payment: $0.payment.description, transfer: $0.transfer.description)
        }))))
    }

    // MARK: Insolvency

    /// What a caller sends to enter insolvency, so that no stray request freezes the exchange.
    static let insolvencyConfirmation = "FREEZE"

    func enterInsolvency(_ input: Operations.EnterInsolvency.Input) async throws -> Operations.EnterInsolvency.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        guard body.confirm == Self.insolvencyConfirmation else {
            throw KinkoError(.invalidInput, "send \"\(Self.insolvencyConfirmation)\" to freeze every wallet", field: "confirm")
        }
        let since = try await reserve.enterInsolvency(by: caller)
        return .ok(.init(body: .json(.init(since: since.iso8601))))
    }

    func distributionSchedule(_ input: Operations.DistributionSchedule.Input) async throws -> Operations.DistributionSchedule.Output {
        let caller = try caller()
        try await ledger.refresh()
        let schedule = try await reserve.distributionSchedule(by: caller)
        let assets = await assetsByCode()
        func f(_ code: String, _ amount: Amount) -> String { amount.decimalString(scale: assets[code]?.scale ?? 0) }
        return .ok(.init(body: .json(.init(
            lines: schedule.lines.map { .init(owner: String($0.owner), account: $0.account.description, asset: $0.asset, claim: f($0.asset, $0.claim),
                                              distribution: f($0.asset, $0.distribution)) },
            totals: schedule.totals.map { .init(asset: $0.asset, claims: f($0.asset, $0.claims), customerHoldings: f($0.asset, $0.customerHoldings),
                                                guarantee: f($0.asset, $0.guarantee), distributed: f($0.asset, $0.distributed), short: $0.isShort) }))))
    }
}

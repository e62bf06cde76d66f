import Foundation
import KinkoCore
import KinkoCustody
import KinkoGovernance
import KinkoLedger
import KinkoMonitoring
import KinkoReserve
import OpenAPIRuntime

/// The OpenAPI operations. Each one takes the caller from the request scope (set by
/// `OperationMiddleware`, which also refused callers without the operation's permission before
/// parsing) and calls the domain, which authorizes every read and write again; it never reads a
/// store. `KinkoError`s become problem documents in `ProblemMiddleware`.
struct KinkoAPI: APIProtocol {
    let services: Services
    let metrics: RequestMetrics
    var exposure = MetricsExposure.operational
    var connections: ConnectionCounter?

    static let pageDefault = 100
    static let pageMax = 1_000

    var governance: Governance { services.governance }
    var ledger: Ledger { services.ledger }

    func caller() throws -> Caller { try RequestScope.requireCaller() }

    static func page(_ limit: Int?) throws(KinkoError) -> Int {
        let limit = limit ?? pageDefault
        guard (1...pageMax).contains(limit) else { throw KinkoError(.limitExceeded, "limit must be 1–\(pageMax); got \(limit)", field: "limit") }
        return limit
    }

    static func uint64(_ text: String, field: String) throws(KinkoError) -> UInt64 {
        guard let value = UInt64(text) else { throw KinkoError(.invalidInput, "must be a whole number", field: field) }
        return value
    }

    /// A whole number within `range`.
    static func int(_ text: String, field: String, in range: ClosedRange<Int>) throws(KinkoError) -> Int {
        guard let value = Int(text) else { throw KinkoError(.invalidInput, "must be a whole number", field: field) }
        guard range.contains(value) else { throw KinkoError(.invalidInput, "must be \(range.lowerBound)–\(range.upperBound)", field: field) }
        return value
    }

    // MARK: Operations

    func health(_ input: Operations.Health.Input) async throws -> Operations.Health.Output {
        .ok(.init(body: .plainText("ok\n")))
    }

    func ready(_ input: Operations.Ready.Input) async throws -> Operations.Ready.Output {
        do {
            try await governance.ping()
            try await ledger.refresh()
            return .ok(.init(body: .plainText("ready\n")))
        } catch {
            return .serviceUnavailable(.init(body: .applicationProblemJson(.init(
                _type: "https://kinko.example/problems/not_ready", title: "Service Unavailable", status: 503, detail: "the database does not answer",
                code: "not_ready", requestId: RequestScope.requestID))))
        }
    }

    func metrics(_ input: Operations.Metrics.Input) async throws -> Operations.Metrics.Output {
        guard exposure != .off else { throw KinkoError(.notFound, "metrics are off on this server (kinko serve --metrics)") }
        return .ok(.init(body: .plainText(.init(try await MetricsText.render(services: services, requests: metrics, exposure: exposure, connections: connections)))))
    }

    func whoAmI(_ input: Operations.WhoAmI.Input) async throws -> Operations.WhoAmI.Output {
        let caller = try caller()
        return .ok(.init(body: .json(.init(principal: caller.principal.description, name: caller.name, roles: caller.roles.sorted().map(\.rawValue)))))
    }

    // MARK: Ledger

    func listAssets(_ input: Operations.ListAssets.Input) async throws -> Operations.ListAssets.Output {
        let assets = try await services.ledgerService.assets(by: try caller()).map { Components.Schemas.Asset(code: $0.code, ledger: Int($0.ledger), scale: Int($0.scale), kind: $0.kind.rawValue) }
        return .ok(.init(body: .json(.init(assets: assets))))
    }

    func listBalances(_ input: Operations.ListBalances.Input) async throws -> Operations.ListBalances.Output {
        let caller = try caller()
        var classFilter: AccountClass?
        if let name = input.query._class?.rawValue {
            guard let found = AccountClass(name: name) else { throw KinkoError(.invalidInput, "unknown class \(name)", field: "class") }
            classFilter = found
        }
        let owner = try input.query.owner.map { try CustomerID(parsing: $0, field: "owner").rawValue }
        let after = try input.query.after.map { try AccountID(parsing: $0, field: "after") }
        let asOf = try input.query.asOf.map { try TimestampNanoseconds(asOf: $0, field: "as_of") }
        let page = try await services.ledgerService.balances(asset: input.query.asset, owner: owner, accountClass: classFilter, after: after,
                                                             limit: input.query.limit, asOf: asOf, by: caller)
        let assets = Dictionary(uniqueKeysWithValues: await ledger.assets.map { ($0.ledger, $0) })
        return .ok(.init(body: .json(.init(accounts: page.accounts.map { Self.balance($0.account, $0.balance, assets[$0.account.ledger]) },
                                           nextAfter: page.nextAfter?.description))))
    }

    static func balance(_ account: Account, _ balance: AccountBalance, _ asset: Asset?) -> Components.Schemas.AccountBalance {
        let scale = asset?.scale ?? 0
        func amount(_ units: UInt128) -> String { Amount(units: units).decimalString(scale: scale) }
        return .init(id: account.id.description, _class: account.accountClass.name, asset: asset?.code ?? "ledger \(account.ledger)", code: Int(account.code),
                     flags: account.flags.names, owner: String(account.owner),
                     balance: balance.netPostedDescription(claim: account.accountClass.isClaim, scale: scale),
                     debitsPosted: amount(balance.debitsPosted), creditsPosted: amount(balance.creditsPosted),
                     debitsPending: amount(balance.debitsPending), creditsPending: amount(balance.creditsPending))
    }

    func getAccount(_ input: Operations.GetAccount.Input) async throws -> Operations.GetAccount.Output {
        let id = try AccountID(parsing: input.path.id, field: "id")
        let (account, balance) = try await services.ledgerService.account(id, by: try caller())
        return .ok(.init(body: .json(Self.balance(account, balance, await ledger.asset(ledger: account.ledger)))))
    }

    func listAccountTransfers(_ input: Operations.ListAccountTransfers.Input) async throws -> Operations.ListAccountTransfers.Output {
        let caller = try caller()
        let id = try AccountID(parsing: input.path.id, field: "id")
        let limit = try Self.page(input.query.limit)
        let before = try input.query.before.map { TransferLocation(rawValue: try Self.uint64($0, field: "before")) } ?? .end
        let asOf = try input.query.asOf.map { try TimestampNanoseconds(asOf: $0, field: "as_of") }
        let page = try await services.ledgerService.history(of: id, before: before, limit: limit, asOf: asOf, by: caller)
        var transfers: [Components.Schemas.Transfer] = []
        for entry in page.transfers {
            var transfer = await transfer(entry.transfer)
            transfer.cursor = String(entry.location.rawValue)
            transfers.append(transfer)
        }
        return .ok(.init(body: .json(.init(transfers: transfers, nextBefore: page.next.map { String($0.rawValue) }))))
    }

    /// The window, code and order of a TigerBeetle-style query, from the query string.
    static func queryFilter(code: String?, from: String?, until: String?, limit: Int?, reversed: Bool?) throws -> QueryFilter {
        var filter = QueryFilter(limit: UInt32(try page(limit)), reversed: reversed ?? false)
        if let code {
            do { filter.code = try TransferCode(parsing: code).rawValue } catch { throw KinkoError(error.code, error.message, field: "code") }
        }
        filter.timestampMin = try from.map { try TimestampNanoseconds(from: $0, field: "from") } ?? 0
        filter.timestampMax = try until.map { try TimestampNanoseconds(asOf: $0, field: "until") } ?? 0
        return filter
    }

    func listAccountBalances(_ input: Operations.ListAccountBalances.Input) async throws -> Operations.ListAccountBalances.Output {
        let caller = try caller()
        let id = try AccountID(parsing: input.path.id, field: "id")
        let q = input.query
        let side = q.side ?? .both
        let filter = AccountFilter(accountID: id, narrowedAs: try Self.queryFilter(code: q.code, from: q.from, until: q.until, limit: q.limit,
                                                                                  reversed: q.reversed),
                                   debits: side != .credits, credits: side != .debits)
        let found = try await services.ledgerService.accountBalances(filter, by: caller)
        let accountLedger = await ledger.account(id)?.account.ledger ?? 0
        let units = await ledger.asset(ledger: accountLedger)?.scale ?? 0
        func amount(_ value: UInt128) -> String { Amount(units: value).decimalString(scale: units) }
        return .ok(.init(body: .json(.init(balances: found.map {
            .init(transfer: $0.transfer.description, timestamp: $0.timestamp.iso8601, debitsPending: amount($0.balance.debitsPending),
                  debitsPosted: amount($0.balance.debitsPosted), creditsPending: amount($0.balance.creditsPending),
                  creditsPosted: amount($0.balance.creditsPosted))
        }))))
    }

    func queryTransfers(_ input: Operations.QueryTransfers.Input) async throws -> Operations.QueryTransfers.Output {
        let caller = try caller()
        let q = input.query
        var filter = try Self.queryFilter(code: q.code, from: q.from, until: q.until, limit: q.limit, reversed: q.reversed)
        if let code = q.asset {
            guard let asset = await ledger.asset(code: code) else { throw KinkoError(.notFound, "no asset \(code)", field: "asset") }
            filter.ledger = asset.ledger
        }
        filter.userData128 = try q.userData128.map { try AccountID(parsing: $0, field: "user_data_128").rawValue } ?? 0
        var transfers: [Components.Schemas.Transfer] = []
        for found in try await services.ledgerService.queryTransfers(filter, by: caller) { transfers.append(await transfer(found)) }
        return .ok(.init(body: .json(.init(transfers: transfers))))
    }

    func getStatement(_ input: Operations.GetStatement.Input) async throws -> Operations.GetStatement.Output {
        let caller = try caller()
        let owner = try CustomerID(parsing: input.path.id, field: "id").rawValue
        let from = input.query.from.utf8.count == 10 ? try TimestampNanoseconds.startOfDayJST(input.query.from, field: "from") - 1
            : try TimestampNanoseconds(parsing: input.query.from, field: "from")
        let to = try TimestampNanoseconds(asOf: input.query.to, field: "to")
        let statement = try await services.ledgerService.statement(owner: owner, from: from, to: to, by: caller)
        typealias Body = Operations.GetStatement.Output.Ok.Body.JsonPayload
        let accounts = statement.sections.map { section -> Body.AccountsPayloadPayload in
            let claim = section.account.accountClass.isClaim
            let scale = section.asset.scale
            return .init(
                account: section.account.id.description, _class: section.account.accountClass.name, asset: section.asset.code,
                opening: section.opening.netPostedDescription(claim: claim, scale: scale),
                closing: section.closing.netPostedDescription(claim: claim, scale: scale),
                movements: section.movements.map { movement in
                    let grows = (movement.side == .credit) == claim
                    return .init(time: movement.transfer.timestamp.iso8601, transfer: movement.transfer.id.description,
                                 code: movement.transfer.code.name, side: movement.side == .debit ? .debit : .credit,
                                 amount: (grows ? "+" : "-") + Amount(units: movement.transfer.amount).decimalString(scale: scale),
                                 balance: movement.after.netPostedDescription(claim: claim, scale: scale))
                })
        }
        return .ok(.init(body: .json(.init(customer: String(owner), from: statement.from.iso8601, to: statement.to.iso8601, accounts: accounts))))
    }

    func transfer(_ t: Transfer) async -> Components.Schemas.Transfer {
        let asset = await ledger.asset(ledger: t.ledger)
        return .init(id: t.id.description, debitAccountId: t.debitAccountID.description, creditAccountId: t.creditAccountID.description,
                     amount: Amount(units: t.amount).decimalString(scale: asset?.scale ?? 0), asset: asset?.code ?? "ledger \(t.ledger)", code: t.code.name,
                     flags: t.flags.names, pendingId: t.pendingID.rawValue == 0 ? nil : t.pendingID.description, timestamp: t.timestamp.iso8601)
    }

    func getTransfer(_ input: Operations.GetTransfer.Input) async throws -> Operations.GetTransfer.Output {
        let id = try TransferID(parsing: input.path.id, field: "id")
        return .ok(.init(body: .json(await transfer(try await services.ledgerService.transfer(id, by: try caller())))))
    }

    /// JSON records become NDJSON lines for `LedgerInput`, so the API and the CLI read batches
    /// with the same rules and the same messages.
    static func ndjson<T: Encodable>(_ records: [T]) throws -> String {
        let encoder = JSONEncoder()
        return try records.map { String(decoding: try encoder.encode($0), as: UTF8.self) }.joined(separator: "\n")
    }

    static func results(_ outcomes: [(name: String, success: Bool)]) -> Components.Schemas.BatchResults {
        .init(ok: outcomes.count { $0.success }, failed: outcomes.count { !$0.success },
              results: outcomes.enumerated().map { .init(index: $0.offset, result: $0.element.name) })
    }

    static func inputError(_ errors: LedgerInput.InputErrors, records: String) -> KinkoError {
        let first = errors.errors.first
        let more = errors.errors.count > 1 ? " (and \(errors.errors.count - 1) more)" : ""
        return KinkoError(.invalidInput, "\(records) \(first.map { $0.line - 1 } ?? 0): \(first?.message ?? "invalid")\(more)",
                          field: first.map { "\(records)[\($0.line - 1)]" + ($0.field.map { ".\($0)" } ?? "") })
    }

    func createAccounts(_ input: Operations.CreateAccounts.Input) async throws -> Operations.CreateAccounts.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        try await ledger.refresh()
        let parsed = LedgerInput(assets: await ledger.assets).accounts(try Self.ndjson(body.accounts), format: .ndjson)
        let accounts: [Account]
        switch parsed {
        case .success(let records): accounts = records.map(\.value)
        case .failure(let errors): throw Self.inputError(errors, records: "accounts")
        }
        guard accounts.count <= ledger.limits.batchSizeMax else {
            throw KinkoError(.limitExceeded, "a batch holds at most \(ledger.limits.batchSizeMax) accounts", field: "accounts")
        }
        let results = try await services.ledgerService.createAccounts(accounts, by: caller)
        return .ok(.init(body: .json(Self.results(results.map { ($0.name, $0.isSuccess) }))))
    }

    func createTransfers(_ input: Operations.CreateTransfers.Input) async throws -> Operations.CreateTransfers.Output {
        let caller = try caller()
        let text: String
        switch input.body {
        case .json(let body): text = try Self.ndjson(body.transfers)
        case .applicationXNdjson(let body): text = String(decoding: try await Data(collecting: body, upTo: KinkoHTTPServer.maxBodyBytes), as: UTF8.self)
        }
        let parsed = LedgerInput(assets: await ledger.assets).transfers(text, format: .ndjson)
        let transfers: [Transfer]
        switch parsed {
        case .success(let records): transfers = records.map(\.value)
        case .failure(let errors): throw Self.inputError(errors, records: "transfers")
        }
        guard !transfers.isEmpty else { throw KinkoError(.invalidInput, "the batch is empty", field: "transfers") }
        guard transfers.count <= ledger.limits.batchSizeMax else {
            throw KinkoError(.limitExceeded, "a batch holds at most \(ledger.limits.batchSizeMax) transfers", field: "transfers")
        }
        let results = try await services.ledgerService.createTransfers(transfers, by: caller)
        metrics.recordBatch(transfers: transfers.count)
        return .ok(.init(body: .json(Self.results(results.map { ($0.name, $0.isSuccess) }))))
    }

    // MARK: Governance and audit

    func listPrincipals(_ input: Operations.ListPrincipals.Input) async throws -> Operations.ListPrincipals.Output {
        let principals = try await governance.principals(by: try caller()).map {
            Components.Schemas.Principal(id: $0.id.description, name: $0.name, kind: $0.kind.rawValue, roles: $0.roles.sorted().map(\.rawValue))
        }
        return .ok(.init(body: .json(.init(principals: principals))))
    }

    func approvalView(_ request: ApprovalRequest) async throws -> Components.Schemas.ApprovalRequest {
        let caller = try caller()
        let evaluation = try await governance.evaluate(request.id)
        let names = try await governance.principalNames(by: caller)
        let approvals = try await governance.approvals(of: request.id, by: caller).map { names[$0.approver] ?? $0.approver.description }
        return .init(id: request.id.description, action: request.action, status: request.status.rawValue, initiator: names[request.initiator] ?? request.initiator.description,
                     digest: Hex.encode(request.digest), payload: String(decoding: request.payload.bytes, as: UTF8.self), policy: request.policy.summary,
                     approvals: approvals, satisfied: evaluation.isSatisfied, reasons: evaluation.reasons)
    }

    func listApprovals(_ input: Operations.ListApprovals.Input) async throws -> Operations.ListApprovals.Output {
        let status: ApprovalStatus? = switch input.query.status {
        case .open, nil: .open
        case .executed: .executed
        case .all: nil
        }
        var views: [Components.Schemas.ApprovalRequest] = []
        for request in try await governance.requests(status: status, limit: input.query.limit, by: try caller()) {
            views.append(try await approvalView(request))
        }
        return .ok(.init(body: .json(.init(requests: views))))
    }

    func getApproval(_ input: Operations.GetApproval.Input) async throws -> Operations.GetApproval.Output {
        let id = try ApprovalRequestID(parsing: input.path.id, field: "id")
        return .ok(.init(body: .json(try await approvalView(try await governance.request(id, by: try caller())))))
    }

    func approveRequest(_ input: Operations.ApproveRequest.Input) async throws -> Operations.ApproveRequest.Output {
        let caller = try caller()
        let id = try ApprovalRequestID(parsing: input.path.id, field: "id")
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        let signature = try Hex.decode(body.signature, field: "signature")
        _ = try await governance.approve(id, keyID: body.keyId, signature: signature, by: caller)
        return .ok(.init(body: .json(try await approvalView(try await governance.request(id, by: caller)))))
    }

    func verifyAudit(_ input: Operations.VerifyAudit.Input) async throws -> Operations.VerifyAudit.Output {
        let report = try await AuditStatus.verify(services, by: try caller())
        return .ok(.init(body: .json(.init(ok: report.isValid, entries: report.entries, checkpoints: report.checkpoints, root: Hex.encode(report.root),
                                           problems: report.problems.map { "\($0.kind.rawValue) at entry \($0.index): \($0.message)" }))))
    }

    func listAuditEntries(_ input: Operations.ListAuditEntries.Input) async throws -> Operations.ListAuditEntries.Output {
        let (size, stored) = try await governance.auditEntries(from: input.query.from ?? 0, limit: input.query.limit, by: try caller())
        let entries = try stored.map { stored -> Components.Schemas.AuditEntry in
            let entry = try AuditEntry(bytes: stored.bytes)
            return .init(index: entry.index, time: entry.time.iso8601, principal: entry.event.principalName, role: entry.event.role, action: entry.event.action,
                         result: entry.event.result, details: .init(additionalProperties: entry.event.details))
        }
        return .ok(.init(body: .json(.init(size: size, entries: entries))))
    }

    // MARK: Custody

    func listWallets(_ input: Operations.ListWallets.Input) async throws -> Operations.ListWallets.Output {
        let wallets = try await services.custody.wallets(by: try caller()).map {
            Components.Schemas.Wallet(id: $0.id, chain: $0.chain, temperature: $0.temperature.rawValue, purpose: $0.purpose.rawValue, assets: $0.assets,
                                      vendor: $0.vendor, frozen: $0.frozenAt != nil)
        }
        return .ok(.init(body: .json(.init(wallets: wallets))))
    }

    func custodyCheck(_ input: Operations.CustodyCheck.Input) async throws -> Operations.CustodyCheck.Output {
        let caller = try caller()
        try await ledger.refresh()
        let check = try await services.custody.check(by: caller)
        return .ok(.init(body: .json(CustodyFigures.view(check))))
    }

    func listMovements(_ input: Operations.ListMovements.Input) async throws -> Operations.ListMovements.Output {
        let assets = await assetsByCode()
        let movements = try await services.custody.movements(limit: Self.pageMax, by: try caller()).map { Self.movementView($0, assets: assets) }
        return .ok(.init(body: .json(.init(movements: movements))))
    }

    func getReconciliation(_ input: Operations.GetReconciliation.Input) async throws -> Operations.GetReconciliation.Output {
        let caller = try caller()
        try Self.checkDay(input.path.day, field: "day")
        let reconciliation = try await services.custody.reconciliation(day: input.path.day, by: caller)
        let assets = Dictionary(uniqueKeysWithValues: await ledger.assets.map { ($0.code, $0) })
        return .ok(.init(body: .json(.init(day: reconciliation.day, cutoff: reconciliation.cutoff.iso8601, clean: reconciliation.isClean,
                                           text: reconciliation.text(assets: assets)))))
    }

    // MARK: Reserve and incidents

    func reserveAdequacy(_ input: Operations.ReserveAdequacy.Input) async throws -> Operations.ReserveAdequacy.Output {
        let points = try await services.reserve.adequacy(by: try caller()).map {
            Components.Schemas.AdequacyPoint(time: $0.time.iso8601, ruleVersion: $0.ruleVersion, required: $0.required.decimalString(scale: 0),
                                             funded: $0.funded.decimalString(scale: 0), short: $0.isShort)
        }
        return .ok(.init(body: .json(.init(points: points))))
    }

    func computeRequirement(_ input: Operations.ComputeRequirement.Input) async throws -> Operations.ComputeRequirement.Output {
        let caller = try caller()
        try await ledger.refresh()
        let (requirement, funded) = try await services.reserve.compute(by: caller)
        return .ok(.init(body: .json(.init(
            ruleVersion: requirement.ruleVersion, required: requirement.required.decimalString(scale: 0), funded: funded.decimalString(scale: 0),
            adequate: funded >= requirement.required,
            lines: requirement.lines.map { .init(name: $0.name, amount: $0.amount.decimalString(scale: 0), explanation: $0.inputs) }))))
    }

    func listIncidents(_ input: Operations.ListIncidents.Input) async throws -> Operations.ListIncidents.Output {
        var incidents: [Components.Schemas.Incident] = []
        for incident in try await services.reserve.incidents(by: try caller()) { incidents.append(await incidentView(incident)) }
        return .ok(.init(body: .json(.init(incidents: incidents))))
    }
}

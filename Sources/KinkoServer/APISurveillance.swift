import Foundation
import KinkoCore
import KinkoSurveillance
import OpenAPIRuntime

/// Market surveillance over HTTP: the matching engine's pre-trade check.
extension KinkoAPI {
    func preTradeCheck(_ input: Operations.PreTradeCheck.Input) async throws -> Operations.PreTradeCheck.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        let time = body.time ?? Int64(services.clock.now() / 1_000_000)
        let (decision, version) = try await services.surveillance.preTrade(
            PreTradeRequest(account: body.account, market: body.market, side: body.side == .buy ? .buy : .sell, time: time), by: caller)
        return .ok(.init(body: .json(.init(allowed: decision.allowed, reason: decision.reason.flatMap { .init(rawValue: $0.rawValue) },
                                           detail: decision.detail, insiderListVersion: version))))
    }
}

extension KinkoAPI {
    func ingestMarketEvents(_ input: Operations.IngestMarketEvents.Input) async throws -> Operations.IngestMarketEvents.Output {
        let caller = try caller()
        guard case .applicationXNdjson(let body) = input.body else { throw KinkoError(.invalidInput, "send NDJSON", field: "body") }
        let text = String(decoding: try await Data(collecting: body, upTo: KinkoHTTPServer.maxBodyBytes), as: UTF8.self)
        let results = try await services.surveillance.ingest(ndjson: text, by: caller)
        return .ok(.init(body: .json(.init(results: results.map {
            .init(line: $0.line, status: $0.status == .accepted ? .accepted : .rejected, record: $0.record, field: $0.field, message: $0.message)
        }))))
    }

    func scanMarket(_ input: Operations.ScanMarket.Input) async throws -> Operations.ScanMarket.Output {
        let result = try await services.surveillance.scan(by: try caller())
        return .ok(.init(body: .json(.init(orderEvents: result.orderEvents, trades: result.trades, ruleSet: result.ruleSetVersion, alerts: result.alerts,
                                           raised: result.raised, queued: result.queued.map { .init(surveillanceAlert: $0.surveillanceAlert, alert: Int64($0.alert)) }))))
    }

    static func marketAlert(_ a: StoredSurveillanceAlert) -> Components.Schemas.MarketAlert {
        .init(id: a.id, typology: a.typology, market: a.market, accounts: a.accounts, start: a.start, end: a.end, score: a.score, explanation: a.explanation,
              figures: a.figures.map { .init(name: $0.name, value: $0.value, threshold: $0.threshold) }, orders: a.orders, trades: a.trades,
              ruleSetVersion: a.ruleSetVersion, customers: a.customers, status: .init(rawValue: a.status) ?? .notQueued, queueAlert: a.queueAlert.map { Int64($0) },
              _case: a.caseID.map { Int64($0) })
    }

    func listMarketAlerts(_ input: Operations.ListMarketAlerts.Input) async throws -> Operations.ListMarketAlerts.Output {
        let alerts = try await services.surveillance.alerts(typology: input.query.typology?.rawValue, limit: input.query.limit ?? 100, by: try caller())
        return .ok(.init(body: .json(.init(alerts: alerts.map(Self.marketAlert)))))
    }

    func getMarketAlert(_ input: Operations.GetMarketAlert.Input) async throws -> Operations.GetMarketAlert.Output {
        .ok(.init(body: .json(Self.marketAlert(try await services.surveillance.alert(input.path.id, by: try caller())))))
    }

    static func preClearance(_ r: PreClearanceRequest) -> Components.Schemas.PreClearanceRequest {
        .init(id: Int64(r.id), account: r.account, market: r.market, side: .init(rawValue: r.side) ?? .buy, from: r.from, to: r.to, reason: r.reason,
              requestedBy: r.requestedBy, requestedAt: r.requestedAt.iso8601, status: .init(rawValue: r.status.rawValue) ?? .pending, decidedBy: r.decidedBy,
              decidedAt: r.decidedAt?.iso8601, decisionNote: r.decisionNote)
    }

    func listPreClearances(_ input: Operations.ListPreClearances.Input) async throws -> Operations.ListPreClearances.Output {
        let status = input.query.status.flatMap { PreClearanceRequest.Status(rawValue: $0.rawValue) }
        let requests = try await services.surveillance.preClearanceRequests(status: status, by: try caller())
        return .ok(.init(body: .json(.init(requests: requests.map(Self.preClearance)))))
    }

    func requestPreClearance(_ input: Operations.RequestPreClearance.Input) async throws -> Operations.RequestPreClearance.Output {
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "a JSON body is required", field: "body") }
        let request = try await services.surveillance.requestPreClearance(account: body.account, market: body.market, side: body.side.rawValue, from: body.from,
                                                                          to: body.to, reason: body.reason, by: try caller())
        return .created(.init(body: .json(Self.preClearance(request))))
    }

    func decidePreClearance(_ input: Operations.DecidePreClearance.Input) async throws -> Operations.DecidePreClearance.Output {
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "a JSON body is required", field: "body") }
        let request = try await services.surveillance.decidePreClearance(try Self.uint64(input.path.id, field: "id"), approve: body.approve, note: body.note,
                                                                         by: try caller())
        return .ok(.init(body: .json(Self.preClearance(request))))
    }
}

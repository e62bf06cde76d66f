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

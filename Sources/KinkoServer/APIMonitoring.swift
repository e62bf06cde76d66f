import Foundation
import KinkoCore
import KinkoGovernance
import KinkoMonitoring
import OpenAPIRuntime

/// Monitoring's daily work over HTTP: ingesting events, alerts, cases and STR drafts, as
/// `kinko monitor ingest|network-scan|alerts|alert|cases|case|str`.
extension KinkoAPI {
    func ingestEvents(_ input: Operations.IngestEvents.Input) async throws -> Operations.IngestEvents.Output {
        let caller = try caller()
        guard case .applicationXNdjson(let body) = input.body else { throw KinkoError(.invalidInput, "send NDJSON", field: "body") }
        let text = String(decoding: try await Data(collecting: body, upTo: KinkoHTTPServer.maxBodyBytes), as: UTF8.self)
        let results = try await services.monitoring.ingest(ndjson: text, by: caller)
        return .ok(.init(body: .json(.init(results: results.map {
            .init(line: $0.line, event: $0.event, status: .init(rawValue: $0.status.rawValue) ?? .rejected, outcome: $0.outcome.flatMap { .init(rawValue: $0.rawValue) },
                  alert: $0.alert.map(String.init), rules: $0.rules, message: $0.message)
        }))))
    }

    func scanNetwork(_ input: Operations.ScanNetwork.Input) async throws -> Operations.ScanNetwork.Output {
        let result = try await services.monitoring.scanNetwork(by: try caller())
        return .ok(.init(body: .json(.init(
            transfers: result.transfers, candidates: result.candidates, withinBudget: result.withinBudget, ruleSet: result.ruleSetVersion,
            settleDays: result.settleDays, windowDays: result.windowDays,
            raised: result.raised.map { .init(alert: String($0.alert), motif: $0.motif) },
            grown: result.grown.map { .init(alert: String($0.alert), motif: $0.motif) }))))
    }

    static func alert(_ a: MonitoringAlert) -> Components.Schemas.Alert {
        .init(id: String(a.id), event: a.event, customer: String(a.customer), time: a.time.iso8601, outcome: a.outcome.rawValue, ruleSetVersion: a.ruleSetVersion,
              status: a.status.rawValue, _case: a.caseID.map(String.init),
              hits: a.hits.map { .init(rule: $0.rule, score: $0.score, subject: String($0.subject), explanation: $0.explanation,
                                       values: .init(additionalProperties: $0.values), events: $0.events, customers: $0.customers.map(String.init)) })
    }

    static func caseView(_ c: MonitoringCase) -> Components.Schemas.Case {
        .init(id: String(c.id), title: c.title, assignee: c.assignee, status: c.status.rawValue, disposition: c.disposition?.rawValue, openedBy: c.openedBy,
              openedAt: c.openedAt.iso8601, closedAt: c.closedAt?.iso8601, alerts: c.alerts.map(String.init),
              notes: c.notes.map { .init(at: $0.at.iso8601, author: $0.author, text: $0.text) })
    }

    func listAlerts(_ input: Operations.ListAlerts.Input) async throws -> Operations.ListAlerts.Output {
        let status = input.query.status.flatMap { AlertStatus(rawValue: $0.rawValue) }
        let alerts = try await services.monitoring.alerts(status: status, limit: try Self.page(input.query.limit), by: try caller())
        return .ok(.init(body: .json(.init(alerts: alerts.map(Self.alert)))))
    }

    func getAlert(_ input: Operations.GetAlert.Input) async throws -> Operations.GetAlert.Output {
        let alert = try await services.monitoring.alert(try Self.uint64(input.path.id, field: "id"), by: try caller())
        return .ok(.init(body: .json(Self.alert(alert))))
    }

    func dismissAlert(_ input: Operations.DismissAlert.Input) async throws -> Operations.DismissAlert.Output {
        let caller = try caller()
        let id = try Self.uint64(input.path.id, field: "id")
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        switch try await services.monitoring.dismiss(id, reason: body.reason, by: caller) {
        case .dismissed:
            return .ok(.init(body: .json(Self.alert(try await services.monitoring.alert(id, by: caller)))))
        case .awaitingApproval(let request):
            return .accepted(.init(body: .json(try await approvalView(request))))
        }
    }

    func executeDismissal(_ input: Operations.ExecuteDismissal.Input) async throws -> Operations.ExecuteDismissal.Output {
        let caller = try caller()
        let id = try ApprovalRequestID(parsing: input.path.request, field: "request")
        try await services.monitoring.executeDismissal(request: id, by: caller)
        let request = try await governance.requireRequest(id)
        guard case .object(let fields) = request.payload, case .string(let alert)? = fields["alert"], let alertID = UInt64(alert) else {
            throw KinkoError(.storageCorrupted, "request \(id) names no alert")
        }
        return .ok(.init(body: .json(Self.alert(try await services.monitoring.alert(alertID, by: caller)))))
    }

    func listCases(_ input: Operations.ListCases.Input) async throws -> Operations.ListCases.Output {
        guard let after = UInt64(exactly: input.query.after ?? 0) else {
            throw KinkoError(.invalidInput, "must be 0 or more", field: "after")
        }
        let page = try await services.monitoring.cases(after: after, limit: input.query.limit, by: try caller())
        return .ok(.init(body: .json(.init(cases: page.cases.map(Self.caseView), next: page.next.map { Int64($0) }))))
    }

    func openCase(_ input: Operations.OpenCase.Input) async throws -> Operations.OpenCase.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        let ids = try body.alerts.map { try Self.uint64($0, field: "alerts") }
        let record = try await services.monitoring.openCase(title: body.title, alerts: ids, assignee: body.assignee, by: caller)
        return .created(.init(body: .json(Self.caseView(record))))
    }

    func getCase(_ input: Operations.GetCase.Input) async throws -> Operations.GetCase.Output {
        .ok(.init(body: .json(Self.caseView(try await services.monitoring.caseRecord(try Self.uint64(input.path.id, field: "id"), by: try caller())))))
    }

    func updateCase(_ input: Operations.UpdateCase.Input) async throws -> Operations.UpdateCase.Output {
        let caller = try caller()
        let id = try Self.uint64(input.path.id, field: "id")
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        let change: Monitoring.CaseChange
        switch body.action {
        case .assign:
            guard let assignee = body.assignee else { throw KinkoError(.invalidInput, "is required to assign", field: "assignee") }
            change = .assign(assignee)
        case .note:
            guard let note = body.note else { throw KinkoError(.invalidInput, "is required to add a note", field: "note") }
            change = .note(note)
        case .addAlerts:
            guard let alerts = body.alerts, !alerts.isEmpty else { throw KinkoError(.invalidInput, "name at least one alert", field: "alerts") }
            change = .addAlerts(try alerts.map { try Self.uint64($0, field: "alerts") })
        case .investigate:
            change = .investigate
        case .close:
            guard let disposition = body.disposition.flatMap({ CaseDisposition(rawValue: $0.rawValue) }) else {
                throw KinkoError(.invalidInput, "is required to close a case", field: "disposition")
            }
            change = .close(disposition)
        }
        return .ok(.init(body: .json(Self.caseView(try await services.monitoring.updateCase(id, change, by: caller)))))
    }

    func draftSTR(_ input: Operations.DraftSTR.Input) async throws -> Operations.DraftSTR.Output {
        let draft = try await services.monitoring.draftSTR(case: try Self.uint64(input.path.id, field: "id"), by: try caller())
        let transactions = draft.alerts.flatMap(\.events).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        return .ok(.init(body: .json(.init(text: draft.text, subjects: draft.subjects.map(String.init), transactions: transactions))))
    }
}

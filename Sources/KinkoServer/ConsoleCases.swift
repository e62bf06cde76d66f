import Foundation
import Hummingbird
import KinkoCore
import KinkoGovernance
import KinkoMonitoring

/// A case's workspace in the console: what the case is, its alerts with why each fired, the
/// analysts' notes, the actions a compliance officer takes on it (note, assign, add alerts,
/// investigate, close with a disposition), and the STR draft it would file.
extension Console {
    func registerCases(on router: Router<BasicRequestContext>) {
        router.get("/console/case") { request, _ in
            try await self.page(request) { try await self.caseWorkspace($0, id: request.uri.queryParameters.get("id") ?? "") }
        }
        router.get("/console/case/str") { request, _ in
            try await self.page(request) { try await self.strDraft($0, id: request.uri.queryParameters.get("id") ?? "") }
        }
        router.post("/console/actions/case") { request, _ in
            let number = try? KinkoAPI.uint64(request.uri.queryParameters.get("id") ?? "", field: "id")
            return try await self.action(request, back: number.map { "/console/case?id=\($0)" } ?? "/console/alerts", permission: .monitorCasesManage) { caller, form in
                guard let number else { throw KinkoError(.invalidInput, "must be a whole number", field: "id") }
                let change: Monitoring.CaseChange
                switch form["action"] ?? "" {
                case "note": change = .note(form["note"] ?? "")
                case "assign": change = .assign(form["assignee"] ?? "")
                case "add": change = .addAlerts(try MonitoringCase.alertIDs(form["alerts"] ?? ""))
                case "investigate": change = .investigate
                case "close":
                    guard let disposition = CaseDisposition(rawValue: form["disposition"] ?? "") else {
                        throw KinkoError(.invalidInput, "must be one of \(CaseDisposition.allCases.map(\.rawValue).joined(separator: ", "))", field: "disposition")
                    }
                    change = .close(disposition)
                default: throw KinkoError(.invalidInput, "must be note, assign, add, investigate or close", field: "action")
                }
                let record = try await services.monitoring.updateCase(number, change, by: caller)
                return Self.both("案件 \(record.id) を更新しました (\(record.status.rawValue))", "case \(record.id) updated (\(record.status.rawValue))")
            }
        }
    }

    func caseWorkspace(_ caller: Caller, id: String) async throws -> (template: String, context: [String: Any]) {
        let record = try await services.monitoring.caseRecord(try KinkoAPI.uint64(id, field: "id"), by: caller)
        var alerts: [[String: Any]] = []
        for alertID in record.alerts {
            let alert = try await services.monitoring.alert(alertID, by: caller)
            alerts.append(["id": alert.id, "outcome": alert.outcome.rawValue, "status": alert.status.rawValue, "time": Self.jst(alert.time),
                           "rules": alert.hits.map(\.rule).joined(separator: ", "), "why": alert.hits.map(\.explanation).joined(separator: "; "),
                           "customers": alert.customers.filter { $0 != 0 }.map(String.init).joined(separator: ", ")])
        }
        let canManage = Self.allows(caller, .monitorCasesManage) && record.status != .closed
        return ("case", [
            "id": record.id, "title": record.title, "status": record.status.rawValue, "disposition": record.disposition.map(Self.dispositionLabel) ?? "",
            "assignee": record.assignee ?? "", "unassigned": record.assignee == nil, "openedBy": record.openedBy, "openedAt": Self.jst(record.openedAt),
            "closedAt": record.closedAt.map { Self.jst($0) } ?? "", "alerts": alerts,
            "notes": record.notes.map { ["at": Self.jst($0.at), "author": $0.author, "text": $0.text] },
            "canManage": canManage, "me": caller.name, "canInvestigate": canManage && record.status == .open,
            "dispositions": CaseDisposition.allCases.map { ["value": $0.rawValue, "label": Self.dispositionLabel($0)] },
            "canDraft": Self.allows(caller, .monitorReportsDraft), "noteMax": MonitoringCase.noteLengthMax,
        ])
    }

    /// The STR the case would file, as drafted now (drafting is audited: who looked, when).
    func strDraft(_ caller: Caller, id: String) async throws -> (template: String, context: [String: Any]) {
        let draft = try await services.monitoring.draftSTR(case: try KinkoAPI.uint64(id, field: "id"), by: caller)
        return ("str", ["id": draft.caseRecord.id, "title": draft.caseRecord.title, "text": draft.text, "subjects": draft.subjects.count,
                        "alerts": draft.alerts.count, "preparedAt": Self.jst(draft.preparedAt)])
    }

    static func dispositionLabel(_ disposition: CaseDisposition) -> String {
        switch disposition {
        case .noAction: both("対応不要", "no action")
        case .strFiled: both("届出済 (STR)", "STR filed")
        case .accountClosed: both("取引解消", "account closed")
        case .referred: both("捜査機関へ回付", "referred to law enforcement")
        }
    }
}

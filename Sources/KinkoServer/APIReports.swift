import Foundation
import KinkoControls
import KinkoCore
import KinkoGovernance
import KinkoReports
import OpenAPIRuntime

/// Books and reports over HTTP: the same domain calls as `kinko report`. The reports service
/// checks each caller's permission (and who may read an STR).
extension KinkoAPI {
    var reports: Reports { services.exchange.reports }

    static func reportView(_ record: ReportRecord) -> Components.Schemas.ReportRecord {
        .init(kind: record.kind.rawValue, period: record.period, asOf: record.asOf.iso8601Nanoseconds, sha256: record.sha256, bytes: record.bytes,
              status: .init(rawValue: record.status.rawValue) ?? .generated, generatedBy: record.generatedBy, generatedAt: record.generatedAt.iso8601,
              approvedBy: record.approvedBy, approvedAt: record.approvedAt?.iso8601, filedAt: record.filing?.filedAt.iso8601,
              filingReference: record.filing?.reference, filedBy: record.filing?.filedBy, sampleSeed: record.seed.map(String.init))
    }

    func listReports(_ input: Operations.ListReports.Input) async throws -> Operations.ListReports.Output {
        let kind = try input.query.kind.map { try ReportKind(parsing: $0.rawValue) }
        return .ok(.init(body: .json(.init(reports: try await reports.list(kind: kind, by: try caller()).map(Self.reportView)))))
    }

    func reportsDue(_ input: Operations.ReportsDue.Input) async throws -> Operations.ReportsDue.Output {
        if let today = input.query.today { _ = try CalendarDay.parse(today, field: "today") }
        let items = try await reports.calendar(today: input.query.today, by: try caller())
        return .ok(.init(body: .json(.init(overdue: items.count(where: \.overdue), items: items.map {
            .init(kind: $0.kind.rawValue, period: $0.period, due: $0.due, status: $0.status, generatedBy: $0.generatedBy, approvedBy: $0.approvedBy,
                  sha256: $0.sha256, overdue: $0.overdue, basis: $0.basis)
        }))))
    }

    func generateReport(_ input: Operations.GenerateReport.Input) async throws -> Operations.GenerateReport.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        let kind = try ReportKind(parsing: input.path.kind.rawValue)
        let period = try Self.reportPeriod(body.period, kind: kind)
        let seed = try body.seed.map { try Self.uint64($0, field: "seed") }
        let generated = try await reports.generate(kind, period, options: .init(seed: seed, sampleSize: body.sample ?? Reports.sampleSizeDefault), by: caller)
        return .ok(.init(body: .json(.init(changed: generated.changed, report: Self.reportView(generated.record)))))
    }

    func getReport(_ input: Operations.GetReport.Input) async throws -> Operations.GetReport.Output {
        let caller = try caller()
        let kind = try ReportKind(parsing: input.path.kind.rawValue)
        let period = try Self.reportPeriod(input.query.period, kind: kind)
        let found = try await reports.document(kind, period, by: caller)
        let document = try found.document ?? ReportDocument(canonical: found.canonical)
        let renderer = ReportRenderer(language: input.query.lang.map { $0 == .en ? .en : .ja } ?? .ja)
        switch input.query.format ?? .json {
        case .json:
            let object = try JSONSerialization.jsonObject(with: Data(renderer.json(document)))
            let container = try OpenAPIObjectContainer(unvalidatedValue: object as? [String: (any Sendable)?] ?? [:])
            return .ok(.init(body: .json(.init(additionalProperties: container))))
        case .csv: return .ok(.init(body: .csv(HTTPBody(try renderer.csv(document)))))
        case .html: return .ok(.init(body: .html(HTTPBody(try renderer.html(document)))))
        }
    }

    func approveReport(_ input: Operations.ApproveReport.Input) async throws -> Operations.ApproveReport.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        let kind = try ReportKind(parsing: input.path.kind.rawValue)
        let record = try await reports.approve(kind, try Self.reportPeriod(body.period, kind: kind), by: caller)
        return .ok(.init(body: .json(Self.reportView(record))))
    }

    func fileSTR(_ input: Operations.FileSTR.Input) async throws -> Operations.FileSTR.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        let id = try Self.uint64(input.path._case, field: "case")
        return .ok(.init(body: .json(Self.reportView(try await reports.file(case: id, reference: body.reference, by: caller)))))
    }

    /// A period as `report list` names it, of the form the report takes.
    static func reportPeriod(_ text: String, kind: ReportKind) throws(KinkoError) -> ReportPeriod {
        let period = try ReportPeriod(parsing: text)
        guard period.kind == kind.periodKind else {
            throw KinkoError(.invalidInput, "a \(kind.rawValue) report is for a \(kind.periodKind.rawValue), such as \(Self.periodExample(kind)); got \(text)", field: "period")
        }
        return period
    }

    static func periodExample(_ kind: ReportKind) -> String {
        switch kind.periodKind {
        case .day: "2026-12-01"
        case .quarter: "2026Q4"
        case .range: "2026-10-01..2026-12-31"
        case .case: "case-1"
        case .incident: "incident-1"
        }
    }
}

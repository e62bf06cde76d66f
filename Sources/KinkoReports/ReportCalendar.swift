import Foundation
public import KinkoCore
public import KinkoGovernance
import KinkoLedger
import KinkoReserve

/// What is due, when, and where each report stands: the compliance calendar.
public struct ReportDue: Sendable, Equatable {
    public var kind: ReportKind
    public var period: String
    /// The JST day it is due.
    public var due: String
    /// `missing`, or the stored report's status.
    public var status: String
    public var generatedBy: String?
    public var approvedBy: String?
    public var sha256: String?
    public var overdue: Bool
    /// Where the due date comes from.
    public var basis: String
}

extension Reports {
    /// Daily reconciliation reports the calendar looks back over.
    public static let calendarDays = 7

    /// The reports due around `today` (a JST day; default the current one): the last
    /// `calendarDays` daily reports, the last two quarters, the last month's journal and FEFTA
    /// report, the last fiscal year's CPA pack, each STR not yet filed and each incident's notice.
    /// Overdue: past its due day and not final. Periods that ended before the books began are
    /// left out.
    public func calendar(today day: String? = nil, by caller: Caller) async throws -> [ReportDue] {
        let role = try await governance.authorize(caller, .reportsRead)
        return try await calendar(today: day, showingSTRs: Self.strReaders.contains(role))
    }

    /// How many reports are overdue now, for `/metrics` (no caller: a count says nothing of
    /// any report's content, STRs included).
    public func overdueForMetrics() async throws -> Int {
        try await calendar(today: nil, showingSTRs: true).count(where: \.overdue)
    }

    func calendar(today day: String?, showingSTRs: Bool) async throws -> [ReportDue] {
        let today = day ?? clock.now().jstDay
        let todaySeconds = try CalendarDay.epochSeconds(today, field: "today")
        let todayIndex = todaySeconds / 86_400
        let stored = Dictionary(try await records.all().map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        // Nothing is due for days before the exchange's books began.
        let engine = ledger.ledger
        var firstDay = today
        if let first = try await engine.firstSequence(after: 0), let record = try await engine.batches(after: first - 1).first {
            firstDay = record.timestamp.jstDay
        }
        var items: [ReportDue] = []
        func add(_ kind: ReportKind, _ period: ReportPeriod, due: String, basis: String) {
            if let last = period.days?.last, last < firstDay { return }
            let record = stored[ReportRecord.key(kind, period)]
            let done = record.map { $0.status != .generated } ?? false
            items.append(ReportDue(kind: kind, period: period.text, due: due, status: record?.status.rawValue ?? "missing", generatedBy: record?.generatedBy,
                                   approvedBy: record?.approvedBy, sha256: record?.sha256, overdue: !done && due < today, basis: basis))
        }
        for back in (1...Self.calendarDays).reversed() {
            let reportDay = CalendarDay.text(daysSinceEpoch: todayIndex - Int64(back))
            guard reportDay >= CalendarDay.earliest else { continue }
            add(.segregationDaily, .day(reportDay), due: CalendarDay.text(daysSinceEpoch: todayIndex - Int64(back) + 1), basis: "the next day (daily segregation)")
        }
        let (year, month) = (Int(today.prefix(4)) ?? 2000, Int(today.dropFirst(5).prefix(2)) ?? 1)
        let currentQuarter = (month - 1) / 3 + 1
        for back in [2, 1] {
            var q = currentQuarter - back, y = year
            while q < 1 { q += 4; y -= 1 }
            guard y >= 2000 else { continue }
            let quarter = ReportPeriod.quarter(year: y, quarter: q)
            let due = Self.quarterlyDue(quarter)
            add(.customerPropertyQuarterly, quarter, due: due, basis: "one month after the quarter (Art. 38)")
            if let (first, last) = quarter.days, let range = try? ReportPeriod.dayRange(from: first, to: last) {
                add(.reserve, range, due: due, basis: "with the quarterly report")
            }
        }
        let (lastMonthYear, lastMonth) = month == 1 ? (year - 1, 12) : (year, month - 1)
        if lastMonthYear >= 2000 {
            let leap = lastMonthYear % 4 == 0 && (lastMonthYear % 100 != 0 || lastMonthYear % 400 == 0)
            let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][lastMonth - 1]
            let first = String(format: "%04d-%02d-01", lastMonthYear, lastMonth), last = String(format: "%04d-%02d-%02d", lastMonthYear, lastMonth, days)
            if let range = try? ReportPeriod.dayRange(from: first, to: last) {
                add(.tradeJournal, range, due: String(format: "%04d-%02d-10", year, month), basis: "the 10th of the next month (practice)")
                add(.fefta, range, due: String(format: "%04d-%02d-20", year, month), basis: "within 20 days (FEFTA Art. 55)")
            }
        }
        // The fiscal year ends on 31 March; the CPA's segregation audit follows by 30 June.
        let fiscalYearEnd = month > 3 ? year : year - 1
        if fiscalYearEnd >= 2000 {
            add(.cpaEvidence, .day(String(format: "%04d-03-31", fiscalYearEnd)), due: String(format: "%04d-06-30", fiscalYearEnd),
                basis: "the annual segregation audit (Art. 28)")
        }
        if showingSTRs {
            for record in stored.values where record.kind == .str {
                guard let period = try? ReportPeriod(parsing: record.period) else { continue }
                add(.str, period, due: CalendarDay.text(daysSinceEpoch: Int64(record.generatedAt / 1_000_000_000 + 9 * 3_600) / 86_400 + 7),
                    basis: "promptly: a week after the draft (practice)")
            }
        }
        for incident in try await reserve.store.incidents() {
            add(.incidentNotice, .incident(incident.id), due: incident.declaredAt.jstDay, basis: "at once, on the day it is declared")
        }
        return items.sorted { ($0.due, $0.kind.rawValue, $0.period) < ($1.due, $1.kind.rawValue, $1.period) }
    }
}

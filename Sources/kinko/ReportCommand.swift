import ArgumentParser
import Foundation
import KinkoControls
import KinkoCore
import KinkoReports

/// `kinko report`: books and reports as of their date, the calendar, approval and filing.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Generate reports from the books as of their date (\(ReportKind.allCases.map(\.rawValue).joined(separator: ", "))); list, verify, approve, file; what is due.",
        subcommands: [Generate.self, List.self, Due.self, Show.self, Verify.self, Approve.self, File.self],
        defaultSubcommand: Generate.self
    )

    /// The period options every report command shares.
    struct PeriodOptions: ParsableArguments {
        @Option(help: "A JST day YYYY-MM-DD (segregation-daily, cpa-evidence).") var day: String?
        @Option(help: "A quarter such as 2026Q4 (customer-property-quarterly).") var quarter: String?
        @Option(help: "With --quarter: an interim report of the quarter to this JST day.") var through: String?
        @Option(help: "The first JST day (trade-journal, fefta, reserve).") var from: String?
        @Option(help: "The last JST day, included.") var to: String?
        @Option(name: .customLong("case"), help: "A monitoring case (str).") var caseID: UInt64?
        @Option(help: "An incident (incident-notice).") var incident: UInt64?

        func period(for kind: ReportKind) throws -> ReportPeriod {
            switch kind.periodKind {
            case .day:
                guard let day else { throw ValidationError("\(kind.rawValue) needs --day YYYY-MM-DD") }
                _ = try CalendarDay.parse(day, field: "day")
                return .day(day)
            case .quarter:
                guard let quarter else { throw ValidationError("\(kind.rawValue) needs --quarter such as 2026Q4") }
                return try ReportPeriod.quarter(quarter, through: through)
            case .range:
                guard let from, let to else { throw ValidationError("\(kind.rawValue) needs --from and --to (JST days)") }
                return try ReportPeriod.dayRange(from: from, to: to)
            case .case:
                guard let caseID, caseID > 0 else { throw ValidationError("str needs --case N") }
                return .caseRecord(caseID)
            case .incident:
                guard let incident, incident > 0 else { throw ValidationError("incident-notice needs --incident N") }
                return .incident(incident)
            }
        }
    }

    /// Which report: its kind and the period options it takes.
    struct ReportTarget: ParsableArguments {
        @Argument(help: "The report: \(ReportKind.allCases.map(\.rawValue).joined(separator: ", ")).") var kind: String
        @OptionGroup var period: PeriodOptions

        func resolve() throws -> (ReportKind, ReportPeriod) {
            let kind = try ReportKind(parsing: kind)
            return (kind, try period.period(for: kind))
        }
    }

    struct OutputOptions: ParsableArguments {
        @Option(help: "json, csv, html or pdf (pdf needs Chromium).") var format: String = "json"
        @Option(help: "ja or en.") var lang: String = "ja"
        @Option(help: "Write the report here (mode 0600) instead of standard output.") var out: String?

        func write(_ document: ReportDocument) throws -> String {
            let bytes = try ReportRenderer(language: try ReportLanguage(parsing: lang)).render(document, as: try ReportFormat(parsing: format))
            guard let out else {
                FileHandle.standardOutput.write(Data(bytes))
                return "standard output"
            }
            guard FileManager.default.createFile(atPath: out, contents: Data(bytes), attributes: [.posixPermissions: 0o600]) else {
                throw ValidationError("--out: cannot write \(out)")
            }
            return out
        }
    }

    struct Generate: KinkoCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate", abstract: "Generate a report (finance or compliance; an STR: compliance) and store its SHA-256 in the audit log.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @OptionGroup var target: ReportTarget
        @OptionGroup var output: OutputOptions
        @Option(help: "cpa-evidence: the sample's seed (default: derived from the day, printed).") var seed: UInt64?
        @Option(help: "cpa-evidence: customers sampled (1–\(Reports.sampleSizeMax)).") var sample: Int = Reports.sampleSizeDefault

        func execute() async throws {
            let (kind, period) = try target.resolve()
            _ = try ReportFormat(parsing: output.format)
            _ = try ReportLanguage(parsing: output.lang)
            let session = try await Session.open(database, token)
            let generated = try await session.exchange().reports.generate(kind, period, options: .init(seed: seed, sampleSize: sample), by: session.caller)
            let place = try output.write(generated.document)
            let record = generated.record
            FileHandle.standardError.write(Data("""
                \(kind.rawValue) \(period.text): SHA-256 \(record.sha256) (\(record.bytes) bytes canonical), as of \(record.asOf.jst); \
                \(generated.changed ? "stored" : "identical to the stored one"), status \(record.status.rawValue)\
                \(record.seed.map { ", sample seed \($0)" } ?? "") → \(place)

                """.utf8))
        }
    }

    struct List: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Stored reports: kind, period, hash, status, who generated and approved them.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "Only this kind.") var kind: String?

        func execute() async throws {
            let kind = try kind.map { try ReportKind(parsing: $0) }
            let session = try await Session.open(database, token)
            let records = try await session.exchange().reports.list(kind: kind, by: session.caller)
            if records.isEmpty { print("no reports generated yet"); return }
            print(Table(header: ["kind", "period", "sha256", "status", "generated by", "approved by", "filed"], rows: records.map {
                [$0.kind.rawValue, $0.period, String($0.sha256.prefix(16)) + "…", $0.status.rawValue, $0.generatedBy, $0.approvedBy ?? "",
                 $0.filing.map { "\($0.reference) \($0.filedAt.jst)" } ?? ""]
            }).rendered)
        }
    }

    struct Due: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "What is due, when, and its status; exits 4 when a report is overdue.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "Today, a JST day (default: now).") var today: String?

        func execute() async throws {
            let session = try await Session.open(database, token)
            let items = try await session.exchange().reports.calendar(today: today, by: session.caller)
            print(Table(header: ["due", "kind", "period", "status", "generated by", "approved by", ""], rows: items.map {
                [$0.due, $0.kind.rawValue, $0.period, $0.status, $0.generatedBy ?? "", $0.approvedBy ?? "", $0.overdue ? "OVERDUE" : ""]
            }).rendered)
            let overdue = items.filter(\.overdue).count
            if overdue > 0 {
                FileHandle.standardError.write(Data("\(overdue) report(s) overdue\n".utf8))
                throw ExitCode(4)
            }
        }
    }

    struct Show: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "A stored report, rendered (regenerated and checked when it was too large to keep).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @OptionGroup var target: ReportTarget
        @OptionGroup var output: OutputOptions

        func execute() async throws {
            let (kind, period) = try target.resolve()
            let session = try await Session.open(database, token)
            let reports = try await session.exchange().reports
            let found = try await reports.document(kind, period, by: session.caller)
            let document = try found.document ?? ReportDocument(canonical: found.canonical)
            _ = try output.write(document)
        }
    }

    struct Verify: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Regenerate a stored report and compare it bit for bit; exits 4 when it differs.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @OptionGroup var target: ReportTarget

        func execute() async throws {
            let (kind, period) = try target.resolve()
            let session = try await Session.open(database, token)
            let result = try await session.exchange().reports.verify(kind, period, by: session.caller)
            print("\(kind.rawValue) \(period.text): stored \(result.record.sha256), regenerated \(result.document.sha256): \(result.identical ? "identical" : "DIFFERENT")")
            if !result.identical { throw ExitCode(4) }
        }
    }

    struct Approve: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Make a report someone else generated final (it must still regenerate identically).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @OptionGroup var target: ReportTarget

        func execute() async throws {
            let (kind, period) = try target.resolve()
            let session = try await Session.open(database, token)
            let record = try await session.exchange().reports.approve(kind, period, by: session.caller)
            print("\(kind.rawValue) \(period.text) is final: SHA-256 \(record.sha256), generated by \(record.generatedBy), approved by \(record.approvedBy ?? "")")
        }
    }

    struct File: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Record that a final STR was filed with the FIU (e-Gov) and its reference.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(name: .customLong("case"), help: "The case.") var caseID: UInt64
        @Option(help: "The e-Gov filing reference.") var reference: String

        func execute() async throws {
            let session = try await Session.open(database, token)
            let record = try await session.exchange().reports.file(case: caseID, reference: reference, by: session.caller)
            print("STR of case \(caseID) filed: reference \(record.filing?.reference ?? ""), \(record.filing?.filedAt.jst ?? "") by \(record.filing?.filedBy ?? "")")
        }
    }
}

import ArgumentParser
import Foundation
import KinkoControls
import KinkoCore
import KinkoGovernance
import KinkoLedger
import KinkoMonitoring

/// `kinko customers`: identity-verification records (versioned, never overwritten), ratings and
/// the KYC work they raise; a customer's full record on request.
struct CustomersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "customers",
        abstract: "Customers' identity verification (犯収法), risk ratings, KYC work and a customer's full record.",
        subcommands: [Verify.self, Rate.self, Show.self, Work.self, Done.self, Export.self]
    )

    struct Verify: KinkoCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a customer's identity, or a verification of it, as a new version (operator or compliance).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "The customer id.") var customer: UInt64
        @Option(help: "Full name.") var name: String?
        @Option(name: .customLong("date-of-birth"), help: "YYYY-MM-DD.") var dateOfBirth: String?
        @Option(help: "Address.") var address: String?
        @Option(help: "ISO 3166-1 alpha-2 country, e.g. JP.") var country: String?
        @Option(help: "Occupation.") var occupation: String?
        @Option(help: "How it was verified: \(VerificationMethod.allCases.map(\.rawValue).joined(separator: ", ")).") var method: String?
        @Option(help: "A document seen, KIND:NUMBER (kinds: \(IdentityDocument.kinds.joined(separator: ", "))); the number is stored hashed. Repeat for several.")
        var document: [String] = []
        @Option(name: .customLong("income-jpy"), help: "Declared annual income in yen.") var income: UInt64?
        @Option(name: .customLong("assets-jpy"), help: "Declared financial assets in yen.") var assets: UInt64?
        @Flag(help: "The relationship ended (retention runs from now).") var closed = false
        @Option(help: "Why this version is recorded.") var reason: String

        func execute() async throws {
            var change = Customers.Change(reason: reason)
            change.name = name
            change.dateOfBirth = dateOfBirth
            change.address = address
            change.country = country
            change.occupation = occupation
            if let method {
                guard let parsed = VerificationMethod(rawValue: method) else { throw ValidationError("--method: one of \(VerificationMethod.allCases.map(\.rawValue).joined(separator: ", "))") }
                change.method = parsed
            }
            if !document.isEmpty {
                change.documents = try document.map { text in
                    guard let colon = text.firstIndex(of: ":") else { throw ValidationError("--document is KIND:NUMBER; got \(text.prefix(20))…") }
                    return (String(text[..<colon]), String(text[text.index(after: colon)...]))
                }
            }
            change.declaredIncomeJPY = income
            change.declaredAssetsJPY = assets
            if closed { change.closed = true }
            let session = try await Session.open(database, token)
            let record = try await session.exchange().customers.change(customer, change, by: session.caller)
            print("customer \(customer): version \(record.version) recorded by \(record.changedBy)\(record.isVerified ? "; verified \(record.verifiedAt?.jst ?? "") (\(record.method?.rawValue ?? ""))" : "; not verified"); next review \(record.nextReviewDate)")
        }
    }

    struct Rate: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Set a customer's risk rating, PEP flag and sanctions screening result (compliance).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "The customer id.") var customer: UInt64
        @Option(help: "low, medium or high.") var risk: String?
        @Option(help: "true or false.") var pep: Bool?
        @Option(help: "\(KYCRecord.screeningResults.joined(separator: ", ")).") var sanctions: String?
        @Option(help: "Why.") var reason: String

        func execute() async throws {
            var change = Customers.Change(reason: reason)
            if let risk {
                guard let rating = RiskRating(rawValue: risk) else { throw ValidationError("--risk: low, medium or high") }
                change.riskRating = rating
            }
            change.pep = pep
            change.sanctionsScreening = sanctions
            guard change.riskRating != nil || pep != nil || sanctions != nil else { throw ValidationError("name --risk, --pep or --sanctions") }
            let session = try await Session.open(database, token)
            let record = try await session.exchange().customers.change(customer, change, by: session.caller)
            print("customer \(customer): version \(record.version), risk \(record.riskRating.rawValue), PEP \(record.pep), sanctions \(record.sanctionsScreening); next review \(record.nextReviewDate)")
        }
    }

    struct Show: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "A customer's current record, or every version with --history.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "The customer id.") var customer: UInt64
        @Flag(help: "Every version, oldest first.") var history = false

        func execute() async throws {
            let session = try await Session.open(database, token)
            let customers = try await session.exchange().customers
            let records = history ? try await customers.history(customer, by: session.caller) : [try await customers.record(customer, by: session.caller)]
            print(Table(header: ["version", "changed (JST)", "by", "name", "country", "verified", "method", "documents", "risk", "PEP", "sanctions", "next review", "reason"],
                        rows: records.map { r in
                [String(r.version), r.changedAt.jst, r.changedBy, r.name, r.country, r.verifiedAt.map(\.jst) ?? "no", r.method?.rawValue ?? "",
                 r.documents.map(\.kind).joined(separator: " "), r.riskRating.rawValue, r.pep ? "yes" : "no", r.sanctionsScreening, r.nextReviewDate, r.reason]
            }).rendered)
        }
    }

    struct Work: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Open KYC work: large trades by unverified customers, risk reviews, re-verifications due.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "Reviews due by this JST day (default today).") var day: String?

        func execute() async throws {
            let session = try await Session.open(database, token)
            let customers = try await session.exchange().customers
            let open = try await customers.openWork(by: session.caller)
            let due = try await customers.workItems(dueBy: day, by: session.caller).filter { $0.kind == .reverificationDue }
            let rows = open.map { [$0.key, $0.item.kind.rawValue, String($0.item.customer), $0.item.raisedAt.jst, $0.item.reason] }
                + due.map { ["-", $0.kind.rawValue, String($0.customer), "", $0.reason] }
            if rows.isEmpty { print("no KYC work is open"); return }
            print(Table(header: ["item", "kind", "customer", "raised (JST)", "reason"], rows: rows).rendered)
        }
    }

    struct Done: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Close a KYC work item with what was done (compliance).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "The item, as `customers work` lists it.") var item: String
        @Option(help: "What was done.") var note: String

        func execute() async throws {
            let session = try await Session.open(database, token)
            let done = try await session.exchange().customers.complete(item, note: note, by: session.caller)
            print("\(item) done by \(done.doneBy ?? "") at \(done.doneAt?.jst ?? "")")
        }
    }

    struct Export: KinkoCommand {
        static let configuration = CommandConfiguration(
            abstract: "A customer's full record on request: every KYC version, accounts and balances, every movement, KYC work (JSON).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "The customer id.") var customer: UInt64
        @Option(help: "Write here (mode 0600) instead of standard output.") var out: String?

        func execute() async throws {
            let session = try await Session.open(database, token)
            let exchange = try await session.exchange()
            let export = try await exchange.customerExport(UInt128(customer), by: session.caller)
            if let out {
                guard FileManager.default.createFile(atPath: out, contents: Data(export.bytes), attributes: [.posixPermissions: 0o600]) else {
                    throw ValidationError("--out: cannot write \(out)")
                }
                print("customer \(customer)'s record → \(out) (\(export.bytes.count) bytes)")
            } else {
                FileHandle.standardOutput.write(Data(export.bytes + [10]))
            }
        }
    }
}

import ArgumentParser
import Foundation
import KinkoControls
import KinkoCore
import KinkoGovernance
import KinkoMonitoring

extension RetentionPolicy: CLIDocument {
    static func documents(in session: Session) async throws -> AdoptedDocuments<RetentionPolicy> { AdoptedDocuments(governance: session.governance) }
    static var adoptedWord: String { "is in force" }
}

/// `kinko records`: retention periods (a versioned setting), legal holds, and purging a former
/// customer's verification records after their period — by two people.
struct RecordsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "records",
        abstract: "Retention of records: the periods in force, legal holds, purging after the period (two people).",
        subcommands: [Retention.self, Hold.self, LiftHold.self, Purge.self, Status.self]
    )

    struct Retention: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retention", abstract: "The retention policy: default, propose, adopt, list.",
            subcommands: DocumentCommands<RetentionPolicy>.subcommands)
    }

    struct Hold: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Place a legal hold on a customer's records: nothing of theirs is purged while it stands.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "The customer id.") var customer: UInt64
        @Option(help: "Why (a court order, an investigation).") var reason: String

        func execute() async throws {
            let session = try await Session.open(database, token)
            let hold = try await KinkoMonitoring.Retention(customers: try await session.exchange().customers).placeHold(customer: customer, reason: reason, by: session.caller)
            print("customer \(customer)'s records on hold since \(hold.placedAt.jst) by \(hold.placedBy): \(hold.reason)")
        }
    }

    struct LiftHold: KinkoCommand {
        static let configuration = CommandConfiguration(commandName: "lift-hold", abstract: "Lift a legal hold (not by who placed it).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "The customer id.") var customer: UInt64

        func execute() async throws {
            let session = try await Session.open(database, token)
            let hold = try await KinkoMonitoring.Retention(customers: try await session.exchange().customers).liftHold(customer: customer, by: session.caller)
            print("customer \(customer)'s hold (placed by \(hold.placedBy)) lifted by \(hold.liftedBy ?? "")")
        }
    }

    struct Purge: KinkoCommand {
        static let configuration = CommandConfiguration(
            abstract: "File the purge of a former customer's verification records (--customer), or carry out an approved one (--request).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "File a purge of this customer's records.") var customer: UInt64?
        @Option(help: "Carry out this approved purge request.") var request: String?

        func validate() throws {
            guard (customer == nil) != (request == nil) else { throw ValidationError("name --customer (to file) or --request (to carry out)") }
        }

        func execute() async throws {
            let session = try await Session.open(database, token)
            let retention = KinkoMonitoring.Retention(customers: try await session.exchange().customers)
            if let customer {
                let filed = try await retention.requestPurge(customer: customer, by: session.caller)
                print("purge of customer \(customer)'s verification records filed: request \(filed.id) (\(filed.policy.summary))")
            } else if let request {
                let count = try await retention.executePurge(request: try ApprovalRequestID(parsing: request, field: "request"), by: session.caller)
                print("purged: \(count) versions' identity data erased under request \(request)")
            }
        }
    }

    struct Status: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "The periods in force and how long a customer's records are kept.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "A customer id.") var customer: UInt64?

        func execute() async throws {
            let session = try await Session.open(database, token)
            let retention = KinkoMonitoring.Retention(customers: try await session.exchange().customers)
            let policy = try await retention.policy()
            print("retention (\(policy.version)): " + RecordClass.allCases.map { "\($0.rawValue) \(policy.years($0)) years" }.joined(separator: ", "))
            guard let customer else { return }
            let record = try await session.exchange().customers.record(customer, by: session.caller)
            let until = try await retention.keepUntil(record)
            let hold = try await retention.hold(customer: customer, by: session.caller)
            print("customer \(customer): " + (record.purgedAt.map { "purged \($0.jst)" } ?? until.map { "kept until \($0.jstDay)" } ?? "a customer: kept for the relationship and \(policy.years(.verification)) years after")
                + (hold.map { "; on legal hold since \($0.placedAt.jstDay) (\($0.reason))" } ?? ""))
        }
    }
}

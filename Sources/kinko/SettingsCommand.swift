import ArgumentParser
import Foundation
import KinkoControls
import KinkoCore
import KinkoCustody
import KinkoGovernance

/// `kinko settings …`: the regulatory parameters as law-dated, versioned settings.
struct SettingsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settings",
        abstract: "Regulatory parameters: what is in force and since when, by what law; change them under approval.",
        discussion: """
            The hot-share limit, the guarantee rule, the reconciliation cut-off, the whitelist wait and the travel-rule threshold are dated \
            figures in one versioned document (`settings default` prints the shipped one). A change is proposed \
            with a future effective date, approved by a second person (compliance or admin), and takes effect \
            on its date; a figure already in effect is never changed. `settings show` also lists the figures the \
            adopted rule sets and policies carry.
            """,
        subcommands: [Show.self, Approve.self] + DocumentCommands<RegulatorySettings>.subcommands)

    struct Show: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Print every regulatory parameter in force, with its legal source and effective date.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "As it stood at a JST day (YYYY-MM-DD, its end) or an instant (ISO 8601); default now.") var at: String?
        @Flag(help: "Print JSON: one object per parameter with key, value, unit, source, status, effective_from and document.") var json = false

        func execute() async throws {
            let time = try at.map { try TimestampNanoseconds(asOf: $0, field: "--at") }
            let session = try await Session.open(database, token)
            let views = try await session.exchange().regulatoryParameters(at: time, by: session.caller)
            if json {
                print(jsonText(views.map { view -> [String: Any] in
                    ["key": view.key, "value": view.value, "unit": view.unit, "meaning": view.meaning, "source": view.source,
                     "status": view.status, "effective_from": view.effectiveFrom as Any? ?? NSNull(), "document": view.document]
                }))
                return
            }
            print(Table(header: ["parameter", "value", "since", "status", "document"],
                        rows: views.map { [$0.key, $0.value.count > 40 ? String($0.value.prefix(37)) + "…" : $0.value, $0.effectiveFrom ?? "-", $0.status, $0.document] }).rendered)
            for view in views { print("\(view.key): \(view.source)") }
        }
    }

    struct Approve: KinkoCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve a proposed version by signing its request, and put it in force once approved.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "The version to approve.") var version: String
        @Option(help: "Your key file (signs locally).") var keyFile: String

        func execute() async throws {
            let session = try await Session.open(database, token)
            let book = try await RegulatorySettings.documents(in: session)
            let stored = try await book.version(version, by: session.caller)
            guard let id = UInt128(stored.requestID) else { throw KinkoError(.storageCorrupted, "version \(version) names no request") }
            let requestID = ApprovalRequestID(id)
            let evaluation = try await GovernanceCommand.Approve.approve(requestID, keyFile: keyFile, in: session)
            guard evaluation.isSatisfied else {
                print("approved request \(requestID); still needed: \(evaluation.reasons.joined(separator: "; "))")
                return
            }
            let document = try await book.adopt(version: version, by: session.caller)
            print("approved request \(requestID); regulatory settings \(document.version) in force")
        }
    }
}

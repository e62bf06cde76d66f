import ArgumentParser
import KinkoControls
import KinkoCore
import KinkoCustody
import KinkoGovernance
import KinkoMonitoring
import KinkoReserve
import KinkoSurveillance

/// A versioned document the CLI manages with `default`, `propose`, `adopt` and `list`: how a
/// session reaches its lifecycle, and the text Kinko ships.
protocol CLIDocument: VersionedDocument {
    static func documents(in session: Session) async throws -> AdoptedDocuments<Self>
    static var defaultYAML: String { get }
    /// What `adopt` says once a version is in force.
    static var adoptedWord: String { get }
}

extension RuleSet: CLIDocument {
    static func documents(in session: Session) async throws -> AdoptedDocuments<RuleSet> { try await session.reserve().ruleSets }
    static var adoptedWord: String { "adopted" }
}

extension MonitoringRules: CLIDocument {
    static func documents(in session: Session) async throws -> AdoptedDocuments<MonitoringRules> { session.monitoring().ruleSets }
    static var adoptedWord: String { "is live" }
}

extension SurveillanceRules: CLIDocument {
    static func documents(in session: Session) async throws -> AdoptedDocuments<SurveillanceRules> { AdoptedDocuments(governance: session.governance) }
    static var adoptedWord: String { "is live" }
}

extension RegulatorySettings: CLIDocument {
    static func documents(in session: Session) async throws -> AdoptedDocuments<RegulatorySettings> { try await session.exchange().custody.regulatory }
    static var adoptedWord: String { "in force" }
}

extension InsiderList: CLIDocument {
    static func documents(in session: Session) async throws -> AdoptedDocuments<InsiderList> { AdoptedDocuments(governance: session.governance) }
    static var adoptedWord: String { "is in force" }
    static var defaultYAML: String { InsiderList(version: "insiders-empty", preClearanceRequired: false, staff: [], households: [], restricted: [], blackouts: [], preClearances: []).yaml }
}

/// The four commands of every `CLIDocument` (`kinko reserve rules …`, `kinko monitor rules …`,
/// `kinko settings …`).
enum DocumentCommands<Document: CLIDocument> {
    static var subcommands: [any ParsableCommand.Type] { [Default.self, Propose.self, Adopt.self, List.self] }

    struct Default: KinkoCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: "default", abstract: "Print Kinko's default \(Document.noun) (its figures are assumptions).")
        }

        func execute() async throws { print(Document.defaultYAML, terminator: "") }
    }

    struct Propose: KinkoCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: "propose", abstract: "File a \(Document.noun) for approval (\(Document.approversText) approves).")
        }

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "The YAML file (- for standard input).") var file: String

        func execute() async throws {
            let yaml = try readInput(file)
            let session = try await Session.open(database, token)
            let (document, request) = try await Document.documents(in: session).propose(yaml: yaml, by: session.caller)
            print("\(Document.noun) \(document.version) proposed; approval request \(request.id) (\(request.policy.summary))")
        }
    }

    struct Adopt: KinkoCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: "adopt", abstract: "Put an approved \(Document.noun) in force.")
        }

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option var version: String

        func execute() async throws {
            let session = try await Session.open(database, token)
            let document = try await Document.documents(in: session).adopt(version: version, by: session.caller)
            print("\(Document.noun) \(document.version) \(Document.adoptedWord)")
        }
    }

    struct List: KinkoCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: "list", abstract: "List the \(Document.noun) versions, proposed and adopted.")
        }

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions

        func execute() async throws {
            let session = try await Session.open(database, token)
            let rows = try await Document.documents(in: session).versions(by: session.caller).map {
                [$0.version, $0.status.rawValue, $0.requestID, $0.proposedBy, $0.adoptedAt?.iso8601 ?? "-"]
            }
            print(Table(header: ["version", "status", "request", "proposed by", "adopted"], rows: rows).rendered)
        }
    }
}

extension VersionedDocument {
    /// Who approves, as a phrase ("another finance or compliance officer").
    static var approversText: String {
        guard let policy = try? adoptionPolicy() else { return "a second person" }
        return "another " + policy.eligibleRoles.map(\.rawValue).sorted().joined(separator: " or ")
    }
}

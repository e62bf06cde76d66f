import ArgumentParser
import Foundation
import KinkoCore
import KinkoGovernance
import KinkoStores

struct GovernanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "governance",
        abstract: "Principals, roles, tokens, signer keys and maker-checker approvals.",
        subcommands: [
            Principals.self, AddPrincipal.self, Enrol.self, Redeem.self, Grant.self, RevokeRole.self, DutiesReport.self, Tokens.self,
            IssueToken.self, RevokeToken.self,
            GenerateKey.self, RegisterKey.self, Keys.self, RevokeKey.self, Requests.self, ShowRequest.self, Approve.self, Execute.self,
            Permissions.self,
        ]
    )

    struct Principals: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "List principals and their roles.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions

        func execute() async throws {
            let session = try await Session.open(database, token)
            let rows = try await session.governance.principals(by: session.caller).map {
                [String(describing: $0.id), $0.name, $0.kind.rawValue, $0.roles.sorted().map(\.rawValue).joined(separator: ", ")]
            }
            print(Table(header: ["id", "name", "kind", "roles"], rows: rows).rendered)
        }
    }

    struct AddPrincipal: KinkoCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-principal",
            abstract: "Create a principal (no roles yet) and print a one-time enrolment code for them to redeem (never their token).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "Unique name: lower-case letters, digits, '.', '-', '_'.") var name: String
        @Option(help: "person or client.") var kind: String = "person"

        func execute() async throws {
            guard let kind = PrincipalKind(rawValue: kind) else { throw ValidationError("--kind must be person or client; got \(kind)") }
            let session = try await Session.open(database, token)
            let principal = try await session.governance.createPrincipal(name: name, kind: kind, by: session.caller)
            let code = try await session.governance.createEnrolment(for: principal.id, by: session.caller)
            print("""
                principal \(principal.name) (id \(principal.id)); one-time enrolment code for them alone (valid 72 h), shown once:
                \(code)
                they run: kinko governance redeem --code <code>
                """)
        }
    }

    struct Enrol: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Create a new one-time enrolment code for a principal (admins).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "The principal's name.") var principal: String
        @Option(help: "Hours the code stays valid (1–168).") var hours: UInt64 = 72

        func validate() throws {
            guard (1...Enrolment.lifetimeSecondsMax / 3_600).contains(hours) else { throw ValidationError("--hours must be 1–168; got \(hours)") }
        }

        func execute() async throws {
            let session = try await Session.open(database, token)
            let target = try await session.principal(named: principal)
            let code = try await session.governance.createEnrolment(for: target.id, lifetimeSeconds: hours * 3_600, by: session.caller)
            print("enrolment code for \(target.name) (valid \(hours) h), shown once:\n\(code)")
        }
    }

    struct Redeem: KinkoCommand {
        static let configuration = CommandConfiguration(
            abstract: "Redeem your enrolment code for a token of your own (printed once); an approving role's token waits for a second admin.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "The enrolment code an admin gave you.") var code: String
        @Option(help: "Token lifetime in days (1–400; default: no expiry).") var days: UInt64?

        func execute() async throws {
            let stores = try await database.openStores()
            let governance = Governance(store: stores.governance)
            let redeemed: (record: TokenRecord, secret: String, holder: Principal)
            do {
                redeemed = try await governance.redeemEnrolment(code: code, lifetimeSeconds: days.map { $0 * 86_400 })
                await stores.close()
            } catch {
                await stores.close()
                throw error
            }
            let (record, secret, _) = redeemed
            let waiting = record.requestID.map { "\nit waits for a second admin's approval of request \($0) before it works" } ?? ""
            print("token \(record.id) (fingerprint \(record.fingerprint)); shown once:\n\(secret)\(waiting)")
        }
    }

    struct Grant: KinkoCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask for a role to be granted: refused if it breaks segregation of duties; another admin approves, then `execute`.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "The principal's name.") var principal: String
        @Option(help: "The role.") var role: String

        func execute() async throws {
            let role = try Role(parsing: role)
            let session = try await Session.open(database, token)
            let target = try await session.principal(named: principal)
            let request = try await session.governance.grantRole(role, to: target.id, by: session.caller)
            print("""
                approval request \(request.id) filed: grant \(role.rawValue) to \(target.name)
                digest \(Hex.encode(request.digest)) — another admin approves with:
                kinko governance approve \(request.id) --key-file KEY
                and then: kinko governance execute \(request.id)
                """)
        }
    }

    struct RevokeRole: KinkoCommand {
        static let configuration = CommandConfiguration(commandName: "revoke-role", abstract: "Take a role away (effective at once).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "The principal's name.") var principal: String
        @Option(help: "The role.") var role: String

        func execute() async throws {
            let role = try Role(parsing: role)
            let session = try await Session.open(database, token)
            let target = try await session.principal(named: principal)
            try await session.governance.revokeRole(role, from: target.id, by: session.caller)
            print("\(target.name) no longer holds \(role.rawValue)")
        }
    }

    struct DutiesReport: KinkoCommand {
        static let configuration = CommandConfiguration(commandName: "sod-report", abstract: "List principals holding role pairs that segregation of duties forbids.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions

        func execute() async throws {
            let session = try await Session.open(database, token)
            let conflicts = try await session.governance.dutiesReport(by: session.caller)
            guard !conflicts.isEmpty else {
                print("no conflicts: no principal holds a forbidden pair of roles (\(session.governance.duties.conflicts.count) pairs checked)")
                return
            }
            let rows = conflicts.map { [$0.principal.name, "\($0.conflict.first.rawValue) + \($0.conflict.second.rawValue)", $0.conflict.reason] }
            print(Table(header: ["principal", "roles", "why they conflict"], rows: rows).rendered)
            throw ExitCode(4)
        }
    }

    struct Permissions: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Print the permission table: which roles may run which command.")

        func execute() async throws {
            let table = PermissionTable.standard
            let rows = Permission.allCases.map { [$0.rawValue, (table.roles[$0] ?? []).sorted().map(\.rawValue).joined(separator: ", ")] }
            print(Table(header: ["command", "roles"], rows: rows).rendered)
        }
    }

    struct Tokens: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "List your own tokens (fingerprints, never secrets).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions

        func execute() async throws {
            let session = try await Session.open(database, token)
            let rows = try await session.governance.ownTokens(by: session.caller).map {
                [String($0.id), $0.fingerprint, $0.status.rawValue, $0.createdAt.iso8601, $0.expiresAt?.iso8601 ?? "never",
                 $0.revokedAt?.iso8601 ?? "", $0.requestID?.description ?? ""]
            }
            print(Table(header: ["token", "fingerprint", "status", "created", "expires", "revoked", "request"], rows: rows).rendered)
        }
    }

    struct IssueToken: KinkoCommand {
        static let configuration = CommandConfiguration(
            commandName: "issue-token", abstract: "Issue another token for yourself; printed once (an approving role's waits for a second admin).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "Lifetime in days (1–400; default: no expiry).") var days: UInt64?

        func execute() async throws {
            let session = try await Session.open(database, token)
            let (record, secret) = try await session.governance.issueOwnToken(lifetimeSeconds: days.map { $0 * 86_400 }, by: session.caller)
            let waiting = record.requestID.map { "; waits for a second admin's approval of request \($0)" } ?? ""
            print("token \(record.id) for \(session.caller.name)" + (record.expiresAt.map { ", expires \($0.iso8601)" } ?? "") + "\(waiting); shown once:\n\(secret)")
        }
    }

    struct RevokeToken: KinkoCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke-token", abstract: "Revoke a token at once: your own, or (admins) another principal's with --principal.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "The token id.") var id: UInt64
        @Option(help: "Whose token, if not yours (admins).") var principal: String?

        func execute() async throws {
            let session = try await Session.open(database, token)
            var owner: PrincipalID?
            if let principal { owner = try await session.principal(named: principal).id }
            try await session.governance.revokeToken(id, of: owner, by: session.caller)
            print("token \(id) revoked")
        }
    }

    struct GenerateKey: KinkoCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate-key", abstract: "Make a signing key pair in a local file (for trying approvals; real signers keep keys in their own devices).")
        @Option(help: "ed25519 or p256.") var algorithm: String = "ed25519"
        @Option(help: "Where to write the private key (refuses to overwrite).") var out: String

        func execute() async throws {
            let key = LocalSigningKey.generate(try SignatureAlgorithm(parsing: algorithm))
            guard !FileManager.default.fileExists(atPath: out),
                FileManager.default.createFile(atPath: out, contents: Data(key.fileContents.utf8), attributes: [.posixPermissions: 0o600])
            else { throw ValidationError("--out: cannot create \(out) (does it exist already?)") }
            print("\(key.algorithm.rawValue) key written to \(out); public key \(Hex.encode(try key.publicKey()))")
        }
    }

    struct RegisterKey: KinkoCommand {
        static let configuration = CommandConfiguration(
            commandName: "register-key", abstract: "Register your signing key; the key proves possession by signing the registration.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "A key file made by generate-key (signs the proof locally).") var keyFile: String?
        @Option(help: "Or: ed25519 or p256 …") var algorithm: String?
        @Option(help: "… the public key in hex …") var publicKey: String?
        @Option(help: "… and the signature of the registration message in hex.") var proof: String?

        func execute() async throws {
            let session = try await Session.open(database, token)
            let algorithm: SignatureAlgorithm, publicKey: [UInt8], proof: [UInt8]
            if let keyFile {
                let key = try LocalSigningKey(fileContents: try String(contentsOfFile: keyFile, encoding: .utf8))
                algorithm = key.algorithm
                publicKey = try key.publicKey()
                proof = try key.sign(SignerKey.registrationMessage(principal: session.caller.principal, algorithm: algorithm, publicKey: publicKey))
            } else if let name = self.algorithm, let hex = self.publicKey, let signature = self.proof {
                algorithm = try SignatureAlgorithm(parsing: name)
                publicKey = try Hex.decode(hex, field: "public_key")
                proof = try Hex.decode(signature, field: "proof")
            } else {
                throw ValidationError("give --key-file, or --algorithm, --public-key and --proof")
            }
            let key = try await session.governance.registerKey(algorithm: algorithm, publicKey: publicKey, proof: proof, by: session.caller)
            let waiting = key.requestID.map { "; it counts once a second admin approves request \($0)" } ?? ""
            print("key \(key.id) (\(key.algorithm.rawValue)) registered for \(session.caller.name)\(waiting)")
        }
    }

    struct Keys: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "List signer keys.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions

        func execute() async throws {
            let session = try await Session.open(database, token)
            let keys = try await session.governance.keys(by: session.caller)
            let names = try await session.governance.principalNames(by: session.caller)
            let rows = keys.map { key in
                [key.id, names[key.principal] ?? "?", key.algorithm.rawValue, key.registeredAt.iso8601,
                 key.revokedAt.map { "revoked \($0.iso8601)" } ?? key.status.rawValue]
            }
            print(Table(header: ["key", "principal", "algorithm", "registered", "status"], rows: rows).rendered)
        }
    }

    struct RevokeKey: KinkoCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke-key", abstract: "Ask for a signer key to be revoked (yours, or as admin anyone's); a second admin approves.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "The key id.") var id: String

        func execute() async throws {
            let session = try await Session.open(database, token)
            let request = try await session.governance.revokeKey(id, by: session.caller)
            print("approval request \(request.id) filed to revoke key \(id); it is revoked once another admin approves it")
        }
    }

    struct Requests: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "List approval requests.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "open, executed or cancelled (default: all).") var status: String?

        func execute() async throws {
            let session = try await Session.open(database, token)
            let filter = try status.map { name in
                guard let status = ApprovalStatus(rawValue: name) else { throw ValidationError("--status: open, executed or cancelled") }
                return status
            }
            var rows: [[String]] = []
            for request in try await session.governance.requests(status: filter, limit: Governance.pageMax, by: session.caller).reversed() {
                let evaluation = try await session.governance.evaluate(request.id)
                rows.append([String(describing: request.id), request.action, request.status.rawValue, String(request.revision),
                             evaluation.isSatisfied ? "ready" : evaluation.reasons.joined(separator: "; ")])
            }
            print(Table(header: ["request", "action", "status", "revision", "approval"], rows: rows).rendered)
        }
    }

    struct ShowRequest: KinkoCommand {
        static let configuration = CommandConfiguration(commandName: "request", abstract: "Show a request, the canonical JSON its digest is computed over, and its approvals.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Argument(help: "The request id.") var id: String

        func execute() async throws {
            let session = try await Session.open(database, token)
            let requestID = try ApprovalRequestID(parsing: id, field: "request")
            let request = try await session.governance.request(requestID, by: session.caller)
            let evaluation = try await session.governance.evaluate(requestID)
            let approvals = try await session.governance.approvals(of: requestID, by: session.caller)
            print("""
                request    \(request.id) (\(request.action)), revision \(request.revision), \(request.status.rawValue)
                policy     \(request.policy.summary)
                canonical  \(request.canonical.text)
                digest     \(Hex.encode(request.digest))  (SHA-256 of the canonical bytes; approvers sign these 32 bytes)
                approvals  \(approvals.count) recorded, \(evaluation.counted.count) counting
                status     \(evaluation.isSatisfied ? "ready to execute" : evaluation.reasons.joined(separator: "; "))
                """)
        }
    }

    struct Approve: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a request by signing its digest with your registered key.")

        /// Signs request `id`'s digest with the key in `keyFile` (locally) and files the approval.
        static func approve(_ id: ApprovalRequestID, keyFile: String, in session: Session) async throws -> ApprovalEvaluation {
            let request = try await session.governance.request(id, by: session.caller)
            let key = try LocalSigningKey(fileContents: try String(contentsOfFile: keyFile, encoding: .utf8))
            return try await session.governance.approve(id, keyID: SignerKey.id(of: try key.publicKey()), signature: try key.sign(request.digest), by: session.caller)
        }

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Argument(help: "The request id.") var id: String
        @Option(help: "Your key file (signs locally).") var keyFile: String?
        @Option(help: "Or: your registered key id …") var keyID: String?
        @Option(help: "… and the signature of the digest in hex.") var signature: String?

        func execute() async throws {
            let session = try await Session.open(database, token)
            let requestID = try ApprovalRequestID(parsing: id, field: "request")
            let evaluation: ApprovalEvaluation
            if let keyFile {
                evaluation = try await Self.approve(requestID, keyFile: keyFile, in: session)
            } else if let id = self.keyID, let hex = self.signature {
                evaluation = try await session.governance.approve(requestID, keyID: id, signature: try Hex.decode(hex, field: "signature"), by: session.caller)
            } else {
                throw ValidationError("give --key-file, or --key-id and --signature")
            }
            print("approved request \(requestID); " + (evaluation.isSatisfied ? "ready to execute" : "still needed: \(evaluation.reasons.joined(separator: "; "))"))
        }
    }

    struct Execute: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Execute an approved governance request (exactly once).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Argument(help: "The request id.") var id: String

        func execute() async throws {
            let session = try await Session.open(database, token)
            let requestID = try ApprovalRequestID(parsing: id, field: "request")
            try await session.governance.execute(requestID, by: session.caller)
            print("request \(requestID) executed")
        }
    }
}

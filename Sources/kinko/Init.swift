import ArgumentParser
import Foundation
import KinkoCore
import KinkoGovernance
import KinkoPlaybook
import KinkoSQLite
import KinkoStores

/// `kinko init`: a new database, its audit signing key and the first admins. The first admin
/// (whoever runs init) gets a token at once; every other admin gets a one-time enrolment code to
/// redeem themselves. Nothing can be approved until two admins exist.
struct Init: KinkoCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a database, its audit signing key and the first admins (give --admin twice: one admin alone can approve nothing).")
    @OptionGroup var database: DatabaseOptions
    @Option(name: .customLong("admin"), help: "An admin's name (repeat for each; the first is you).") var admins: [String] = []

    func execute() async throws {
        let names = admins.isEmpty ? ["admin"] : admins
        let (stores, governance, signer) = try await Bootstrap.create(database)
        let created = try await governance.bootstrap(adminNames: names)
        var lines = [
            "created \(database.displayName)",
            "audit signing key: \(database.auditKeyPath) (keep it outside backups of the database; mode 0600)",
            "audit public key:  \(Hex.encode(signer.publicKey)) (also in \(database.auditKeyPath).pub; give it to your auditors)",
            "",
        ]
        for (index, entry) in created.enumerated() {
            if index == 0 {
                let (_, token, _) = try await governance.redeemEnrolment(code: entry.enrolmentCode)
                lines += ["first admin: \(entry.principal.name) (principal \(entry.principal.id)); your token (shown once, stored only as its SHA-256):",
                          token, ""]
            } else {
                lines += ["admin \(entry.principal.name) (principal \(entry.principal.id)): one-time enrolment code for them alone (valid 72 h):",
                          entry.enrolmentCode,
                          "  they run: kinko governance redeem --code <code>   (and then register a key of their own)", ""]
            }
        }
        await stores.close()
        if created.count == 1 {
            lines.append("""
                warning: one admin. Every role grant, and every token or key of an approving role (admin, signer, compliance,
                finance, treasurer), waits for a second admin's approval — and there is none. Initialise with --admin twice.
                """)
        } else {
            lines.append("each admin registers a signing key: kinko governance generate-key --out K && kinko governance register-key --key-file K")
        }
        print(lines.joined(separator: "\n"))
    }
}

enum Bootstrap {
    /// Creates the audit key and the database; refuses if either already exists with content.
    static func create(_ options: DatabaseOptions) async throws -> (KinkoStores, Governance, AuditSigner) {
        if try await KinkoStores.isInitialised(options.path, auditKeyPath: options.auditKeyPath) {
            throw KinkoError(.conflict, "\(options.displayName) is already initialised", field: "database")
        }
        let signer = try AuditSigner.create(path: options.auditKeyPath)
        let stores = try await options.openStores()
        return (stores, Governance(store: stores.governance), signer)
    }

    /// `{"role": "token", …}`, sorted by role, mode 0600.
    static func writeTokens(_ tokens: [Role: String], to path: String) throws {
        let body = tokens.sorted { $0.key < $1.key }.map { "  \"\($0.key.rawValue)\": \"\($0.value)\"" }.joined(separator: ",\n")
        guard FileManager.default.createFile(atPath: path, contents: Data("{\n\(body)\n}\n".utf8), attributes: [.posixPermissions: 0o600]) else {
            throw KinkoError(.storageFailure, "cannot write \(path)")
        }
    }

    static func readTokens(from path: String) throws -> [Role: String] {
        guard let data = FileManager.default.contents(atPath: path),
            let object = try JSONSerialization.jsonObject(with: data) as? [String: String]
        else { throw KinkoError(.notFound, "cannot read the tokens in \(path)") }
        var tokens: [Role: String] = [:]
        for (name, token) in object { tokens[try Role(parsing: name)] = token }
        return tokens
    }
}

/// A database of its own for a tool (benchmark, crash test): created with its key, two admins
/// and an operator brought on as people are; reopened from a token file next to it later.
struct ToolSession {
    let database: KinkoDatabase
    let admin: Caller
    let `operator`: Caller

    static func open(path: String, auditing: Bool = true) async throws -> ToolSession {
        let tokensPath = path + ".tool-tokens.json"
        let keyPath = KinkoDatabase.defaultAuditKeyPath(for: path)
        if !FileManager.default.fileExists(atPath: keyPath) { _ = try AuditSigner.create(path: keyPath) }
        let database = try KinkoDatabase(path: path)
        let governance = Governance(store: SQLiteGovernanceStore(database: database))
        let tokens: [Role: String]
        if FileManager.default.fileExists(atPath: tokensPath) {
            tokens = try Bootstrap.readTokens(from: tokensPath)
        } else {
            let staff = try await Staff.found(governance, admins: ["tool.admin", "tool.second-admin"])
            let exchange = try await staff.hire("tool.operator", kind: .client, roles: [.operator], key: nil)
            tokens = [.admin: staff.admins[0].token, .operator: exchange.token]
            try Bootstrap.writeTokens(tokens, to: tokensPath)
        }
        return ToolSession(
            database: database, admin: try await governance.authenticate(token: tokens[.admin]),
            operator: try await governance.authenticate(token: tokens[.operator]))
    }
}

import ArgumentParser
import Foundation
import KinkoCore
import KinkoGovernance
import KinkoSQLite
import KinkoStores

/// `kinko init`: a new database, its audit signing key, and the first admin's token (printed once).
struct Init: KinkoCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a database, its audit signing key and the first admin; print the admin's token once.")
    @OptionGroup var database: DatabaseOptions
    @Option(help: "The first admin's name.") var admin: String = "admin"

    func execute() async throws {
        let (stores, governance, signer) = try await Bootstrap.create(database)
        let (principal, token) = try await governance.bootstrap(adminName: admin)
        await stores.close()
        print("""
            created \(database.displayName)
            audit signing key: \(database.auditKeyPath) (keep it outside backups of the database; mode 0600)
            audit public key:  \(Hex.encode(signer.publicKey)) (also in \(database.auditKeyPath).pub; give it to your auditors)

            first admin: \(principal.name) (principal \(principal.id))
            token (shown once, stored only as its SHA-256):
            \(token)

            try: KINKO_TOKEN=\(token.prefix(12))… kinko governance principals
            """)
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

    /// One principal per role (the bootstrap admin grants them directly), each with a token.
    static func principalPerRole(_ governance: Governance, names: [Role: String]) async throws -> [Role: String] {
        let (admin, adminToken) = try await governance.bootstrap(adminName: names[.admin] ?? "admin")
        let caller = try await governance.authenticate(token: adminToken)
        var tokens: [Role: String] = [.admin: adminToken]
        for role in Role.allCases where role != .admin {
            let principal = try await governance.createPrincipal(name: names[role] ?? role.rawValue, kind: .person, by: caller)
            _ = try await governance.grantRole(role, to: principal.id, by: caller)
            tokens[role] = try await governance.issueToken(for: principal.id, lifetimeSeconds: nil, by: caller).1
        }
        _ = admin
        return tokens
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

/// A database of its own for a tool (benchmark, crash test): created with its key, an admin
/// and an operator; reopened from a token file next to it on later runs.
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
            let (_, adminToken) = try await governance.bootstrap(adminName: "tool.admin")
            let admin = try await governance.authenticate(token: adminToken)
            let principal = try await governance.createPrincipal(name: "tool.operator", kind: .client, by: admin)
            _ = try await governance.grantRole(.operator, to: principal.id, by: admin)
            let operatorToken = try await governance.issueToken(for: principal.id, lifetimeSeconds: nil, by: admin).1
            tokens = [.admin: adminToken, .operator: operatorToken]
            try Bootstrap.writeTokens(tokens, to: tokensPath)
        }
        return ToolSession(
            database: database, admin: try await governance.authenticate(token: tokens[.admin]),
            operator: try await governance.authenticate(token: tokens[.operator]))
    }
}

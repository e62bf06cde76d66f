import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KinkoCore
import KinkoGovernance
import KinkoLedger
import KinkoMonitoring
import KinkoPlaybook
import KinkoSQLite
import KinkoStores
import KinkoServer
import Testing

/// A fresh database with one principal per role, the standard assets, two customers with yen
/// accounts, and a server over it.
final class ServerFixture: @unchecked Sendable {
    let directory: URL
    let services: Services
    /// The SQLite database under the server (tests break it on purpose).
    let database: KinkoDatabase
    let server: KinkoHTTPServer
    let tokens: [Role: String]
    let callers: [Role: Caller]
    /// The two admins from init (`staff.admins[1]` approves what the first files).
    let staff: Staff
    /// One person per role, each with a token and a registered key of their own.
    let members: [Role: Member]
    /// Second officers, who approve what the first ones file.
    let secondCompliance: Member
    let secondFinance: Member

    var path: String { directory.appendingPathComponent("kinko.sqlite").path }

    /// `clock`: the exchange's clock (the system's by default; a hand-moved one for cut-offs).
    init(refusals: RefusalLimiter.Settings = RefusalLimiter.Settings.standard, clock: any WallClock = SystemWallClock()) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("kinko-server-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("kinko.sqlite").path
        _ = try AuditSigner.create(path: KinkoDatabase.defaultAuditKeyPath(for: path))
        let database = try KinkoDatabase(path: path)
        let governance = Governance(store: SQLiteGovernanceStore(database: database), clock: clock)
        let staff = try await Staff.found(governance, admins: ["admin", "admin.two"])
        let admin = staff.admins[0].caller
        var tokens: [Role: String] = [.admin: staff.admins[0].token]
        var callers: [Role: Caller] = [.admin: admin]
        var members: [Role: Member] = [.admin: staff.admins[0]]
        for role in Role.allCases where role != .admin {
            let member = try await staff.hire("\(role.rawValue).one", roles: [role])
            tokens[role] = member.token
            callers[role] = member.caller
            members[role] = member
        }
        self.staff = staff
        self.members = members
        secondCompliance = try await staff.hire("compliance.two", roles: [.compliance])
        secondFinance = try await staff.hire("finance.two", roles: [.finance])
        services = try await Services(stores: KinkoStores(sqlite: database).exchange, clock: clock, refusals: refusals)
        self.database = database
        try await services.ledger.registerAssets(Asset.standard, by: admin)
        // Customers 1 and 2 in yen (11, 21) and bitcoin (12, 22); a yen trust account (901) and
        // a bitcoin wallet account (902) holding for them.
        let accounts = [
            Account(id: AccountID(11), ledger: 1, code: 100, accountClass: .customerLiability, flags: .debitsMustNotExceedCredits, owner: 1),
            Account(id: AccountID(21), ledger: 1, code: 100, accountClass: .customerLiability, flags: .debitsMustNotExceedCredits, owner: 2),
            Account(id: AccountID(901), ledger: 1, code: 10, accountClass: .customerCustodyHolding),
            Account(id: AccountID(12), ledger: 2, code: 100, accountClass: .customerLiability, flags: .debitsMustNotExceedCredits, owner: 1),
            Account(id: AccountID(22), ledger: 2, code: 100, accountClass: .customerLiability, flags: .debitsMustNotExceedCredits, owner: 2),
            Account(id: AccountID(902), ledger: 2, code: 10, accountClass: .customerCustodyHolding),
        ]
        #expect(try await services.ledger.createAccounts(accounts, by: callers[.operator]!).allSatisfy { $0 == .ok })
        self.tokens = tokens
        self.callers = callers
        server = KinkoHTTPServer(services: services)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// Puts the default monitoring rule set in force (proposed by compliance, approved by the
    /// second compliance officer): deposits and withdrawals take their verdict from it.
    func adoptMonitoring() async throws {
        let compliance = try #require(callers[.compliance])
        let (_, request) = try await services.monitoring.ruleSets.propose(yaml: MonitoringRules.defaultYAML, by: compliance)
        try await secondCompliance.approve(request.id, in: services.governance)
        _ = try await services.monitoring.ruleSets.adopt(version: "2026.3-default", by: compliance)
    }

    /// Deposits credited the only way they are: screened (`POST /v1/deposits`, as the operator).
    /// Each is `(id, customer account, wallet account, amount)`.
    @discardableResult
    func deposit(_ deposits: [(id: String, account: String, wallet: String, amount: String)]) async throws -> [String: Any] {
        let lines = deposits.map {
            #"{"id":"\#($0.id)","account":"\#($0.account)","wallet":"\#($0.wallet)","amount":"\#($0.amount)","amount_jpy":1000,"address":"src-\#($0.id)"}"#
        }
        let answer = try await call(.post, "/v1/deposits", as: .operator, json: #"{"deposits":[\#(lines.joined(separator: ","))]}"#)
        #expect(answer.status == .ok, "\(answer.text)")
        return answer.json
    }

    func app() throws -> some ApplicationProtocol {
        Application(router: try server.router())
    }

    /// A console session opened the way a browser opens one: the sign-in form posted from the
    /// console's own origin. `headers` are what the browser then sends (the session cookie, the
    /// Origin, a form body); `csrf` is the session's token, which every form carries.
    struct ConsoleSession {
        var headers: HTTPFields
        let csrf: String
        let cookie: String

        /// `fields` as a form body, with the CSRF token.
        func form(_ fields: String) -> String { fields.isEmpty ? "csrf=\(csrf)" : "\(fields)&csrf=\(csrf)" }

        /// The same session as a JSON caller (approve.js): JSON body, `X-CSRF-Token`.
        var json: HTTPFields {
            var fields = headers
            fields[.contentType] = "application/json"
            fields[HTTPField.Name("X-CSRF-Token")!] = csrf
            return fields
        }
    }

    static let consoleOrigin = "http://localhost"

    static func consoleHeaders(cookie: String?) -> HTTPFields {
        var fields = HTTPFields()
        if let cookie { fields[.cookie] = cookie }
        fields[.origin] = consoleOrigin
        fields[HTTPField.Name("Host")!] = "localhost"
        fields[.contentType] = "application/x-www-form-urlencoded"
        return fields
    }

    func consoleSession(token: String) async throws -> ConsoleSession {
        let signedIn = try await call(.post, "/console/login", json: "token=\(token)", headers: Self.consoleHeaders(cookie: nil))
        #expect(signedIn.status == .seeOther, "sign-in failed: \(signedIn.status)")
        let setCookie = try #require(signedIn.headers[.setCookie])
        let cookie = try #require(setCookie.split(separator: ";").first.map(String.init))
        let page = try await call(.get, "/console", headers: Self.consoleHeaders(cookie: cookie))
        let marker = #"<meta name="csrf-token" content=""#
        let start = try #require(page.text.range(of: marker)).upperBound
        let csrf = String(page.text[start...].prefix { $0 != "\"" })
        return ConsoleSession(headers: Self.consoleHeaders(cookie: cookie), csrf: csrf, cookie: cookie)
    }

    func consoleSession(_ role: Role) async throws -> ConsoleSession { try await consoleSession(token: try #require(tokens[role])) }

    private let sessionLock = NSLock()
    private var sessions: [Role: ConsoleSession] = [:]

    /// The console session of `role`'s member, opened on first use and kept for the test.
    func console(_ role: Role) async throws -> ConsoleSession {
        if let known = sessionLock.withLock({ sessions[role] }) { return known }
        let session = try await consoleSession(role)
        sessionLock.withLock { sessions[role] = session }
        return session
    }

    static func headers(_ token: String?, contentType: String? = "application/json") -> HTTPFields {
        var fields = HTTPFields()
        if let token { fields[.authorization] = "Bearer \(token)" }
        if let contentType { fields[.contentType] = contentType }
        return fields
    }

    /// Sends a request through the router and returns status, headers and the body decoded as JSON (or text).
    func call(_ method: HTTPRequest.Method, _ uri: String, as role: Role? = nil, token: String? = nil, json: String? = nil, ndjson: String? = nil,
              headers extra: HTTPFields = [:]) async throws -> (status: HTTPResponse.Status, headers: HTTPFields, json: [String: Any], text: String) {
        let app = try app()
        let bearer = token ?? role.flatMap { tokens[$0] }
        var fields = Self.headers(bearer, contentType: ndjson != nil ? "application/x-ndjson" : json != nil ? "application/json" : nil)
        // Every value of each name (HTTPFields keeps a Cookie header's cookies as separate fields).
        for name in Set(extra.map(\.name)) { fields[values: name] = extra[values: name] }
        let body = (json ?? ndjson).map { ByteBuffer(string: $0) }
        let requestHeaders = fields
        return try await app.test(.router) { client in
            try await client.execute(uri: uri, method: method, headers: requestHeaders, body: body) { response in
                let text = String(buffer: response.body)
                let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
                return (response.status, response.headers, object, text)
            }
        }
    }
}

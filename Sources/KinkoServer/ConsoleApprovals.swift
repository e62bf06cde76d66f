import Foundation
import HTTPTypes
import Hummingbird
import KinkoCore
import KinkoGovernance
import KinkoLedger

/// Approving in the browser. The approvals page shows each signed-in approver what waits for
/// them — in words (`ApprovalText`) and figures (every payload field, the canonical JSON, its
/// SHA-256) — and `approve.js` signs that same digest with a P-256 key generated in the browser by
/// WebCrypto: non-extractable, kept in IndexedDB, registered with proof of possession (and, for
/// an approving role, activated by a second admin like any other key). The server only ever sees
/// the public key and signatures.
///
/// The JSON endpoints under `/console/api/` take the session cookie and, being state-changing,
/// require an `Origin` of this host and `Content-Type: application/json` (a cross-site form can
/// send neither).
extension Console {
    static let scriptPath = "/console/static/approve.js"
    static let apiBodyBytesMax = 4_096

    func registerApprovals(on router: Router<BasicRequestContext>) {
        router.get(RouterPath(stringLiteral: Self.scriptPath)) { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/javascript; charset=utf-8"
            headers[.cacheControl] = "no-store"
            headers[.xContentTypeOptions] = "nosniff"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: ConsoleScript.approve)))
        }
        router.get("/console/api/keys/registration-message") { request, _ in
            try await self.api(request, mutating: false) { caller, _ in
                let algorithm = try SignatureAlgorithm(parsing: request.uri.queryParameters["algorithm"].map(String.init) ?? "")
                let publicKey = try Hex.decode(request.uri.queryParameters["public_key"].map(String.init) ?? "", field: "public_key")
                return ["message": Hex.encode(SignerKey.registrationMessage(principal: caller.principal, algorithm: algorithm, publicKey: publicKey))]
            }
        }
        router.post("/console/api/keys") { request, _ in
            try await self.api(request, mutating: true) { caller, body in
                let key = try await services.governance.registerKey(
                    algorithm: try SignatureAlgorithm(parsing: body["algorithm"] ?? ""), publicKey: try Hex.decode(body["public_key"] ?? "", field: "public_key"),
                    proof: try Hex.decode(body["proof"] ?? "", field: "proof"), by: caller)
                let waiting = key.requestID.map { " — 承認待ち / it waits for a second admin's approval (request \($0))" } ?? ""
                return ["id": key.id, "status": key.status.rawValue, "request": key.requestID?.description ?? "",
                        "message": "鍵 \(key.id) を登録 / key \(key.id) registered\(waiting)"]
            }
        }
        router.post("/console/api/approvals/{id}") { request, context in
            try await self.api(request, mutating: true) { caller, body in
                let id = try ApprovalRequestID(parsing: context.parameters.get("id") ?? "", field: "id")
                let evaluation = try await services.governance.approve(
                    id, keyID: body["key_id"] ?? "", signature: try Hex.decode(body["signature"] ?? "", field: "signature"), by: caller)
                let state = evaluation.isSatisfied ? "承認済 / approved: ready" : "あと / still needed: " + evaluation.reasons.joined(separator: "; ")
                return ["request": id.description, "satisfied": evaluation.isSatisfied ? "true" : "false",
                        "message": "承認を記録 / approval of request \(id) recorded (\(evaluation.counted.count) counting) — \(state)"]
            }
        }
    }

    /// A JSON endpoint of the console: the session cookie authenticates; a state-changing call
    /// needs this host's `Origin` and a JSON body of at most `apiBodyBytesMax` string fields.
    /// Errors are problem documents, like the API's.
    func api(_ request: Request, mutating: Bool, _ run: (Caller, [String: String]) async throws -> [String: String]) async throws -> Response {
        do {
            if mutating {
                guard ConsoleSettings.sameOrigin(request) else {
                    throw KinkoError(.forbidden, "a console call needs the Origin of this console", field: "origin")
                }
                guard request.headers[.contentType]?.lowercased().hasPrefix("application/json") == true else {
                    throw KinkoError(.invalidInput, "send application/json", field: "content-type")
                }
            }
            guard let (caller, csrf) = try await signedIn(request) else {
                throw KinkoError(.unauthenticated, "sign in to the console first", field: "session")
            }
            if mutating, !ConsoleSessions.same(request.headers[.csrfToken] ?? "", csrf) {
                throw KinkoError(.forbidden, "the call's X-CSRF-Token does not match this session; reload the page", field: "x-csrf-token")
            }
            var body: [String: String] = [:]
            if mutating {
                var request = request
                let bytes = try await request.collectBody(upTo: Self.apiBodyBytesMax)
                guard let object = try? JSONSerialization.jsonObject(with: Data(String(buffer: bytes).utf8)) as? [String: Any] else {
                    throw KinkoError(.invalidInput, "the body is not a JSON object", field: "body")
                }
                for (key, value) in object {
                    guard let text = value as? String else { throw KinkoError(.invalidInput, "must be a string", field: key) }
                    body[key] = text
                }
            }
            return Self.json(try await run(caller, body), status: .ok)
        } catch let error as KinkoError {
            let problem = Problem(error)
            var fields = ["code": problem.code, "detail": problem.detail, "title": problem.title]
            if let field = problem.field { fields["field"] = field }
            return Self.json(fields, status: problem.status)
        }
    }

    static func json(_ fields: [String: String], status: HTTPResponse.Status) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = status == .ok ? "application/json" : "application/problem+json"
        headers[.cacheControl] = "no-store"
        let data = (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    // MARK: The page

    func approvals(_ caller: Caller) async throws -> String {
        let governance = services.governance
        let waiting = try await governance.requestsAwaiting(caller)
        let open = try await governance.requests(status: .open, limit: Governance.pageMax, by: caller)
        var names = ApprovalText.Names(principals: try await governance.principalNames(by: caller))
        for account in waiting.flatMap(ApprovalText.accounts) where names.accountClasses[account] == nil {
            names.accountClasses[account] = try? await services.ledgerService.account(account, by: caller).account.accountClass
        }
        let mine = try await governance.keys(by: caller).filter { $0.principal == caller.principal }
        let keyRows = mine.map { key in
            "<tr class=\"own-key\" data-key-id=\"\(Self.escape(key.id))\" data-status=\"\(key.revokedAt == nil ? key.status.rawValue : "revoked")\"><td><code>\(Self.escape(key.id))</code></td><td>\(key.algorithm.rawValue)</td><td>\(key.registeredAt.iso8601)</td><td>\(key.revokedAt.map { "失効 / revoked \($0.iso8601)" } ?? (key.status == .active ? "有効 / active" : "承認待ち / awaiting a second admin (request \(key.requestID?.description ?? "?"))"))</td></tr>"
        }.joined()
        let cards = try await waiting.asyncMap { request -> String in
            let evaluation = try await governance.evaluate(request.id)
            let fields = ApprovalText.fields(request).sorted { $0.key < $1.key }
                .map { "<tr><th>\(Self.escape($0.key))</th><td>\(Self.escape($0.value))</td></tr>" }.joined()
            let digest = Hex.encode(request.digest)
            return """
                <section class="request" id="request-\(request.id)" data-request="\(request.id)" data-digest="\(digest)">
                <h2>#\(request.id) \(Self.escape(request.action))</h2>
                <p class="what"><b>\(Self.escape(ApprovalText.sentence(request, names: names)))</b></p>
                <table class="payload">\(fields)</table>
                <p>起票 / filed by \(Self.escape(names.principal(request.initiator.description))) · 方針 / policy: \(Self.escape(request.policy.summary)) · 期限 / expires \(request.expiresAt.iso8601) · 状況 / status: \(Self.escape(evaluation.isSatisfied ? "approved" : evaluation.reasons.joined(separator: "; ")))</p>
                <p>署名対象 / you sign SHA-256 <code class="digest">\(digest)</code> of the canonical JSON <code class="canonical">\(Self.escape(request.canonical.text))</code></p>
                <button class="approve" data-request="\(request.id)" data-digest="\(digest)">承認して署名 / Approve and sign</button>
                </section>
                """
        }.joined()
        let others = open.filter { request in !waiting.contains { $0.id == request.id } }.map {
            "<tr><td>\($0.id)</td><td>\(Self.escape($0.action))</td><td>\(Self.escape($0.policy.summary))</td><td>\(Self.escape(names.principal($0.initiator.description)))</td></tr>"
        }.joined()
        return """
            <h1>承認 / Approvals</h1>
            <section id="browser-key" data-principal="\(caller.principal)">
            <h2>署名鍵 / Your signing keys</h2>
            <table><tr><th>鍵 / key</th><th>方式 / algorithm</th><th>登録 / registered</th><th>状態 / status</th></tr>\(keyRows)</table>
            <p>このブラウザ / this browser: <span id="key-status" data-key="">確認中 / checking…</span></p>
            <button id="create-key">このブラウザで鍵を作成 / Create a signing key in this browser</button>
            <p>鍵は WebCrypto で生成され、取り出せない形でこのブラウザにだけ保存されます / The key is generated by WebCrypto, cannot be exported, and stays in this browser (IndexedDB); the server receives its public half and a proof that you hold it.</p>
            </section>
            <p id="approval-message" data-state="" aria-live="polite"></p>
            <h2>あなたの承認待ち / Waiting for you (\(waiting.count))</h2>
            \(cards.isEmpty ? "<p id=\"nothing-waiting\">ありません / Nothing waits for you.</p>" : cards)
            <h2>その他の未決 / Other open requests</h2>
            <table><tr><th>#</th><th>操作 / action</th><th>方針 / policy</th><th>起票 / filed by</th></tr>\(others)</table>
            <script src="\(Self.scriptPath)"></script>
            """
    }
}

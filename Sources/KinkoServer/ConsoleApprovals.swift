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

    /// One of the console's scripts, never cached and never sniffed as anything else.
    static func script(_ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/javascript; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[.xContentTypeOptions] = "nosniff"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func registerApprovals(on router: Router<BasicRequestContext>) {
        router.get(RouterPath(stringLiteral: Self.scriptPath)) { _, _ in Self.script(ConsoleScript.approve) }
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
                let language = ConsoleLanguage.of(request)
                let waiting = key.requestID.map { language.pick(" — 二人目の管理者の承認待ちです (申請 \($0))", " — it waits for a second admin's approval (request \($0))") } ?? ""
                return ["id": key.id, "status": key.status.rawValue, "request": key.requestID?.description ?? "",
                        "message": language.pick("鍵 \(key.id) を登録しました", "key \(key.id) registered") + waiting]
            }
        }
        router.post("/console/api/approvals/{id}") { request, context in
            try await self.api(request, mutating: true) { caller, body in
                let id = try ApprovalRequestID(parsing: context.parameters.get("id") ?? "", field: "id")
                let evaluation = try await services.governance.approve(
                    id, keyID: body["key_id"] ?? "", signature: try Hex.decode(body["signature"] ?? "", field: "signature"), by: caller)
                let language = ConsoleLanguage.of(request)
                let reasons = evaluation.reasons.joined(separator: "; ")
                let state = evaluation.isSatisfied ? language.pick("承認済・実行可能", "approved: ready") : language.pick("あと必要: ", "still needed: ") + reasons
                return ["request": id.description, "satisfied": evaluation.isSatisfied ? "true" : "false",
                        "message": language.pick("申請 \(id) の承認を記録しました (有効 \(evaluation.counted.count) 件)", "approval of request \(id) recorded (\(evaluation.counted.count) counting)")
                            + " — \(state)"]
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

    func approvals(_ caller: Caller) async throws -> (template: String, context: [String: Any]) {
        let governance = services.governance
        let waiting = try await governance.requestsAwaiting(caller)
        let open = try await governance.requests(status: .open, limit: Governance.pageMax, by: caller)
        var names = ApprovalText.Names(principals: try await governance.principalNames(by: caller))
        for account in waiting.flatMap(ApprovalText.accounts) where names.accountClasses[account] == nil {
            names.accountClasses[account] = try? await services.ledgerService.account(account, by: caller).account.accountClass
        }
        let mine = try await governance.keys(by: caller).filter { $0.principal == caller.principal }
        let cards = try await waiting.asyncMap { request -> [String: Any] in
            let evaluation = try await governance.evaluate(request.id)
            return [
                "id": request.id.description, "action": request.action, "digest": Hex.encode(request.digest),
                "sentence": ApprovalText.sentence(request, names: names),
                "fields": ApprovalText.fields(request).sorted { $0.key < $1.key }.map { ["key": $0.key, "value": $0.value] },
                "filedBy": names.principal(request.initiator.description), "policy": request.policy.summary, "expires": Self.jst(request.expiresAt),
                "status": evaluation.isSatisfied ? "approved" : evaluation.reasons.joined(separator: "; "), "canonical": request.canonical.text,
            ]
        }
        let others = open.filter { request in !waiting.contains { $0.id == request.id } }.map { request -> [String: Any] in
            ["id": request.id.description, "action": request.action, "policy": request.policy.summary, "filedBy": names.principal(request.initiator.description)]
        }
        return ("approvals", [
            "principal": caller.principal.description, "script": Self.scriptPath, "waitingCount": waiting.count, "waiting": cards,
            "keys": mine.map { key -> [String: Any] in
                ["id": key.id, "algorithm": key.algorithm.rawValue, "registered": Self.jst(key.registeredAt),
                 "status": key.revokedAt == nil ? key.status.rawValue : "revoked",
                 "state": key.revokedAt.map { Self.both("失効 \(Self.jst($0))", "revoked \(Self.jst($0))") }
                    ?? (key.status == .active ? Self.both("有効", "active")
                        : Self.both("二人目の管理者の承認待ち (申請 \(key.requestID?.description ?? "?"))", "awaiting a second admin (request \(key.requestID?.description ?? "?"))"))]
            },
            "others": others, "hasOthers": !others.isEmpty,
        ])
    }
}

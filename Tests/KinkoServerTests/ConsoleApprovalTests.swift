import Foundation
import HTTPTypes
import KinkoCore
import KinkoCustody
import KinkoGovernance
import KinkoLedger
import KinkoPlaybook
import KinkoReserve
import KinkoServer
import Testing

/// The console's approval endpoints, driven the way approve.js drives them (the browser half —
/// WebCrypto, IndexedDB — is exercised in Chromium by Tests/e2e/console_test.py).
@Suite("Console: approving in the browser", .serialized)
struct ConsoleApprovalTests {
    /// The headers approve.js sends: a console session's cookie and CSRF token, this console's
    /// Origin (or `origin`), a JSON body (or a form).
    static func session(_ f: ServerFixture, _ token: String, origin: String? = ServerFixture.consoleOrigin, json: Bool = true) async throws -> HTTPFields {
        let session = try await f.consoleSession(token: token)
        var fields = json ? session.json : session.headers
        fields[.origin] = origin
        return fields
    }

    // Goal: finance registers a P-256 key in the shape WebCrypto exports (65-byte raw public key,
    // r‖s signatures) with proof of possession, a second admin activates it, and the approvals
    // page describes the request treasury parked in words and figures and lets finance sign its
    // digest; the signature counts, a second one by the same person is refused, and calls without
    // this console's Origin or a JSON body are refused.
    @Test func registerApproveAndRefuseTheSecond() async throws {
        let f = try await ServerFixture()
        let finance = try #require(f.members[.finance]), treasurer = try #require(f.callers[.treasurer])
        try await f.services.reserve.ensureAccounts(asset: "JPY", by: finance.caller)
        let own = Custody.feeAccountID(asset: "JPY"), reserve = Reserve.reserveFundAccountID(asset: "JPY")
        #expect(try await f.services.ledgerService.createTransfers([
            Transfer(id: TransferID(7001), debitAccountID: AccountID(901), creditAccountID: own, amount: 1, ledger: 1, code: .capital),
        ], by: treasurer).count == 1)
        #expect(try await f.services.ledgerService.createTransfers([
            Transfer(id: TransferID(7002), debitAccountID: own, creditAccountID: reserve, amount: 12_345, ledger: 1, code: .reserveFunding),
        ], by: treasurer) == [.pendingApproval])
        let parked = try #require(try await f.services.ledgerService.parkedTransfer(TransferID(7002)))
        let request = try ApprovalRequestID(parsing: parked.requestID, field: "request")
        let cookie = try await Self.session(f, finance.token)

        // The page: the request in words and figures, the digest, and the script.
        let page = try await f.call(.get, "/console/approvals", headers: cookie)
        #expect(page.status == .ok && page.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
        #expect(page.text.contains("Post a reserve_funding of 12345 JPY from account \(own) (own_funds) to account \(reserve) (reserve_fund) (transfer 7002)."))
        let stored = try await f.services.governance.requireRequest(request)
        #expect(page.text.contains("data-digest=\"\(Hex.encode(stored.digest))\"") && page.text.contains("/console/static/approve.js"))
        let script = try await f.call(.get, "/console/static/approve.js")
        #expect(script.status == .ok && script.text.contains("crypto.subtle.generateKey") && script.text.contains("indexedDB"))

        // Register a key as the browser does.
        let key = LocalSigningKey.generate(.p256)
        let publicKey = [0x04] + (try key.publicKey())
        let challenge = try await f.call(.get, "/console/api/keys/registration-message?algorithm=p256&public_key=\(Hex.encode(publicKey))",
                                         headers: try await Self.session(f, finance.token, origin: nil, json: false))
        let message = try #require(challenge.json["message"] as? String)
        #expect(message == Hex.encode(SignerKey.registrationMessage(principal: finance.caller.principal, algorithm: .p256, publicKey: publicKey)))
        let registration = #"{"algorithm":"p256","public_key":"\#(Hex.encode(publicKey))","proof":"\#(Hex.encode(try key.sign(try Hex.decode(message, field: "m"))))"}"#
        let crossSite = try await f.call(.post, "/console/api/keys", json: registration, headers: try await Self.session(f, finance.token, origin: "http://evil.example"))
        #expect(crossSite.status == .forbidden && crossSite.json["field"] as? String == "origin")
        let noOrigin = try await f.call(.post, "/console/api/keys", json: registration, headers: try await Self.session(f, finance.token, origin: nil))
        #expect(noOrigin.status == .forbidden)
        let form = try await f.call(.post, "/console/api/keys", json: registration, headers: try await Self.session(f, finance.token, json: false))
        #expect(form.status == .badRequest && form.json["field"] as? String == "content-type")
        let badProof = try await f.call(.post, "/console/api/keys", json: registration.replacingOccurrences(of: "\"proof\":\"", with: "\"proof\":\"00"),
                                        headers: cookie)
        #expect(badProof.status.code >= 400)
        let registered = try await f.call(.post, "/console/api/keys", json: registration, headers: cookie)
        #expect(registered.status == .ok && registered.json["status"] as? String == "awaiting_approval", "\(registered.text)")
        let keyID = try #require(registered.json["id"] as? String)
        #expect(keyID == SignerKey.id(of: publicKey))

        // Not active yet: a signature with it does not count.
        let signature = Hex.encode(try key.sign(stored.digest))
        let early = try await f.call(.post, "/console/api/approvals/\(request)", json: #"{"key_id":"\#(keyID)","signature":"\#(signature)"}"#, headers: cookie)
        #expect(early.status == .conflict && early.json["code"] as? String == "approval_refused")
        #expect((early.json["detail"] as? String)?.contains("not active yet") == true)

        // The second admin activates it; then the approval counts, once.
        let activation = try ApprovalRequestID(parsing: try #require(registered.json["request"] as? String), field: "request")
        try await f.staff.admins[1].approve(activation, in: f.services.governance)
        let approved = try await f.call(.post, "/console/api/approvals/\(request)", json: #"{"key_id":"\#(keyID)","signature":"\#(signature)"}"#, headers: cookie)
        #expect(approved.status == .ok && approved.json["satisfied"] as? String == "true")
        let evaluation = try await f.services.governance.evaluate(request)
        #expect(evaluation.isSatisfied && evaluation.counted == [finance.caller.principal])
        let again = try await f.call(.post, "/console/api/approvals/\(request)", json: #"{"key_id":"\#(keyID)","signature":"\#(signature)"}"#, headers: cookie)
        #expect(again.status == .conflict && (again.json["detail"] as? String)?.contains("already approved") == true)
        let forged = try await f.call(.post, "/console/api/approvals/\(request)", json: #"{"key_id":"\#(keyID)","signature":"\#(String(repeating: "0", count: 128))"}"#,
                                      headers: try await Self.session(f, try #require(f.tokens[.compliance])))
        #expect(forged.status == .conflict && forged.json["code"] as? String == "approval_refused")
        #expect(try await f.call(.post, "/console/api/approvals/\(request)", json: "[1]", headers: cookie).json["field"] as? String == "body")
        let after = try await f.call(.get, "/console/approvals", headers: cookie)
        #expect(!after.text.contains("id=\"request-\(request)\"") && after.text.contains("data-key-id=\"\(keyID)\" data-status=\"active\""))
    }
}

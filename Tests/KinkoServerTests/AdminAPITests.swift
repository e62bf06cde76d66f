import Foundation
import HTTPTypes
import KinkoCore
import KinkoCustody
import KinkoGovernance
import KinkoLedger
import KinkoMonitoring
import KinkoPlaybook
import KinkoReserve
import KinkoServer
import Testing

/// The write side of the API: everything the CLI administers, with the same checks.
@Suite("HTTP API: administration", .serialized)
struct AdminAPITests {
    // Goal: an admin creates principals and enrolments over HTTP, never a usable token for
    // someone else: the newcomer redeems the one-time code (without a bearer token) for a token
    // of their own, which works at once for a principal with no approving role; each principal
    // issues, lists and revokes their own tokens; bad input names its field.
    @Test func principalsEnrolmentsAndOwnTokens() async throws {
        let f = try await ServerFixture()
        let created = try await f.call(.post, "/v1/governance/principals", as: .admin, json: #"{"name":"sato.ops","kind":"person"}"#)
        #expect(created.status == .created && (created.json["principal"] as? [String: Any])?["roles"] as? [String] == [])
        #expect(created.json["token"] == nil)
        let code = try #require((created.json["enrolment"] as? [String: Any])?["code"] as? String)
        let redeemed = try await f.call(.post, "/v1/governance/enrolments/redeem", json: #"{"code":"\#(code)"}"#)
        #expect(redeemed.status == .created && redeemed.json["status"] as? String == "active")
        let first = try #require(redeemed.json["token"] as? String)
        #expect(try await f.call(.get, "/v1/whoami", token: first).json["name"] as? String == "sato.ops")
        let again = try await f.call(.post, "/v1/governance/enrolments/redeem", json: #"{"code":"\#(code)"}"#)
        #expect(again.status == .unauthorized && again.json["field"] as? String == "code")
        let badName = try await f.call(.post, "/v1/governance/principals", as: .admin, json: #"{"name":"Sato Ops"}"#)
        #expect(badName.status == .badRequest && badName.json["field"] as? String == "name")
        let duplicate = try await f.call(.post, "/v1/governance/principals", as: .admin, json: #"{"name":"sato.ops"}"#)
        #expect(duplicate.status == .conflict && duplicate.json["field"] as? String == "name")
        #expect(try await f.call(.post, "/v1/governance/principals", as: .treasurer, json: #"{"name":"x.y"}"#).status == .forbidden)
        let forbiddenEnrol = try await f.call(.post, "/v1/governance/principals/sato.ops/enrolments", as: .treasurer)
        #expect(forbiddenEnrol.status == .forbidden)

        let enrol = try await f.call(.post, "/v1/governance/principals/sato.ops/enrolments?hours=168", as: .admin)
        #expect(enrol.status == .created && enrol.json["principal"] as? String == "sato.ops")
        let tooLong = try await f.call(.post, "/v1/governance/principals/sato.ops/enrolments?hours=169", as: .admin)
        #expect(tooLong.status == .badRequest && tooLong.json["field"] as? String == "hours")

        let granted = try await f.call(.post, "/v1/governance/principals/sato.ops/roles", as: .admin, json: #"{"role":"operator"}"#)
        #expect(granted.status == .ok && granted.json["outcome"] as? String == "pending")
        #expect((granted.json["principal"] as? [String: Any])?["roles"] as? [String] == [])
        let conflict = try await f.call(.post, "/v1/governance/principals/kobayashi/roles", as: .admin, json: #"{"role":"auditor"}"#)
        #expect(conflict.status == .notFound)
        let adminConflict = try await f.call(.post, "/v1/governance/principals/admin/roles", as: .admin, json: #"{"role":"treasurer"}"#)
        #expect(adminConflict.status == .conflict && adminConflict.json["field"] as? String == "role")
        #expect((adminConflict.json["detail"] as? String)?.contains("who grants roles must not move coins") == true)
        let unknownRole = try await f.call(.post, "/v1/governance/principals/sato.ops/roles", as: .admin, json: #"{"role":"king"}"#)
        #expect(unknownRole.status == .badRequest && unknownRole.json["field"] as? String == "role")
        #expect(try await f.call(.post, "/v1/governance/principals/nobody/roles", as: .admin, json: #"{"role":"operator"}"#).status == .notFound)

        let duties = try await f.call(.get, "/v1/governance/duties", as: .auditor)
        #expect(duties.status == .ok && (duties.json["conflicts"] as? [Any])?.isEmpty == true
                && duties.json["pairs_checked"] as? Int == SegregationOfDuties.standard.conflicts.count)
        let permissions = try #require(try await f.call(.get, "/v1/governance/permissions", as: .inspector).json["permissions"] as? [[String: Any]])
        #expect(permissions.count == Permission.allCases.count)
        #expect(permissions.first { $0["permission"] as? String == Permission.ledgerTransfersCreate.rawValue }?["roles"] as? [String]
                == ["operator", "treasurer", "finance"])

        // Own tokens: issued for oneself only.
        let atLimit = try await f.call(.post, "/v1/governance/tokens?days=400", token: first)
        #expect(atLimit.status == .created && atLimit.json["expires_at"] != nil && atLimit.json["principal"] as? String == "sato.ops")
        for days in [0, 401] {
            let refused = try await f.call(.post, "/v1/governance/tokens?days=\(days)", token: first)
            #expect(refused.status == .badRequest && refused.json["field"] as? String == "days", "days \(days)")
        }
        let tokenID = try #require(atLimit.json["id"] as? String)
        let secret = try #require(atLimit.json["token"] as? String)
        #expect(try await f.call(.get, "/v1/whoami", token: secret).status == .ok)
        let listed = try #require(try await f.call(.get, "/v1/governance/tokens", token: first).json["tokens"] as? [[String: Any]])
        #expect(listed.count == 2 && listed.allSatisfy { $0["token"] == nil && ($0["fingerprint"] as? String)?.count == 16 })
        #expect(try await f.call(.delete, "/v1/governance/tokens/\(tokenID)?principal=sato.ops", as: .auditor).status == .forbidden)
        #expect(try await f.call(.delete, "/v1/governance/tokens/\(tokenID)", as: .auditor).status == .notFound, "not the auditor's token")
        #expect(try await f.call(.delete, "/v1/governance/tokens/\(tokenID)", token: first).status == .noContent)
        #expect(try await f.call(.get, "/v1/whoami", token: secret).status == .unauthorized)
        #expect(try await f.call(.delete, "/v1/governance/tokens/\(tokenID)?principal=sato.ops", as: .admin).status == .notFound)
        #expect(try await f.call(.delete, "/v1/governance/tokens/abc", as: .admin).status == .badRequest)
    }

    // Goal: a role grant is an approval request: it cannot run before the other admin signs,
    // runs once after, and not again; a signer's token from an enrolment waits for an admin
    // who did not enrol them.
    @Test func roleGrantNeedsTheOtherAdmin() async throws {
        let f = try await ServerFixture()
        for name in ["kato.ops", "kato.signer"] {
            #expect(try await f.call(.post, "/v1/governance/principals", as: .admin, json: #"{"name":"\#(name)"}"#).status == .created)
        }
        let pending = try await f.call(.post, "/v1/governance/principals/kato.ops/roles", as: .admin, json: #"{"role":"operator"}"#)
        #expect(pending.status == .ok && pending.json["outcome"] as? String == "pending")
        #expect((pending.json["principal"] as? [String: Any])?["roles"] as? [String] == [])
        let request = try #require((pending.json["request"] as? [String: Any])?["id"] as? String)
        let early = try await f.call(.post, "/v1/governance/approvals/\(request)/execute", as: .admin)
        #expect(early.status == .conflict && early.json["code"] as? String == "approval_required")

        let second = f.staff.admins[1]
        let key = try #require(second.key)
        let digest = try Hex.decode(try #require(pending.json["request"] as? [String: Any])["digest"] as? String ?? "", field: "digest")
        let signed = try await f.call(.post, "/v1/governance/approvals/\(request)/signatures", token: second.token,
                                      json: #"{"key_id":"\#(SignerKey.id(of: try key.publicKey()))","signature":"\#(Hex.encode(try key.sign(digest)))"}"#)
        #expect(signed.json["satisfied"] as? Bool == true && signed.json["approvals"] as? [String] == ["admin.two"])
        #expect(try await f.call(.post, "/v1/governance/approvals/\(request)/execute", as: .auditor).status == .forbidden)
        let executed = try await f.call(.post, "/v1/governance/approvals/\(request)/execute", as: .admin)
        #expect(executed.status == .ok && executed.json["status"] as? String == "executed")
        let principals = try #require(try await f.call(.get, "/v1/governance/principals", as: .auditor).json["principals"] as? [[String: Any]])
        #expect(principals.first { $0["name"] as? String == "kato.ops" }?["roles"] as? [String] == ["operator"])
        #expect(try await f.call(.post, "/v1/governance/approvals/\(request)/execute", as: .admin).status == .conflict)
        #expect(try await f.call(.post, "/v1/governance/approvals/999/execute", as: .admin).status == .notFound)

        // The signer role first, then the enrolment: its token waits, and only the other admin may activate it.
        let grant = try await f.services.governance.grantRole(.signer, to: try #require(try await f.services.governance.store.principal(named: "kato.signer")).id,
                                                               by: f.callers[.admin]!)
        try await second.approve(grant.id, in: f.services.governance)
        try await f.services.governance.execute(grant.id, by: f.callers[.admin]!)
        let code = try #require(try await f.call(.post, "/v1/governance/principals/kato.signer/enrolments", as: .admin).json["code"] as? String)
        let redeemed = try await f.call(.post, "/v1/governance/enrolments/redeem", json: #"{"code":"\#(code)"}"#)
        #expect(redeemed.json["status"] as? String == "awaiting_approval")
        let waiting = try #require(redeemed.json["token"] as? String)
        let blocked = try await f.call(.get, "/v1/whoami", token: waiting)
        #expect(blocked.status == .unauthorized && (blocked.json["detail"] as? String)?.contains("waits for a second admin") == true)
        let activation = try #require(redeemed.json["request"] as? String)
        let firstKey = try #require(f.staff.admins[0].key)
        let activationRequest = try #require(try await f.services.governance.store.request(try ApprovalRequestID(parsing: activation, field: "request")))
        let own = try await f.call(.post, "/v1/governance/approvals/\(activation)/signatures", as: .admin,
                                   json: #"{"key_id":"\#(SignerKey.id(of: try firstKey.publicKey()))","signature":"\#(Hex.encode(try firstKey.sign(activationRequest.digest)))"}"#)
        #expect(own.status == .conflict && (own.json["detail"] as? String)?.contains("credentials they issued") == true)
        try await second.approve(activationRequest.id, in: f.services.governance)
        #expect(try await f.call(.get, "/v1/whoami", token: waiting).json["name"] as? String == "kato.signer")
    }

    // Goal: a signer registers a key by proving possession; a wrong proof is refused; the key
    // waits for an admin's approval; revoking it is itself an approval request of an admin, and
    // the key list shows both states.
    @Test func signerKeys() async throws {
        let f = try await ServerFixture()
        let signer = try #require(f.callers[.signer])
        let key = LocalSigningKey.generate(.ed25519)
        let publicKey = try key.publicKey()
        let proof = try key.sign(SignerKey.registrationMessage(principal: signer.principal, algorithm: .ed25519, publicKey: publicKey))
        let wrong = try await f.call(.post, "/v1/governance/keys", as: .signer,
                                     json: #"{"algorithm":"ed25519","public_key":"\#(Hex.encode(publicKey))","proof":"\#(Hex.encode(try key.sign([9])))"}"#)
        #expect(wrong.status == .badRequest && wrong.json["field"] as? String == "proof")
        let notHex = try await f.call(.post, "/v1/governance/keys", as: .signer, json: #"{"algorithm":"ed25519","public_key":"zz","proof":"00"}"#)
        #expect(notHex.status == .badRequest && notHex.json["field"] as? String == "public_key")
        let registered = try await f.call(.post, "/v1/governance/keys", as: .signer,
                                          json: #"{"algorithm":"ed25519","public_key":"\#(Hex.encode(publicKey))","proof":"\#(Hex.encode(proof))"}"#)
        #expect(registered.status == .created && registered.json["id"] as? String == SignerKey.id(of: publicKey)
                && registered.json["principal"] as? String == "signer.one" && registered.json["status"] as? String == "awaiting_approval")
        let activation = try ApprovalRequestID(parsing: try #require(registered.json["request"] as? String), field: "request")
        try await f.staff.admins[1].approve(activation, in: f.services.governance)
        let id = SignerKey.id(of: publicKey)
        #expect(try await f.call(.delete, "/v1/governance/keys/\(id)", as: .auditor).status == .forbidden)
        let revocation = try await f.call(.delete, "/v1/governance/keys/\(id)", as: .admin)
        #expect(revocation.status == .accepted && revocation.json["action"] as? String == "governance.keys.revoke")
        var keys = try #require(try await f.call(.get, "/v1/governance/keys", as: .auditor).json["keys"] as? [[String: Any]])
        #expect(keys.first { $0["id"] as? String == id }?["status"] as? String == "active")
        try await f.staff.admins[1].approve(try ApprovalRequestID(parsing: try #require(revocation.json["id"] as? String), field: "id"),
                                            in: f.services.governance)
        keys = try #require(try await f.call(.get, "/v1/governance/keys", as: .auditor).json["keys"] as? [[String: Any]])
        #expect(keys.first { $0["id"] as? String == id }?["revoked_at"] != nil)
    }

    // Goal: audit proofs over HTTP match the signed checkpoints; out-of-range requests name
    // their field.
    @Test func auditProofs() async throws {
        let f = try await ServerFixture()
        let checkpoints = try #require(try await f.call(.get, "/v1/audit/checkpoints", as: .auditor).json["checkpoints"] as? [[String: Any]])
        let size = try await f.services.governance.store.auditSize()
        #expect(checkpoints.last?["size"] as? String == String(size) && checkpoints.count >= 2)
        let proof = try await f.call(.get, "/v1/audit/proofs/inclusion?entry=1&size=\(size)", as: .inspector)
        #expect(proof.status == .ok && proof.json["root"] as? String == checkpoints.last?["root"] as? String)
        #expect(proof.json["index"] as? String == "1" && (proof.json["proof"] as? [String])?.isEmpty == false)
        let past = try await f.call(.get, "/v1/audit/proofs/inclusion?entry=\(size)", as: .inspector)
        #expect(past.status == .badRequest && past.json["field"] as? String == "entry")
        let lastEntry = try await f.call(.get, "/v1/audit/proofs/inclusion?entry=\(size - 1)", as: .inspector)
        #expect(lastEntry.status == .ok && lastEntry.json["size"] as? String == String(size))
        let oldSize = try #require(checkpoints.first?["size"] as? String)
        let consistency = try await f.call(.get, "/v1/audit/proofs/consistency?from=\(oldSize)&to=\(size)", as: .auditor)
        #expect(consistency.status == .ok && consistency.json["old_root"] as? String == checkpoints.first?["root"] as? String)
        let backwards = try await f.call(.get, "/v1/audit/proofs/consistency?from=\(size)&to=1", as: .auditor)
        #expect(backwards.status == .badRequest && backwards.json["field"] as? String == "from")
        #expect(try await f.call(.get, "/v1/audit/proofs/consistency?from=1&to=\(size + 1)", as: .auditor).json["field"] as? String == "to")
        #expect(try await f.call(.get, "/v1/audit/checkpoints", as: .operator).status == .forbidden)
    }

    // Goal: ledger administration: assets (admin only), verification, pulse.
    @Test func ledgerAdministration() async throws {
        let f = try await ServerFixture()
        let added = try await f.call(.post, "/v1/ledger/assets", as: .admin, json: #"{"code":"SOL","scale":9,"kind":"crypto","ledger":40}"#)
        #expect(added.status == .created && added.json["code"] as? String == "SOL" && added.json["scale"] as? Int == 9)
        #expect(try await f.call(.post, "/v1/ledger/assets", as: .operator, json: #"{"code":"ADA","scale":6,"kind":"crypto","ledger":41}"#).status == .forbidden)
        let badCode = try await f.call(.post, "/v1/ledger/assets", as: .admin, json: #"{"code":"s","scale":9,"kind":"crypto","ledger":42}"#)
        #expect(badCode.status == .badRequest)
        let assets = try #require(try await f.call(.get, "/v1/ledger/assets", as: .auditor).json["assets"] as? [[String: Any]])
        #expect(assets.contains { $0["code"] as? String == "SOL" && $0["ledger"] as? Int == 40 })
        let verified = try await f.call(.get, "/v1/ledger/verify?full=true", as: .auditor)
        #expect(verified.status == .ok && verified.json["ok"] as? Bool == true && verified.json["accounts"] as? Int == 6)
        let pulse = try await f.call(.post, "/v1/ledger/pulse", as: .operator)
        #expect(pulse.status == .ok && pulse.json["expired"] as? [String] == [])
        #expect(try await f.call(.post, "/v1/ledger/pulse", as: .auditor).status == .forbidden)
    }

    // Goal: custody over HTTP: vendor, wallets, observations, the 95% check, freezing, the
    // whitelist, a movement request (and a refusal that names its rule), reconciliation.
    @Test func custodyWrites() async throws {
        let f = try await ServerFixture()
        let vendor = try await f.call(.post, "/v1/custody/vendors", as: .treasurer,
                                      json: #"{"name":"acme","notice_date":"2026-01-05","notice_reference":"FSA-2026-17"}"#)
        #expect(vendor.status == .ok && vendor.json["has_notice"] as? Bool == true)
        for (id, temperature) in [("hot-1", "hot"), ("cold-1", "cold")] {
            let wallet = try await f.call(.post, "/v1/custody/wallets", as: .treasurer, json: """
                {"id":"\(id)","chain":"bitcoin","temperature":"\(temperature)","purpose":"customer_pool","assets":["BTC"],
                 "vendor":"acme","vendor_version":"1.0","velocity_limits":{"BTC":"5"}}
                """)
            #expect(wallet.status == .created && wallet.json["flags"] as? [String] == [], "\(id)")
            #expect((wallet.json["accounts"] as? [String: String])?["BTC"] == Wallet.accountID(wallet: id, asset: "BTC").description)
        }
        let badLimit = try await f.call(.post, "/v1/custody/wallets", as: .treasurer, json: """
            {"id":"hot-2","chain":"bitcoin","temperature":"hot","purpose":"customer_pool","assets":["BTC"],"vendor":"acme","vendor_version":"1","velocity_limits":{"BTC":"0.000000001"}}
            """)
        #expect(badLimit.status == .badRequest && badLimit.json["field"] as? String == "velocity_limits.BTC")
        #expect(try await f.call(.post, "/v1/custody/wallets", as: .operator, json: """
            {"id":"hot-3","chain":"bitcoin","temperature":"hot","purpose":"customer_pool","assets":["BTC"],"vendor":"acme","vendor_version":"1"}
            """).status == .forbidden)

        // 2 BTC deposited for customer 1: 0.1 hot, 1.9 cold.
        let accounts = try await f.call(.post, "/v1/ledger/accounts", as: .operator, json: """
            {"accounts":[{"id":"31","asset":"BTC","code":100,"class":"customer_liability","flags":["debits_must_not_exceed_credits"],"owner":"1"}]}
            """)
        #expect(accounts.json["ok"] as? Int == 1)
        let hot = Wallet.accountID(wallet: "hot-1", asset: "BTC"), cold = Wallet.accountID(wallet: "cold-1", asset: "BTC")
        try await f.adoptMonitoring()
        try await f.deposit([("50", "31", hot.description, "0.1"), ("51", "31", cold.description, "1.9")])
        let prices = try await f.call(.post, "/v1/custody/observations/prices", as: .operator, json: #"{"prices":[{"asset":"BTC","price":"15000000"}]}"#)
        #expect(prices.status == .ok && prices.json["recorded"] as? Int == 1)
        let badPrice = try await f.call(.post, "/v1/custody/observations/prices", as: .operator, json: #"{"prices":[{"asset":"BTC","price":"-1"}]}"#)
        #expect(badPrice.status == .badRequest && (badPrice.json["field"] as? String)?.hasPrefix("prices[0]") == true)
        let balances = try await f.call(.post, "/v1/custody/observations/balances", as: .operator, json: """
            {"observations":[{"wallet":"hot-1","asset":"BTC","amount":"0.1"},{"wallet":"cold-1","asset":"BTC","amount":"1.9"}]}
            """)
        #expect(balances.json["recorded"] as? Int == 2)
        let badAmount = try await f.call(.post, "/v1/custody/observations/balances", as: .operator, json: """
            {"observations":[{"wallet":"hot-1","asset":"BTC","amount":"0.1"},{"wallet":"cold-1","asset":"BTC","amount":"1.000000001"}]}
            """)
        #expect(badAmount.status == .badRequest && badAmount.json["field"] as? String == "observations[1].amount")
        let check = try await f.call(.get, "/v1/custody/check", as: .auditor)
        let btc = try #require((check.json["assets"] as? [[String: Any]])?.first { $0["asset"] as? String == "BTC" })
        #expect(btc["total"] as? String == "2.00000000" && btc["hot"] as? String == "0.10000000" && btc["hot_share"] as? String == "5.00")
        #expect(btc["hot_within_limit"] as? Bool == true)

        let tooMuch = try await f.call(.post, "/v1/custody/movements", as: .treasurer, json: """
            {"kind":"hot_to_cold","from":"hot-1","to":"cold-1","asset":"BTC","amount":"0.2"}
            """)
        #expect(tooMuch.status == .unprocessableContent && tooMuch.json["code"] as? String == "movement_refused")
        #expect((tooMuch.json["detail"] as? String)?.hasPrefix("refused by rule balance") == true)
        let movement = try await f.call(.post, "/v1/custody/movements", as: .treasurer, json: """
            {"kind":"hot_to_cold","from":"hot-1","to":"cold-1","asset":"BTC","amount":"0.05"}
            """)
        #expect(movement.status == .created && movement.json["status"] as? String == "awaiting_approval" && movement.json["amount"] as? String == "0.05000000")
        let movementID = try #require(movement.json["id"] as? String)
        let early = try await f.call(.post, "/v1/custody/movements/\(movementID)/release", as: .treasurer)
        #expect(early.status == .conflict && early.json["code"] as? String == "approval_required")
        #expect(try await f.call(.post, "/v1/custody/movements/\(movementID)/complete", as: .operator, json: #"{"tx_hash":"ab"}"#).status == .conflict)
        #expect((try await f.call(.get, "/v1/custody/queue", as: .signer).json["movements"] as? [Any])?.isEmpty == true)

        let frozen = try await f.call(.post, "/v1/custody/wallets/hot-1/freeze", as: .finance, json: #"{"frozen":true,"reason":"suspected key leak"}"#)
        #expect(frozen.status == .ok && frozen.json["frozen"] as? Bool == true)
        let noReason = try await f.call(.post, "/v1/custody/wallets/hot-1/freeze", as: .finance, json: #"{"frozen":true}"#)
        #expect(noReason.status == .badRequest && noReason.json["field"] as? String == "reason")
        let refused = try await f.call(.post, "/v1/custody/movements", as: .treasurer, json: """
            {"kind":"hot_to_cold","from":"hot-1","to":"cold-1","asset":"BTC","amount":"0.01"}
            """)
        #expect((refused.json["detail"] as? String)?.hasPrefix("refused by rule frozen") == true)
        // Lifting the freeze is a request someone else who may freeze approves (the treasurer here).
        let lift = try await f.call(.post, "/v1/custody/wallets/hot-1/freeze", as: .finance, json: #"{"frozen":false}"#)
        #expect(lift.status == .accepted && lift.json["action"] as? String == "custody.wallet.unfreeze")
        let liftRequest = try #require(lift.json["id"] as? String)
        #expect(try await f.call(.post, "/v1/custody/unfreezes/\(liftRequest)/execute", as: .finance).status == .conflict)
        try await approve(f, request: liftRequest, as: try #require(f.members[.treasurer]))
        let lifted = try await f.call(.post, "/v1/custody/unfreezes/\(liftRequest)/execute", as: .finance)
        #expect(lifted.status == .ok && lifted.json["frozen"] as? Bool == false)
        #expect(try await f.call(.post, "/v1/custody/unfreezes/\(liftRequest)/execute", as: .finance).status == .conflict)
        #expect(try await f.call(.post, "/v1/custody/wallets/nowhere/freeze", as: .finance, json: #"{"frozen":false}"#).status == .notFound)

        let entry = try await f.call(.post, "/v1/custody/whitelist", as: .treasurer, json: #"{"asset":"BTC","address":"bc1qexample","label":"cold storage"}"#)
        #expect(entry.status == .created && entry.json["status"] as? String == "pending")
        let entryID = try #require(entry.json["id"] as? String)
        #expect(try await f.call(.post, "/v1/custody/whitelist/\(entryID)/activate", as: .treasurer).status == .conflict)
        #expect((try await f.call(.get, "/v1/custody/whitelist", as: .auditor).json["entries"] as? [Any])?.count == 1)

        let reconciled = try await f.call(.post, "/v1/custody/reconciliations", as: .finance, json: #"{"day":"2026-11-20"}"#)
        #expect(reconciled.status == .ok && reconciled.json["day"] as? String == "2026-11-20")
        #expect(try await f.call(.get, "/v1/custody/reconciliations/2026-11-20", as: .auditor).status == .ok)
        let badDay = try await f.call(.post, "/v1/custody/reconciliations", as: .finance, json: #"{"day":"20-11-2026"}"#)
        #expect(badDay.status == .badRequest && badDay.json["field"] as? String == "day")
        #expect(try await f.call(.get, "/v1/custody/alerts", as: .auditor).status == .ok)
    }

    // Goal: the reserve over HTTP: a rule set proposed, approved by signature, adopted; volumes
    // and insurance; a funding request that cannot run before its approval.
    @Test func reserveWrites() async throws {
        let f = try await ServerFixture()
        let yaml = try JSONSerialization.data(withJSONObject: ["yaml": RuleSet.defaultYAML])
        let proposed = try await f.call(.post, "/v1/reserve/rule-sets", as: .finance, json: String(decoding: yaml, as: UTF8.self))
        #expect(proposed.status == .created && proposed.json["status"] as? String == "proposed")
        let version = try #require(proposed.json["version"] as? String)
        let early = try await f.call(.post, "/v1/reserve/rule-sets/\(version)/adopt", as: .finance)
        #expect(early.status == .conflict)
        try await approve(f, request: try #require(proposed.json["request"] as? String), as: f.secondFinance)
        let adopted = try await f.call(.post, "/v1/reserve/rule-sets/\(version)/adopt", as: .finance)
        #expect(adopted.status == .ok && adopted.json["status"] as? String == "adopted" && adopted.json["adopted_at"] != nil)
        let badYAML = try await f.call(.post, "/v1/reserve/rule-sets", as: .finance, json: #"{"yaml":"version: [broken"}"#)
        #expect(badYAML.status == .badRequest)
        #expect((try await f.call(.get, "/v1/reserve/rule-sets", as: .auditor).json["rule_sets"] as? [Any])?.count == 1)

        let volumes = try await f.call(.post, "/v1/reserve/volumes", as: .finance, json: """
            {"volumes":[{"day":"2026-11-20","category":"spot","amount_jpy":"1200000000"},{"day":"2026-11-21","category":"spot","amount_jpy":"800000000"}]}
            """)
        #expect(volumes.status == .ok && (volumes.json["volumes"] as? [[String: Any]])?.map { $0["amount_jpy"] as? String } == ["1200000000", "800000000"])
        let badDay = try await f.call(.post, "/v1/reserve/volumes", as: .finance, json: #"{"volumes":[{"day":"tomorrow","category":"spot","amount_jpy":"1"}]}"#)
        #expect(badDay.status == .badRequest && badDay.json["field"] as? String == "volumes[0].day")
        let badAmount = try await f.call(.post, "/v1/reserve/volumes", as: .finance, json: #"{"volumes":[{"day":"2026-11-20","category":"spot","amount_jpy":"1.5"}]}"#)
        #expect(badAmount.status == .badRequest && badAmount.json["field"] as? String == "volumes[0].amount_jpy")
        #expect(try await f.call(.post, "/v1/reserve/volumes/refresh", as: .finance).json["recorded"] as? Int == 0)
        #expect((try await f.call(.get, "/v1/reserve/volumes", as: .inspector).json["volumes"] as? [Any])?.count == 2)

        let policy = try await f.call(.post, "/v1/reserve/insurance", as: .finance, json: """
            {"insurer":"Tokio Marine","coverage":["hack"],"limit":"500000000","deductible":"10000000","starts":"2026-01-01","ends":"2026-12-31"}
            """)
        #expect(policy.status == .created && policy.json["remaining"] as? String == "500000000" && policy.json["claimed"] as? String == "0")
        #expect((try await f.call(.get, "/v1/reserve/insurance", as: .inspector).json["policies"] as? [Any])?.count == 1)

        let requirement = try await f.call(.post, "/v1/reserve/requirement", as: .finance)
        #expect(requirement.status == .ok && requirement.json["rule_version"] as? String == version)
        let funding = try await f.call(.post, "/v1/reserve/funding", as: .finance, json: #"{"amount":"1000000"}"#)
        #expect(funding.status == .created && funding.json["action"] as? String == "reserve.fund" && funding.json["satisfied"] as? Bool == false)
        let fundingID = try #require(funding.json["id"] as? String)
        #expect(try await f.call(.post, "/v1/reserve/funding/\(fundingID)/execute", as: .finance).status == .conflict)
        #expect(try await f.call(.post, "/v1/reserve/funding", as: .finance, json: #"{"amount":"-5"}"#).json["field"] as? String == "amount")
        #expect(try await f.call(.post, "/v1/reserve/funding", as: .treasurer, json: #"{"amount":"5"}"#).status == .forbidden)
    }

    // Goal: incidents over HTTP: declaring freezes the wallet and snapshots holdings; a plan is
    // filed for approval and cannot be paid before it; insolvency needs its confirmation word.
    @Test func incidentsAndInsolvency() async throws {
        let f = try await ServerFixture()
        _ = try await f.call(.post, "/v1/custody/vendors", as: .treasurer, json: #"{"name":"acme","notice_date":"2026-01-05","notice_reference":"FSA-1"}"#)
        _ = try await f.call(.post, "/v1/custody/wallets", as: .treasurer, json: """
            {"id":"hot-1","chain":"ethereum","temperature":"hot","purpose":"customer_pool","assets":["ETH"],"vendor":"acme","vendor_version":"1"}
            """)
        _ = try await f.call(.post, "/v1/ledger/accounts", as: .operator, json: """
            {"accounts":[{"id":"41","asset":"ETH","code":100,"class":"customer_liability","flags":["debits_must_not_exceed_credits"],"owner":"1"},
                         {"id":"42","asset":"ETH","code":100,"class":"customer_liability","flags":["debits_must_not_exceed_credits"],"owner":"2"}]}
            """)
        let hot = Wallet.accountID(wallet: "hot-1", asset: "ETH")
        try await f.adoptMonitoring()
        try await f.deposit([("60", "41", hot.description, "3"), ("61", "42", hot.description, "1")])
        _ = try await f.call(.post, "/v1/custody/observations/prices", as: .operator, json: #"{"prices":[{"asset":"ETH","price":"500000"}]}"#)

        let noLosses = try await f.call(.post, "/v1/incidents", as: .finance, json: #"{"losses":[{"wallet":"hot-1","asset":"ETH","amount":"x"}],"lost_at":"2026-11-22T00:00:00Z"}"#)
        #expect(noLosses.status == .badRequest && noLosses.json["field"] as? String == "losses[0].amount")
        let badTime = try await f.call(.post, "/v1/incidents", as: .finance, json: #"{"losses":[{"wallet":"hot-1","asset":"ETH","amount":"2"}],"lost_at":"yesterday"}"#)
        #expect(badTime.status == .badRequest && badTime.json["field"] as? String == "lost_at")
        // Lost after the deposits (a time may also be given in nanoseconds since 1970).
        let lostAt = f.services.clock.now()
        let declared = try await f.call(.post, "/v1/incidents", as: .finance, json: """
            {"loss_type":"hack","losses":[{"wallet":"hot-1","asset":"ETH","amount":"2"}],"lost_at":"\(lostAt)"}
            """)
        #expect(declared.status == .created && declared.json["status"] as? String == "declared" && declared.json["loss_jpy"] as? String == "1000000")
        let incident = try #require(declared.json["id"] as? Int)
        #expect((try await f.call(.get, "/v1/custody/wallets", as: .auditor).json["wallets"] as? [[String: Any]])?.first?["frozen"] as? Bool == true)

        let noPrice = try await f.call(.post, "/v1/incidents/\(incident)/plans", as: .finance, json: #"{"asset":"ETH","mode":"jpy"}"#)
        #expect(noPrice.status == .badRequest && noPrice.json["field"] as? String == "price")
        let plan = try await f.call(.post, "/v1/incidents/\(incident)/plans", as: .finance, json: #"{"asset":"ETH","mode":"jpy","price":"500000"}"#)
        #expect(plan.status == .created && plan.json["customers"] as? Int == 2 && plan.json["total_loss"] as? String == "2.000000000000000000", "\(plan.text)")
        #expect(plan.json["payment_asset"] as? String == "JPY" && plan.json["total_payment"] as? String == "1000000")
        #expect(try await f.call(.get, "/v1/incidents/\(incident)/plans/ETH", as: .auditor).json["request"] as? String == plan.json["request"] as? String)
        #expect(try await f.call(.get, "/v1/incidents/\(incident)/plans/BTC", as: .auditor).status == .notFound)
        let statement = try #require(try await f.call(.get, "/v1/incidents/\(incident)/plans/ETH/statement", as: .finance).json["lines"] as? [[String: Any]])
        #expect(statement.map { $0["owner"] as? String } == ["1", "2"] && statement.map { $0["payment"] as? String } == ["750000", "250000"])
        #expect(try await f.call(.post, "/v1/incidents/\(incident)/plans/ETH/pay", as: .finance).status == .conflict)
        #expect(try await f.call(.post, "/v1/incidents/abc/plans/ETH/pay", as: .finance).status == .badRequest)

        let unconfirmed = try await f.call(.post, "/v1/insolvency", as: .admin, json: #"{"confirm":"yes"}"#)
        #expect(unconfirmed.status == .badRequest && unconfirmed.json["field"] as? String == "confirm")
        #expect(try await f.call(.post, "/v1/insolvency", as: .finance, json: #"{"confirm":"FREEZE"}"#).status == .forbidden)
        let frozen = try await f.call(.post, "/v1/insolvency", as: .admin, json: #"{"confirm":"FREEZE"}"#)
        #expect(frozen.status == .ok && frozen.json["since"] != nil)
        let schedule = try await f.call(.get, "/v1/insolvency/schedule", as: .inspector)
        #expect(schedule.status == .ok)
        let eth = try #require((schedule.json["totals"] as? [[String: Any]])?.first { $0["asset"] as? String == "ETH" })
        #expect(eth["claims"] as? String == "4.000000000000000000")
    }

    // Goal: monitoring administration over HTTP: rule sets, lists, jurisdictions, profiles.
    @Test func monitoringAdministration() async throws {
        let f = try await ServerFixture()
        let yaml = try JSONSerialization.data(withJSONObject: ["yaml": MonitoringRules.defaultYAML])
        let proposed = try await f.call(.post, "/v1/monitoring/rule-sets", as: .compliance, json: String(decoding: yaml, as: UTF8.self))
        #expect(proposed.status == .created && proposed.json["version"] as? String == "2026.3-default")
        #expect(try await f.call(.post, "/v1/monitoring/rule-sets/2026.3-default/adopt", as: .compliance).status == .conflict)
        try await approve(f, request: try #require(proposed.json["request"] as? String), as: f.secondCompliance)
        let live = try await f.call(.post, "/v1/monitoring/rule-sets/2026.3-default/adopt", as: .compliance)
        #expect(live.status == .ok && live.json["status"] as? String == "adopted")
        #expect(try await f.call(.post, "/v1/monitoring/rule-sets/none/adopt", as: .compliance).status == .notFound)
        let ruleSets = try #require(try await f.call(.get, "/v1/monitoring/rule-sets", as: .auditor).json["rule_sets"] as? [[String: Any]])
        #expect(ruleSets.map { $0["version"] as? String } == ["2026.3-default"] && ruleSets.first?["status"] as? String == "adopted")
        #expect(try await f.call(.get, "/v1/monitoring/rule-sets", as: .operator).status == .forbidden)

        let listBody = """
            {"kind":"sanctioned","asset":"ETH","version":"2026-11-01","text":"0x098B716B8Aaf21512996dC57EB0615e2383E2f96\\n0x8589427373D6D84E98730D7795D8f6f8731FDA16\\n"}
            """
        let listProposal = try await f.call(.post, "/v1/monitoring/lists", as: .compliance, json: listBody)
        #expect(listProposal.status == .accepted && listProposal.json["action"] as? String == "monitor.lists.replace")
        let listRequest = try #require(listProposal.json["id"] as? String)
        let activateBody = listBody.replacingOccurrences(of: #"{"kind""#, with: #"{"request":"\#(listRequest)","kind""#)
        #expect(try await f.call(.post, "/v1/monitoring/lists/activate", as: .compliance, json: activateBody).status == .conflict)
        try await approve(f, request: listRequest, as: f.secondCompliance)
        let other = activateBody.replacingOccurrences(of: "0x098B716B8Aaf21512996dC57EB0615e2383E2f96", with: "0x0")
        let swapped = try await f.call(.post, "/v1/monitoring/lists/activate", as: .compliance, json: other)
        #expect(swapped.status == .conflict && swapped.json["field"] as? String == "file", "another list than the one approved")
        let list = try await f.call(.post, "/v1/monitoring/lists/activate", as: .compliance, json: activateBody)
        #expect(list.status == .ok && list.json["addresses"] as? Int == 2)
        #expect(try await f.call(.post, "/v1/monitoring/lists", as: .operator, json: #"{"kind":"stolen","asset":"ETH","version":"1","text":""}"#).status == .forbidden)
        #expect((try await f.call(.get, "/v1/monitoring/lists", as: .auditor).json["lists"] as? [[String: Any]])?.first?["version"] as? String == "2026-11-01")

        let shipped = try await f.call(.get, "/v1/monitoring/jurisdictions", as: .inspector)
        #expect(shipped.json["version"] as? String == "fsa-2024-05-01" && (shipped.json["countries"] as? [String])?.count == 29)
        let designations = try #require(shipped.json["designations"] as? [[String: Any]])
        #expect(designations.count == 29 && designations.first { $0["country"] as? String == "GB" }?["from"] as? String == "2024-05-01")
        let noJapan = try await f.call(.put, "/v1/monitoring/jurisdictions", as: .compliance, json: #"{"version":"2026-12","countries":["US","SG"]}"#)
        #expect(noJapan.status == .badRequest)
        let both = try await f.call(.put, "/v1/monitoring/jurisdictions", as: .compliance,
                                    json: #"{"version":"2026-12","countries":["JP"],"designations":[{"country":"JP"}]}"#)
        #expect(both.status == .badRequest && both.json["field"] as? String == "designations")
        let backwards = try await f.call(.put, "/v1/monitoring/jurisdictions", as: .compliance,
                                         json: #"{"version":"2026-12","designations":[{"country":"JP"},{"country":"SG","from":"2025-01-01","until":"2024-01-01"}]}"#)
        #expect(backwards.status == .badRequest && backwards.json["field"] as? String == "countries")
        let filed = try await f.call(.put, "/v1/monitoring/jurisdictions", as: .compliance,
                                     json: #"{"version":"2026-12","designations":[{"country":"SG"},{"country":"JP"},{"country":"US","from":"2023-06-01"}]}"#)
        #expect(filed.status == .accepted)
        let jurisdictionsRequest = try #require(filed.json["id"] as? String)
        try await approve(f, request: jurisdictionsRequest, as: f.secondCompliance)
        let set = try await f.call(.post, "/v1/monitoring/jurisdictions/activate", as: .compliance, json: #"{"request":"\#(jurisdictionsRequest)"}"#)
        #expect(set.status == .ok && set.json["countries"] as? [String] == ["JP", "SG", "US"])
        #expect((set.json["designations"] as? [[String: Any]])?.compactMap { $0["from"] as? String } == ["2023-06-01"])
        #expect(try await f.call(.get, "/v1/monitoring/jurisdictions", as: .inspector).json["version"] as? String == "2026-12")

        let profiles = try await f.call(.post, "/v1/monitoring/profiles", as: .compliance, json: """
            {"csv":"customer,name,country,declared_income_jpy,declared_assets_jpy\\n5,Yamada Taro,JP,6000000,20000000\\n"}
            """)
        #expect(profiles.status == .ok && profiles.json["recorded"] as? Int == 1)
        let badProfile = try await f.call(.post, "/v1/monitoring/profiles", as: .compliance, json: """
            {"csv":"customer,name,country,declared_income_jpy,declared_assets_jpy\\nx,Yamada Taro,JP,6000000,20000000\\n"}
            """)
        #expect(badProfile.status == .badRequest)
    }

    // Goal: every write operation checks the caller's role: an auditor (reads everything,
    // changes nothing) gets 403 from each, and nothing is stored.
    @Test func auditorsChangeNothing() async throws {
        let f = try await ServerFixture()
        let writes: [(HTTPRequest.Method, String, String?)] = [
            (.post, "/v1/ledger/assets", #"{"code":"SOL","scale":9,"kind":"crypto","ledger":40}"#),
            (.post, "/v1/ledger/accounts", #"{"accounts":[{"id":"77","asset":"JPY","code":1,"class":"customer_liability"}]}"#),
            (.post, "/v1/ledger/transfers", #"{"transfers":[{"id":"77","debit_account_id":"901","credit_account_id":"11","amount":"1","asset":"JPY","code":"deposit"}]}"#),
            (.post, "/v1/ledger/pulse", nil),
            (.post, "/v1/governance/principals", #"{"name":"x.y"}"#),
            (.post, "/v1/governance/principals/operator.one/roles", #"{"role":"treasurer"}"#),
            (.delete, "/v1/governance/principals/operator.one/roles/operator", nil),
            (.post, "/v1/governance/principals/operator.one/enrolments", nil),
            (.post, "/v1/custody/vendors", #"{"name":"acme"}"#),
            (.post, "/v1/custody/wallets", #"{"id":"w","chain":"c","temperature":"hot","purpose":"customer_pool","assets":["BTC"],"vendor":"v","vendor_version":"1"}"#),
            (.post, "/v1/custody/wallets/w/freeze", #"{"frozen":true,"reason":"r"}"#),
            (.post, "/v1/custody/observations/balances", #"{"observations":[{"wallet":"w","asset":"BTC","amount":"1"}]}"#),
            (.post, "/v1/custody/observations/prices", #"{"prices":[{"asset":"BTC","price":"1"}]}"#),
            (.post, "/v1/custody/whitelist", #"{"asset":"BTC","address":"bc1q"}"#),
            (.post, "/v1/custody/movements", #"{"kind":"hot_to_cold","from":"w","to":"v","asset":"BTC","amount":"1"}"#),
            (.post, "/v1/custody/reconciliations", #"{"day":"2026-11-20"}"#),
            (.post, "/v1/reserve/rule-sets", #"{"yaml":"x"}"#),
            (.post, "/v1/reserve/volumes", #"{"volumes":[{"day":"2026-11-20","category":"spot","amount_jpy":"1"}]}"#),
            (.post, "/v1/reserve/volumes/refresh", nil),
            (.post, "/v1/reserve/insurance", #"{"insurer":"i","coverage":["hack"],"limit":"1","starts":"2026-01-01","ends":"2026-12-31"}"#),
            (.post, "/v1/reserve/requirement", nil),
            (.post, "/v1/reserve/funding", #"{"amount":"1"}"#),
            (.post, "/v1/incidents", #"{"losses":[{"wallet":"w","asset":"BTC","amount":"1"}],"lost_at":"2026-11-22T00:00:00Z"}"#),
            (.post, "/v1/insolvency", #"{"confirm":"FREEZE"}"#),
            (.post, "/v1/monitoring/rule-sets", #"{"yaml":"x"}"#),
            (.post, "/v1/monitoring/lists", #"{"kind":"stolen","asset":"ETH","version":"1","text":"0xab"}"#),
            (.put, "/v1/monitoring/jurisdictions", #"{"version":"1","countries":["JP"]}"#),
            (.post, "/v1/monitoring/profiles", #"{"csv":"customer,name,country,declared_income_jpy,declared_assets_jpy\n"}"#),
            (.post, "/v1/monitoring/events", nil),
        ]
        let before = try await f.services.governance.store.auditSize()
        for (method, path, body) in writes {
            let answer = path == "/v1/monitoring/events"
                ? try await f.call(method, path, as: .auditor, ndjson: "{}")
                : try await f.call(method, path, as: .auditor, json: body)
            #expect(answer.status == .forbidden && answer.json["code"] as? String == "forbidden", "\(method) \(path): \(answer.status) \(answer.text)")
        }
        // Each refusal is audited; nothing else was written.
        #expect(try await f.services.governance.store.auditSize() >= before)
        #expect((try await f.call(.get, "/v1/custody/wallets", as: .auditor).json["wallets"] as? [Any])?.isEmpty == true)
        #expect(await f.services.ledger.statistics.accounts == 6)
    }

    /// Signs request `id` over HTTP as `member`, with the key they registered.
    func approve(_ f: ServerFixture, request id: String, as member: Member) async throws {
        let key = try #require(member.key)
        let request = try await f.call(.get, "/v1/governance/approvals/\(id)", token: member.token)
        let digest = try Hex.decode(try #require(request.json["digest"] as? String), field: "digest")
        let signed = try await f.call(.post, "/v1/governance/approvals/\(id)/signatures", token: member.token,
                                      json: #"{"key_id":"\#(SignerKey.id(of: try key.publicKey()))","signature":"\#(Hex.encode(try key.sign(digest)))"}"#)
        #expect(signed.status == .ok && signed.json["satisfied"] as? Bool == true, "\(signed.text)")
    }
}

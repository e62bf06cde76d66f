import Foundation
import GRDB
import KinkoCore
import KinkoGovernance
import KinkoLedger
import KinkoPlaybook
import KinkoSQLite
import Testing

/// A database with a hand-moved clock, its governance service and its two first admins.
struct GovernanceFixture {
    let temp: TemporaryDatabase
    let database: KinkoDatabase
    let clock: ManualWallClock
    let governance: Governance
    let staff: Staff
    var admin: Caller { staff.admins[0].caller }
    var second: Member { staff.admins[1] }

    init(duties: SegregationOfDuties = .standard, start: TimestampNanoseconds = 1_800_000_000_000_000_000) async throws {
        temp = try TemporaryDatabase()
        clock = ManualWallClock(start)
        database = try KinkoDatabase(path: temp.path, clock: clock)
        governance = Governance(store: SQLiteGovernanceStore(database: database), clock: clock, duties: duties)
        staff = try await Staff.found(governance, admins: ["admin", "admin2"])
    }

    /// A new principal holding `roles`, brought on by the two admins (no key yet).
    func person(_ name: String, _ roles: [Role]) async throws -> (Caller, String) {
        let member = try await staff.hire(name, roles: roles, key: nil)
        return (member.caller, member.token)
    }

    /// Registers a fresh key for `caller` (approved by the second admin where it must be).
    func key(for caller: Caller, _ algorithm: SignatureAlgorithm = .ed25519) async throws -> LocalSigningKey {
        let key = LocalSigningKey.generate(algorithm)
        let registered = try await Staff.register(key, for: caller, in: governance)
        if let request = registered.requestID { try await second.approve(request, in: governance) }
        return key
    }

    func approve(_ id: ApprovalRequestID, by caller: Caller, key: LocalSigningKey) async throws -> ApprovalEvaluation {
        let request = try #require(try await governance.store.request(id))
        return try await governance.approve(id, keyID: SignerKey.id(of: try key.publicKey()), signature: try key.sign(request.digest), by: caller)
    }
}

@Suite("Governance on SQLite")
struct GovernanceStoreTests {
    // Goal: tokens authenticate until they expire or are revoked; secrets are stored hashed;
    // a principal issues tokens for itself only.
    @Test func tokensExpireAndRevoke() async throws {
        let f = try await GovernanceFixture()
        let (operatorCaller, _) = try await f.person("ops", [.operator])
        let (record, secret) = try await f.governance.issueOwnToken(lifetimeSeconds: 60, by: operatorCaller)
        #expect(record.status == .active && record.issuedBy == nil)
        #expect(try await f.governance.authenticate(token: secret).name == "ops")
        f.clock.advance(seconds: 60)
        let expired = await #expect(throws: KinkoError.self) { try await f.governance.authenticate(token: secret) }
        #expect(expired?.code == .unauthenticated)
        let (fresh, freshSecret) = try await f.governance.issueOwnToken(lifetimeSeconds: nil, by: operatorCaller)
        try await f.governance.revokeToken(fresh.id, by: operatorCaller)
        await #expect(throws: KinkoError.self) { try await f.governance.authenticate(token: freshSecret) }
        await #expect(throws: KinkoError.self) { try await f.governance.authenticate(token: "kinko_" + String(repeating: "0", count: 64)) }
        await #expect(throws: KinkoError.self) { try await f.governance.authenticate(token: nil) }
        let stored = try await DatabaseQueue(path: f.temp.path).read { db in try Data.fetchAll(db, sql: "SELECT secret_hash FROM tokens") }
        #expect(stored.allSatisfy { $0.count == 32 } && !stored.contains(Data(secret.utf8)))
        #expect(record.expiresAt == 1_800_000_000_000_000_000 + 60_000_000_000)
        let long = await #expect(throws: KinkoError.self) {
            try await f.governance.issueOwnToken(lifetimeSeconds: TokenSecret.lifetimeSecondsMax + 1, by: operatorCaller)
        }
        #expect(long?.field == "lifetime")
        // Another principal's token: only an admin revokes it.
        let (auditor, _) = try await f.person("audit", [.auditor])
        let (other, otherSecret) = try await f.governance.issueOwnToken(lifetimeSeconds: nil, by: auditor)
        let refused = await #expect(throws: KinkoError.self) { try await f.governance.revokeToken(other.id, of: auditor.principal, by: operatorCaller) }
        #expect(refused?.code == .forbidden)
        try await f.governance.revokeToken(other.id, of: auditor.principal, by: f.admin)
        await #expect(throws: KinkoError.self) { try await f.governance.authenticate(token: otherSecret) }
    }

    // Goal: a token reused for the pre-trade check is reused for one second at most; a
    // revocation in this process ends the reuse at once, one in another process (another
    // Governance over the same database) within that second; the token's own expiry holds; a
    // lookup that does not ask for reuse always goes to the store.
    @Test func reusedAuthenticationHasABoundedLifetime() async throws {
        let f = try await GovernanceFixture()
        let (engine, _) = try await f.person("engine", [.operator])
        let (record, secret) = try await f.governance.issueOwnToken(lifetimeSeconds: 60, by: engine)
        let looked = ContinuousClock.now
        #expect(try await f.governance.authenticate(token: secret, reusing: true).name == "engine")
        #expect(f.governance.authenticationCache.count == 1)
        // Revoked by another process: this one reuses it until its second is up; other calls refuse at once.
        let elsewhere = Governance(store: f.governance.store, clock: f.clock)
        let revokedAt = ContinuousClock.now
        try await elsewhere.revokeToken(record.id, by: engine)
        let reused = try? await f.governance.authenticate(token: secret, reusing: true)
        // (On a machine so loaded that the second passed meanwhile, the reuse has ended: nothing to check.)
        if ContinuousClock.now - looked < AuthenticationCache.lifetime { #expect(reused?.name == "engine") }
        let direct = await #expect(throws: KinkoError.self) { try await f.governance.authenticate(token: secret) }
        #expect(direct?.code == .unauthenticated)
        try await Task.sleep(until: revokedAt + AuthenticationCache.lifetime + .milliseconds(50))
        let later = await #expect(throws: KinkoError.self) { try await f.governance.authenticate(token: secret, reusing: true) }
        #expect(later?.code == .unauthenticated && f.governance.authenticationCache.count == 0)

        // Revoked in this process: at once.
        let (second, secondSecret) = try await f.governance.issueOwnToken(lifetimeSeconds: 60, by: engine)
        _ = try await f.governance.authenticate(token: secondSecret, reusing: true)
        try await f.governance.revokeToken(second.id, by: engine)
        await #expect(throws: KinkoError.self) { try await f.governance.authenticate(token: secondSecret, reusing: true) }

        // The token's expiry holds for a reused token: valid at 59 s, not at 60 s.
        let (_, thirdSecret) = try await f.governance.issueOwnToken(lifetimeSeconds: 60, by: engine)
        _ = try await f.governance.authenticate(token: thirdSecret, reusing: true)
        f.clock.advance(seconds: 59)
        #expect(try await f.governance.authenticate(token: thirdSecret, reusing: true).name == "engine")  // from the cache or the store: valid either way
        f.clock.advance(seconds: 1)
        await #expect(throws: KinkoError.self) { try await f.governance.authenticate(token: thirdSecret, reusing: true) }
    }

    // Goal: a grant that breaks segregation of duties is refused (admin conflicts with every
    // operational role); the report finds pairs that exist after the table changes.
    @Test func segregationOfDuties() async throws {
        let f = try await GovernanceFixture()
        let (treasurer, _) = try await f.person("sato", [.treasurer, .operator])
        let refused = await #expect(throws: KinkoError.self) { try await f.governance.grantRole(.signer, to: treasurer.principal, by: f.admin) }
        #expect(refused?.message == "sato may not hold both treasurer and signer: who initiates a movement must not approve it")
        for role: Role in [.operator, .treasurer, .signer, .finance, .compliance] {
            let own = await #expect(throws: KinkoError.self) { try await f.governance.grantRole(role, to: f.admin.principal, by: f.admin) }
            #expect(own?.code == .conflict && own?.field == "role")
        }
        #expect(try await f.governance.dutiesReport(by: f.admin).isEmpty)
        let stricter = SegregationOfDuties(SegregationOfDuties.standard.conflicts + [.init(.operator, .treasurer, "new policy")])
        let changed = Governance(store: f.governance.store, clock: f.clock, duties: stricter)
        let report = try await changed.dutiesReport(by: f.admin)
        #expect(report.map { "\($0.principal.name): \($0.conflict.first.rawValue)+\($0.conflict.second.rawValue)" } == ["sato: operator+treasurer"])
    }

    // Goal: maker-checker end to end — a grant needs another admin's signed approval; the
    // initiator cannot approve; nobody approves twice; it runs exactly once.
    @Test func roleGrantNeedsAnotherAdmin() async throws {
        let f = try await GovernanceFixture()
        let second = f.second.caller
        let (ops, _) = try await f.person("ops", [])
        let firstKey = try #require(f.staff.admins[0].key)
        let secondKey = try #require(f.second.key)
        let request = try await f.governance.grantRole(.operator, to: ops.principal, by: f.admin)
        let early = await #expect(throws: KinkoError.self) { try await f.governance.execute(request.id, by: f.admin) }
        #expect(early?.message == "request \(request.id) (governance.roles.grant) is not approved yet: 0 of 1 approvals")
        let own = await #expect(throws: KinkoError.self) { try await f.approve(request.id, by: f.admin, key: firstKey) }
        #expect(own?.message == "the initiator of request \(request.id) cannot approve it")
        let wrongKey = await #expect(throws: KinkoError.self) { try await f.approve(request.id, by: second, key: firstKey) }
        #expect(wrongKey?.code == .approvalRefused)
        #expect(try await f.approve(request.id, by: second, key: secondKey).isSatisfied)
        let again = await #expect(throws: KinkoError.self) { try await f.approve(request.id, by: second, key: secondKey) }
        #expect(again?.message == "admin2 already approved request \(request.id)")
        // Two executions at once: exactly one wins.
        let governance = f.governance, admin = f.admin
        let successes = await withTaskGroup(of: Bool.self) { group in
            for caller in [admin, second] {
                group.addTask { (try? await governance.execute(request.id, by: caller)) != nil }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(successes == 1)
        #expect(try await f.governance.store.principal(ops.principal)?.roles == [.operator])
        let executed = try await f.governance.store.request(request.id)
        #expect(executed?.status == .executed)
    }

    // Goal: a changed request and a revoked key both withdraw approvals already given; a key
    // is revoked only once another admin approves the revocation.
    @Test func revisionsAndRevokedKeysWithdrawApprovals() async throws {
        let f = try await GovernanceFixture()
        let second = f.second.caller
        let (ops, _) = try await f.person("ops", [])
        let secondKey = try #require(f.second.key)
        let request = try await f.governance.grantRole(.operator, to: ops.principal, by: f.admin)
        #expect(try await f.approve(request.id, by: second, key: secondKey).isSatisfied)
        let revised = try await f.governance.revise(request.id, payload: ["principal": .string(String(ops.principal.rawValue)), "role": "finance"], by: f.admin)
        #expect(revised.revision == 2)
        #expect(try await f.governance.evaluate(request.id).reasons == ["0 of 1 approvals"])
        #expect(try await f.approve(request.id, by: second, key: secondKey).isSatisfied)
        let revocation = try await f.governance.revokeKey(SignerKey.id(of: try secondKey.publicKey()), by: f.admin)
        #expect(try await f.governance.evaluate(request.id).isSatisfied)
        _ = try await f.approve(revocation.id, by: second, key: secondKey)
        #expect(try await f.governance.store.keys().first { $0.principal == second.principal }?.revokedAt != nil)
        #expect(try await f.governance.evaluate(request.id).reasons == ["0 of 1 approvals"])
        await #expect(throws: KinkoError.self) { try await f.governance.execute(request.id, by: f.admin) }
    }

    // Goal: a key is registered only with proof of possession.
    @Test func keyRegistrationNeedsProof() async throws {
        let f = try await GovernanceFixture()
        let key = LocalSigningKey.generate(.ed25519)
        let other = LocalSigningKey.generate(.ed25519)
        let publicKey = try key.publicKey()
        let badProof = try other.sign(SignerKey.registrationMessage(principal: f.admin.principal, algorithm: .ed25519, publicKey: publicKey))
        let error = await #expect(throws: KinkoError.self) {
            try await f.governance.registerKey(algorithm: .ed25519, publicKey: publicKey, proof: badProof, by: f.admin)
        }
        #expect(error?.field == "proof")
        await #expect(throws: KinkoError.self) {
            try await f.governance.registerKey(algorithm: .p256, publicKey: [1, 2, 3], proof: [], by: f.admin)
        }
    }

    // Goal: every change is audited in its own transaction, refusals too, and the log verifies.
    @Test func changesAndRefusalsAreAudited() async throws {
        let f = try await GovernanceFixture()
        let (inspector, _) = try await f.person("fsa", [.inspector])
        let before = try await f.governance.store.auditSize()
        await #expect(throws: KinkoError.self) { try await f.governance.createPrincipal(name: "x", kind: .person, by: inspector) }
        let entries = try await f.governance.store.auditEntries(from: before, limit: 10).map { try AuditEntry(bytes: $0.bytes) }
        #expect(entries.map { "\($0.event.principalName) \($0.event.action) \($0.event.result)" } == ["fsa governance.principals.create forbidden"])
        let publicKey = try #require(f.database.auditSigner?.publicKey)
        let report = try await f.governance.verifyAudit(publicKey: publicKey)
        #expect(report.problems == [] && report.entries == before + 1)
    }
}

@Suite("Audit log tampering on SQLite", .serialized)
struct AuditTamperTests {
    /// A database with a few audited ledger batches and governance changes.
    static func populated() async throws -> GovernanceFixture {
        let f = try await GovernanceFixture()
        let (ops, _) = try await f.person("ops", [.operator])
        let ledger = try await Ledger.open(store: SQLiteLedgerStore(database: f.database), clock: f.clock)
        try await ledger.registerAssets(Asset.standard, by: f.admin)
        #expect(try await ledger.createAccounts([customer(1), customer(2)], by: ops) == [.ok, .ok])
        return f
    }

    static func verify(_ f: GovernanceFixture) async throws -> AuditVerifier.Report {
        try await f.governance.verifyAudit(publicKey: #require(f.database.auditSigner?.publicKey))
    }

    static func edit(_ f: GovernanceFixture, _ sql: String, _ arguments: StatementArguments = []) async throws {
        let raw = try DatabaseQueue(path: f.temp.path)
        try await raw.write { db in try db.execute(sql: sql, arguments: arguments) }
        try raw.close()
    }

    @Test func untouched() async throws {
        let f = try await Self.populated()
        let report = try await Self.verify(f)
        let size = try await f.governance.store.auditSize()
        #expect(report.problems == [] && report.entries == size)
    }

    @Test func updatedEntry() async throws {
        let f = try await Self.populated()
        let stored = try await f.governance.store.auditEntries(from: 3, limit: 1)
        var entry = try AuditEntry(bytes: try #require(stored.first).bytes)
        entry.event.principalName = "someone-else"
        try await Self.edit(f, "UPDATE audit_entries SET entry = ? WHERE position = 3", [Data(entry.bytes)])
        let first = try await Self.verify(f).first
        #expect(first == AuditProblem(kind: .modified, index: 3, message: "entry 3 does not match the signed checkpoint for size 4"))
    }

    @Test func deletedEntry() async throws {
        let f = try await Self.populated()
        try await Self.edit(f, "DELETE FROM audit_entries WHERE position = 5")
        #expect(try await Self.verify(f).first == AuditProblem(kind: .deleted, index: 5, message: "entry 5 is missing: the next stored position is 6"))
    }

    @Test func swappedRows() async throws {
        let f = try await Self.populated()
        try await Self.edit(f, """
            UPDATE audit_entries SET position = -1 WHERE position = 2;
            UPDATE audit_entries SET position = 2 WHERE position = 6;
            UPDATE audit_entries SET position = 6 WHERE position = -1;
            """)
        #expect(try await Self.verify(f).first == AuditProblem(kind: .reordered, index: 2, message: "entries 2 and 6 were swapped"))
    }

    @Test func forgedCheckpoint() async throws {
        let f = try await Self.populated()
        let forger = AuditSigner.generate().signer
        let head = try #require(try await f.governance.store.auditCheckpoints().last)
        let forged = try forger.checkpoint(size: head.size, root: head.root, time: 1)
        try await Self.edit(f, "UPDATE audit_checkpoints SET signature = ?, key_id = ? WHERE size = ?",
                            [Data(forged.signature), Data(forged.keyID), head.size])
        #expect(try await Self.verify(f).first == AuditProblem(
            kind: .forgedCheckpoint, index: head.size, message: "the checkpoint for size \(head.size) does not carry a valid signature"))
    }

    @Test func truncatedTail() async throws {
        let f = try await Self.populated()
        let size = try await f.governance.store.auditSize()
        try await Self.edit(f, "DELETE FROM audit_entries WHERE position >= ?", [size - 2])
        #expect(try await Self.verify(f).first?.kind == .truncated)
    }

    // Goal: each ledger batch is one entry carrying the batch digest, written with the batch.
    @Test func ledgerBatchesAreAuditedWithTheirDigest() async throws {
        let f = try await Self.populated()
        let entries = try await f.governance.store.auditEntries(from: 0, limit: 100).map { try AuditEntry(bytes: $0.bytes) }
        let batches = try await SQLiteLedgerStore(database: f.database).batches(after: 0, limit: 10)
        let ledgerEntries = entries.filter { $0.event.action.hasPrefix("ledger.") }
        #expect(ledgerEntries.map(\.event.requestDigest) == batches.map(\.digest))
        #expect(ledgerEntries.map { $0.event.details["batch"] } == ["1", "2"])
        #expect(ledgerEntries.last?.event.result == "2 ok")
    }
}

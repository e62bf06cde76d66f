import KinkoCore
import Testing

@testable import KinkoGovernance

@Suite("Approvals")
struct ApprovalTests {
    static let now: TimestampNanoseconds = 1_800_000_000_000_000_000

    struct Party {
        let principal: Principal
        let key: LocalSigningKey
        let signerKey: SignerKey
    }

    static func party(_ id: UInt128, _ roles: Set<Role>, _ algorithm: SignatureAlgorithm = .ed25519) throws -> Party {
        let key = LocalSigningKey.generate(algorithm)
        let principal = Principal(id: PrincipalID(id), name: "p\(id)", kind: .person, roles: roles, createdAt: 0)
        return Party(principal: principal, key: key,
                     signerKey: SignerKey(principal: principal.id, algorithm: algorithm, publicKey: try key.publicKey(), registeredAt: 0))
    }

    static func request(initiator: UInt128 = 1, revision: Int = 1, timeLock: UInt64 = 0) throws -> ApprovalRequest {
        ApprovalRequest(id: ApprovalRequestID(9), action: "custody.movement", payload: ["amount": "5"],
                        policy: try ApprovalPolicy(approvalsRequired: 2, eligibleRoles: [.signer]), revision: revision,
                        initiator: PrincipalID(initiator), createdAt: now, notBefore: now + timeLock, expiresAt: now + 3_600_000_000_000)
    }

    static func approve(_ party: Party, _ request: ApprovalRequest, at offset: UInt64 = 0) throws -> Approval {
        Approval(requestID: request.id, approver: party.principal.id, keyID: party.signerKey.id, digest: request.digest,
                 signature: try party.key.sign(request.digest), approvedAt: now + offset)
    }

    func evaluate(_ request: ApprovalRequest, _ policy: ApprovalPolicy, _ approvals: [Approval], _ parties: [Party],
                  at time: TimestampNanoseconds = ApprovalTests.now) -> ApprovalEvaluation {
        ApprovalEvaluation.evaluate(
            request, policy: policy, approvals: approvals,
            keys: Dictionary(uniqueKeysWithValues: parties.map { ($0.signerKey.id, $0.signerKey) }),
            principals: Dictionary(uniqueKeysWithValues: parties.map { ($0.principal.id, $0.principal) }), now: time)
    }

    // Goal: m of n at the limit passes, one short fails and says how many are missing.
    @Test func quorumAtLimitAndOneShort() throws {
        let parties = try [Self.party(1, [.treasurer]), Self.party(2, [.signer]), Self.party(3, [.signer]), Self.party(4, [.signer], .p256)]
        let policy = try ApprovalPolicy(approvalsRequired: 2, eligibleRoles: [.signer])
        let request = try Self.request()
        let one = try [Self.approve(parties[1], request)]
        #expect(evaluate(request, policy, one, parties).reasons == ["1 of 2 approvals"])
        let two = try one + [Self.approve(parties[3], request, at: 1)]
        let evaluation = evaluate(request, policy, two, parties)
        #expect(evaluation.isSatisfied)
        #expect(evaluation.counted == [PrincipalID(2), PrincipalID(4)])
    }

    // Goal: approvals that must not count do not: the initiator's, a repeat, a revoked key's,
    // one over an earlier revision, one by someone without an eligible role, a bad signature.
    @Test func approvalsThatDoNotCount() throws {
        var parties = try [Self.party(1, [.signer]), Self.party(2, [.signer]), Self.party(3, [.signer]), Self.party(5, [.auditor])]
        let policy = try ApprovalPolicy(approvalsRequired: 1, eligibleRoles: [.signer])
        let request = try Self.request(initiator: 1)
        #expect(evaluate(request, policy, [try Self.approve(parties[0], request)], parties).counted == [])
        #expect(evaluate(request, policy, [try Self.approve(parties[3], request)], parties).counted == [])
        let twice = try [Self.approve(parties[1], request), Self.approve(parties[1], request, at: 5)]
        #expect(evaluate(request, policy, twice, parties).counted == [PrincipalID(2)])
        let revised = try Self.request(initiator: 1, revision: 2)
        #expect(evaluate(revised, policy, [try Self.approve(parties[1], request)], parties).reasons == ["0 of 1 approvals"])
        var forged = try Self.approve(parties[2], request)
        forged.signature[3] ^= 1
        #expect(evaluate(request, policy, [forged], parties).counted == [])
        let honest = try Self.approve(parties[2], request)
        #expect(evaluate(request, policy, [honest], parties).isSatisfied)
        parties[2] = Party(principal: parties[2].principal, key: parties[2].key,
                           signerKey: SignerKey(principal: PrincipalID(3), algorithm: .ed25519, publicKey: parties[2].signerKey.publicKey,
                                                registeredAt: 0, revokedAt: Self.now))
        #expect(evaluate(request, policy, [honest], parties).counted == [])
    }

    // Goal: "at least k from role R" at its limit and one short.
    @Test func minimumFromRole() throws {
        let parties = try [Self.party(2, [.signer]), Self.party(3, [.signer]), Self.party(4, [.compliance])]
        let policy = try ApprovalPolicy(approvalsRequired: 2, eligibleRoles: [.signer, .compliance], minimumFromRole: [.compliance: 1])
        let request = try Self.request()
        let signersOnly = try [Self.approve(parties[0], request), Self.approve(parties[1], request, at: 1)]
        #expect(evaluate(request, policy, signersOnly, parties).reasons == ["0 of at least 1 approvals from compliance"])
        let mixed = try [Self.approve(parties[0], request), Self.approve(parties[2], request, at: 1)]
        #expect(evaluate(request, policy, mixed, parties).isSatisfied)
    }

    // Goal: the time lock opens exactly at not-before; the request lapses exactly at expiry.
    @Test func timeLockAndExpiry() throws {
        let parties = try [Self.party(2, [.signer])]
        let policy = try ApprovalPolicy(approvalsRequired: 1, eligibleRoles: [.signer], timeLockSeconds: 60)
        let request = try Self.request(timeLock: 60_000_000_000)
        let approvals = try [Self.approve(parties[0], request)]
        #expect(evaluate(request, policy, approvals, parties, at: request.notBefore - 1).reasons.count == 1)
        #expect(evaluate(request, policy, approvals, parties, at: request.notBefore).isSatisfied)
        #expect(evaluate(request, policy, approvals, parties, at: request.expiresAt - 1).isSatisfied)
        #expect(evaluate(request, policy, approvals, parties, at: request.expiresAt).reasons.first?.hasPrefix("the request expired") == true)
    }

    @Test func policyLimits() throws {
        #expect(try ApprovalPolicy(approvalsRequired: 16, eligibleRoles: [.signer]).approvalsRequired == 16)
        #expect((#expect(throws: KinkoError.self) { try ApprovalPolicy(approvalsRequired: 17, eligibleRoles: [.signer]) })?.field == "approvals_required")
        #expect(throws: KinkoError.self) { try ApprovalPolicy(approvalsRequired: 0, eligibleRoles: [.signer]) }
        #expect(try ApprovalPolicy(approvalsRequired: 1, eligibleRoles: [.signer], expirySeconds: 30 * 86_400).expirySeconds == 2_592_000)
        #expect(throws: KinkoError.self) { try ApprovalPolicy(approvalsRequired: 1, eligibleRoles: [.signer], expirySeconds: 30 * 86_400 + 1) }
        #expect(throws: KinkoError.self) { try ApprovalPolicy(approvalsRequired: 1, eligibleRoles: [.signer], minimumFromRole: [.signer: 2]) }
    }

    // Goal: the digest covers every field that matters and is SHA-256 of the documented bytes.
    @Test func digestIsOverTheCanonicalRequest() throws {
        let request = try Self.request()
        #expect(request.canonical.text == #"{"action":"custody.movement","expires_at":"1800003600000000000","id":"9","initiator":"1","not_before":"1800000000000000000","payload":{"amount":"5"},"policy":{"approvals_required":"2","eligible_roles":["signer"],"expiry_seconds":"604800","minimum_from_role":{},"time_lock_seconds":"0"},"revision":"1","type":"kinko.approval.request.v1"}"#)
        var changed = request
        changed.payload = ["amount": "6"]
        #expect(changed.digest != request.digest)
    }
}

@Suite("Roles and permissions")
struct PermissionTests {
    /// The expected matrix, written out: command class → roles allowed. Every other role is refused.
    static let expected: [(Permission, Set<Role>)] = [
        (.ledgerRead, Set(Role.allCases)),
        (.ledgerAssetsAdd, [.admin]),
        (.ledgerAccountsCreate, [.operator, .treasurer, .finance]),
        (.ledgerTransfersCreate, [.operator, .treasurer, .finance]),
        (.ledgerPulse, [.operator, .admin]),
        (.principalsCreate, [.admin]),
        (.principalsEnrol, [.admin]),
        (.rolesGrant, [.admin]),
        // Everyone issues tokens for themselves only; revoking another's token is an admin's.
        (.tokensIssue, Set(Role.allCases)),
        (.tokensRevoke, [.admin]),
        (.keysRevoke, [.admin]),
        (.approvalsExecute, [.admin, .treasurer, .finance, .compliance]),
        (.governanceRead, [.admin, .auditor, .inspector, .administrator, .compliance, .finance]),
        (.auditRead, [.admin, .auditor, .inspector, .administrator, .compliance, .finance]),
    ]

    // Goal: each role against each command class, allowed and refused.
    @Test(arguments: Role.allCases)
    func roleAgainstEveryCommandClass(role: Role) throws {
        for (permission, allowed) in Self.expected {
            let caller = Caller(principal: Principal(id: PrincipalID(3), name: "x", kind: .person, roles: [role], createdAt: 0))
            if allowed.contains(role) {
                #expect(try caller.role(for: permission) == role, "\(role) → \(permission.rawValue)")
            } else {
                let error = #expect(throws: KinkoError.self, "\(role) → \(permission.rawValue)") { try caller.role(for: permission) }
                #expect(error?.code == .forbidden)
            }
        }
    }

    @Test func refusalNamesWhoAndWhatIsNeeded() {
        let caller = Caller(principal: Principal(id: PrincipalID(3), name: "fsa.inspector", kind: .person, roles: [.inspector], createdAt: 0))
        let error = #expect(throws: KinkoError.self) { try caller.role(for: .ledgerTransfersCreate) }
        #expect(error?.message == "fsa.inspector (inspector) may not run ledger.transfers.create; it needs one of: operator, treasurer, finance")
        #expect(PermissionTable.standard.roles.count == Permission.allCases.count, "every command is in the table")
    }

    @Test func segregationOfDutiesTable() {
        let duties = SegregationOfDuties.standard
        #expect(duties.conflicts(in: [.treasurer, .signer]).map(\.reason) == ["who initiates a movement must not approve it"])
        #expect(duties.conflicts(in: [.operator, .auditor]).count == 1)
        #expect(duties.conflicts(in: [.treasurer, .operator, .finance]).isEmpty)
        #expect(duties.conflicts(in: [.inspector, .auditor]).count == 1)
        #expect(duties.conflicts(in: [.administrator, .auditor]).isEmpty)
    }
}

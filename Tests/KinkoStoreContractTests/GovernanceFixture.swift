import Foundation
import KinkoCore
import KinkoGovernance
import KinkoStores
import Testing

/// A database (SQLite or PostgreSQL, from the harness) with governance, a manual clock and the
/// bootstrap admin: the start of every end-to-end contract test.
struct GovernanceFixture {
    let harness: StoreHarness
    let stores: KinkoStores
    let clock: ManualWallClock
    let governance: Governance
    let admin: Caller

    init(_ harness: StoreHarness, duties: SegregationOfDuties = .standard, start: TimestampNanoseconds = 1_800_000_000_000_000_000) async throws {
        self.harness = harness
        clock = ManualWallClock(start)
        stores = try await harness.stores(clock: clock)
        governance = Governance(store: stores.governance, clock: clock, duties: duties)
        let (_, token) = try await governance.bootstrap(adminName: "admin")
        admin = try await governance.authenticate(token: token)
    }

    /// The same database through a new connection, as a restarted process would see it.
    func reopened() async throws -> KinkoStores { try await harness.stores(clock: clock) }

    var publicKey: [UInt8] { get throws { try #require(stores.auditSigner?.publicKey) } }

    /// A new principal holding `roles`, granted while the database still has one admin.
    func person(_ name: String, _ roles: [Role]) async throws -> (Caller, String) {
        let principal = try await governance.createPrincipal(name: name, kind: .person, by: admin)
        for role in roles { _ = try await governance.grantRole(role, to: principal.id, by: admin) }
        let (_, token) = try await governance.issueToken(for: principal.id, lifetimeSeconds: nil, by: admin)
        return (try await governance.authenticate(token: token), token)
    }

    /// Registers a fresh key for `caller` and returns it.
    func key(for caller: Caller, _ algorithm: SignatureAlgorithm = .ed25519) async throws -> LocalSigningKey {
        let key = LocalSigningKey.generate(algorithm)
        let publicKey = try key.publicKey()
        let proof = try key.sign(SignerKey.registrationMessage(principal: caller.principal, algorithm: algorithm, publicKey: publicKey))
        _ = try await governance.registerKey(algorithm: algorithm, publicKey: publicKey, proof: proof, by: caller)
        return key
    }

    func approve(_ id: ApprovalRequestID, by caller: Caller, key: LocalSigningKey) async throws -> ApprovalEvaluation {
        let request = try #require(try await governance.store.request(id))
        return try await governance.approve(id, keyID: SignerKey.id(of: try key.publicKey()), signature: try key.sign(request.digest), by: caller)
    }
}

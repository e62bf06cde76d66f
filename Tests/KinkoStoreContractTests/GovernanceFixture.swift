import Foundation
import KinkoCore
import KinkoGovernance
import KinkoPlaybook
import KinkoStores
import Testing

/// A database (SQLite or PostgreSQL, from the harness) with governance, a manual clock and the
/// bootstrap admin: the start of every end-to-end contract test.
struct GovernanceFixture {
    let harness: StoreHarness
    let stores: KinkoStores
    let clock: ManualWallClock
    let governance: Governance
    let staff: Staff
    let admin: Caller

    /// `refusals`: the refusal limit (suites that count every refusal's audit entry raise it).
    init(_ harness: StoreHarness, duties: SegregationOfDuties = .standard, start: TimestampNanoseconds = 1_800_000_000_000_000_000,
         refusals: RefusalLimiter.Settings = .standard) async throws {
        self.harness = harness
        clock = ManualWallClock(start)
        stores = try await harness.stores(clock: clock)
        governance = Governance(store: stores.governance, clock: clock, duties: duties, refusalLimiter: RefusalLimiter(settings: refusals))
        staff = try await Staff.found(governance, admins: ["admin", "second.admin"])
        admin = staff.admins[0].caller
    }

    /// The same database through a new connection, as a restarted process would see it.
    func reopened() async throws -> KinkoStores { try await harness.stores(clock: clock) }

    var publicKey: [UInt8] { get throws { try #require(stores.auditSigner?.publicKey) } }

    /// A new principal holding `roles`, brought on by the two admins (no key yet).
    func person(_ name: String, _ roles: [Role]) async throws -> (Caller, String) {
        let member = try await staff.hire(name, roles: roles, key: nil)
        return (member.caller, member.token)
    }

    /// Registers a fresh key for `caller` (approved by the second admin where it must be) and
    /// returns it.
    func key(for caller: Caller, _ algorithm: SignatureAlgorithm = .ed25519) async throws -> LocalSigningKey {
        let key = LocalSigningKey.generate(algorithm)
        let registered = try await Staff.register(key, for: caller, in: governance)
        if let request = registered.requestID { try await staff.admins[1].approve(request, in: governance) }
        return key
    }

    func approve(_ id: ApprovalRequestID, by caller: Caller, key: LocalSigningKey) async throws -> ApprovalEvaluation {
        let request = try #require(try await governance.store.request(id))
        return try await governance.approve(id, keyID: SignerKey.id(of: try key.publicKey()), signature: try key.sign(request.digest), by: caller)
    }
}

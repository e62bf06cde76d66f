public import KinkoCore
public import KinkoGovernance

/// What front ends read from the reserve, each read authorized here (a refusal is audited).
extension Reserve {
    public func volumes(by caller: Caller) async throws -> [String: [String: Amount]] {
        _ = try await governance.authorize(caller, .reserveRead)
        return try await store.volumes()
    }

    public func insurancePolicies(by caller: Caller) async throws -> [InsurancePolicy] {
        _ = try await governance.authorize(caller, .reserveRead)
        return try await store.policies()
    }

    public func adequacy(by caller: Caller) async throws -> [AdequacyPoint] {
        _ = try await governance.authorize(caller, .reserveRead)
        return try await store.adequacy()
    }

    /// The latest adequacy point, for `/metrics` (figures only, no customer data).
    public func latestAdequacyForMetrics() async throws -> AdequacyPoint? {
        try await store.adequacy().last
    }

    public func incidents(by caller: Caller) async throws -> [Incident] {
        _ = try await governance.authorize(caller, .reserveRead)
        return try await store.incidents()
    }

    public func storedPlan(incident: UInt64, asset: String, by caller: Caller) async throws -> StoredPlan {
        _ = try await governance.authorize(caller, .reserveRead)
        guard let stored = try await store.plan(incident: incident, asset: asset) else {
            throw KinkoError(.notFound, "no plan for incident \(incident) in \(asset)", field: "asset")
        }
        return stored
    }

    public func insolvencySince(by caller: Caller) async throws -> TimestampNanoseconds? {
        _ = try await governance.authorize(caller, .insolvencyRead)
        return try await store.insolvencySince()
    }
}

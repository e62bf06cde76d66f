public import KinkoCore
public import KinkoGovernance

/// What front ends read from monitoring, each read authorized here (a refusal is audited).
extension Monitoring {
    public func addressLists(by caller: Caller) async throws -> [AddressList] {
        _ = try await governance.authorize(caller, .monitorRead)
        return try await store.addressLists()
    }

    public func jurisdictions(by caller: Caller) async throws -> TravelRuleJurisdictions {
        _ = try await governance.authorize(caller, .monitorRead)
        return try await store.jurisdictions() ?? .starter
    }

    public func alertCounts(by caller: Caller) async throws -> [String: Int] {
        _ = try await governance.authorize(caller, .monitorRead)
        return try await store.alertCounts()
    }

    /// Alert counts for the server's gauges (`/metrics`, when exposed): no caller, nothing audited.
    public func alertCountsForMetrics() async throws -> [String: Int] {
        try await store.alertCounts()
    }
}

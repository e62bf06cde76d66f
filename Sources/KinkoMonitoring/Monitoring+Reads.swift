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
        return try await store.jurisdictions() ?? .designatedByFSA
    }

    /// The travel-rule jurisdictions in force, for a front end that authorized its caller
    /// already (the regulatory-parameters view; the list is public law).
    public func jurisdictionsInForce() async throws -> TravelRuleJurisdictions {
        try await store.jurisdictions() ?? .designatedByFSA
    }

    /// The travel-rule message of one transfer (its event id), for those who may read customers'
    /// records: the message holds the originator's and beneficiary's identity data.
    public func travelRuleMessage(event: String, by caller: Caller) async throws -> TravelRuleMessage {
        _ = try await governance.authorize(caller, .customersRead)
        guard let message = try await store.travelRuleMessage(event: event) else {
            throw KinkoError(.notFound, "no travel-rule message is stored for event \(event.prefix(MonitoringEvent.idLengthMax))", field: "event")
        }
        return message
    }

    /// A customer's travel-rule messages, oldest first, a page at a time (after the event of
    /// the last one read).
    public func travelRuleMessages(customer: UInt64, after event: String? = nil, limit: Int? = nil, by caller: Caller) async throws -> [TravelRuleMessage] {
        _ = try await governance.authorize(caller, .customersRead)
        let limit = try Governance.page(limit)
        var cursor: (TimestampNanoseconds, String)?
        if let event {
            guard let last = try await store.travelRuleMessage(event: event), last.customer == customer else {
                throw KinkoError(.notFound, "no travel-rule message of customer \(customer) for event \(event.prefix(MonitoringEvent.idLengthMax))", field: "after")
            }
            cursor = (last.time, last.event)
        }
        return try await store.travelRuleMessages(customer: customer, after: cursor, limit: limit)
    }

    /// How many years transaction records are kept under the retention policy in force (the
    /// law's 7 before one is adopted): a travel-rule message is kept at least that long.
    public func transactionRetentionYears() async throws -> Int {
        try await AdoptedDocuments<RetentionPolicy>(governance: governance).inForce().years(.transactions)
    }

    public func alertCounts(by caller: Caller) async throws -> [String: Int] {
        _ = try await governance.authorize(caller, .monitorRead)
        return try await store.alertCounts()
    }

    /// Alert counts for the server's gauges (`/metrics`, when exposed): no caller, nothing audited.
    public func alertCountsForMetrics() async throws -> [String: Int] {
        try await store.alertCounts()
    }

    /// Customers' names by number, for those who may read customers' records
    /// (`customers.read`); customers with no KYC profile are absent.
    public func customerNames(_ customers: [UInt64], by caller: Caller) async throws -> [UInt64: String] {
        _ = try await governance.authorize(caller, .customersRead)
        let unique = Array(Set(customers.filter { $0 != 0 }))
        guard unique.count <= Self.namesPerReadMax else {
            throw KinkoError(.invalidInput, "at most \(Self.namesPerReadMax) customers a read", field: "customers")
        }
        return Dictionary(try await store.profiles(unique).map { ($0.customer, $0.name) }, uniquingKeysWith: { first, _ in first })
    }

    /// Customers whose names one read returns (a page of a list, an alert's customers).
    public static let namesPerReadMax = 1_000

    /// The money movements behind an alert: the stored transfers between customers among the
    /// events its hits name (the first `flowEventsMax` of them), for drawing who paid whom.
    /// Events that were not transfers between two customers (deposits, withdrawals to external
    /// addresses, logins) have none.
    public func alertFlows(_ id: UInt64, by caller: Caller) async throws -> (alert: MonitoringAlert, transfers: [CustomerTransfer]) {
        let alert = try await self.alert(id, by: caller)
        var events: [String] = []
        var seen: Set<String> = []
        for event in alert.hits.flatMap(\.events) where events.count < Self.flowEventsMax && seen.insert(event).inserted { events.append(event) }
        return (alert, try await store.customerTransfers(events: events).sorted { ($0.time, $0.event) < ($1.time, $1.event) })
    }

    /// Events of one alert whose transfers `alertFlows` reads.
    public static let flowEventsMax = 200

    /// Alerts raised per day over the last `days` days up to `now` (JST days, numbered from
    /// 1970-01-01 JST; days with none are absent), for the console's volume chart.
    public func alertsRaisedPerDay(days: Int, now: TimestampNanoseconds, by caller: Caller) async throws -> [Int64: Int] {
        _ = try await governance.authorize(caller, .monitorRead)
        guard (1...Self.volumeDaysMax).contains(days) else { throw KinkoError(.invalidInput, "must be 1–\(Self.volumeDaysMax)", field: "days") }
        let today = Self.jstDayNumber(of: now)
        let first = today - Int64(days) + 1
        let since = UInt64(max(0, first * 86_400 - Int64(Self.jstOffsetSeconds))) * 1_000_000_000
        return try await store.alertsRaisedPerDay(since: since).filter { $0.key >= first }
    }

    public static let volumeDaysMax = 3_660
    /// Nine hours: JST is UTC+9 all year.
    static let jstOffsetSeconds: UInt64 = 9 * 3_600

    /// The JST day an instant falls on, numbered from 1970-01-01 JST (the keys of
    /// `alertsRaisedPerDay`); in whole seconds first, so no step can overflow.
    public static func jstDayNumber(of time: TimestampNanoseconds) -> Int64 { Int64((time / 1_000_000_000 + jstOffsetSeconds) / 86_400) }
}

import Foundation
public import KinkoCore
public import KinkoGovernance
public import KinkoMonitoring
import NIOCore
import PostgresNIO

/// Monitoring in PostgreSQL: the same tables, answers and errors as `SQLiteMonitoringStore`.
/// Every write and its audit entry commit in one transaction (`KinkoPostgresDatabase.audited`);
/// many rows go in one statement per chunk (arrays unnested), not one round trip a row.
public struct PostgresMonitoringStore: MonitoringStore, PostgresStore {
    let database: KinkoPostgresDatabase

    /// Rows one statement writes or looks up at most (an import holds up to 1,000,000).
    static let rowsPerStatementMax = 10_000

    /// `items` in slices of at most `rowsPerStatementMax`.
    private static func chunks<T>(_ items: [T]) -> [ArraySlice<T>] {
        stride(from: 0, to: items.count, by: rowsPerStatementMax).map { items[$0..<min($0 + rowsPerStatementMax, items.count)] }
    }

    /// One pair per key, the last one given winning, in first-seen order: SQLite's `INSERT OR
    /// REPLACE` row by row does the same, and PostgreSQL refuses to upsert one key twice in a
    /// statement.
    private static func lastPerKey<Key: Hashable, Value>(_ pairs: [(Key, Value)]) -> [(Key, Value)] {
        var index: [Key: Int] = [:]
        var result: [(Key, Value)] = []
        for (key, value) in pairs {
            if let position = index[key] {
                result[position] = (key, value)
            } else {
                index[key] = result.count
                result.append((key, value))
            }
        }
        return result
    }

    // MARK: State (synchronous: the engine loads state while it evaluates)

    /// Batches are evaluated on the blocking reader's own thread (see `BlockingReader`).
    public var blockingReadsExecutor: (any TaskExecutor)? { database.blockingReader.executor }

    public func customerState(_ customer: UInt64) throws -> [UInt8]? {
        try database.blockingReader.rows("SELECT state FROM monitor_state WHERE customer = \(PostgresValues.int(customer))").first
            .map { [UInt8](try $0.decode(Data.self)) }
    }

    public func ipState(_ ip: String) throws -> [UInt8]? {
        try database.blockingReader.rows("SELECT state FROM monitor_ip_state WHERE ip = \(ip)").first.map { [UInt8](try $0.decode(Data.self)) }
    }

    public func profile(_ customer: UInt64) throws -> CustomerProfile? {
        try database.blockingReader.rows("""
            SELECT customer, name, country, declared_income_jpy, declared_assets_jpy FROM monitor_customers WHERE customer = \(PostgresValues.int(customer))
            """).first.map { row in
            let (customer, name, country, income, assets) = try row.decode((Int64, String, String, Int64, Int64).self)
            return CustomerProfile(customer: PostgresValues.uint(customer), name: name, country: country,
                                   declaredIncomeJPY: PostgresValues.uint(income), declaredAssetsJPY: PostgresValues.uint(assets))
        }
    }

    // MARK: Lists

    public func addressListVersions() async throws -> [String] {
        try await database.read { connection in try await Self.listVersions(connection, logger: logger) }
    }

    private static func listVersions(_ connection: PostgresConnection, logger: Logger) async throws -> [String] {
        var versions: [String] = []
        for try await (kind, asset, version) in try await connection.answered("""
            SELECT kind, asset, version FROM monitor_lists ORDER BY kind COLLATE "C", asset COLLATE "C"
            """, logger: logger).decode((String, String, String).self) {
            versions.append("\(kind)/\(asset)/\(version)")
        }
        return versions
    }

    public func addressLists() async throws -> [AddressList] {
        try await database.read { connection in
            var addresses: [String: Set<String>] = [:]
            for try await (kind, asset, address) in try await connection.answered("SELECT kind, asset, address FROM monitor_list_addresses", logger: logger)
                .decode((String, String, String).self) {
                addresses[kind + "/" + asset, default: []].insert(address)
            }
            var lists: [AddressList] = []
            // COLLATE "C": byte order, as SQLite sorts text.
            for try await (kindName, asset, version) in try await connection.answered("""
                SELECT kind, asset, version FROM monitor_lists ORDER BY kind COLLATE "C", asset COLLATE "C"
                """, logger: logger).decode((String, String, String).self) {
                guard let kind = AddressListKind(rawValue: kindName) else { throw KinkoError(.storageCorrupted, "a list has an unknown kind") }
                lists.append(AddressList(kind: kind, asset: asset, version: version, addresses: addresses[kind.rawValue + "/" + asset] ?? []))
            }
            return lists
        }
    }

    public func importAddressList(_ list: AddressList, at time: TimestampNanoseconds, alongside: [RecordWrite], audit: AuditEvent) async throws {
        let addresses = list.addresses.sorted()
        try await PostgresRecords.moved(as: "the list's approval was used or changed meanwhile") {
        try await database.audited(audit) { connection in
            try await PostgresRecords.apply(alongside, at: time, connection: connection, logger: logger)
            try await connection.answered("DELETE FROM monitor_list_addresses WHERE kind = \(list.kind.rawValue) AND asset = \(list.asset)", logger: logger)
            for chunk in Self.chunks(addresses) {
                try await connection.answered("""
                    INSERT INTO monitor_list_addresses (kind, asset, address)
                    SELECT \(list.kind.rawValue), \(list.asset), address FROM unnest(\(Array(chunk))::text[]) AS t(address)
                    """, logger: logger)
            }
            try await connection.answered("""
                INSERT INTO monitor_lists (kind, asset, version, imported_ns, addresses)
                VALUES (\(list.kind.rawValue), \(list.asset), \(list.version), \(PostgresValues.int(time)), \(Int64(list.addresses.count)))
                ON CONFLICT (kind, asset) DO UPDATE
                SET version = excluded.version, imported_ns = excluded.imported_ns, addresses = excluded.addresses
                """, logger: logger)
            try await connection.answered("""
                INSERT INTO monitor_list_imports (kind, asset, version, imported_ns, addresses)
                VALUES (\(list.kind.rawValue), \(list.asset), \(list.version), \(PostgresValues.int(time)), \(Int64(list.addresses.count)))
                """, logger: logger)
        }
        }
    }

    public func jurisdictions() async throws -> TravelRuleJurisdictions? {
        try await database.read { connection in try await Self.jurisdictions(connection, logger: logger) }
    }

    private static func jurisdictions(_ connection: PostgresConnection, logger: Logger) async throws -> TravelRuleJurisdictions? {
        var found: (String?, String?)?
        for try await row in try await connection.answered("SELECT jurisdictions_version, jurisdictions FROM monitor_meta WHERE id = 1", logger: logger)
            .decode((String?, String?).self) { found = row }
        guard let row = found, let version = row.0, let countries = row.1 else { return nil }
        return try TravelRuleJurisdictions(version: version, text: countries)
    }

    public func setJurisdictions(_ jurisdictions: TravelRuleJurisdictions, alongside: [RecordWrite], audit: AuditEvent) async throws {
        try await PostgresRecords.moved(as: "the list's approval was used or changed meanwhile") {
            try await database.audited(audit) { connection in
                try await PostgresRecords.apply(alongside, at: database.clock.now(), connection: connection, logger: logger)
                try await connection.answered("""
                    UPDATE monitor_meta SET jurisdictions_version = \(jurisdictions.version),
                        jurisdictions = \(jurisdictions.text) WHERE id = 1
                    """, logger: logger)
            }
        }
    }

    // MARK: Profiles

    public func importProfiles(_ profiles: [CustomerProfile], audit: AuditEvent) async throws {
        let unique = Self.lastPerKey(profiles.map { ($0.customer, $0) }).map { $0.1 }
        try await database.audited(audit) { connection in
            for chunk in Self.chunks(unique) {
                try await connection.answered("""
                    INSERT INTO monitor_customers (customer, name, country, declared_income_jpy, declared_assets_jpy)
                    SELECT * FROM unnest(\(chunk.map { PostgresValues.int($0.customer) })::bigint[], \(chunk.map(\.name))::text[],
                                         \(chunk.map(\.country))::text[], \(chunk.map { PostgresValues.int($0.declaredIncomeJPY) })::bigint[],
                                         \(chunk.map { PostgresValues.int($0.declaredAssetsJPY) })::bigint[])
                    ON CONFLICT (customer) DO UPDATE SET name = excluded.name, country = excluded.country,
                        declared_income_jpy = excluded.declared_income_jpy, declared_assets_jpy = excluded.declared_assets_jpy
                    """, logger: logger)
            }
        }
    }

    /// The profiles of `customers` that exist, in the order asked (a customer asked twice comes
    /// twice, as in SQLite).
    public func profiles(_ customers: [UInt64]) async throws -> [CustomerProfile] {
        guard !customers.isEmpty else { return [] }
        let found = try await database.read { connection in
            var byCustomer: [UInt64: CustomerProfile] = [:]
            for chunk in Self.chunks(customers) {
                for profile in try await Self.profiles(connection.answered("""
                    SELECT customer, name, country, declared_income_jpy, declared_assets_jpy FROM monitor_customers
                    WHERE customer = ANY(\(chunk.map(PostgresValues.int))::bigint[])
                    """, logger: logger)) {
                    byCustomer[profile.customer] = profile
                }
            }
            return byCustomer
        }
        return customers.compactMap { found[$0] }
    }

    public func prefetch(customers: [UInt64], ips: [String]) async throws -> PrefetchedState {
        let (customers, ips) = (Array(Set(customers)), Array(Set(ips)))
        return try await database.read { connection in
            var found = PrefetchedState(customers: [:], ips: [:], profiles: [])
            for chunk in Self.chunks(customers) {
                let keys = chunk.map(PostgresValues.int)
                let rows = try await connection.answered("SELECT customer, state FROM monitor_state WHERE customer = ANY(\(keys)::bigint[])", logger: logger)
                for try await (customer, state) in rows.decode((Int64, Data).self) { found.customers[PostgresValues.uint(customer)] = [UInt8](state) }
                found.profiles += try await Self.profiles(connection.answered("""
                    SELECT customer, name, country, declared_income_jpy, declared_assets_jpy FROM monitor_customers WHERE customer = ANY(\(keys)::bigint[])
                    """, logger: logger))
            }
            for chunk in Self.chunks(ips) {
                let rows = try await connection.answered("SELECT ip, state FROM monitor_ip_state WHERE ip = ANY(\(Array(chunk))::text[])", logger: logger)
                for try await (ip, state) in rows.decode((String, Data).self) { found.ips[ip] = [UInt8](state) }
            }
            return found
        }
    }

    private static func profiles(_ rows: PostgresRowSequence) async throws -> [CustomerProfile] {
        var profiles: [CustomerProfile] = []
        for try await (customer, name, country, income, assets) in rows.decode((Int64, String, String, Int64, Int64).self) {
            profiles.append(CustomerProfile(customer: PostgresValues.uint(customer), name: name, country: country,
                                            declaredIncomeJPY: PostgresValues.uint(income), declaredAssetsJPY: PostgresValues.uint(assets)))
        }
        return profiles
    }

    // MARK: Events and alerts

    public func batchStart(eventIDs ids: [String]) async throws -> BatchStart {
        try await database.read { connection in
            var batches: Int64 = 0
            for try await count in try await connection.answered("SELECT batches FROM monitor_meta WHERE id = 1", logger: logger).decode(Int64.self) {
                batches = count
            }
            var found: [String: (outcome: Outcome, alert: UInt64?)] = [:]
            for chunk in Self.chunks(ids) {
                let rows = try await connection.answered("SELECT id, outcome, alert FROM monitor_events WHERE id = ANY(\(Array(chunk))::text[])", logger: logger)
                for try await (id, outcome, alert) in rows.decode((String, String, Int64?).self) {
                    found[id] = (Outcome(rawValue: outcome) ?? .clear, alert.map(PostgresValues.uint))
                }
            }
            return BatchStart(batches: PostgresValues.uint(batches), evaluated: found, listVersions: try await Self.listVersions(connection, logger: logger),
                              jurisdictions: try await Self.jurisdictions(connection, logger: logger))
        }
    }

    /// The counter moves by compare-and-set on its row, inside the audited transaction (which
    /// holds the audit lock): of two writers expecting the same count, one records its batch and
    /// the other gets nil. As in SQLite, a conflict (nil) still commits the audit entry.
    public func recordBatch(expectedBatches: UInt64, evaluations: [Evaluation], messages: [TravelRuleMessage], customers: [(UInt64, [UInt8])],
                            ips: [(String, [UInt8])], at time: TimestampNanoseconds, audit: AuditEvent) async throws -> [String: UInt64]? {
        let details = try evaluations.map { evaluation in
            evaluation.outcome == .clear ? nil : (try MonitoringRecordJSON.encode(evaluation.hits), try MonitoringRecordJSON.encode(evaluation.scenarios))
        }
        let customerStates = Self.lastPerKey(customers)
        let ipStates = Self.lastPerKey(ips)
        return try await database.audited(audit) { connection -> [String: UInt64]? in
            guard try await KinkoPostgresDatabase.affected(connection, """
                UPDATE monitor_meta SET batches = batches + 1 WHERE id = 1 AND batches = \(PostgresValues.int(expectedBatches)) RETURNING 1
                """, logger: logger) else { return nil }
            var alerts: [String: UInt64] = [:]
            for chunk in Self.chunks(Array(zip(evaluations, details))) {
                try await Self.insertAlerts(chunk, raisedAt: time, into: &alerts, connection, logger: logger)
                try await Self.insertEvents(chunk.map { $0.0 }, alerts: alerts, batch: expectedBatches + 1, connection, logger: logger)
            }
            let transfers = evaluations.compactMap { evaluation in evaluation.counterparty.map { (evaluation, $0) } }
            for chunk in Self.chunks(transfers) {
                try await connection.answered("""
                    INSERT INTO monitor_transfers (event, sender, receiver, time_ns)
                    SELECT * FROM unnest(\(chunk.map { $0.0.event })::text[], \(chunk.map { PostgresValues.int($0.0.customer) })::bigint[],
                                         \(chunk.map { PostgresValues.int($0.1) })::bigint[], \(chunk.map { PostgresValues.int($0.0.time) })::bigint[])
                    """, logger: logger)
            }
            for chunk in Self.chunks(messages) {
                // Arrays of optionals do not bind: a present text travels as "=" + text, an absent one as "".
                func optional(_ values: [String?]) -> [String] { values.map { $0.map { "=" + $0 } ?? "" } }
                try await connection.answered("""
                    INSERT INTO monitor_travel_rule_messages (event, customer, time_ns, direction, vasp, vasp_country, asset, amount_jpy, message, recorded_ns)
                    SELECT event, customer, time_ns, direction, CASE WHEN vasp = '' THEN NULL ELSE substr(vasp, 2) END,
                           CASE WHEN country = '' THEN NULL ELSE substr(country, 2) END, CASE WHEN asset = '' THEN NULL ELSE substr(asset, 2) END,
                           amount_jpy, message, \(PostgresValues.int(time))
                    FROM unnest(\(chunk.map(\.event))::text[], \(chunk.map { PostgresValues.int($0.customer) })::bigint[],
                                \(chunk.map { PostgresValues.int($0.time) })::bigint[], \(chunk.map(\.direction.rawValue))::text[],
                                \(optional(chunk.map(\.counterpartyVASP)))::text[], \(optional(chunk.map(\.counterpartyCountry)))::text[],
                                \(optional(chunk.map(\.asset)))::text[], \(chunk.map { PostgresValues.int($0.amountJPY) })::bigint[],
                                \(chunk.map(\.ivms101))::text[])
                         AS t(event, customer, time_ns, direction, vasp, country, asset, amount_jpy, message)
                    """, logger: logger)
            }
            for chunk in Self.chunks(customerStates) {
                try await connection.answered("""
                    INSERT INTO monitor_state (customer, state)
                    SELECT * FROM unnest(\(chunk.map { PostgresValues.int($0.0) })::bigint[], \(chunk.map { ByteBuffer(bytes: $0.1) })::bytea[])
                    ON CONFLICT (customer) DO UPDATE SET state = excluded.state
                    """, logger: logger)
            }
            for chunk in Self.chunks(ipStates) {
                try await connection.answered("""
                    INSERT INTO monitor_ip_state (ip, state)
                    SELECT * FROM unnest(\(chunk.map { $0.0 })::text[], \(chunk.map { ByteBuffer(bytes: $0.1) })::bytea[])
                    ON CONFLICT (ip) DO UPDATE SET state = excluded.state
                    """, logger: logger)
            }
            return alerts
        }
    }

    /// The alerts of the alerting evaluations in `chunk`, numbered in the order given (as SQLite
    /// numbers them row by row); records each one's id under its event.
    private static func insertAlerts(_ chunk: ArraySlice<(Evaluation, (String, String)?)>, raisedAt time: TimestampNanoseconds,
                                     into alerts: inout [String: UInt64], _ connection: PostgresConnection, logger: Logger) async throws {
        var alerting: [(evaluation: Evaluation, hits: String, scenarios: String)] = []
        for (evaluation, detail) in chunk {
            if let (hits, scenarios) = detail { alerting.append((evaluation, hits, scenarios)) }
        }
        guard !alerting.isEmpty else { return }
        let rows = try await connection.answered("""
            INSERT INTO monitor_alerts (event, customer, time_ns, outcome, rule_set, hits, scenarios, status, raised_ns)
            SELECT event, customer, time_ns, outcome, rule_set, hits, scenarios, 'open', \(PostgresValues.int(time))
            FROM unnest(\(alerting.map { $0.evaluation.event })::text[], \(alerting.map { PostgresValues.int($0.evaluation.customer) })::bigint[],
                        \(alerting.map { PostgresValues.int($0.evaluation.time) })::bigint[], \(alerting.map { $0.evaluation.outcome.rawValue })::text[],
                        \(alerting.map { $0.evaluation.ruleSetVersion })::text[], \(alerting.map { $0.hits })::text[], \(alerting.map { $0.scenarios })::text[])
                 WITH ORDINALITY AS t(event, customer, time_ns, outcome, rule_set, hits, scenarios, n)
            ORDER BY n
            RETURNING id, event
            """, logger: logger)
        for try await (id, event) in rows.decode((Int64, String).self) { alerts[event] = PostgresValues.uint(id) }
    }

    private static func insertEvents(_ evaluations: [Evaluation], alerts: [String: UInt64], batch: UInt64, _ connection: PostgresConnection,
                                     logger: Logger) async throws {
        // -1 stands for "no alert" (identity ids are positive); arrays of optionals do not bind.
        let alertIDs: [Int64] = evaluations.map { evaluation in
            evaluation.outcome == .clear ? -1 : alerts[evaluation.event].map(PostgresValues.int) ?? -1
        }
        try await connection.answered("""
            INSERT INTO monitor_events (id, customer, time_ns, outcome, alert, rule_set, batch)
            SELECT id, customer, time_ns, outcome, nullif(alert, -1), rule_set, \(PostgresValues.int(batch))
            FROM unnest(\(evaluations.map(\.event))::text[], \(evaluations.map { PostgresValues.int($0.customer) })::bigint[],
                        \(evaluations.map { PostgresValues.int($0.time) })::bigint[], \(evaluations.map(\.outcome.rawValue))::text[],
                        \(alertIDs)::bigint[], \(evaluations.map(\.ruleSetVersion))::text[])
                 AS t(id, customer, time_ns, outcome, alert, rule_set)
            """, logger: logger)
    }

    public func customerTransfers(after cursor: (time: TimestampNanoseconds, event: String)?, limit: Int) async throws -> [CustomerTransfer] {
        try await database.read { connection in
            let rows = if let cursor {
                try await connection.answered("""
                    SELECT event, sender, receiver, time_ns FROM monitor_transfers
                    WHERE (time_ns, event) > (\(PostgresValues.int(cursor.time)), \(cursor.event)) ORDER BY time_ns, event LIMIT \(Int64(limit))
                    """, logger: logger)
            } else {
                try await connection.answered("SELECT event, sender, receiver, time_ns FROM monitor_transfers ORDER BY time_ns, event LIMIT \(Int64(limit))",
                                              logger: logger)
            }
            var transfers: [CustomerTransfer] = []
            for try await (event, sender, receiver, time) in rows.decode((String, Int64, Int64, Int64).self) {
                transfers.append(CustomerTransfer(event: event, from: PostgresValues.uint(sender), to: PostgresValues.uint(receiver), time: PostgresValues.uint(time)))
            }
            return transfers
        }
    }

    public func travelRuleMessage(event: String) async throws -> TravelRuleMessage? {
        try await database.read { connection in
            let rows = try await connection.answered("""
                SELECT \(unescaped: Self.messageColumns) FROM monitor_travel_rule_messages WHERE event = \(event)
                """, logger: logger)
            return try await Self.messages(rows).first
        }
    }

    public func travelRuleMessages(customer: UInt64, after cursor: (time: TimestampNanoseconds, event: String)?, limit: Int) async throws -> [TravelRuleMessage] {
        try await database.read { connection in
            let (time, event) = cursor.map { (PostgresValues.int($0.time), $0.event) } ?? (Int64.min, "")
            let rows = try await connection.answered("""
                SELECT \(unescaped: Self.messageColumns) FROM monitor_travel_rule_messages
                WHERE customer = \(PostgresValues.int(customer)) AND (time_ns, event) > (\(time), \(event)) ORDER BY time_ns, event LIMIT \(Int64(limit))
                """, logger: logger)
            return try await Self.messages(rows)
        }
    }

    private static let messageColumns = "event, customer, time_ns, direction, vasp, vasp_country, asset, amount_jpy, message, recorded_ns"

    private static func messages(_ rows: PostgresRowSequence) async throws -> [TravelRuleMessage] {
        var messages: [TravelRuleMessage] = []
        for try await row in rows {
            let (event, customer, time, direction, vasp, country, asset, jpy, message, recorded) =
                try row.decode((String, Int64, Int64, String, String?, String?, String?, Int64, String, Int64).self)
            guard let direction = TravelRuleMessage.Direction(rawValue: direction) else {
                throw KinkoError(.storageCorrupted, "a travel-rule message has an unknown direction", field: "direction")
            }
            messages.append(TravelRuleMessage(event: event, customer: PostgresValues.uint(customer), time: PostgresValues.uint(time), direction: direction,
                                              counterpartyVASP: vasp, counterpartyCountry: country, asset: asset, amountJPY: PostgresValues.uint(jpy),
                                              ivms101: message, recordedAt: PostgresValues.uint(recorded)))
        }
        return messages
    }

    public func customerTransfers(events: [String]) async throws -> [CustomerTransfer] {
        guard !events.isEmpty else { return [] }
        return try await database.read { connection in
            var transfers: [CustomerTransfer] = []
            for chunk in Self.chunks(events) {
                let rows = try await connection.answered("""
                    SELECT event, sender, receiver, time_ns FROM monitor_transfers WHERE event = ANY(\(Array(chunk))::text[])
                    """, logger: logger)
                for try await (event, sender, receiver, time) in rows.decode((String, Int64, Int64, Int64).self) {
                    transfers.append(CustomerTransfer(event: event, from: PostgresValues.uint(sender), to: PostgresValues.uint(receiver), time: PostgresValues.uint(time)))
                }
            }
            return transfers
        }
    }

    public func alertsRaisedPerDay(since: TimestampNanoseconds) async throws -> [Int64: Int] {
        try await database.read { connection in
            var counts: [Int64: Int] = [:]
            let rows = try await connection.answered("""
                SELECT (raised_ns + 32400000000000) / 86400000000000 AS day, count(*) FROM monitor_alerts
                WHERE raised_ns >= \(PostgresValues.int(since)) GROUP BY day
                """, logger: logger)
            for try await (day, count) in rows.decode((Int64, Int64).self) { counts[day] = Int(count) }
            return counts
        }
    }

    public func recordScanAlerts(_ alerts: [Evaluation], at time: TimestampNanoseconds, audit: AuditEvent) async throws -> [String: UInt64] {
        let encoded = try alerts.map { (try MonitoringRecordJSON.encode($0.hits), try MonitoringRecordJSON.encode($0.scenarios)) }
        return try await database.audited(audit) { connection -> [String: UInt64] in
            var raised: [String: UInt64] = [:]
            for (alert, (hits, scenarios)) in zip(alerts, encoded) {
                let rows = try await connection.answered("""
                    INSERT INTO monitor_alerts (event, customer, time_ns, outcome, rule_set, hits, scenarios, status, raised_ns)
                    SELECT \(alert.event), \(PostgresValues.int(alert.customer)), \(PostgresValues.int(alert.time)), \(alert.outcome.rawValue),
                           \(alert.ruleSetVersion), \(hits), \(scenarios), 'open', \(PostgresValues.int(time))
                    WHERE NOT EXISTS (SELECT 1 FROM monitor_alerts WHERE event = \(alert.event))
                    RETURNING id
                    """, logger: logger)
                for try await id in rows.decode(Int64.self) { raised[alert.event] = PostgresValues.uint(id) }
            }
            return raised
        }
    }

    public func appendAlertHit(_ id: UInt64, after previous: [RuleHit], hit: RuleHit, audit: AuditEvent) async throws -> Bool {
        let before = try MonitoringRecordJSON.encode(previous), after = try MonitoringRecordJSON.encode(previous + [hit])
        do {
            try await database.audited(audit) { connection in
                let changed = try await KinkoPostgresDatabase.count(connection, """
                    UPDATE monitor_alerts SET hits = \(after) WHERE id = \(PostgresValues.int(id)) AND hits = \(before) AND status IN ('open', 'in_case')
                    RETURNING 1
                    """, logger: logger)
                guard changed == 1 else { throw PostgresRecords.Moved() }
            }
            return true
        } catch is PostgresRecords.Moved {
            return false
        }
    }

    public func alertRefs(events: [String]) async throws -> [String: AlertRef] {
        guard !events.isEmpty else { return [:] }
        let events = Array(Set(events))
        return try await database.read { connection in
            var found: [String: AlertRef] = [:]
            for chunk in Self.chunks(events) {
                let rows = try await connection.answered("""
                    SELECT DISTINCT ON (event) event, id, status, case_id FROM monitor_alerts WHERE event = ANY(\(Array(chunk))::text[]) ORDER BY event, id
                    """, logger: logger)
                for try await (event, id, statusName, caseID) in rows.decode((String, Int64, String, Int64?).self) {
                    guard let status = AlertStatus(rawValue: statusName) else { throw KinkoError(.storageCorrupted, "an alert has an unknown status") }
                    found[event] = AlertRef(id: PostgresValues.uint(id), status: status, caseID: caseID.map(PostgresValues.uint))
                }
            }
            return found
        }
    }

    static let alertColumns = "id, event, customer, time_ns, outcome, rule_set, hits, scenarios, status, case_id, raised_ns"

    private static func alerts(_ rows: PostgresRowSequence) async throws -> [MonitoringAlert] {
        var alerts: [MonitoringAlert] = []
        for try await row in rows {
            let (id, event, customer, time, outcomeName, ruleSet, hits, scenarios, statusName, caseID, raised) =
                try row.decode((Int64, String, Int64, Int64, String, String, String, String, String, Int64?, Int64).self)
            guard let outcome = Outcome(rawValue: outcomeName), let status = AlertStatus(rawValue: statusName) else {
                throw KinkoError(.storageCorrupted, "an alert has an unknown outcome or status")
            }
            alerts.append(MonitoringAlert(id: PostgresValues.uint(id), event: event, customer: PostgresValues.uint(customer), time: PostgresValues.uint(time),
                                          outcome: outcome, ruleSetVersion: ruleSet, hits: try MonitoringRecordJSON.decode([RuleHit].self, hits),
                                          scenarios: try MonitoringRecordJSON.decode([ScenarioScore].self, scenarios), status: status,
                                          caseID: caseID.map(PostgresValues.uint), raisedAt: PostgresValues.uint(raised)))
        }
        return alerts
    }

    public func alerts(status: AlertStatus?, after: UInt64, limit: Int) async throws -> [MonitoringAlert] {
        // SQLite reads a negative LIMIT as none; PostgreSQL refuses one, and reads NULL as none.
        let rowsMax: Int64? = limit < 0 ? nil : Int64(limit)
        return try await database.read { connection in
            if let status {
                return try await Self.alerts(connection.answered("""
                    SELECT \(unescaped: Self.alertColumns) FROM monitor_alerts WHERE status = \(status.rawValue) AND id > \(PostgresValues.int(after)) ORDER BY id LIMIT \(rowsMax)
                    """, logger: logger))
            }
            return try await Self.alerts(connection.answered("""
                SELECT \(unescaped: Self.alertColumns) FROM monitor_alerts WHERE id > \(PostgresValues.int(after)) ORDER BY id LIMIT \(rowsMax)
                """, logger: logger))
        }
    }

    /// Alerts per status (for gauges and the console).
    public func alertCounts() async throws -> [String: Int] {
        try await database.read { connection in
            var counts: [String: Int] = [:]
            for try await (status, count) in try await connection.answered("SELECT status, count(*) FROM monitor_alerts GROUP BY status", logger: logger)
                .decode((String, Int64).self) {
                counts[status] = Int(count)
            }
            return counts
        }
    }

    public func alert(_ id: UInt64) async throws -> MonitoringAlert? {
        try await database.read { connection in
            try await Self.alerts(connection.answered("""
                SELECT \(unescaped: Self.alertColumns) FROM monitor_alerts WHERE id = \(PostgresValues.int(id))
                """, logger: logger)).first
        }
    }

    public func setAlertStatus(_ ids: [UInt64], expected: AlertStatus?, status: AlertStatus, caseID: UInt64?, alongside: [RecordWrite],
                               audit: AuditEvent) async throws -> Bool {
        do {
            try await database.audited(audit) { connection in
                for chunk in Self.chunks(ids) {
                    let changed = try await KinkoPostgresDatabase.count(connection, """
                        UPDATE monitor_alerts SET status = \(status.rawValue), case_id = \(caseID.map(PostgresValues.int))
                        WHERE id = ANY(\(chunk.map(PostgresValues.int))::bigint[]) AND (\(expected?.rawValue)::text IS NULL OR status = \(expected?.rawValue))
                        RETURNING 1
                        """, logger: logger)
                    guard changed == Set(chunk).count else { throw PostgresRecords.Moved() }
                }
                try await PostgresRecords.apply(alongside, at: database.clock.now(), connection: connection, logger: logger)
            }
            return true
        } catch is PostgresRecords.Moved {
            return false
        }
    }

    // MARK: Cases

    static let caseColumns = "id, title, assignee, status, disposition, opened_by, opened_ns, closed_ns, notes"

    private static func cases(_ rows: PostgresRowSequence, alerts: [Int64: [UInt64]]) async throws -> [MonitoringCase] {
        var cases: [MonitoringCase] = []
        for try await row in rows {
            let (id, title, assignee, statusName, disposition, openedBy, opened, closed, notes) =
                try row.decode((Int64, String, String?, String, String?, String, Int64, Int64?, String).self)
            guard let status = CaseStatus(rawValue: statusName) else { throw KinkoError(.storageCorrupted, "a case has an unknown status") }
            cases.append(MonitoringCase(id: PostgresValues.uint(id), title: title, assignee: assignee, status: status,
                                        disposition: disposition.flatMap(CaseDisposition.init(rawValue:)), openedBy: openedBy,
                                        openedAt: PostgresValues.uint(opened), closedAt: closed.map(PostgresValues.uint), alerts: alerts[id] ?? [],
                                        notes: try MonitoringRecordJSON.decode([CaseNote].self, notes)))
        }
        return cases
    }

    private static func caseAlerts(_ rows: PostgresRowSequence) async throws -> [Int64: [UInt64]] {
        var alerts: [Int64: [UInt64]] = [:]
        for try await (id, caseID) in rows.decode((Int64, Int64).self) { alerts[caseID, default: []].append(PostgresValues.uint(id)) }
        return alerts
    }

    public func cases(after: UInt64, limit: Int) async throws -> [MonitoringCase] {
        try await database.read { connection in
            let alerts = try await Self.caseAlerts(connection.answered("""
                SELECT id, case_id FROM monitor_alerts WHERE case_id IN
                (SELECT id FROM monitor_cases WHERE id > \(PostgresValues.int(after)) ORDER BY id LIMIT \(limit)) ORDER BY id
                """, logger: logger))
            return try await Self.cases(connection.answered("""
                SELECT \(unescaped: Self.caseColumns) FROM monitor_cases WHERE id > \(PostgresValues.int(after)) ORDER BY id LIMIT \(limit)
                """, logger: logger), alerts: alerts)
        }
    }

    public func caseRecord(_ id: UInt64) async throws -> MonitoringCase? {
        try await database.read { connection in
            let alerts = try await Self.caseAlerts(connection.answered("""
                SELECT id, case_id FROM monitor_alerts WHERE case_id = \(PostgresValues.int(id)) ORDER BY id
                """, logger: logger))
            return try await Self.cases(connection.answered("""
                SELECT \(unescaped: Self.caseColumns) FROM monitor_cases WHERE id = \(PostgresValues.int(id))
                """, logger: logger), alerts: alerts).first
        }
    }

    public func saveCase(_ record: MonitoringCase, audit: AuditEvent) async throws -> MonitoringCase {
        let notes = try MonitoringRecordJSON.encode(record.notes)
        return try await database.audited(audit) { connection in
            var stored = record
            if record.id == 0 {
                let rows = try await connection.answered("""
                    INSERT INTO monitor_cases (title, assignee, status, disposition, opened_by, opened_ns, closed_ns, notes)
                    VALUES (\(record.title), \(record.assignee), \(record.status.rawValue), \(record.disposition?.rawValue), \(record.openedBy),
                            \(PostgresValues.int(record.openedAt)), \(record.closedAt.map(PostgresValues.int)), \(notes))
                    RETURNING id
                    """, logger: logger)
                var inserted: Int64?
                for try await id in rows.decode(Int64.self) { inserted = id }
                guard let inserted else { throw KinkoError(.storageFailure, "the case insert returned no id") }
                stored.id = PostgresValues.uint(inserted)
            } else {
                try await connection.answered("""
                    UPDATE monitor_cases SET title = \(record.title), assignee = \(record.assignee), status = \(record.status.rawValue),
                        disposition = \(record.disposition?.rawValue), opened_by = \(record.openedBy), opened_ns = \(PostgresValues.int(record.openedAt)),
                        closed_ns = \(record.closedAt.map(PostgresValues.int)), notes = \(notes)
                    WHERE id = \(PostgresValues.int(record.id))
                    """, logger: logger)
            }
            guard !record.alerts.isEmpty else { return stored }
            let alertStatus: AlertStatus = record.status == .closed ? .closed : .inCase
            let caseID = PostgresValues.int(stored.id)
            var moved: Set<UInt64> = []
            let rows = try await connection.answered("""
                UPDATE monitor_alerts SET status = \(alertStatus.rawValue), case_id = \(caseID)
                WHERE id = ANY(\(record.alerts.map(PostgresValues.int))::bigint[]) AND ((case_id IS NULL AND status = 'open') OR case_id = \(caseID))
                RETURNING id
                """, logger: logger)
            for try await id in rows.decode(Int64.self) { moved.insert(PostgresValues.uint(id)) }
            // The first alert in the case's order that did not move, as SQLite reports it.
            if let alert = record.alerts.first(where: { !moved.contains($0) }) {
                throw KinkoError(.conflict, "alert \(alert) is no longer open (dismissed, or in another case)", field: "alerts")
            }
            return stored
        }
    }

    public init(database: KinkoPostgresDatabase) {
        self.database = database
    }
}

import Foundation
import GRDB
public import KinkoCore
public import KinkoGovernance
public import KinkoMonitoring

/// Monitoring in the Kinko SQLite database.
public struct SQLiteMonitoringStore: MonitoringStore, SQLiteStore {
    let database: KinkoDatabase

    // MARK: State (synchronous: the engine loads state while it evaluates)

    public func customerState(_ customer: UInt64) throws -> [UInt8]? {
        try database.pool.read { db in
            try Data.fetchOne(db, sql: "SELECT state FROM monitor_state WHERE customer = ?", arguments: [Self.int(customer)]).map { [UInt8]($0) }
        }
    }

    public func ipState(_ ip: String) throws -> [UInt8]? {
        try database.pool.read { db in
            try Data.fetchOne(db, sql: "SELECT state FROM monitor_ip_state WHERE ip = ?", arguments: [ip]).map { [UInt8]($0) }
        }
    }

    public func profile(_ customer: UInt64) throws -> CustomerProfile? {
        try database.pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM monitor_customers WHERE customer = ?", arguments: [Self.int(customer)]) }
            .map(Self.profile)
    }

    private static func profile(_ row: Row) -> CustomerProfile {
        CustomerProfile(customer: uint(row["customer"]), name: row["name"], country: row["country"], declaredIncomeJPY: uint(row["declared_income_jpy"]),
                        declaredAssetsJPY: uint(row["declared_assets_jpy"]))
    }

    // MARK: Lists

    public func addressLists() async throws -> [AddressList] {
        try await database.pool.read { db in
            var addresses: [String: Set<String>] = [:]
            let cursor = try Row.fetchCursor(db, sql: "SELECT kind, asset, address FROM monitor_list_addresses")
            while let row = try cursor.next() {
                addresses[(row["kind"] as String) + "/" + (row["asset"] as String), default: []].insert(row["address"])
            }
            return try Row.fetchAll(db, sql: "SELECT kind, asset, version FROM monitor_lists ORDER BY kind, asset").map { row in
                guard let kind = AddressListKind(rawValue: row["kind"]) else { throw KinkoError(.storageCorrupted, "a list has an unknown kind") }
                return AddressList(kind: kind, asset: row["asset"], version: row["version"], addresses: addresses[kind.rawValue + "/" + (row["asset"] as String)] ?? [])
            }
        }
    }

    public func addressListVersions() async throws -> [String] {
        try await database.pool.read(Self.listVersions)
    }

    private static func listVersions(_ db: Database) throws -> [String] {
        try Row.fetchAll(db, sql: "SELECT kind, asset, version FROM monitor_lists ORDER BY kind, asset").map { row in
            "\(row["kind"] as String)/\(row["asset"] as String)/\(row["version"] as String)"
        }
    }

    public func importAddressList(_ list: AddressList, at time: TimestampNanoseconds, alongside: [RecordWrite], audit: AuditEvent) async throws {
        try await SQLiteRecords.moved(as: "the list's approval was used or changed meanwhile") {
        try await database.audited(audit) { db in
            try SQLiteRecords.apply(alongside, at: time, db: db)
            try db.execute(sql: "DELETE FROM monitor_list_addresses WHERE kind = ? AND asset = ?", arguments: [list.kind.rawValue, list.asset])
            let insert = try db.makeStatement(sql: "INSERT INTO monitor_list_addresses (kind, asset, address) VALUES (?, ?, ?)")
            for address in list.addresses.sorted() { try insert.execute(arguments: [list.kind.rawValue, list.asset, address]) }
            try db.execute(sql: "INSERT OR REPLACE INTO monitor_lists (kind, asset, version, imported_at, addresses) VALUES (?, ?, ?, ?, ?)",
                           arguments: [list.kind.rawValue, list.asset, list.version, Self.int(time), list.addresses.count])
            try db.execute(sql: "INSERT INTO monitor_list_imports (kind, asset, version, imported_at, addresses) VALUES (?, ?, ?, ?, ?)",
                           arguments: [list.kind.rawValue, list.asset, list.version, Self.int(time), list.addresses.count])
        }
        }
    }

    public func jurisdictions() async throws -> TravelRuleJurisdictions? {
        try await database.pool.read(Self.jurisdictions)
    }

    private static func jurisdictions(_ db: Database) throws -> TravelRuleJurisdictions? {
        guard let row = try Row.fetchOne(db, sql: "SELECT jurisdictions_version, jurisdictions FROM monitor_meta WHERE id = 1"),
            let version = row["jurisdictions_version"] as String?, let countries = row["jurisdictions"] as String?
        else { return nil }
        return try TravelRuleJurisdictions(version: version, text: countries)
    }

    public func setJurisdictions(_ jurisdictions: TravelRuleJurisdictions, alongside: [RecordWrite], audit: AuditEvent) async throws {
        try await SQLiteRecords.moved(as: "the list's approval was used or changed meanwhile") {
            try await database.audited(audit) { db in
                try SQLiteRecords.apply(alongside, at: self.database.clock.now(), db: db)
                try db.execute(sql: "UPDATE monitor_meta SET jurisdictions_version = ?, jurisdictions = ? WHERE id = 1",
                               arguments: [jurisdictions.version, jurisdictions.text])
            }
        }
    }

    // MARK: Profiles

    public func importProfiles(_ profiles: [CustomerProfile], audit: AuditEvent) async throws {
        try await database.audited(audit) { db in
            let insert = try db.makeStatement(sql: """
                INSERT OR REPLACE INTO monitor_customers (customer, name, country, declared_income_jpy, declared_assets_jpy) VALUES (?, ?, ?, ?, ?)
                """)
            for p in profiles {
                try insert.execute(arguments: [Self.int(p.customer), p.name, p.country, Self.int(p.declaredIncomeJPY), Self.int(p.declaredAssetsJPY)])
            }
        }
    }

    public func profiles(_ customers: [UInt64]) async throws -> [CustomerProfile] {
        try await database.pool.read { db in
            try customers.compactMap { id in
                try Row.fetchOne(db, sql: "SELECT * FROM monitor_customers WHERE customer = ?", arguments: [Self.int(id)]).map(Self.profile)
            }
        }
    }

    public func prefetch(customers: [UInt64], ips: [String]) async throws -> PrefetchedState {
        try await database.pool.read { db in
            var found = PrefetchedState(customers: [:], ips: [:], profiles: [])
            let state = try db.cachedStatement(sql: "SELECT state FROM monitor_state WHERE customer = ?")
            let profile = try db.cachedStatement(sql: "SELECT * FROM monitor_customers WHERE customer = ?")
            for customer in Set(customers) {
                if let bytes = try Data.fetchOne(state, arguments: [Self.int(customer)]) { found.customers[customer] = [UInt8](bytes) }
                if let row = try Row.fetchOne(profile, arguments: [Self.int(customer)]) { found.profiles.append(Self.profile(row)) }
            }
            let ipState = try db.cachedStatement(sql: "SELECT state FROM monitor_ip_state WHERE ip = ?")
            for ip in Set(ips) {
                if let bytes = try Data.fetchOne(ipState, arguments: [ip]) { found.ips[ip] = [UInt8](bytes) }
            }
            return found
        }
    }

    // MARK: Events and alerts

    public func batchStart(eventIDs ids: [String]) async throws -> BatchStart {
        try await database.pool.read { db in
            var found: [String: (outcome: Outcome, alert: UInt64?)] = [:]
            let statement = try db.cachedStatement(sql: "SELECT outcome, alert FROM monitor_events WHERE id = ?")
            for id in ids {
                guard let row = try Row.fetchOne(statement, arguments: [id]) else { continue }
                found[id] = (Outcome(rawValue: row["outcome"]) ?? .clear, (row["alert"] as Int64?).map(Self.uint))
            }
            return BatchStart(batches: Self.uint(try Int64.fetchOne(db, sql: "SELECT batches FROM monitor_meta WHERE id = 1") ?? 0), evaluated: found,
                              listVersions: try Self.listVersions(db), jurisdictions: try Self.jurisdictions(db))
        }
    }

    public func recordBatch(expectedBatches: UInt64, evaluations: [Evaluation], messages: [TravelRuleMessage], customers: [(UInt64, [UInt8])],
                            ips: [(String, [UInt8])], at time: TimestampNanoseconds, audit: AuditEvent) async throws -> [String: UInt64]? {
        let encoded = try evaluations.map { evaluation in
            evaluation.outcome == .clear ? nil : (try MonitoringRecordJSON.encode(evaluation.hits), try MonitoringRecordJSON.encode(evaluation.scenarios))
        }
        return try await database.audited(audit) { db in
            try db.execute(sql: "UPDATE monitor_meta SET batches = batches + 1 WHERE id = 1 AND batches = ?", arguments: [Self.int(expectedBatches)])
            guard db.changesCount == 1 else { return nil }
            var alerts: [String: UInt64] = [:]
            let insertAlert = try db.makeStatement(sql: """
                INSERT INTO monitor_alerts (event, customer, time, outcome, rule_set, hits, scenarios, status, raised_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?)
                """)
            let insertEvent = try db.makeStatement(sql: """
                INSERT INTO monitor_events (id, customer, time, outcome, alert, rule_set, batch) VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
            for (evaluation, detail) in zip(evaluations, encoded) {
                var alert: Int64?
                if let (hits, scenarios) = detail {
                    try insertAlert.execute(arguments: [evaluation.event, Self.int(evaluation.customer), Self.int(evaluation.time), evaluation.outcome.rawValue,
                                                        evaluation.ruleSetVersion, hits, scenarios, Self.int(time)])
                    alert = db.lastInsertedRowID
                    alerts[evaluation.event] = Self.uint(db.lastInsertedRowID)
                }
                try insertEvent.execute(arguments: [evaluation.event, Self.int(evaluation.customer), Self.int(evaluation.time), evaluation.outcome.rawValue,
                                                    alert, evaluation.ruleSetVersion, Self.int(expectedBatches + 1)])
            }
            let insertTransfer = try db.makeStatement(sql: "INSERT INTO monitor_transfers (event, sender, receiver, time) VALUES (?, ?, ?, ?)")
            for evaluation in evaluations {
                guard let receiver = evaluation.counterparty else { continue }
                try insertTransfer.execute(arguments: [evaluation.event, Self.int(evaluation.customer), Self.int(receiver), Self.int(evaluation.time)])
            }
            if !messages.isEmpty {
                let insertMessage = try db.cachedStatement(sql: """
                    INSERT INTO monitor_travel_rule_messages (event, customer, time, direction, vasp, vasp_country, asset, amount_jpy, message, recorded_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                for m in messages {
                    try insertMessage.execute(arguments: [m.event, Self.int(m.customer), Self.int(m.time), m.direction.rawValue, m.counterpartyVASP,
                                                          m.counterpartyCountry, m.asset, Self.int(m.amountJPY), m.ivms101, Self.int(time)])
                }
            }
            let saveState = try db.makeStatement(sql: "INSERT OR REPLACE INTO monitor_state (customer, state) VALUES (?, ?)")
            for (customer, state) in customers { try saveState.execute(arguments: [Self.int(customer), Data(state)]) }
            let saveIP = try db.makeStatement(sql: "INSERT OR REPLACE INTO monitor_ip_state (ip, state) VALUES (?, ?)")
            for (ip, state) in ips { try saveIP.execute(arguments: [ip, Data(state)]) }
            return alerts
        }
    }

    public func customerTransfers(after cursor: (time: TimestampNanoseconds, event: String)?, limit: Int) async throws -> [CustomerTransfer] {
        try await database.pool.read { db in
            let rows = if let cursor {
                try Row.fetchAll(db, sql: "SELECT * FROM monitor_transfers WHERE (time, event) > (?, ?) ORDER BY time, event LIMIT ?",
                                 arguments: [Self.int(cursor.time), cursor.event, limit])
            } else {
                try Row.fetchAll(db, sql: "SELECT * FROM monitor_transfers ORDER BY time, event LIMIT ?", arguments: [limit])
            }
            return rows.map { CustomerTransfer(event: $0["event"], from: Self.uint($0["sender"]), to: Self.uint($0["receiver"]), time: Self.uint($0["time"])) }
        }
    }

    public func travelRuleMessage(event: String) async throws -> TravelRuleMessage? {
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM monitor_travel_rule_messages WHERE event = ?", arguments: [event]).map(Self.message)
        }
    }

    public func travelRuleMessages(customer: UInt64, after cursor: (time: TimestampNanoseconds, event: String)?, limit: Int) async throws -> [TravelRuleMessage] {
        try await database.pool.read { db in
            let (time, event) = cursor.map { (Self.int($0.time), $0.event) } ?? (Int64.min, "")
            return try Row.fetchAll(db, sql: """
                SELECT * FROM monitor_travel_rule_messages WHERE customer = ? AND (time, event) > (?, ?) ORDER BY time, event LIMIT ?
                """, arguments: [Self.int(customer), time, event, limit]).map(Self.message)
        }
    }

    private static func message(_ row: Row) throws -> TravelRuleMessage {
        guard let direction = TravelRuleMessage.Direction(rawValue: row["direction"]) else {
            throw KinkoError(.storageCorrupted, "a travel-rule message has an unknown direction", field: "direction")
        }
        return TravelRuleMessage(event: row["event"], customer: uint(row["customer"]), time: uint(row["time"]), direction: direction,
                                 counterpartyVASP: row["vasp"], counterpartyCountry: row["vasp_country"], asset: row["asset"],
                                 amountJPY: uint(row["amount_jpy"]), ivms101: row["message"], recordedAt: uint(row["recorded_at"]))
    }

    public func customerTransfers(events: [String]) async throws -> [CustomerTransfer] {
        try await database.pool.read { db in
            let statement = try db.cachedStatement(sql: "SELECT * FROM monitor_transfers WHERE event = ?")
            return try events.compactMap { event in
                try Row.fetchOne(statement, arguments: [event]).map {
                    CustomerTransfer(event: $0["event"], from: Self.uint($0["sender"]), to: Self.uint($0["receiver"]), time: Self.uint($0["time"]))
                }
            }
        }
    }

    public func alertsRaisedPerDay(since: TimestampNanoseconds) async throws -> [Int64: Int] {
        try await database.pool.read { db in
            var counts: [Int64: Int] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT (raised_at + ?) / ? AS day, count(*) AS n FROM monitor_alerts WHERE raised_at >= ? GROUP BY day
                """, arguments: [Self.jstOffset, Self.day, Self.int(since)]) {
                counts[row["day"]] = row["n"]
            }
            return counts
        }
    }

    /// JST's offset and a day, in nanoseconds (the per-day counts' arithmetic).
    static let (jstOffset, day): (Int64, Int64) = (32_400_000_000_000, 86_400_000_000_000)

    public func recordScanAlerts(_ alerts: [Evaluation], at time: TimestampNanoseconds, audit: AuditEvent) async throws -> [String: UInt64] {
        let encoded = try alerts.map { (try MonitoringRecordJSON.encode($0.hits), try MonitoringRecordJSON.encode($0.scenarios)) }
        return try await database.audited(audit) { db in
            var raised: [String: UInt64] = [:]
            let insertAlert = try db.makeStatement(sql: """
                INSERT INTO monitor_alerts (event, customer, time, outcome, rule_set, hits, scenarios, status, raised_at)
                SELECT ?, ?, ?, ?, ?, ?, ?, 'open', ? WHERE NOT EXISTS (SELECT 1 FROM monitor_alerts WHERE event = ?)
                """)
            for (alert, (hits, scenarios)) in zip(alerts, encoded) {
                try insertAlert.execute(arguments: [alert.event, Self.int(alert.customer), Self.int(alert.time), alert.outcome.rawValue, alert.ruleSetVersion,
                                                    hits, scenarios, Self.int(time), alert.event])
                if db.changesCount == 1 { raised[alert.event] = Self.uint(db.lastInsertedRowID) }
            }
            return raised
        }
    }

    public func appendAlertHit(_ id: UInt64, after previous: [RuleHit], hit: RuleHit, audit: AuditEvent) async throws -> Bool {
        let before = try MonitoringRecordJSON.encode(previous), after = try MonitoringRecordJSON.encode(previous + [hit])
        do {
            try await database.audited(audit) { db in
                try db.execute(sql: "UPDATE monitor_alerts SET hits = ? WHERE id = ? AND hits = ? AND status IN ('open', 'in_case')",
                               arguments: [after, Self.int(id), before])
                guard db.changesCount == 1 else { throw SQLiteRecords.Moved() }
            }
            return true
        } catch is SQLiteRecords.Moved {
            return false
        }
    }

    public func alertRefs(events: [String]) async throws -> [String: AlertRef] {
        try await database.pool.read { db in
            var found: [String: AlertRef] = [:]
            let statement = try db.cachedStatement(sql: "SELECT id, status, case_id FROM monitor_alerts WHERE event = ? ORDER BY id LIMIT 1")
            for event in Set(events) {
                guard let row = try Row.fetchOne(statement, arguments: [event]) else { continue }
                guard let status = AlertStatus(rawValue: row["status"]) else { throw KinkoError(.storageCorrupted, "an alert has an unknown status") }
                found[event] = AlertRef(id: Self.uint(row["id"]), status: status, caseID: (row["case_id"] as Int64?).map(Self.uint))
            }
            return found
        }
    }

    private static func alert(_ row: Row) throws -> MonitoringAlert {
        guard let outcome = Outcome(rawValue: row["outcome"]), let status = AlertStatus(rawValue: row["status"]) else {
            throw KinkoError(.storageCorrupted, "an alert has an unknown outcome or status")
        }
        return MonitoringAlert(id: uint(row["id"]), event: row["event"], customer: uint(row["customer"]), time: uint(row["time"]), outcome: outcome,
                               ruleSetVersion: row["rule_set"], hits: try MonitoringRecordJSON.decode([RuleHit].self, row["hits"]),
                               scenarios: try MonitoringRecordJSON.decode([ScenarioScore].self, row["scenarios"]), status: status,
                               caseID: (row["case_id"] as Int64?).map(uint), raisedAt: uint(row["raised_at"]))
    }

    public func alerts(status: AlertStatus?, after: UInt64, limit: Int) async throws -> [MonitoringAlert] {
        try await database.pool.read { db in
            if let status {
                return try Row.fetchAll(db, sql: "SELECT * FROM monitor_alerts WHERE status = ? AND id > ? ORDER BY id LIMIT ?",
                                        arguments: [status.rawValue, Self.int(after), limit]).map(Self.alert)
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM monitor_alerts WHERE id > ? ORDER BY id LIMIT ?", arguments: [Self.int(after), limit]).map(Self.alert)
        }
    }

    /// Alerts per status (for gauges and the console).
    public func alertCounts() async throws -> [String: Int] {
        try await database.pool.read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT status, count(*) AS n FROM monitor_alerts GROUP BY status").map {
                ($0["status"] as String, $0["n"] as Int)
            })
        }
    }

    public func alert(_ id: UInt64) async throws -> MonitoringAlert? {
        try await database.pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM monitor_alerts WHERE id = ?", arguments: [Self.int(id)]).map(Self.alert) }
    }

    public func setAlertStatus(_ ids: [UInt64], expected: AlertStatus?, status: AlertStatus, caseID: UInt64?, alongside: [RecordWrite],
                               audit: AuditEvent) async throws -> Bool {
        do {
            try await database.audited(audit) { db in
                for id in ids {
                    try db.execute(sql: "UPDATE monitor_alerts SET status = ?, case_id = ? WHERE id = ? AND (? IS NULL OR status = ?)",
                                   arguments: [status.rawValue, caseID.map(Self.int), Self.int(id), expected?.rawValue, expected?.rawValue])
                    guard db.changesCount == 1 else { throw SQLiteRecords.Moved() }
                }
                try SQLiteRecords.apply(alongside, at: self.database.clock.now(), db: db)
            }
            return true
        } catch is SQLiteRecords.Moved {
            return false
        }
    }

    // MARK: Cases

    private static func caseRecord(_ row: Row, alerts: [UInt64]) throws -> MonitoringCase {
        guard let status = CaseStatus(rawValue: row["status"]) else { throw KinkoError(.storageCorrupted, "a case has an unknown status") }
        return MonitoringCase(id: uint(row["id"]), title: row["title"], assignee: row["assignee"], status: status,
                              disposition: (row["disposition"] as String?).flatMap(CaseDisposition.init(rawValue:)), openedBy: row["opened_by"],
                              openedAt: uint(row["opened_at"]), closedAt: (row["closed_at"] as Int64?).map(uint), alerts: alerts,
                              notes: try MonitoringRecordJSON.decode([CaseNote].self, row["notes"]))
    }

    public func cases(after: UInt64, limit: Int) async throws -> [MonitoringCase] {
        try await database.pool.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM monitor_cases WHERE id > ? ORDER BY id LIMIT ?", arguments: [Self.int(after), limit])
            guard let last = rows.last else { return [] }
            var alerts: [Int64: [UInt64]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, case_id FROM monitor_alerts WHERE case_id > ? AND case_id <= ? ORDER BY id",
                                        arguments: [Self.int(after), last["id"] as Int64]) {
                alerts[row["case_id"], default: []].append(Self.uint(row["id"]))
            }
            return try rows.map { try Self.caseRecord($0, alerts: alerts[$0["id"]] ?? []) }
        }
    }

    public func caseRecord(_ id: UInt64) async throws -> MonitoringCase? {
        try await database.pool.read { db in
            let alerts = try Int64.fetchAll(db, sql: "SELECT id FROM monitor_alerts WHERE case_id = ? ORDER BY id", arguments: [Self.int(id)]).map(Self.uint)
            return try Row.fetchOne(db, sql: "SELECT * FROM monitor_cases WHERE id = ?", arguments: [Self.int(id)]).map { try Self.caseRecord($0, alerts: alerts) }
        }
    }

    public func saveCase(_ record: MonitoringCase, audit: AuditEvent) async throws -> MonitoringCase {
        let notes = try MonitoringRecordJSON.encode(record.notes)
        return try await database.audited(audit) { db in
            var stored = record
            let arguments: StatementArguments = [record.title, record.assignee, record.status.rawValue, record.disposition?.rawValue, record.openedBy,
                                                 Self.int(record.openedAt), record.closedAt.map(Self.int), notes]
            if record.id == 0 {
                try db.execute(sql: """
                    INSERT INTO monitor_cases (title, assignee, status, disposition, opened_by, opened_at, closed_at, notes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: arguments)
                stored.id = Self.uint(db.lastInsertedRowID)
            } else {
                try db.execute(sql: """
                    UPDATE monitor_cases SET title = ?, assignee = ?, status = ?, disposition = ?, opened_by = ?, opened_at = ?, closed_at = ?, notes = ?
                    WHERE id = ?
                    """, arguments: arguments + [Self.int(record.id)])
            }
            let alertStatus: AlertStatus = record.status == .closed ? .closed : .inCase
            for alert in record.alerts {
                // Only an open alert joins a case (one dismissed meanwhile does not), or one already in it.
                try db.execute(sql: "UPDATE monitor_alerts SET status = ?, case_id = ? WHERE id = ? AND ((case_id IS NULL AND status = 'open') OR case_id = ?)",
                               arguments: [alertStatus.rawValue, Self.int(stored.id), Self.int(alert), Self.int(stored.id)])
                guard db.changesCount == 1 else { throw KinkoError(.conflict, "alert \(alert) is no longer open (dismissed, or in another case)", field: "alerts") }
            }
            return stored
        }
    }

    public init(database: KinkoDatabase) {
        self.database = database
    }
}

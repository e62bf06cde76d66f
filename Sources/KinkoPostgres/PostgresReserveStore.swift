import Foundation
public import KinkoCore
public import KinkoGovernance
public import KinkoReserve
import Logging
import PostgresNIO

/// The reserve, incidents and insolvency in PostgreSQL: the same rule sets, volumes, insurance,
/// requirements, incidents and plans as `SQLiteReserveStore`. Every write and its audit entry
/// commit together; a write that reports false changed nothing and leaves no audit entry,
/// except `markExecuted`, whose entry records a fund movement the ledger already made.
public struct PostgresReserveStore: ReserveStore, PostgresStore {
    let database: KinkoPostgresDatabase

    /// An audited write with nothing to return.
    private func write(audit: AuditEvent, _ body: (PostgresConnection) async throws -> Void) async throws {
        try await database.audited(audit) { connection in try await body(connection) }
    }

    /// Reads that must agree with each other, from one snapshot (as SQLite's read transaction).
    private func snapshot<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await database.transaction { connection in
            try await KinkoPostgresDatabase.run("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", on: connection, logger: logger)
            return try await body(connection)
        }
    }

    // MARK: Volumes

    public func volumes() async throws -> [String: [String: Amount]] {
        try await database.read { connection in
            var volumes: [String: [String: Amount]] = [:]
            let rows = try await connection.answered("SELECT day, category, amount::text FROM reserve_volumes", logger: logger)
            for try await (day, category, amount) in rows.decode((String, String, String).self) {
                volumes[category, default: [:]][day] = try (volumes[category]?[day] ?? .zero).adding(try V.amount(amount, column: "reserve_volumes.amount"))
            }
            return volumes
        }
    }

    public func volumeWatermark() async throws -> UInt64 {
        try await database.read { connection in
            var watermark: Int64 = 0
            for try await value in try await connection.answered("SELECT volume_watermark FROM reserve_state WHERE id = 1", logger: logger).decode(Int64.self) {
                watermark = value
            }
            return V.uint(watermark)
        }
    }

    /// A day and category of volume.
    private struct VolumeKey: Hashable {
        var day: String
        var category: String
    }

    public func addLedgerVolumes(_ volumes: [VolumeRow], from expected: UInt64, to watermark: UInt64, audit: AuditEvent) async throws -> Bool {
        try await database.change(audit: audit) { connection in
            guard try await KinkoPostgresDatabase.count(connection, """
                UPDATE reserve_state SET volume_watermark = \(V.int(watermark)) WHERE id = 1 AND volume_watermark = \(V.int(expected)) RETURNING 1
                """, logger: logger) == 1 else { return false }
            guard !volumes.isEmpty else { return true }
            // What is stored plus each row, in order (rows may repeat a day and category), then one upsert.
            var totals: [VolumeKey: Amount] = [:]
            let rows = try await connection.answered("""
                SELECT day, category, amount::text FROM reserve_volumes
                WHERE source = 'ledger' AND (day, category) IN (SELECT * FROM unnest(\(volumes.map(\.day))::text[], \(volumes.map(\.category))::text[]))
                """, logger: logger)
            for try await (day, category, amount) in rows.decode((String, String, String).self) {
                totals[VolumeKey(day: day, category: category)] = try V.amount(amount, column: "reserve_volumes.amount")
            }
            var keys: [VolumeKey] = []
            var seen: Set<VolumeKey> = []
            for row in volumes {
                let key = VolumeKey(day: row.day, category: row.category)
                if seen.insert(key).inserted { keys.append(key) }
                totals[key] = try (totals[key] ?? .zero).adding(row.amount)
            }
            try await Self.upsertVolumes(keys.map { (key: $0, amount: totals[$0] ?? .zero) }, source: "ledger", connection, logger: logger)
            return true
        }
    }

    public func importVolumes(_ volumes: [VolumeRow], audit: AuditEvent) async throws {
        // The last row for a day and category wins, as with SQLite's INSERT OR REPLACE one by one.
        var keys: [VolumeKey] = []
        var amounts: [VolumeKey: Amount] = [:]
        for row in volumes {
            let key = VolumeKey(day: row.day, category: row.category)
            if amounts.updateValue(row.amount, forKey: key) == nil { keys.append(key) }
        }
        let rows = keys.map { (key: $0, amount: amounts[$0] ?? .zero) }
        try await write(audit: audit) { connection in
            try await Self.upsertVolumes(rows, source: "import", connection, logger: logger)
        }
    }

    /// Sets the volumes of `source` for distinct days and categories, in one statement.
    private static func upsertVolumes(_ rows: [(key: VolumeKey, amount: Amount)], source: String, _ connection: PostgresConnection, logger: Logger) async throws {
        guard !rows.isEmpty else { return }
        try await KinkoPostgresDatabase.run("""
            INSERT INTO reserve_volumes (day, category, source, amount)
            SELECT day, category, \(source), amount::numeric
            FROM unnest(\(rows.map { $0.key.day })::text[], \(rows.map { $0.key.category })::text[], \(rows.map { V.numeric($0.amount) })::text[])
                 AS t(day, category, amount)
            ON CONFLICT (day, category, source) DO UPDATE SET amount = excluded.amount
            """, on: connection, logger: logger)
    }

    // MARK: Insurance

    public func policies() async throws -> [InsurancePolicy] {
        try await snapshot { connection in
            var claims: [(policy: Int64, amount: String)] = []
            for try await (policy, amount) in try await connection.answered("SELECT policy, amount::text FROM reserve_insurance_claims", logger: logger)
                .decode((Int64, String).self) {
                claims.append((policy, amount))
            }
            var policies: [InsurancePolicy] = []
            let rows = try await connection.answered("""
                SELECT id, insurer, coverage, policy_limit::text, deductible::text, exclusions, starts, ends FROM reserve_insurance ORDER BY id
                """, logger: logger)
            for try await (id, insurer, coverage, limit, deductible, exclusions, starts, ends)
                in rows.decode((Int64, String, String, String, String, String, String, String).self) {
                let claimed = try Amount.sum(try claims.filter { $0.policy == id }.map { try V.amount($0.amount, column: "reserve_insurance_claims.amount") })
                policies.append(InsurancePolicy(
                    id: UInt64(id), insurer: insurer, coverage: coverage.split(separator: ",").map(String.init),
                    limit: try V.amount(limit, column: "reserve_insurance.policy_limit"),
                    deductible: try V.amount(deductible, column: "reserve_insurance.deductible"),
                    exclusions: exclusions.split(separator: ",").map(String.init), starts: starts, ends: ends, claimed: claimed))
            }
            return policies
        }
    }

    public func insertPolicy(_ policy: InsurancePolicy, audit: AuditEvent) async throws -> InsurancePolicy {
        let now = database.clock.now()
        return try await database.audited(audit) { connection in
            var stored = policy
            stored.id = try await KinkoPostgresDatabase.newID(connection.answered("""
                INSERT INTO reserve_insurance (insurer, coverage, policy_limit, deductible, exclusions, starts, ends, created_ns)
                VALUES (\(policy.insurer), \(policy.coverage.joined(separator: ",")), \(V.numeric(policy.limit))::numeric, \(V.numeric(policy.deductible))::numeric,
                        \(policy.exclusions.joined(separator: ",")), \(policy.starts), \(policy.ends), \(V.int(now)))
                RETURNING id
                """, logger: logger))
            return stored
        }
    }

    // MARK: Requirements

    public func saveRequirement(_ requirement: Requirement, funded: Amount, audit: AuditEvent) async throws {
        let lines = RequirementLine.storedJSON(requirement.lines)
        try await write(audit: audit) { connection in
            try await KinkoPostgresDatabase.run("""
                INSERT INTO reserve_requirements (computed_ns, rule_version, gross, insurance_offset, required, funded, lines)
                VALUES (\(V.int(requirement.computedAt)), \(requirement.ruleVersion), \(V.numeric(requirement.gross))::numeric,
                        \(V.numeric(requirement.insuranceOffset))::numeric, \(V.numeric(requirement.required))::numeric, \(V.numeric(funded))::numeric, \(lines))
                """, on: connection, logger: logger)
        }
    }

    public func adequacy() async throws -> [AdequacyPoint] {
        try await database.read { connection in
            var points: [AdequacyPoint] = []
            let rows = try await connection.answered("""
                SELECT computed_ns, rule_version, required::text, funded::text FROM reserve_requirements ORDER BY id
                """, logger: logger)
            for try await (computed, ruleVersion, required, funded) in rows.decode((Int64, String, String, String).self) {
                points.append(AdequacyPoint(time: V.uint(computed), ruleVersion: ruleVersion,
                                            required: try V.amount(required, column: "reserve_requirements.required"),
                                            funded: try V.amount(funded, column: "reserve_requirements.funded")))
            }
            return points
        }
    }

    public func latestRequirement() async throws -> Requirement? {
        try await database.read { connection in
            var latest: (computed: Int64, ruleVersion: String, gross: String, offset: String, required: String, lines: String)?
            let rows = try await connection.answered("""
                SELECT computed_ns, rule_version, gross::text, insurance_offset::text, required::text, lines FROM reserve_requirements ORDER BY id DESC LIMIT 1
                """, logger: logger)
            for try await (computed, ruleVersion, gross, offset, required, lines) in rows.decode((Int64, String, String, String, String, String).self) {
                latest = (computed, ruleVersion, gross, offset, required, lines)
            }
            guard let row = latest else { return nil }
            let lines = try RequirementLine.lines(storedJSON: row.lines)
            return Requirement(ruleVersion: row.ruleVersion, computedAt: V.uint(row.computed), lines: lines,
                               gross: try V.amount(row.gross, column: "reserve_requirements.gross"),
                               insuranceOffset: try V.amount(row.offset, column: "reserve_requirements.insurance_offset"),
                               required: try V.amount(row.required, column: "reserve_requirements.required"))
        }
    }

    public func markExecuted(_ id: ApprovalRequestID, revision: Int, at time: TimestampNanoseconds, audit: AuditEvent) async throws -> Bool {
        // Not `change`: the caller has already moved the funds, so the entry is kept even when
        // the request was not flipped (as in SQLite).
        try await database.audited(audit) { connection in
            try await PostgresApprovals.markExecuted(connection, id: id, revision: revision, at: time, logger: logger)
        }
    }

    // MARK: Incidents

    public func incidents() async throws -> [Incident] {
        try await snapshot { connection in
            var losses: [(incident: Int64, wallet: String, asset: String, amount: String)] = []
            for try await (incident, wallet, asset, amount) in try await connection.answered("""
                SELECT incident, wallet, asset, amount::text FROM reserve_incident_losses ORDER BY incident, position
                """, logger: logger).decode((Int64, String, String, String).self) {
                losses.append((incident, wallet, asset, amount))
            }
            var incidents: [Incident] = []
            let rows = try await connection.answered("""
                SELECT id, loss_type, lost_ns, detected_ns, declared_ns, declared_by, status, paid_ns, loss_jpy::text, valuation FROM reserve_incidents ORDER BY id
                """, logger: logger)
            for try await (rawID, lossType, lost, detected, declared, declaredBy, statusName, paid, lossJPY, valuation)
                in rows.decode((Int64, String, Int64, Int64, Int64, Int64, String, Int64?, String, String).self) {
                let id = UInt64(rawID)
                guard let status = IncidentStatus(rawValue: statusName) else { throw KinkoError(.storageCorrupted, "incident \(id) has an unknown status") }
                incidents.append(Incident(
                    id: id, lossType: lossType,
                    losses: try losses.filter { $0.incident == rawID }.map {
                        IncidentLoss(wallet: $0.wallet, asset: $0.asset, amount: try V.amount($0.amount, column: "reserve_incident_losses.amount"))
                    },
                    lostAt: V.uint(lost), detectedAt: V.uint(detected), declaredAt: V.uint(declared),
                    declaredBy: PrincipalID(UInt128(declaredBy)), status: status, paidAt: paid.map(V.uint),
                    lossJPY: try V.amount(lossJPY, column: "reserve_incidents.loss_jpy"), valuation: valuation))
            }
            return incidents
        }
    }

    public func insertIncident(_ incident: Incident, entitlements: [String: [Entitlement]], audit: AuditEvent) async throws -> Incident {
        let packed = entitlements.map { entry in
            (asset: entry.key, packed: ByteBuffer(bytes: PackedRows.pack(entry.value.map { [$0.account.rawValue, $0.owner, $0.amount.units] })))
        }
        return try await database.audited(audit) { connection in
            var stored = incident
            stored.id = try await KinkoPostgresDatabase.newID(connection.answered("""
                INSERT INTO reserve_incidents (loss_type, lost_ns, detected_ns, declared_ns, declared_by, status, loss_jpy, valuation)
                VALUES (\(incident.lossType), \(V.int(incident.lostAt)), \(V.int(incident.detectedAt)), \(V.int(incident.declaredAt)),
                        \(try incident.declaredBy.storedInteger()), 'declared', \(V.numeric(incident.lossJPY))::numeric, \(incident.valuation))
                RETURNING id
                """, logger: logger))
            let id = V.int(stored.id)
            if !incident.losses.isEmpty {
                try await KinkoPostgresDatabase.run("""
                    INSERT INTO reserve_incident_losses (incident, position, wallet, asset, amount)
                    SELECT \(id), pos, wallet, asset, amount::numeric
                    FROM unnest(\(incident.losses.indices.map { Int32($0) })::integer[], \(incident.losses.map(\.wallet))::text[],
                                \(incident.losses.map(\.asset))::text[], \(incident.losses.map { V.numeric($0.amount) })::text[])
                         AS t(pos, wallet, asset, amount)
                    """, on: connection, logger: logger)
            }
            // One row an asset, each a single (possibly large) bytea.
            for entry in packed {
                try await KinkoPostgresDatabase.run("""
                    INSERT INTO reserve_entitlements (incident, asset, packed) VALUES (\(id), \(entry.asset), \(entry.packed))
                    """, on: connection, logger: logger)
            }
            return stored
        }
    }

    public func entitlements(incident: UInt64, asset: String) async throws -> [Entitlement] {
        try await database.read { connection in
            var packed: Data?
            for try await value in try await connection.answered("""
                SELECT packed FROM reserve_entitlements WHERE incident = \(V.int(incident)) AND asset = \(asset)
                """, logger: logger).decode(Data.self) {
                packed = value
            }
            guard let packed else { return [] }
            return try PackedRows.unpack([UInt8](packed), fields: 3).map { Entitlement(account: AccountID($0[0]), owner: $0[1], amount: Amount(units: $0[2])) }
        }
    }

    // MARK: Plans

    public func savePlan(_ plan: CompensationPlan, requestID: ApprovalRequestID, audit: AuditEvent) async throws {
        let (mode, priceMantissa, priceScale): (String, String?, Int32?) = switch plan.mode {
        case .jpy(let reference): ("jpy", String(reference.mantissa), Int32(reference.scale))
        default: ("in_kind", nil, nil)
        }
        let lines = ByteBuffer(bytes: plan.packedLines)
        let sources = plan.sourcesJSON
        // Built before the transaction, not inside its closure: see docs/POSTGRES.md, "Known gaps".
        let insert: PostgresQuery = """
            INSERT INTO reserve_plans (incident, asset, mode, price_mantissa, price_scale, payment_asset, total_loss, total_payment, shortfall,
                                       sources, lines, request, status)
            VALUES (\(V.int(plan.incident)), \(plan.asset), \(mode), \(priceMantissa)::numeric, \(priceScale)::smallint, \(plan.paymentAsset),
                    \(V.numeric(plan.totalLoss))::numeric, \(V.numeric(plan.totalPayment))::numeric, \(V.numeric(plan.shortfall))::numeric,
                    \(sources), \(lines), \(try requestID.storedInteger()), 'proposed')
            """
        try await write(audit: audit) { connection in
            try await KinkoPostgresDatabase.run(insert, on: connection, logger: logger)
        }
    }

    public func plan(incident: UInt64, asset: String) async throws -> StoredPlan? {
        try await database.read { connection in
            var found: (mode: String, mantissa: String?, scale: Int16?, paymentAsset: String, totalLoss: String, totalPayment: String,
                        shortfall: String, sources: String, lines: Data, request: Int64, status: String)?
            let rows = try await connection.answered("""
                SELECT mode, price_mantissa::text, price_scale, payment_asset, total_loss::text, total_payment::text, shortfall::text, sources, lines,
                       request, status
                FROM reserve_plans WHERE incident = \(V.int(incident)) AND asset = \(asset)
                """, logger: logger)
            for try await row in rows {
                let r = row.makeRandomAccess()
                found = (try r[0].decode(String.self), try r[1].decode(String?.self), try r[2].decode(Int16?.self), try r[3].decode(String.self),
                         try r[4].decode(String.self), try r[5].decode(String.self), try r[6].decode(String.self), try r[7].decode(String.self),
                         try r[8].decode(Data.self), try r[9].decode(Int64.self), try r[10].decode(String.self))
            }
            guard let row = found else { return nil }
            var mode = CompensationMode.inKind
            if row.mode == "jpy", let mantissa = row.mantissa, let scale = row.scale {
                mode = .jpy(try JPYPrice(mantissa: try V.amount(mantissa, column: "reserve_plans.price_mantissa").units, scale: UInt8(clamping: scale)))
            }
            guard let status = PlanStatus(rawValue: row.status) else { throw KinkoError(.storageCorrupted, "a plan has an unknown status") }
            let plan = try CompensationPlan.stored(
                incident: incident, asset: asset, mode: mode, paymentAsset: row.paymentAsset, packedLines: [UInt8](row.lines), sourcesJSON: row.sources,
                totalLoss: try V.amount(row.totalLoss, column: "reserve_plans.total_loss"),
                totalPayment: try V.amount(row.totalPayment, column: "reserve_plans.total_payment"),
                shortfall: try V.amount(row.shortfall, column: "reserve_plans.shortfall"))
            return StoredPlan(plan: plan, requestID: ApprovalRequestID(UInt128(row.request)), status: status)
        }
    }

    public func startExecution(incident: UInt64, asset: String, requestID: ApprovalRequestID, revision: Int, at time: TimestampNanoseconds, audit: AuditEvent) async throws -> Bool {
        // Built before the transaction, not inside its closure: see docs/POSTGRES.md, "Known gaps".
        let select: PostgresQuery = "SELECT status FROM reserve_plans WHERE incident = \(V.int(incident)) AND asset = \(asset)"
        let execute: PostgresQuery = "UPDATE reserve_plans SET status = 'executing' WHERE incident = \(V.int(incident)) AND asset = \(asset)"
        let paying: PostgresQuery = "UPDATE reserve_incidents SET status = 'paying' WHERE id = \(V.int(incident))"
        return try await database.change(audit: audit) { connection in
            var status: String?
            for try await value in try await connection.answered(select, logger: logger).decode(String.self) { status = value }
            switch status {
            case "executing":
                return true
            case "proposed":
                guard try await PostgresApprovals.markExecuted(connection, id: requestID, revision: revision, at: time, logger: logger) else { return false }
                try await KinkoPostgresDatabase.run(execute, on: connection, logger: logger)
                try await KinkoPostgresDatabase.run(paying, on: connection, logger: logger)
                return true
            default:
                return false
            }
        }
    }

    public func finishExecution(incident: UInt64, asset: String, paidAt: TimestampNanoseconds, claims: [(policy: UInt64, amount: Amount)], audit: AuditEvent) async throws {
        let policies = claims.map { V.int($0.policy) }
        let amounts = claims.map { V.numeric($0.amount) }
        try await write(audit: audit) { connection in
            guard try await KinkoPostgresDatabase.count(connection, """
                UPDATE reserve_plans SET status = 'paid' WHERE incident = \(V.int(incident)) AND asset = \(asset) AND status = 'executing' RETURNING 1
                """, logger: logger) == 1 else {
                throw KinkoError(.conflict, "the \(asset) plan of incident \(incident) is not executing")
            }
            if !policies.isEmpty {
                try await KinkoPostgresDatabase.run("""
                    INSERT INTO reserve_insurance_claims (policy, incident, asset, amount)
                    SELECT policy, \(V.int(incident)), \(asset), amount::numeric FROM unnest(\(policies)::bigint[], \(amounts)::text[]) AS t(policy, amount)
                    """, on: connection, logger: logger)
            }
            var open: Int64 = 0
            for try await value in try await connection.answered("""
                SELECT count(*) FROM reserve_plans WHERE incident = \(V.int(incident)) AND status <> 'paid'
                """, logger: logger).decode(Int64.self) {
                open = value
            }
            let status = open == 0 ? "paid" : "paying"
            try await KinkoPostgresDatabase.run("""
                UPDATE reserve_incidents SET status = \(status), paid_ns = \(V.int(paidAt)) WHERE id = \(V.int(incident))
                """, on: connection, logger: logger)
        }
    }

    // MARK: Insolvency and alerts

    public func insolvencySince() async throws -> TimestampNanoseconds? {
        try await database.read { connection in
            var since: Int64?
            for try await value in try await connection.answered("SELECT insolvent_since_ns FROM reserve_state WHERE id = 1", logger: logger)
                .decode(Int64?.self) {
                since = value
            }
            return since.map(V.uint)
        }
    }

    public func enterInsolvency(at time: TimestampNanoseconds, audit: AuditEvent) async throws {
        try await write(audit: audit) { connection in
            try await KinkoPostgresDatabase.run("""
                UPDATE reserve_state SET insolvent_since_ns = \(V.int(time)) WHERE id = 1 AND insolvent_since_ns IS NULL
                """, on: connection, logger: logger)
        }
    }

    /// A custody alert (not audited, as in SQLite).
    public func raiseAlert(kind: String, subject: String, message: String, at time: TimestampNanoseconds) async throws {
        try await database.transaction { connection -> Void in
            try await KinkoPostgresDatabase.run("""
                INSERT INTO custody_alerts (kind, subject, message, raised_ns) VALUES (\(kind), \(subject), \(message), \(V.int(time)))
                """, on: connection, logger: logger)
        }
    }

    public init(database: KinkoPostgresDatabase) {
        self.database = database
    }
}

import Foundation
import GRDB
public import KinkoCore
public import KinkoGovernance
import KinkoLedger
public import KinkoReserve

/// The reserve, incidents and insolvency in the Kinko SQLite database.
public struct SQLiteReserveStore: ReserveStore, SQLiteStore {
    let database: KinkoDatabase

    // MARK: Volumes

    public func volumes() async throws -> [String: [String: Amount]] {
        try await database.pool.read { db in
            var volumes: [String: [String: Amount]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT day, category, amount FROM reserve_volumes") {
                let category: String = row["category"], day: String = row["day"]
                volumes[category, default: [:]][day] = try (volumes[category]?[day] ?? .zero).adding(try Self.amount(row["amount"]))
            }
            return volumes
        }
    }

    public func volumeWatermark() async throws -> UInt64 {
        try await database.pool.read { db in Self.uint(try Int64.fetchOne(db, sql: "SELECT volume_watermark FROM reserve_state WHERE id = 1") ?? 0) }
    }

    public func addLedgerVolumes(_ volumes: [VolumeRow], from expected: UInt64, to watermark: UInt64, audit: AuditEvent) async throws -> Bool {
        try await write(audit: audit) { db in
            try db.execute(sql: "UPDATE reserve_state SET volume_watermark = ? WHERE id = 1 AND volume_watermark = ?",
                           arguments: [Self.int(watermark), Self.int(expected)])
            guard db.changesCount == 1 else { return false }
            for row in volumes {
                let existing = try Data.fetchOne(db, sql: "SELECT amount FROM reserve_volumes WHERE day = ? AND category = ? AND source = 'ledger'",
                                                 arguments: [row.day, row.category])
                let total = try (existing.map(Self.amount) ?? .zero).adding(row.amount)
                try db.execute(sql: "INSERT OR REPLACE INTO reserve_volumes (day, category, source, amount) VALUES (?, ?, 'ledger', ?)",
                               arguments: [row.day, row.category, Self.blob(total)])
            }
            return true
        }
    }

    public func importVolumes(_ volumes: [VolumeRow], audit: AuditEvent) async throws {
        try await write(audit: audit) { db in
            for row in volumes {
                try db.execute(sql: "INSERT OR REPLACE INTO reserve_volumes (day, category, source, amount) VALUES (?, ?, 'import', ?)",
                               arguments: [row.day, row.category, Self.blob(row.amount)])
            }
        }
    }

    // MARK: Insurance

    public func policies() async throws -> [InsurancePolicy] {
        try await database.pool.read { db in
            let claims = try Row.fetchAll(db, sql: "SELECT policy, amount FROM reserve_insurance_claims")
            return try Row.fetchAll(db, sql: "SELECT * FROM reserve_insurance ORDER BY id").map { row in
                let id = UInt64(row["id"] as Int64)
                let claimed = try Amount.sum(try claims.filter { UInt64($0["policy"] as Int64) == id }.map { try Self.amount($0["amount"]) })
                return InsurancePolicy(
                    id: id, insurer: row["insurer"], coverage: (row["coverage"] as String).split(separator: ",").map(String.init),
                    limit: try Self.amount(row["policy_limit"]), deductible: try Self.amount(row["deductible"]),
                    exclusions: (row["exclusions"] as String).split(separator: ",").map(String.init), starts: row["starts"], ends: row["ends"],
                    claimed: claimed)
            }
        }
    }

    public func insertPolicy(_ policy: InsurancePolicy, audit: AuditEvent) async throws -> InsurancePolicy {
        let now = database.clock.now()
        return try await write(audit: audit) { db in
            try db.execute(sql: """
                INSERT INTO reserve_insurance (insurer, coverage, policy_limit, deductible, exclusions, starts, ends, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [policy.insurer, policy.coverage.joined(separator: ","), Self.blob(policy.limit), Self.blob(policy.deductible),
                                 policy.exclusions.joined(separator: ","), policy.starts, policy.ends, Self.int(now)])
            var stored = policy
            stored.id = UInt64(db.lastInsertedRowID)
            return stored
        }
    }

    // MARK: Requirements

    public func saveRequirement(_ requirement: Requirement, funded: Amount, audit: AuditEvent) async throws {
        let lines = RequirementLine.storedJSON(requirement.lines)
        try await write(audit: audit) { db in
            try db.execute(sql: """
                INSERT INTO reserve_requirements (computed_at, rule_version, gross, insurance_offset, required, funded, lines) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [Self.int(requirement.computedAt), requirement.ruleVersion, Self.blob(requirement.gross),
                                 Self.blob(requirement.insuranceOffset), Self.blob(requirement.required), Self.blob(funded), lines])
        }
    }

    public func adequacy() async throws -> [AdequacyPoint] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT computed_at, rule_version, required, funded FROM reserve_requirements ORDER BY id").map {
                AdequacyPoint(time: Self.uint($0["computed_at"]), ruleVersion: $0["rule_version"], required: try Self.amount($0["required"]),
                              funded: try Self.amount($0["funded"]))
            }
        }
    }

    public func latestRequirement() async throws -> Requirement? {
        try await database.pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM reserve_requirements ORDER BY id DESC LIMIT 1") else { return nil }
            let lines = try RequirementLine.lines(storedJSON: (row["lines"] as String))
            return Requirement(ruleVersion: row["rule_version"], computedAt: Self.uint(row["computed_at"]), lines: lines,
                               gross: try Self.amount(row["gross"]), insuranceOffset: try Self.amount(row["insurance_offset"]),
                               required: try Self.amount(row["required"]))
        }
    }

    public func markExecuted(_ id: ApprovalRequestID, revision: Int, at time: TimestampNanoseconds, audit: AuditEvent) async throws -> Bool {
        try await write(audit: audit) { db in try SQLiteApprovals.markExecuted(db: db, id: id, revision: revision, at: time) }
    }

    // MARK: Incidents

    public func incidents() async throws -> [Incident] {
        try await database.pool.read { db in
            let losses = try Row.fetchAll(db, sql: "SELECT * FROM reserve_incident_losses ORDER BY incident, position")
            return try Row.fetchAll(db, sql: "SELECT * FROM reserve_incidents ORDER BY id").map { row in
                let id = UInt64(row["id"] as Int64)
                guard let status = IncidentStatus(rawValue: row["status"]) else { throw KinkoError(.storageCorrupted, "incident \(id) has an unknown status") }
                return Incident(
                    id: id, lossType: row["loss_type"],
                    losses: try losses.filter { UInt64($0["incident"] as Int64) == id }.map {
                        IncidentLoss(wallet: $0["wallet"], asset: $0["asset"], amount: try Self.amount($0["amount"]))
                    },
                    lostAt: Self.uint(row["lost_at"]), detectedAt: Self.uint(row["detected_at"]), declaredAt: Self.uint(row["declared_at"]),
                    declaredBy: PrincipalID(UInt128(row["declared_by"] as Int64)), status: status, paidAt: (row["paid_at"] as Int64?).map(Self.uint),
                    lossJPY: try Self.amount(row["loss_jpy"]), valuation: row["valuation"])
            }
        }
    }

    public func insertIncident(_ incident: Incident, entitlements: [String: [Entitlement]], audit: AuditEvent) async throws -> Incident {
        try await write(audit: audit) { db in
            try db.execute(sql: """
                INSERT INTO reserve_incidents (loss_type, lost_at, detected_at, declared_at, declared_by, status, loss_jpy, valuation) VALUES (?, ?, ?, ?, ?, 'declared', ?, ?)
                """, arguments: [incident.lossType, Self.int(incident.lostAt), Self.int(incident.detectedAt), Self.int(incident.declaredAt),
                                 try incident.declaredBy.storedInteger(), Self.blob(incident.lossJPY), incident.valuation])
            var stored = incident
            stored.id = UInt64(db.lastInsertedRowID)
            for (position, loss) in incident.losses.enumerated() {
                try db.execute(sql: "INSERT INTO reserve_incident_losses (incident, position, wallet, asset, amount) VALUES (?, ?, ?, ?, ?)",
                               arguments: [Self.int(stored.id), position, loss.wallet, loss.asset, Self.blob(loss.amount)])
            }
            for (asset, list) in entitlements {
                try db.execute(sql: "INSERT INTO reserve_entitlements (incident, asset, packed) VALUES (?, ?, ?)",
                               arguments: [Self.int(stored.id), asset, Data(PackedRows.pack(list.map { [$0.account.rawValue, $0.owner, $0.amount.units] }))])
            }
            return stored
        }
    }

    public func entitlements(incident: UInt64, asset: String) async throws -> [Entitlement] {
        try await database.pool.read { db in
            guard let packed = try Data.fetchOne(db, sql: "SELECT packed FROM reserve_entitlements WHERE incident = ? AND asset = ?",
                                                 arguments: [Self.int(incident), asset]) else { return [] }
            return try PackedRows.unpack([UInt8](packed), fields: 3).map { Entitlement(account: AccountID($0[0]), owner: $0[1], amount: Amount(units: $0[2])) }
        }
    }

    // MARK: Plans

    public func savePlan(_ plan: CompensationPlan, requestID: ApprovalRequestID, audit: AuditEvent) async throws {
        var mode = "in_kind"
        var priceMantissa: Data? = nil
        var priceScale: Int? = nil
        if case .jpy(let reference) = plan.mode {
            mode = "jpy"
            priceMantissa = Data(LedgerCodec.bigEndianBytes(reference.mantissa))
            priceScale = Int(reference.scale)
        }
        let lines = Data(plan.packedLines)
        let sources = plan.sourcesJSON
        let arguments: StatementArguments = [
            Self.int(plan.incident), plan.asset, mode, priceMantissa, priceScale, plan.paymentAsset, Self.blob(plan.totalLoss),
            Self.blob(plan.totalPayment), Self.blob(plan.shortfall), sources, lines, try requestID.storedInteger(),
        ]
        try await write(audit: audit) { db in
            try db.execute(sql: """
                INSERT INTO reserve_plans (incident, asset, mode, price_mantissa, price_scale, payment_asset, total_loss, total_payment, shortfall,
                                           sources, lines, request, status)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'proposed')
                """, arguments: arguments)
        }
    }

    public func plan(incident: UInt64, asset: String) async throws -> StoredPlan? {
        try await database.pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM reserve_plans WHERE incident = ? AND asset = ?", arguments: [Self.int(incident), asset]) else {
                return nil
            }
            var mode = CompensationMode.inKind
            if (row["mode"] as String) == "jpy", let mantissa = row["price_mantissa"] as Data?, let scale = row["price_scale"] as Int? {
                mode = .jpy(try JPYPrice(mantissa: try LedgerCodec.fromBigEndianBytes([UInt8](mantissa)), scale: UInt8(clamping: scale)))
            }
            guard let status = PlanStatus(rawValue: row["status"]) else { throw KinkoError(.storageCorrupted, "a plan has an unknown status") }
            let plan = try CompensationPlan.stored(
                incident: incident, asset: asset, mode: mode, paymentAsset: row["payment_asset"], packedLines: [UInt8](row["lines"] as Data),
                sourcesJSON: row["sources"], totalLoss: try Self.amount(row["total_loss"]), totalPayment: try Self.amount(row["total_payment"]),
                shortfall: try Self.amount(row["shortfall"]))
            return StoredPlan(plan: plan, requestID: ApprovalRequestID(UInt128(row["request"] as Int64)), status: status)
        }
    }

    public func startExecution(incident: UInt64, asset: String, requestID: ApprovalRequestID, revision: Int, at time: TimestampNanoseconds, audit: AuditEvent) async throws -> Bool {
        try await write(audit: audit) { db in
            let status = try String.fetchOne(db, sql: "SELECT status FROM reserve_plans WHERE incident = ? AND asset = ?", arguments: [Self.int(incident), asset])
            switch status {
            case "executing":
                return true
            case "proposed":
                guard try SQLiteApprovals.markExecuted(db: db, id: requestID, revision: revision, at: time) else { return false }
                try db.execute(sql: "UPDATE reserve_plans SET status = 'executing' WHERE incident = ? AND asset = ?", arguments: [Self.int(incident), asset])
                try db.execute(sql: "UPDATE reserve_incidents SET status = 'paying' WHERE id = ?", arguments: [Self.int(incident)])
                return true
            default:
                return false
            }
        }
    }

    public func finishExecution(incident: UInt64, asset: String, paidAt: TimestampNanoseconds, claims: [(policy: UInt64, amount: Amount)], audit: AuditEvent) async throws {
        let claimRows = claims.map { (policy: $0.policy, amount: $0.amount) }
        try await write(audit: audit) { db in
            try db.execute(sql: "UPDATE reserve_plans SET status = 'paid' WHERE incident = ? AND asset = ? AND status = 'executing'",
                           arguments: [Self.int(incident), asset])
            guard db.changesCount == 1 else { throw KinkoError(.conflict, "the \(asset) plan of incident \(incident) is not executing") }
            for claim in claimRows {
                try db.execute(sql: "INSERT INTO reserve_insurance_claims (policy, incident, asset, amount) VALUES (?, ?, ?, ?)",
                               arguments: [Self.int(claim.policy), Self.int(incident), asset, Self.blob(claim.amount)])
            }
            let open = try Int.fetchOne(db, sql: "SELECT count(*) FROM reserve_plans WHERE incident = ? AND status != 'paid'", arguments: [Self.int(incident)]) ?? 0
            try db.execute(sql: "UPDATE reserve_incidents SET status = ?, paid_at = ? WHERE id = ?",
                           arguments: [open == 0 ? "paid" : "paying", Self.int(paidAt), Self.int(incident)])
        }
    }

    // MARK: Insolvency and alerts

    public func insolvencySince() async throws -> TimestampNanoseconds? {
        try await database.pool.read { db in try Int64.fetchOne(db, sql: "SELECT insolvent_since FROM reserve_state WHERE id = 1").map(Self.uint) }
    }

    public func enterInsolvency(at time: TimestampNanoseconds, audit: AuditEvent) async throws {
        try await write(audit: audit) { db in
            try db.execute(sql: "UPDATE reserve_state SET insolvent_since = ? WHERE id = 1 AND insolvent_since IS NULL", arguments: [Self.int(time)])
        }
    }

    public func raiseAlert(kind: String, subject: String, message: String, at time: TimestampNanoseconds) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "INSERT INTO custody_alerts (kind, subject, message, raised_at) VALUES (?, ?, ?, ?)",
                           arguments: [kind, subject, message, Self.int(time)])
        }
    }

    public init(database: KinkoDatabase) {
        self.database = database
    }
}

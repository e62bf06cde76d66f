import Foundation
public import KinkoCore
public import KinkoCustody
public import KinkoGovernance
import KinkoLedger
import Logging
import PostgresNIO

/// Custody in PostgreSQL: the same wallets, observations, whitelist, movements and
/// reconciliations as `SQLiteCustodyStore`. Every write and its audit entry commit together.
public struct PostgresCustodyStore: CustodyStore, PostgresStore {
    let database: KinkoPostgresDatabase

    // MARK: Vendors and wallets

    public func vendors() async throws -> [Vendor] {
        try await database.read { connection in
            var vendors: [Vendor] = []
            let rows = try await connection.answered("SELECT name, notice_date, notice_reference FROM custody_vendors ORDER BY name", logger: logger)
            for try await (name, date, reference) in rows.decode((String, String?, String?).self) {
                vendors.append(Vendor(name: name, noticeDate: date, noticeReference: reference))
            }
            return vendors
        }
    }

    public func saveVendor(_ vendor: Vendor, audit: AuditEvent) async throws {
        _ = try await database.audited(audit) { connection in
            try await connection.answered("""
                INSERT INTO custody_vendors (name, notice_date, notice_reference) VALUES (\(vendor.name), \(vendor.noticeDate), \(vendor.noticeReference))
                ON CONFLICT (name) DO UPDATE SET notice_date = excluded.notice_date, notice_reference = excluded.notice_reference
                """, logger: logger)
        }
    }

    public func wallets() async throws -> [Wallet] {
        try await database.read { connection in
            var assets: [String: [(asset: String, limit: String?)]] = [:]
            for try await (wallet, asset, limit) in try await connection.answered("""
                SELECT wallet, asset, velocity_limit::text FROM custody_wallet_assets ORDER BY wallet, asset
                """, logger: logger).decode((String, String, String?).self) {
                assets[wallet, default: []].append((asset, limit))
            }
            var addresses: [String: [String]] = [:]
            for try await (wallet, address) in try await connection.answered("""
                SELECT wallet, address FROM custody_wallet_addresses ORDER BY wallet, address
                """, logger: logger).decode((String, String).self) {
                addresses[wallet, default: []].append(address)
            }
            var wallets: [Wallet] = []
            let rows = try await connection.answered("""
                SELECT id, chain, temperature, purpose, vendor, vendor_version, frozen_ns, frozen_reason, created_ns FROM custody_wallets ORDER BY id
                """, logger: logger)
            for try await (id, chain, temperatureName, purposeName, vendor, version, frozen, reason, created)
                in rows.decode((String, String, String, String, String, String, Int64?, String?, Int64).self) {
                guard let temperature = Temperature(rawValue: temperatureName), let purpose = WalletPurpose(rawValue: purposeName) else {
                    throw KinkoError(.storageCorrupted, "wallet \(id) has an unknown temperature or purpose")
                }
                let mine = assets[id] ?? []
                var limits: [String: Amount] = [:]
                for entry in mine { if let limit = entry.limit { limits[entry.asset] = try V.amount(limit, column: "velocity_limit") } }
                wallets.append(Wallet(
                    id: id, chain: chain, temperature: temperature, purpose: purpose, assets: mine.map(\.asset), addresses: addresses[id] ?? [],
                    vendor: vendor, vendorVersion: version, frozenAt: frozen.map(V.uint), frozenReason: reason, velocityLimits: limits,
                    createdAt: V.uint(created)))
            }
            return wallets
        }
    }

    public func insertWallet(_ wallet: Wallet, audit: AuditEvent) async throws {
        try await database.audited(audit) { connection in
            if try await KinkoPostgresDatabase.exists(connection, "SELECT 1 FROM custody_wallets WHERE id = \(wallet.id)", logger: logger) {
                throw KinkoError(.conflict, "a wallet \(wallet.id) already exists", field: "id")
            }
            guard try await KinkoPostgresDatabase.exists(connection, "SELECT 1 FROM custody_vendors WHERE name = \(wallet.vendor)", logger: logger) else {
                throw KinkoError(.notFound, "no vendor \(wallet.vendor); register it first", field: "vendor")
            }
            try await connection.answered("""
                INSERT INTO custody_wallets (id, chain, temperature, purpose, vendor, vendor_version, created_ns)
                VALUES (\(wallet.id), \(wallet.chain), \(wallet.temperature.rawValue), \(wallet.purpose.rawValue), \(wallet.vendor),
                        \(wallet.vendorVersion), \(V.int(wallet.createdAt)))
                """, logger: logger)
            for asset in wallet.assets {
                try await connection.answered("""
                    INSERT INTO custody_wallet_assets (wallet, asset, velocity_limit)
                    VALUES (\(wallet.id), \(asset), \(wallet.velocityLimits[asset].map(V.numeric))::numeric)
                    """, logger: logger)
            }
            for address in wallet.addresses {
                try await connection.answered("INSERT INTO custody_wallet_addresses (wallet, address) VALUES (\(wallet.id), \(address))", logger: logger)
            }
        }
    }

    public func setFrozen(_ id: String, at time: TimestampNanoseconds?, reason: String?, alongside: [RecordWrite], audit: AuditEvent) async throws {
        try await PostgresRecords.moved(as: "the unfreeze approval was used or changed meanwhile") {
            try await database.audited(audit) { connection in
                let changed = try await KinkoPostgresDatabase.count(connection, """
                    UPDATE custody_wallets SET frozen_ns = \(time.map(V.int)), frozen_reason = \(reason) WHERE id = \(id) RETURNING 1
                    """, logger: logger)
                guard changed == 1 else { throw KinkoError(.notFound, "no wallet \(id)", field: "wallet") }
                try await PostgresRecords.apply(alongside, at: database.clock.now(), connection: connection, logger: logger)
            }
        }
    }

    // MARK: Observations

    public func recordBalances(_ observations: [BalanceObservation], audit: AuditEvent) async throws {
        let now = V.int(database.clock.now())
        try await database.audited(audit) { connection in
            guard !observations.isEmpty else { return }
            try await connection.answered("""
                INSERT INTO custody_balance_observations (wallet, asset, amount, observed_ns, source, recorded_ns, recorded_by)
                SELECT wallet, asset, amount::numeric, observed_ns, source, \(now), recorded_by
                FROM unnest(\(observations.map(\.wallet))::text[], \(observations.map(\.asset))::text[], \(observations.map { V.numeric($0.amount) })::text[],
                            \(observations.map { V.int($0.observedAt) })::bigint[], \(observations.map(\.source))::text[], \(observations.map(\.recordedBy))::text[])
                     WITH ORDINALITY AS t(wallet, asset, amount, observed_ns, source, recorded_by, n)
                ORDER BY n
                """, logger: logger)
        }
    }

    public func recordPrices(_ observations: [PriceObservation], audit: AuditEvent) async throws {
        let now = V.int(database.clock.now())
        try await database.audited(audit) { connection in
            for o in observations {
                try await connection.answered("""
                    INSERT INTO custody_price_observations (asset, mantissa, scale, observed_ns, source, recorded_ns)
                    VALUES (\(o.asset), \(String(o.price.mantissa))::numeric, \(Int16(o.price.scale)), \(V.int(o.observedAt)), \(o.source), \(now))
                    """, logger: logger)
            }
        }
    }

    public func latestBalances(asOf time: TimestampNanoseconds) async throws -> [BalanceObservation] {
        try await database.read { connection in
            var observations: [BalanceObservation] = []
            let rows = try await connection.answered("""
                SELECT DISTINCT ON (wallet, asset) wallet, asset, amount::text, observed_ns, source, recorded_by FROM custody_balance_observations
                WHERE observed_ns <= \(V.int(time))
                ORDER BY wallet, asset, observed_ns DESC, id DESC
                """, logger: logger)
            for try await (wallet, asset, amount, observed, source, recordedBy) in rows.decode((String, String, String, Int64, String, String).self) {
                observations.append(BalanceObservation(wallet: wallet, asset: asset, amount: try V.amount(amount, column: "amount"),
                                                       observedAt: V.uint(observed), source: source, recordedBy: recordedBy))
            }
            return observations
        }
    }

    public func latestPrices(asOf time: TimestampNanoseconds) async throws -> [PriceObservation] {
        try await database.read { connection in
            var observations: [PriceObservation] = []
            let rows = try await connection.answered("""
                SELECT DISTINCT ON (asset) asset, mantissa::text, scale, observed_ns, source FROM custody_price_observations
                WHERE observed_ns <= \(V.int(time))
                ORDER BY asset, observed_ns DESC, id DESC
                """, logger: logger)
            for try await (asset, mantissa, scale, observed, source) in rows.decode((String, String, Int16, Int64, String).self) {
                guard let units = UInt128(mantissa) else { throw KinkoError(.storageCorrupted, "a \(asset) price holds mantissa \(mantissa)") }
                observations.append(PriceObservation(asset: asset, price: try JPYPrice(mantissa: units, scale: UInt8(clamping: scale)),
                                                     observedAt: V.uint(observed), source: source))
            }
            return observations
        }
    }

    // MARK: Whitelist

    public func whitelist() async throws -> [WhitelistEntry] {
        try await database.read { connection in
            try await Self.whitelistEntries(connection.answered("""
                SELECT id, asset, address, label, status, request, usable_from_ns, created_ns FROM custody_whitelist ORDER BY id
                """, logger: logger))
        }
    }

    public func insertWhitelistEntry(_ entry: WhitelistEntry, request: ApprovalRequest, audit: AuditEvent) async throws -> (WhitelistEntry, ApprovalRequest) {
        try await database.audited(audit) { connection in
            if try await KinkoPostgresDatabase.exists(connection, "SELECT 1 FROM custody_whitelist WHERE asset = \(entry.asset) AND address = \(entry.address)", logger: logger) {
                throw KinkoError(.conflict, "\(entry.address) is already on the \(entry.asset) whitelist", field: "address")
            }
            let filed = try await PostgresGovernanceStore.insertRequest(request, connection: connection, logger: logger)
            var stored = entry
            stored.requestID = filed.id
            stored.id = try await KinkoPostgresDatabase.newID(connection.answered("""
                INSERT INTO custody_whitelist (asset, address, label, status, request, usable_from_ns, created_ns)
                VALUES (\(entry.asset), \(entry.address), \(entry.label), 'pending', \(try filed.id.storedInteger()), NULL, \(V.int(entry.createdAt)))
                RETURNING id
                """, logger: logger))
            return (stored, filed)
        }
    }

    public func activateWhitelistEntry(_ id: UInt64, requestID: ApprovalRequestID, revision: Int, usableFrom: TimestampNanoseconds,
                                       at time: TimestampNanoseconds, audit: AuditEvent) async throws -> Bool {
        try await database.change(audit: audit) { connection in
            guard try await PostgresApprovals.markExecuted(connection, id: requestID, revision: revision, at: time, logger: logger) else { return false }
            let changed = try await KinkoPostgresDatabase.count(connection, """
                UPDATE custody_whitelist SET status = 'active', usable_from_ns = \(V.int(usableFrom)) WHERE id = \(V.int(id)) AND status = 'pending' RETURNING 1
                """, logger: logger)
            guard changed == 1 else { throw KinkoError(.conflict, "whitelist entry \(id) is not pending") }
            return true
        }
    }

    // MARK: Movements

    public func movements() async throws -> [Movement] {
        try await database.read { connection in
            try await Self.movements(connection.answered("""
                SELECT id, kind, from_wallet, to_wallet, to_address, asset, amount::text, ledger_pending_id, initiator, request, status,
                       created_ns, released_ns, completed_ns, transaction_hash, network_fee::text
                FROM custody_movements ORDER BY id
                """, logger: logger))
        }
    }

    public func insertMovement(_ movement: Movement, audit: AuditEvent) async throws -> Movement {
        try await database.audited(audit) { connection in
            let d = movement.draft
            var stored = movement
            stored.id = try await KinkoPostgresDatabase.newID(connection.answered("""
                INSERT INTO custody_movements (kind, from_wallet, to_wallet, to_address, asset, amount, ledger_pending_id, initiator, request,
                                               status, created_ns)
                VALUES (\(d.kind.rawValue), \(d.fromWallet), \(d.toWallet), \(d.toAddress), \(d.asset), \(V.numeric(d.amount))::numeric,
                        \(d.ledgerPendingID.map { Data(LedgerCodec.bigEndianBytes($0.rawValue)) }), \(try movement.initiator.storedInteger()),
                        \(try movement.requestID.storedInteger()), 'awaiting_approval', \(V.int(movement.createdAt)))
                RETURNING id
                """, logger: logger))
            return stored
        }
    }

    public func releaseMovement(_ id: UInt64, requestID: ApprovalRequestID, revision: Int, at time: TimestampNanoseconds, audit: AuditEvent) async throws -> Bool {
        try await database.change(audit: audit) { connection in
            guard try await PostgresApprovals.markExecuted(connection, id: requestID, revision: revision, at: time, logger: logger) else { return false }
            let changed = try await KinkoPostgresDatabase.count(connection, """
                UPDATE custody_movements SET status = 'released', released_ns = \(V.int(time)) WHERE id = \(V.int(id)) AND status = 'awaiting_approval' RETURNING 1
                """, logger: logger)
            guard changed == 1 else { throw KinkoError(.conflict, "movement \(id) is not awaiting approval") }
            return true
        }
    }

    public func completeMovement(_ id: UInt64, transactionHash: String, networkFee: Amount, at time: TimestampNanoseconds, audit: AuditEvent) async throws -> Bool {
        try await database.change(audit: audit) { connection in
            try await KinkoPostgresDatabase.count(connection, """
                UPDATE custody_movements SET status = 'completed', completed_ns = \(V.int(time)), transaction_hash = \(transactionHash),
                                             network_fee = \(V.numeric(networkFee))::numeric
                WHERE id = \(V.int(id)) AND status = 'released' RETURNING 1
                """, logger: logger) == 1
        }
    }

    public func outflows(wallet: String, asset: String, since time: TimestampNanoseconds) async throws -> Amount {
        try await database.read { connection in
            var amounts: [Amount] = []
            for try await amount in try await connection.answered("""
                SELECT amount::text FROM custody_movements WHERE from_wallet = \(wallet) AND asset = \(asset) AND created_ns >= \(V.int(time))
                """, logger: logger).decode(String.self) {
                amounts.append(try V.amount(amount, column: "amount"))
            }
            return try Amount.sum(amounts)
        }
    }

    // MARK: Reconciliation

    public func saveReconciliation(_ result: Reconciliation, run: ReconciliationRun, audit: AuditEvent) async throws -> Int {
        let time = run.computedAt
        return try await database.audited(audit) { connection in
            try await connection.answered("DELETE FROM custody_reconciliations WHERE day = \(result.day)", logger: logger)
            try await connection.answered("DELETE FROM custody_breaks WHERE day = \(result.day)", logger: logger)
            try await connection.answered("""
                INSERT INTO custody_reconciliation_days (day, cutoff_ns, computed_ns) VALUES (\(result.day), \(V.int(result.cutoff)), \(V.int(time)))
                ON CONFLICT (day) DO UPDATE SET cutoff_ns = excluded.cutoff_ns, computed_ns = excluded.computed_ns
                """, logger: logger)
            for (position, line) in result.lines.enumerated() {
                try await connection.answered("""
                    INSERT INTO custody_reconciliations (day, position, asset, liabilities, ledger_holdings, observed)
                    VALUES (\(result.day), \(Int32(position)), \(line.asset), \(V.numeric(line.liabilities))::numeric,
                            \(V.numeric(line.ledgerHoldings))::numeric, \(line.observed.map(V.numeric))::numeric)
                    """, logger: logger)
            }
            for (position, item) in result.breaks.enumerated() {
                try await connection.answered("""
                    INSERT INTO custody_breaks (day, position, asset, kind, wallet, size, cause)
                    VALUES (\(result.day), \(Int32(position)), \(item.asset), \(item.kind.rawValue), \(item.wallet), \(V.numeric(item.size))::numeric, \(item.cause))
                    """, logger: logger)
                try await connection.answered("""
                    INSERT INTO custody_alerts (kind, subject, message, raised_ns) VALUES ('segregation_break', \("\(result.day) \(item.asset)"), \(item.cause), \(V.int(time)))
                    """, logger: logger)
            }
            // The day's row above is locked by this transaction, so two reruns number in turn.
            var number = 1
            for try await value in try await connection.answered("""
                INSERT INTO custody_reconciliation_runs (day, run, computed_ns, by_name, breaks, report)
                SELECT \(result.day), COALESCE(max(run), 0) + 1, \(V.int(time)), \(run.by), \(Int32(run.breakCount)), \(run.report)
                FROM custody_reconciliation_runs WHERE day = \(result.day)
                RETURNING run
                """, logger: logger).decode(Int32.self) {
                number = Int(value)
            }
            return number
        }
    }

    public func reconciliationRuns(day: String) async throws -> [ReconciliationRun] {
        try await database.read { connection in
            var runs: [ReconciliationRun] = []
            for try await (run, computed, by, breaks, report) in try await connection.answered("""
                SELECT run, computed_ns, by_name, breaks, report FROM custody_reconciliation_runs WHERE day = \(day) ORDER BY run
                """, logger: logger).decode((Int32, Int64, String, Int32, String).self) {
                runs.append(ReconciliationRun(run: Int(run), day: day, computedAt: V.uint(computed), by: by, breakCount: Int(breaks), report: report))
            }
            return runs
        }
    }

    public func latestReconciliationDay() async throws -> String? {
        try await database.read { connection in
            for try await day in try await connection.answered("SELECT max(day) FROM custody_reconciliation_days", logger: logger).decode(String?.self) {
                return day
            }
            return nil
        }
    }

    public func reconciliation(day: String) async throws -> Reconciliation? {
        try await database.read { connection in
            var cutoff: Int64?
            for try await value in try await connection.answered("SELECT cutoff_ns FROM custody_reconciliation_days WHERE day = \(day)", logger: logger).decode(Int64.self) {
                cutoff = value
            }
            guard let cutoff else { return nil }
            var lines: [Reconciliation.Line] = []
            for try await (asset, liabilities, holdings, observed) in try await connection.answered("""
                SELECT asset, liabilities::text, ledger_holdings::text, observed::text FROM custody_reconciliations WHERE day = \(day) ORDER BY position
                """, logger: logger).decode((String, String, String, String?).self) {
                lines.append(Reconciliation.Line(asset: asset, liabilities: try V.amount(liabilities, column: "liabilities"),
                                                 ledgerHoldings: try V.amount(holdings, column: "ledger_holdings"),
                                                 observed: try observed.map { try V.amount($0, column: "observed") }))
            }
            var breaks: [Reconciliation.Break] = []
            for try await (asset, kindName, wallet, size, cause) in try await connection.answered("""
                SELECT asset, kind, wallet, size::text, cause FROM custody_breaks WHERE day = \(day) ORDER BY position
                """, logger: logger).decode((String, String, String?, String, String).self) {
                guard let kind = Reconciliation.BreakKind(rawValue: kindName) else { throw KinkoError(.storageCorrupted, "a break has an unknown kind") }
                breaks.append(Reconciliation.Break(asset: asset, kind: kind, wallet: wallet, size: try V.amount(size, column: "size"), cause: cause))
            }
            return Reconciliation(day: day, cutoff: V.uint(cutoff), lines: lines, breaks: breaks)
        }
    }

    public func alerts() async throws -> [CustodyAlert] {
        try await database.read { connection in
            var alerts: [CustodyAlert] = []
            for try await (id, kind, subject, message, raised) in try await connection.answered("""
                SELECT id, kind, subject, message, raised_ns FROM custody_alerts ORDER BY id
                """, logger: logger).decode((Int64, String, String, String, Int64).self) {
                alerts.append(CustodyAlert(id: UInt64(id), kind: kind, subject: subject, message: message, raisedAt: V.uint(raised)))
            }
            return alerts
        }
    }

    // MARK: Rows

    private static func whitelistEntries(_ rows: PostgresRowSequence) async throws -> [WhitelistEntry] {
        var entries: [WhitelistEntry] = []
        for try await (id, asset, address, label, statusName, request, usableFrom, created)
            in rows.decode((Int64, String, String, String, String, Int64, Int64?, Int64).self) {
            guard let status = WhitelistStatus(rawValue: statusName) else { throw KinkoError(.storageCorrupted, "a whitelist entry has an unknown status") }
            entries.append(WhitelistEntry(id: UInt64(id), asset: asset, address: address, label: label, status: status,
                                          requestID: ApprovalRequestID(UInt128(request)), usableFrom: usableFrom.map(V.uint), createdAt: V.uint(created)))
        }
        return entries
    }

    private static func movements(_ rows: PostgresRowSequence) async throws -> [Movement] {
        var movements: [Movement] = []
        for try await (id, kindName, from, to, toAddress, asset, amount, pendingID, initiator, request, statusName, created, released, completed, hash, fee)
            in rows.decode((Int64, String, String, String?, String?, String, String, Data?, Int64, Int64, String, Int64, Int64?, Int64?, String?, String?).self) {
            guard let kind = MovementKind(rawValue: kindName), let status = MovementStatus(rawValue: statusName) else {
                throw KinkoError(.storageCorrupted, "movement \(id) has an unknown kind or status")
            }
            let pending = try pendingID.map { TransferID(try LedgerCodec.fromBigEndianBytes([UInt8]($0))) }
            let draft = MovementDraft(kind: kind, fromWallet: from, toWallet: to, toAddress: toAddress, asset: asset,
                                      amount: try V.amount(amount, column: "amount"), ledgerPendingID: pending)
            movements.append(Movement(id: UInt64(id), draft: draft, initiator: PrincipalID(UInt128(initiator)), requestID: ApprovalRequestID(UInt128(request)),
                                      status: status, createdAt: V.uint(created), releasedAt: released.map(V.uint), completedAt: completed.map(V.uint),
                                      transactionHash: hash, networkFee: try fee.map { try V.amount($0, column: "network_fee") }))
        }
        return movements
    }

    public init(database: KinkoPostgresDatabase) {
        self.database = database
    }
}

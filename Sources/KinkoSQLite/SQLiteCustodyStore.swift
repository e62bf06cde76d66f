import Foundation
import GRDB
public import KinkoCore
public import KinkoCustody
public import KinkoGovernance
import KinkoLedger

/// Custody in the Kinko SQLite database. Every write and its audit entry commit together.
public struct SQLiteCustodyStore: CustodyStore, SQLiteStore {
    let database: KinkoDatabase

    // MARK: Vendors and wallets

    public func vendors() async throws -> [Vendor] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM custody_vendors ORDER BY name").map {
                Vendor(name: $0["name"], noticeDate: $0["notice_date"], noticeReference: $0["notice_reference"])
            }
        }
    }

    public func saveVendor(_ vendor: Vendor, audit: AuditEvent) async throws {
        try await write(audit: audit) { db in
            try db.execute(sql: """
                INSERT INTO custody_vendors (name, notice_date, notice_reference) VALUES (?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET notice_date = excluded.notice_date, notice_reference = excluded.notice_reference
                """, arguments: [vendor.name, vendor.noticeDate, vendor.noticeReference])
        }
    }

    public func wallets() async throws -> [Wallet] {
        try await database.pool.read { db in
            let assets = try Row.fetchAll(db, sql: "SELECT * FROM custody_wallet_assets ORDER BY wallet, asset")
            let addresses = try Row.fetchAll(db, sql: "SELECT * FROM custody_wallet_addresses ORDER BY wallet, address")
            return try Row.fetchAll(db, sql: "SELECT * FROM custody_wallets ORDER BY id").map { row in
                let id: String = row["id"]
                let mine = assets.filter { ($0["wallet"] as String) == id }
                var limits: [String: Amount] = [:]
                for asset in mine { if let limit = asset["velocity_limit"] as Data? { limits[asset["asset"]] = try Self.amount(limit) } }
                guard let temperature = Temperature(rawValue: row["temperature"]), let purpose = WalletPurpose(rawValue: row["purpose"]) else {
                    throw KinkoError(.storageCorrupted, "wallet \(id) has an unknown temperature or purpose")
                }
                return Wallet(
                    id: id, chain: row["chain"], temperature: temperature, purpose: purpose, assets: mine.map { $0["asset"] },
                    addresses: addresses.filter { ($0["wallet"] as String) == id }.map { $0["address"] },
                    vendor: row["vendor"], vendorVersion: row["vendor_version"],
                    frozenAt: (row["frozen_at"] as Int64?).map { UInt64(bitPattern: $0) }, frozenReason: row["frozen_reason"],
                    velocityLimits: limits, createdAt: UInt64(bitPattern: row["created_at"]))
            }
        }
    }

    public func insertWallet(_ wallet: Wallet, audit: AuditEvent) async throws {
        try await write(audit: audit) { db in
            if try Int.fetchOne(db, sql: "SELECT 1 FROM custody_wallets WHERE id = ?", arguments: [wallet.id]) != nil {
                throw KinkoError(.conflict, "a wallet \(wallet.id) already exists", field: "id")
            }
            guard try Int.fetchOne(db, sql: "SELECT 1 FROM custody_vendors WHERE name = ?", arguments: [wallet.vendor]) != nil else {
                throw KinkoError(.notFound, "no vendor \(wallet.vendor); register it first", field: "vendor")
            }
            try db.execute(sql: """
                INSERT INTO custody_wallets (id, chain, temperature, purpose, vendor, vendor_version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [wallet.id, wallet.chain, wallet.temperature.rawValue, wallet.purpose.rawValue, wallet.vendor,
                                 wallet.vendorVersion, Self.int(wallet.createdAt)])
            for asset in wallet.assets {
                try db.execute(sql: "INSERT INTO custody_wallet_assets (wallet, asset, velocity_limit) VALUES (?, ?, ?)",
                               arguments: [wallet.id, asset, wallet.velocityLimits[asset].map(Self.blob)])
            }
            for address in wallet.addresses {
                try db.execute(sql: "INSERT INTO custody_wallet_addresses (wallet, address) VALUES (?, ?)", arguments: [wallet.id, address])
            }
        }
    }

    public func setFrozen(_ id: String, at time: TimestampNanoseconds?, reason: String?, alongside: [RecordWrite], audit: AuditEvent) async throws {
        try await SQLiteRecords.moved(as: "the unfreeze approval was used or changed meanwhile") {
            try await write(audit: audit) { db in
                try db.execute(sql: "UPDATE custody_wallets SET frozen_at = ?, frozen_reason = ? WHERE id = ?",
                               arguments: [time.map(Self.int), reason, id])
                guard db.changesCount == 1 else { throw KinkoError(.notFound, "no wallet \(id)", field: "wallet") }
                try SQLiteRecords.apply(alongside, at: self.database.clock.now(), db: db)
            }
        }
    }

    // MARK: Observations

    public func recordBalances(_ observations: [BalanceObservation], audit: AuditEvent) async throws {
        let now = database.clock.now()
        try await write(audit: audit) { db in
            let insert = try db.cachedStatement(sql: """
                INSERT INTO custody_balance_observations (wallet, asset, amount, observed_at, source, recorded_at, recorded_by) VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
            for o in observations {
                try insert.execute(arguments: [o.wallet, o.asset, Self.blob(o.amount), Self.int(o.observedAt), o.source, Self.int(now), o.recordedBy])
            }
        }
    }

    public func recordPrices(_ observations: [PriceObservation], audit: AuditEvent) async throws {
        let now = database.clock.now()
        try await write(audit: audit) { db in
            for o in observations {
                try db.execute(sql: """
                    INSERT INTO custody_price_observations (asset, mantissa, scale, observed_at, source, recorded_at) VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [o.asset, Data(LedgerCodec.bigEndianBytes(o.price.mantissa)), Int(o.price.scale), Self.int(o.observedAt),
                                     o.source, Self.int(now)])
            }
        }
    }

    public func latestBalances(asOf time: TimestampNanoseconds) async throws -> [BalanceObservation] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT o.* FROM custody_balance_observations o
                WHERE o.id = (SELECT id FROM custody_balance_observations i WHERE i.wallet = o.wallet AND i.asset = o.asset
                              AND i.observed_at <= ?1 ORDER BY i.observed_at DESC, i.id DESC LIMIT 1)
                ORDER BY o.wallet, o.asset
                """, arguments: [Self.int(time)]).map { row in
                BalanceObservation(wallet: row["wallet"], asset: row["asset"], amount: try Self.amount(row["amount"]),
                                   observedAt: UInt64(bitPattern: row["observed_at"]), source: row["source"], recordedBy: row["recorded_by"])
            }
        }
    }

    public func latestPrices(asOf time: TimestampNanoseconds) async throws -> [PriceObservation] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT o.* FROM custody_price_observations o
                WHERE o.id = (SELECT id FROM custody_price_observations i WHERE i.asset = o.asset AND i.observed_at <= ?1
                              ORDER BY i.observed_at DESC, i.id DESC LIMIT 1)
                ORDER BY o.asset
                """, arguments: [Self.int(time)]).map { row in
                PriceObservation(
                    asset: row["asset"],
                    price: try JPYPrice(mantissa: LedgerCodec.fromBigEndianBytes([UInt8](row["mantissa"] as Data)), scale: UInt8(clamping: row["scale"] as Int)),
                    observedAt: UInt64(bitPattern: row["observed_at"]), source: row["source"])
            }
        }
    }

    // MARK: Whitelist

    public func whitelist() async throws -> [WhitelistEntry] {
        try await database.pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM custody_whitelist ORDER BY id").map(Self.whitelistEntry) }
    }

    public func insertWhitelistEntry(_ entry: WhitelistEntry, request: ApprovalRequest, audit: AuditEvent) async throws -> (WhitelistEntry, ApprovalRequest) {
        try await write(audit: audit) { db in
            if try Int.fetchOne(db, sql: "SELECT 1 FROM custody_whitelist WHERE asset = ? AND address = ?", arguments: [entry.asset, entry.address]) != nil {
                throw KinkoError(.conflict, "\(entry.address) is already on the \(entry.asset) whitelist", field: "address")
            }
            let filed = try SQLiteGovernanceStore.insertRequest(request, db: db)
            try db.execute(sql: """
                INSERT INTO custody_whitelist (asset, address, label, status, request, usable_from, created_at) VALUES (?, ?, ?, 'pending', ?, NULL, ?)
                """, arguments: [entry.asset, entry.address, entry.label, try filed.id.storedInteger(), Self.int(entry.createdAt)])
            var stored = entry
            stored.id = UInt64(db.lastInsertedRowID)
            stored.requestID = filed.id
            return (stored, filed)
        }
    }

    public func activateWhitelistEntry(_ id: UInt64, requestID: ApprovalRequestID, revision: Int, usableFrom: TimestampNanoseconds,
                                       at time: TimestampNanoseconds, audit: AuditEvent) async throws -> Bool {
        try await write(audit: audit) { db in
            guard try SQLiteApprovals.markExecuted(db: db, id: requestID, revision: revision, at: time) else { return false }
            try db.execute(sql: "UPDATE custody_whitelist SET status = 'active', usable_from = ? WHERE id = ? AND status = 'pending'",
                           arguments: [Self.int(usableFrom), Self.int(id)])
            guard db.changesCount == 1 else { throw KinkoError(.conflict, "whitelist entry \(id) is not pending") }
            return true
        }
    }

    // MARK: Movements

    public func movements() async throws -> [Movement] {
        try await database.pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM custody_movements ORDER BY id").map(Self.movement) }
    }

    public func insertMovement(_ movement: Movement, audit: AuditEvent) async throws -> Movement {
        try await write(audit: audit) { db in
            let d = movement.draft
            try db.execute(sql: """
                INSERT INTO custody_movements (kind, from_wallet, to_wallet, to_address, asset, amount, ledger_pending_id, initiator, request,
                                               status, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'awaiting_approval', ?)
                """, arguments: [d.kind.rawValue, d.fromWallet, d.toWallet, d.toAddress, d.asset, Self.blob(d.amount),
                                 d.ledgerPendingID.map { Data(LedgerCodec.bigEndianBytes($0.rawValue)) },
                                 try movement.initiator.storedInteger(), try movement.requestID.storedInteger(), Self.int(movement.createdAt)])
            var stored = movement
            stored.id = UInt64(db.lastInsertedRowID)
            return stored
        }
    }

    public func releaseMovement(_ id: UInt64, requestID: ApprovalRequestID, revision: Int, at time: TimestampNanoseconds, audit: AuditEvent) async throws -> Bool {
        try await write(audit: audit) { db in
            guard try SQLiteApprovals.markExecuted(db: db, id: requestID, revision: revision, at: time) else { return false }
            try db.execute(sql: "UPDATE custody_movements SET status = 'released', released_at = ? WHERE id = ? AND status = 'awaiting_approval'",
                           arguments: [Self.int(time), Self.int(id)])
            guard db.changesCount == 1 else { throw KinkoError(.conflict, "movement \(id) is not awaiting approval") }
            return true
        }
    }

    public func completeMovement(_ id: UInt64, transactionHash: String, networkFee: Amount, at time: TimestampNanoseconds, audit: AuditEvent) async throws -> Bool {
        try await write(audit: audit) { db in
            try db.execute(sql: """
                UPDATE custody_movements SET status = 'completed', completed_at = ?, transaction_hash = ?, network_fee = ?
                WHERE id = ? AND status = 'released'
                """, arguments: [Self.int(time), transactionHash, Self.blob(networkFee), Self.int(id)])
            return db.changesCount == 1
        }
    }

    public func outflows(wallet: String, asset: String, since time: TimestampNanoseconds) async throws -> Amount {
        try await database.pool.read { db in
            let amounts = try Data.fetchAll(db, sql: """
                SELECT amount FROM custody_movements WHERE from_wallet = ? AND asset = ? AND created_at >= ?
                """, arguments: [wallet, asset, Self.int(time)])
            return try Amount.sum(amounts.map(Self.amount))
        }
    }

    // MARK: Reconciliation

    public func saveReconciliation(_ result: Reconciliation, run: ReconciliationRun, audit: AuditEvent) async throws -> Int {
        let time = run.computedAt
        return try await write(audit: audit) { db in
            try db.execute(sql: "DELETE FROM custody_reconciliations WHERE day = ?", arguments: [result.day])
            try db.execute(sql: "DELETE FROM custody_breaks WHERE day = ?", arguments: [result.day])
            try db.execute(sql: "INSERT OR REPLACE INTO custody_reconciliation_days (day, cutoff, computed_at) VALUES (?, ?, ?)",
                           arguments: [result.day, Self.int(result.cutoff), Self.int(time)])
            for (position, line) in result.lines.enumerated() {
                try db.execute(sql: """
                    INSERT INTO custody_reconciliations (day, position, asset, cutoff, liabilities, ledger_holdings, observed, computed_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [result.day, position, line.asset, Self.int(result.cutoff), Self.blob(line.liabilities), Self.blob(line.ledgerHoldings),
                                     line.observed.map(Self.blob), Self.int(time)])
            }
            for (position, item) in result.breaks.enumerated() {
                try db.execute(sql: """
                    INSERT INTO custody_breaks (day, position, asset, kind, wallet, size, cause) VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [result.day, position, item.asset, item.kind.rawValue, item.wallet, Self.blob(item.size), item.cause])
                try db.execute(sql: "INSERT INTO custody_alerts (kind, subject, message, raised_at) VALUES ('segregation_break', ?, ?, ?)",
                               arguments: ["\(result.day) \(item.asset)", item.cause, Self.int(time)])
            }
            let number = (try Int.fetchOne(db, sql: "SELECT max(run) FROM custody_reconciliation_runs WHERE day = ?", arguments: [result.day]) ?? 0) + 1
            try db.execute(sql: "INSERT INTO custody_reconciliation_runs (day, run, computed_at, by, breaks, report) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [result.day, number, Self.int(time), run.by, run.breakCount, run.report])
            return number
        }
    }

    public func reconciliationRuns(day: String) async throws -> [ReconciliationRun] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM custody_reconciliation_runs WHERE day = ? ORDER BY run", arguments: [day]).map {
                ReconciliationRun(run: $0["run"], day: $0["day"], computedAt: Self.uint($0["computed_at"]), by: $0["by"], breakCount: $0["breaks"], report: $0["report"])
            }
        }
    }

    /// The most recent reconciled day, if any.
    public func latestReconciliationDay() async throws -> String? {
        try await database.pool.read { db in try String.fetchOne(db, sql: "SELECT max(day) FROM custody_reconciliation_days") }
    }

    public func reconciliation(day: String) async throws -> Reconciliation? {
        try await database.pool.read { db in
            guard let header = try Row.fetchOne(db, sql: "SELECT * FROM custody_reconciliation_days WHERE day = ?", arguments: [day]) else { return nil }
            let lines = try Row.fetchAll(db, sql: "SELECT * FROM custody_reconciliations WHERE day = ? ORDER BY position", arguments: [day]).map { row in
                Reconciliation.Line(asset: row["asset"], liabilities: try Self.amount(row["liabilities"]),
                                    ledgerHoldings: try Self.amount(row["ledger_holdings"]), observed: try (row["observed"] as Data?).map(Self.amount))
            }
            let breaks = try Row.fetchAll(db, sql: "SELECT * FROM custody_breaks WHERE day = ? ORDER BY position", arguments: [day]).map { row in
                guard let kind = Reconciliation.BreakKind(rawValue: row["kind"]) else { throw KinkoError(.storageCorrupted, "a break has an unknown kind") }
                return Reconciliation.Break(asset: row["asset"], kind: kind, wallet: row["wallet"], size: try Self.amount(row["size"]), cause: row["cause"])
            }
            return Reconciliation(day: day, cutoff: UInt64(bitPattern: header["cutoff"]), lines: lines, breaks: breaks)
        }
    }

    public func alerts() async throws -> [CustodyAlert] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM custody_alerts ORDER BY id").map {
                CustodyAlert(id: UInt64($0["id"] as Int64), kind: $0["kind"], subject: $0["subject"], message: $0["message"],
                             raisedAt: UInt64(bitPattern: $0["raised_at"]))
            }
        }
    }

    // MARK: Rows

    private static func whitelistEntry(_ row: Row) throws -> WhitelistEntry {
        guard let status = WhitelistStatus(rawValue: row["status"]) else { throw KinkoError(.storageCorrupted, "a whitelist entry has an unknown status") }
        return WhitelistEntry(id: UInt64(row["id"] as Int64), asset: row["asset"], address: row["address"], label: row["label"], status: status,
                              requestID: ApprovalRequestID(UInt128(row["request"] as Int64)),
                              usableFrom: (row["usable_from"] as Int64?).map { UInt64(bitPattern: $0) }, createdAt: UInt64(bitPattern: row["created_at"]))
    }

    private static func movement(_ row: Row) throws -> Movement {
        guard let kind = MovementKind(rawValue: row["kind"]), let status = MovementStatus(rawValue: row["status"]) else {
            throw KinkoError(.storageCorrupted, "movement \(row["id"] as Int64) has an unknown kind or status")
        }
        let pending = try (row["ledger_pending_id"] as Data?).map { TransferID(try LedgerCodec.fromBigEndianBytes([UInt8]($0))) }
        let draft = MovementDraft(kind: kind, fromWallet: row["from_wallet"], toWallet: row["to_wallet"], toAddress: row["to_address"],
                                  asset: row["asset"], amount: try amount(row["amount"]), ledgerPendingID: pending)
        return Movement(id: UInt64(row["id"] as Int64), draft: draft, initiator: PrincipalID(UInt128(row["initiator"] as Int64)),
                        requestID: ApprovalRequestID(UInt128(row["request"] as Int64)), status: status,
                        createdAt: UInt64(bitPattern: row["created_at"]), releasedAt: (row["released_at"] as Int64?).map { UInt64(bitPattern: $0) },
                        completedAt: (row["completed_at"] as Int64?).map { UInt64(bitPattern: $0) }, transactionHash: row["transaction_hash"],
                        networkFee: try (row["network_fee"] as Data?).map(amount))
    }

    public init(database: KinkoDatabase) {
        self.database = database
    }
}

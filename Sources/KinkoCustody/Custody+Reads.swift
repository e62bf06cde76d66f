public import KinkoCore
public import KinkoGovernance
import KinkoLedger

/// What front ends read from custody, each read authorized here (a refusal is audited), lists
/// paged.
extension Custody {
    public func wallets(by caller: Caller) async throws -> [Wallet] {
        _ = try await governance.authorize(caller, .custodyRead)
        return try await store.wallets()
    }

    public func wallet(_ id: String, by caller: Caller) async throws -> Wallet {
        guard let wallet = try await wallets(by: caller).first(where: { $0.id == id }) else {
            throw KinkoError(.notFound, "no wallet \(id)", field: "wallet")
        }
        return wallet
    }

    public func vendors(by caller: Caller) async throws -> [Vendor] {
        _ = try await governance.authorize(caller, .custodyRead)
        return try await store.vendors()
    }

    /// Movements, newest first, before id `before`, at most `limit`.
    public func movements(status: MovementStatus? = nil, before: UInt64? = nil, limit: Int?, by caller: Caller) async throws -> [Movement] {
        _ = try await governance.authorize(caller, .custodyRead)
        let size = try Governance.page(limit)
        return Array(try await store.movements().filter { movement in
            (status.map { movement.status == $0 } ?? true) && (before.map { movement.id < $0 } ?? true)
        }.sorted { $0.id > $1.id }.prefix(size))
    }

    public func movement(_ id: UInt64, by caller: Caller) async throws -> Movement {
        _ = try await governance.authorize(caller, .custodyRead)
        guard let movement = try await store.movements().first(where: { $0.id == id }) else {
            throw KinkoError(.notFound, "no movement \(id)", field: "id")
        }
        return movement
    }

    public func whitelist(by caller: Caller) async throws -> [WhitelistEntry] {
        _ = try await governance.authorize(caller, .custodyRead)
        return try await store.whitelist()
    }

    public func reconciliation(day: String, by caller: Caller) async throws -> Reconciliation {
        _ = try await governance.authorize(caller, .custodyRead)
        _ = try Reconciliation.cutoff(day: day, hourJST: settings.reconciliationCutoffHourJST)
        guard let reconciliation = try await store.reconciliation(day: day) else {
            throw KinkoError(.notFound, "no reconciliation for \(day)", field: "day")
        }
        return reconciliation
    }

    /// The latest reconciliation, if any day was reconciled.
    public func latestReconciliation(by caller: Caller) async throws -> Reconciliation? {
        _ = try await governance.authorize(caller, .custodyRead)
        guard let day = try await store.latestReconciliationDay() else { return nil }
        return try await store.reconciliation(day: day)
    }

    /// One wallet's holding of one asset: what the ledger books and what was last observed.
    public struct Position: Sendable {
        public var wallet: Wallet
        public var asset: String
        /// Nil for an asset the ledger does not know.
        public var assetDefinition: Asset?
        public var booked: Amount
        public var observed: BalanceObservation?
        public var vendorHasNotice: Bool
    }

    /// Every wallet's holding of each of its assets.
    public func positions(by caller: Caller) async throws -> [Position] {
        _ = try await governance.authorize(caller, .custodyRead)
        try await ledger.refresh()
        let facts = try await facts()
        var positions: [Position] = []
        for wallet in facts.wallets {
            for code in wallet.assets {
                let booked = await ledger.account(wallet.accountID(for: code))?.balance.netPosted(claim: false) ?? 0
                positions.append(Position(
                    wallet: wallet, asset: code, assetDefinition: facts.assets.first { $0.code == code }, booked: Amount(units: booked),
                    observed: facts.balances.first { $0.wallet == wallet.id && $0.asset == code },
                    vendorHasNotice: facts.vendors[wallet.vendor]?.hasNotice ?? false))
            }
        }
        return positions
    }

    public func alerts(by caller: Caller) async throws -> [CustodyAlert] {
        _ = try await governance.authorize(caller, .custodyRead)
        return try await store.alerts()
    }
}

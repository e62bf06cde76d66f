import Foundation
import KinkoCore
import KinkoCustody
import KinkoGovernance
import KinkoLedger
import OpenAPIRuntime

extension KinkoError.Code {
    /// A custody rule refused a movement; the detail names the rule and its figures.
    static let movementRefused = Self(rawValue: "movement_refused")
}

/// Custody writes: vendors, wallets, observations, the whitelist, movements and the signer
/// queue, reconciliation runs. The custody service checks each caller's permission.
extension KinkoAPI {
    var custody: Custody { services.custody }

    func assetsByCode() async -> [String: Asset] {
        Dictionary(uniqueKeysWithValues: await ledger.assets.map { ($0.code, $0) })
    }

    func asset(_ code: String, field: String) async throws -> Asset {
        guard let asset = await ledger.asset(code: code) else { throw KinkoError(.assetNotFound, "unknown asset \(code)", field: field) }
        return asset
    }

    static func time(_ text: String?, field: String, default now: TimestampNanoseconds) throws -> TimestampNanoseconds {
        guard let text, !text.isEmpty else { return now }
        return try TimestampNanoseconds(parsing: text, field: field)
    }

    static func walletView(_ w: Wallet) -> Components.Schemas.Wallet {
        .init(id: w.id, chain: w.chain, temperature: w.temperature.rawValue, purpose: w.purpose.rawValue, assets: w.assets, vendor: w.vendor, frozen: w.isFrozen)
    }

    static func movementView(_ m: Movement, assets: [String: Asset]) -> Components.Schemas.Movement {
        .init(id: String(m.id), kind: m.draft.kind.rawValue, from: m.draft.fromWallet, to: m.draft.toWallet, address: m.draft.toAddress,
              asset: m.draft.asset, amount: m.draft.amount.decimalString(scale: assets[m.draft.asset]?.scale ?? 0),
              status: m.status.rawValue, request: m.requestID.description)
    }

    static func whitelistView(_ e: WhitelistEntry) -> Components.Schemas.WhitelistEntry {
        .init(id: String(e.id), asset: e.asset, address: e.address, label: e.label, status: e.status.rawValue, request: e.requestID.description,
              usableFrom: e.usableFrom?.iso8601)
    }

    func saveVendor(_ input: Operations.SaveVendor.Input) async throws -> Operations.SaveVendor.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        let vendor = Vendor(name: body.name, noticeDate: body.noticeDate, noticeReference: body.noticeReference)
        try await custody.saveVendor(vendor, by: caller)
        return .ok(.init(body: .json(.init(name: vendor.name, noticeDate: vendor.noticeDate, noticeReference: vendor.noticeReference, hasNotice: vendor.hasNotice))))
    }

    func registerWallet(_ input: Operations.RegisterWallet.Input) async throws -> Operations.RegisterWallet.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        var limits: [String: Amount] = [:]
        for (code, amount) in body.velocityLimits?.additionalProperties ?? [:] {
            let asset = try await asset(code, field: "velocity_limits.\(code)")
            limits[asset.code] = try asset.parse(amount, field: "velocity_limits.\(code)")
        }
        let wallet = Wallet(id: body.id, chain: body.chain, temperature: body.temperature == .hot ? .hot : .cold,
                            purpose: WalletPurpose(rawValue: body.purpose.rawValue) ?? .customerPool, assets: body.assets, addresses: body.addresses ?? [],
                            vendor: body.vendor, vendorVersion: body.vendorVersion, velocityLimits: limits)
        let flags = try await custody.registerWallet(wallet, by: caller)
        let stored = try await custody.wallet(wallet.id, by: caller)
        return .created(.init(body: .json(.init(
            wallet: Self.walletView(stored),
            accounts: .init(additionalProperties: Dictionary(uniqueKeysWithValues: wallet.assets.map { ($0, wallet.accountID(for: $0).description) })),
            flags: flags))))
    }

    func freezeWallet(_ input: Operations.FreezeWallet.Input) async throws -> Operations.FreezeWallet.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        guard body.frozen else {
            return .accepted(.init(body: .json(try await approvalView(try await custody.requestUnfreeze(input.path.id, by: caller)))))
        }
        guard let reason = body.reason, !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw KinkoError(.invalidInput, "is required to freeze a wallet", field: "reason")
        }
        try await custody.freeze(input.path.id, reason: reason, by: caller)
        return .ok(.init(body: .json(Self.walletView(try await custody.wallet(input.path.id, by: caller)))))
    }

    func executeUnfreeze(_ input: Operations.ExecuteUnfreeze.Input) async throws -> Operations.ExecuteUnfreeze.Output {
        let caller = try caller()
        let id = try ApprovalRequestID(parsing: input.path.request, field: "request")
        return .ok(.init(body: .json(Self.walletView(try await custody.executeUnfreeze(request: id, by: caller)))))
    }

    func recordBalances(_ input: Operations.RecordBalances.Input) async throws -> Operations.RecordBalances.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        let now = services.clock.now()
        var observations: [BalanceObservation] = []
        for (index, row) in body.observations.enumerated() {
            let field = "observations[\(index)]"
            let asset = try await asset(row.asset, field: "\(field).asset")
            observations.append(BalanceObservation(
                wallet: row.wallet, asset: asset.code, amount: try asset.parse(row.amount, field: "\(field).amount"),
                observedAt: try Self.time(row.observedAt, field: "\(field).observed_at", default: now), source: row.source ?? "api"))
        }
        try await custody.recordBalances(observations, by: caller)
        return .ok(.init(body: .json(.init(recorded: observations.count))))
    }

    func recordPrices(_ input: Operations.RecordPrices.Input) async throws -> Operations.RecordPrices.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        let now = services.clock.now()
        var observations: [PriceObservation] = []
        for (index, row) in body.prices.enumerated() {
            let field = "prices[\(index)]"
            do {
                observations.append(PriceObservation(asset: row.asset, price: try JPYPrice(decimal: row.price),
                                                     observedAt: try Self.time(row.observedAt, field: "observed_at", default: now), source: row.source ?? "api"))
            } catch let error as KinkoError {
                throw KinkoError(error.code, error.message, field: "\(field).\(error.field ?? "price")")
            }
        }
        try await custody.recordPrices(observations, by: caller)
        return .ok(.init(body: .json(.init(recorded: observations.count))))
    }

    func listWhitelist(_ input: Operations.ListWhitelist.Input) async throws -> Operations.ListWhitelist.Output {
        .ok(.init(body: .json(.init(entries: try await custody.whitelist(by: try caller()).map(Self.whitelistView)))))
    }

    func requestWhitelist(_ input: Operations.RequestWhitelist.Input) async throws -> Operations.RequestWhitelist.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        let entry = try await custody.requestWhitelist(asset: body.asset, address: body.address, label: body.label ?? "", by: caller)
        return .created(.init(body: .json(Self.whitelistView(entry))))
    }

    func activateWhitelist(_ input: Operations.ActivateWhitelist.Input) async throws -> Operations.ActivateWhitelist.Output {
        let entry = try await custody.activateWhitelist(try Self.uint64(input.path.id, field: "id"), by: try caller())
        return .ok(.init(body: .json(Self.whitelistView(entry))))
    }

    func requestMovement(_ input: Operations.RequestMovement.Input) async throws -> Operations.RequestMovement.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        try await ledger.refresh()
        let asset = try await asset(body.asset, field: "asset")
        let draft = MovementDraft(kind: MovementKind(rawValue: body.kind.rawValue) ?? .withdrawal, fromWallet: body.from, toWallet: body.to,
                                  toAddress: body.address, asset: asset.code, amount: try asset.parse(body.amount, field: "amount"),
                                  ledgerPendingID: try body.ledgerPendingId.map { try TransferID(parsing: $0, field: "ledger_pending_id") })
        switch try await custody.requestMovement(draft, by: caller) {
        case .success(let movement):
            return .created(.init(body: .json(Self.movementView(movement, assets: await assetsByCode()))))
        case .failure(let refusal):
            throw KinkoError(.movementRefused, "refused by rule \(refusal.rule.rawValue): \(refusal.message)", field: "amount")
        }
    }

    func releaseMovement(_ input: Operations.ReleaseMovement.Input) async throws -> Operations.ReleaseMovement.Output {
        let caller = try caller()
        try await ledger.refresh()
        let movement = try await custody.release(try Self.uint64(input.path.id, field: "id"), by: caller)
        return .ok(.init(body: .json(Self.movementView(movement, assets: await assetsByCode()))))
    }

    func completeMovement(_ input: Operations.CompleteMovement.Input) async throws -> Operations.CompleteMovement.Output {
        let caller = try caller()
        let id = try Self.uint64(input.path.id, field: "id")
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        let stored = try await custody.movement(id, by: caller)
        let asset = try await asset(stored.draft.asset, field: "id")
        try await ledger.refresh()
        let movement = try await custody.complete(id, transactionHash: body.txHash, networkFee: try asset.parse(body.fee ?? "0", field: "fee"), by: caller)
        return .ok(.init(body: .json(Self.movementView(movement, assets: await assetsByCode()))))
    }

    func signerQueue(_ input: Operations.SignerQueue.Input) async throws -> Operations.SignerQueue.Output {
        let queue = try await custody.queue(by: try caller())
        let assets = await assetsByCode()
        return .ok(.init(body: .json(.init(movements: queue.map { Self.movementView($0, assets: assets) }))))
    }

    func reconcile(_ input: Operations.Reconcile.Input) async throws -> Operations.Reconcile.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        try Self.checkDay(body.day, field: "day")
        try await ledger.refresh()
        let result = try await custody.reconcile(day: body.day, by: caller)
        return .ok(.init(body: .json(.init(day: result.day, cutoff: result.cutoff.iso8601, clean: result.isClean,
                                           text: result.text(assets: await assetsByCode())))))
    }

    static func checkDay(_ day: String, field: String) throws(KinkoError) {
        _ = try CalendarDay.parse(day, field: field)
    }

    func custodyAlerts(_ input: Operations.CustodyAlerts.Input) async throws -> Operations.CustodyAlerts.Output {
        .ok(.init(body: .json(.init(alerts: try await custody.alerts(by: try caller()).map {
            .init(id: String($0.id), raisedAt: $0.raisedAt.iso8601, kind: $0.kind, subject: $0.subject, message: $0.message)
        }))))
    }
}

extension Asset {
    /// `parse`, with the field at fault named.
    func parse(_ decimal: String, field: String) throws(KinkoError) -> Amount {
        do { return try parse(decimal) } catch { throw KinkoError(error.code, error.message, field: field) }
    }
}

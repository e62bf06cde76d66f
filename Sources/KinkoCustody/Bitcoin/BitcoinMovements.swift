import Foundation
public import KinkoBitcoin
public import KinkoCore
public import KinkoGovernance
import KinkoLedger

/// What one import of a wallet's unspent outputs changed.
public struct UTXOImport: Sendable, Equatable {
    public var wallet: String
    public var added = 0
    public var updated = 0
    /// Tracked outputs missing from the import: spent by a movement's transaction…
    public var spentByMovements = 0
    /// …or spent outside Kinko: no movement of Kinko's spent them. Each one is an alarm.
    public var spentOutside: [String] = []
    /// Outputs at addresses Kinko never handed out for this wallet (not tracked).
    public var foreign: [ObservedUTXO] = []
    /// Confirmed satoshis (at least the settings' confirmations), recorded as the wallet's
    /// balance observation, and those still unconfirmed.
    public var confirmedSats: UInt64 = 0
    public var unconfirmedSats: UInt64 = 0
    /// Movements whose transaction the import showed confirmed, now completed.
    public var completedMovements: [UInt64] = []
}

/// Whether one wallet's unspent outputs, its ledger account and the latest balance the
/// custody check uses agree.
public struct WalletAgreement: Sendable, Equatable {
    public var wallet: String
    public var utxoSats: UInt64
    public var unconfirmedSats: UInt64
    public var reservedSats: UInt64
    public var ledgerSats: UInt128?
    public var observedSats: UInt128?
    public var observedAt: TimestampNanoseconds?
    public var differences: [String]
    public var agrees: Bool { differences.isEmpty }
}

extension BitcoinCustody {
    // MARK: Unspent outputs

    /// Takes `utxos` as the whole unspent set of `walletID` now (a node's `listunspent`, or its
    /// NDJSON export): new outputs at Kinko's addresses are tracked, known ones updated, and
    /// tracked ones missing are spent — by a movement's transaction, or outside Kinko (an
    /// alarm). The confirmed total becomes the wallet's balance observation, and a movement
    /// whose transaction shows confirmed is completed.
    public func importUTXOs(wallet walletID: String, _ utxos: [ObservedUTXO], by caller: Caller) async throws -> UTXOImport {
        let digest = Governance.digest(["wallet": .string(walletID), "outputs": .array(utxos.prefix(Self.importMax).map { .string("\($0.txid):\($0.vout)") })])
        let role = try await governance.authorize(caller, .custodyObservationsRecord, digest: digest)
        guard utxos.count <= Self.importMax else {
            throw KinkoError(.limitExceeded, "import at most \(Self.importMax) outputs at a time; got \(utxos.count)", field: "utxos")
        }
        let settings = try settings.validated()
        let (walletEntry, _) = try await adoptedWallet(walletID)
        var seen = Set<String>()
        for (index, utxo) in utxos.enumerated() where !seen.insert("\(utxo.txid):\(utxo.vout)").inserted {
            throw KinkoError(.invalidInput, "output \(utxo.txid):\(utxo.vout) appears twice", field: "utxos[\(index)]")
        }
        var tracked: [String: RecordCollection<TrackedUTXO>.Entry] = [:]
        for status in [TrackedUTXO.Status.unspent, .reserved] {
            for entry in try await utxoRecords.all(tag: TrackedUTXO.tag(wallet: walletID, status)) { tracked[entry.key] = entry }
        }
        let finalized = try await psbtRecords.all(tag: MovementPSBT.Status.finalized.rawValue).filter { $0.value.wallet == walletID }
        var result = UTXOImport(wallet: walletID)
        var changes: [RecordWrite] = []
        var highestReceive = walletEntry.value.highestUsedReceive
        let now = clock.now()
        for utxo in utxos {
            let key = "\(utxo.txid):\(utxo.vout)"
            if let known = tracked.removeValue(forKey: key) {
                if known.value.confirmations != utxo.confirmations || known.value.blockHeight != utxo.blockHeight {
                    var updated = known.value
                    updated.confirmations = utxo.confirmations
                    updated.blockHeight = utxo.blockHeight
                    changes.append(try utxoRecords.update(known, to: updated, tag: TrackedUTXO.tag(wallet: walletID, updated.status)))
                    result.updated += 1
                }
                count(known.value.valueSats, confirmations: utxo.confirmations, into: &result, settings: settings)
                continue
            }
            guard let place = try await addressRecords.get(utxo.address), place.value.wallet == walletID else {
                result.foreign.append(utxo)
                continue
            }
            if try await utxoRecords.get(key) != nil { continue }  // spent already by a movement Kinko tracks
            let record = TrackedUTXO(txid: utxo.txid, vout: utxo.vout, wallet: walletID, valueSats: utxo.valueSats, address: utxo.address,
                                     branch: place.value.branch, index: place.value.index, confirmations: utxo.confirmations, blockHeight: utxo.blockHeight,
                                     status: .unspent, movement: nil, spentBy: nil, firstSeenAt: now)
            changes.append(try utxoRecords.insert(key, record, tag: TrackedUTXO.tag(wallet: walletID, .unspent)))
            result.added += 1
            if place.value.branch == 0 { highestReceive = max(highestReceive ?? 0, place.value.index) }
            count(utxo.valueSats, confirmations: utxo.confirmations, into: &result, settings: settings)
        }
        // What is tracked but no longer unspent was spent.
        for (key, entry) in tracked.sorted(by: { $0.key < $1.key }) {
            var spent = entry.value
            let movement = entry.value.movement.flatMap { id in finalized.first { $0.value.movement == id } }
            spent.status = .spent
            spent.spentBy = movement?.value.txid ?? "outside Kinko"
            if movement == nil { result.spentOutside.append(key) } else { result.spentByMovements += 1 }
            changes.append(try utxoRecords.update(entry, to: spent, tag: TrackedUTXO.tag(wallet: walletID, .spent)))
        }
        if highestReceive != walletEntry.value.highestUsedReceive {
            var advanced = walletEntry.value
            advanced.highestUsedReceive = highestReceive
            changes.append(try walletRecords.update(walletEntry, to: advanced, tag: advanced.status.rawValue))
        }
        var details = ["wallet": walletID, "added": String(result.added), "updated": String(result.updated), "confirmed_sats": String(result.confirmedSats),
                       "foreign": String(result.foreign.count)]
        if !result.spentOutside.isEmpty { details["spent_outside_kinko"] = result.spentOutside.prefix(20).joined(separator: ",") }
        guard try await governance.store.write(changes, at: now, audit: caller.event(.custodyObservationsRecord, role: role, digest: digest,
                                                                                   result: result.spentOutside.isEmpty ? "imported" : "imported: spent outside Kinko",
                                                                                   details: details))
        else {
            throw KinkoError(.conflict, "wallet \(walletID)'s outputs changed meanwhile; import again", field: "wallet")
        }
        try await custody.recordBalances([BalanceObservation(wallet: walletID, asset: Self.asset, amount: Amount(units: UInt128(result.confirmedSats)),
                                                             observedAt: now, source: "bitcoin-utxos")], by: caller)
        let observed = Dictionary(utxos.map { ($0.txid, $0.confirmations) }, uniquingKeysWith: max)
        for entry in finalized {
            if let confirmations = observed[entry.value.txid], confirmations >= settings.confirmations {
                _ = try await observe(movement: entry.value.movement, txid: entry.value.txid, confirmations: confirmations, by: caller)
                result.completedMovements.append(entry.value.movement)
            }
        }
        return result
    }

    /// The `scantxoutset` request that finds every output of `walletID` a node holds: both
    /// branches, up to the gap limit past the highest index handed out (readers of custody).
    public func nodeScanRequest(wallet walletID: String, by caller: Caller) async throws -> [UInt8] {
        _ = try await governance.authorize(caller, .custodyRead)
        let (entry, descriptor) = try await adoptedWallet(walletID)
        let gap = UInt32(try settings.validated().gapLimit)
        return try NodeScan.request(descriptor: descriptor, ranges: [entry.value.nextReceive + gap, entry.value.nextChange + gap])
    }

    /// Imports what a node answered to `nodeScanRequest` as the wallet's whole unspent set.
    public func importNodeScan(wallet walletID: String, answer: [UInt8], by caller: Caller) async throws -> UTXOImport {
        let (entry, _) = try await adoptedWallet(walletID)
        return try await importUTXOs(wallet: walletID, try NodeScan.parse(answer, network: entry.value.network).utxos, by: caller)
    }

    private func count(_ value: UInt64, confirmations: Int, into result: inout UTXOImport, settings: BitcoinSettings) {
        if confirmations >= settings.confirmations { result.confirmedSats += value } else { result.unconfirmedSats += value }
    }

    /// The tracked outputs of `walletID` with `status` (readers of custody).
    public func utxos(wallet walletID: String, status: TrackedUTXO.Status = .unspent, by caller: Caller) async throws -> [TrackedUTXO] {
        _ = try await governance.authorize(caller, .custodyRead)
        return try await utxoRecords.all(tag: TrackedUTXO.tag(wallet: walletID, status)).map(\.value)
    }

    /// Per adopted wallet (or one): its confirmed unspent outputs against its ledger account
    /// and the latest balance observation, with each difference in words.
    public func agreement(wallet only: String? = nil, by caller: Caller) async throws -> [WalletAgreement] {
        _ = try await governance.authorize(caller, .custodyRead)
        let settings = try settings.validated()
        let observations = try await custody.store.latestBalances(asOf: clock.now())
        var report: [WalletAgreement] = []
        for entry in try await walletRecords.all() where entry.value.status == .adopted && (only == nil || only == entry.key) {
            let (utxo, unconfirmed, reserved) = try await holdings(of: entry.key, settings: settings)
            let ledger = await custody.ledger.account(Wallet.accountID(wallet: entry.key, asset: Self.asset))?.balance.netPosted(claim: false)
            let observation = observations.first { $0.wallet == entry.key && $0.asset == Self.asset }
            var differences: [String] = []
            if let ledger, ledger != UInt128(utxo) {
                differences.append("the ledger holds \(ledger) sat, the confirmed unspent outputs \(utxo) sat (\(Self.signed(UInt128(utxo), ledger)) sat)")
            } else if ledger == nil {
                differences.append("the ledger has no account for wallet \(entry.key)")
            }
            if let observed = observation?.amount.units, observed != UInt128(utxo) {
                differences.append("the latest observation says \(observed) sat, the outputs \(utxo) sat")
            }
            report.append(WalletAgreement(wallet: entry.key, utxoSats: utxo, unconfirmedSats: unconfirmed, reservedSats: reserved, ledgerSats: ledger,
                                          observedSats: observation?.amount.units, observedAt: observation?.observedAt, differences: differences))
        }
        return report
    }

    /// A wallet's tracked unspent outputs (reserved ones included): confirmed, unconfirmed,
    /// and reserved for a movement's PSBT, in satoshis.
    func holdings(of wallet: String, settings: BitcoinSettings) async throws -> (confirmed: UInt64, unconfirmed: UInt64, reserved: UInt64) {
        var confirmed: UInt64 = 0, unconfirmed: UInt64 = 0, reserved: UInt64 = 0
        for status in [TrackedUTXO.Status.unspent, .reserved] {
            for output in try await utxoRecords.all(tag: TrackedUTXO.tag(wallet: wallet, status)) {
                if output.value.confirmations >= settings.confirmations { confirmed += output.value.valueSats } else { unconfirmed += output.value.valueSats }
                if status == .reserved { reserved += output.value.valueSats }
            }
        }
        return (confirmed, unconfirmed, reserved)
    }

    static func signed(_ value: UInt128, _ base: UInt128) -> String { value >= base ? "+\(value - base)" : "-\(base - value)" }

    // MARK: Movements on chain

    /// The PSBT of released movement `movementID`: coins of the source wallet, the payment to
    /// the destination (another wallet's next receive address, or the whitelisted address),
    /// change to the wallet's change branch, at `feeRate` (the settings' by default) under the
    /// fee cap. Only a released movement — its signers' quorum given, whitelist, velocity and
    /// monitoring checked — gets one, once; the coins it spends are reserved for it.
    public func buildPSBT(movement movementID: UInt64, feeRate: UInt64? = nil, by caller: Caller) async throws -> MovementPSBT {
        let digest = Governance.digest(["movement": .string(String(movementID)), "fee_rate": .string(feeRate.map(String.init) ?? "default")])
        let role = try await governance.authorize(caller, .custodyMovementsRelease, digest: digest)
        func refuse(_ error: KinkoError) async throws -> KinkoError {
            try await governance.refused(error, by: caller, role: role, .custodyMovementsRelease, digest: digest, details: ["movement": String(movementID)])
        }
        let settings = try settings.validated()
        guard let movement = try await custody.store.movements().first(where: { $0.id == movementID }) else {
            throw KinkoError(.notFound, "no movement \(movementID)", field: "movement")
        }
        guard movement.status == .released else {
            throw try await refuse(KinkoError(.approvalRequired, "movement \(movementID) is \(movement.status.rawValue): a PSBT is made only for a released movement (its signers approved, its rules passed)", field: "movement"))
        }
        guard movement.draft.asset == Self.asset else { throw KinkoError(.invalidInput, "movement \(movementID) moves \(movement.draft.asset), not bitcoin", field: "movement") }
        if try await psbtRecords.get(RecordCollection<MovementPSBT>.key(movementID)) != nil {
            throw KinkoError(.conflict, "movement \(movementID) has its PSBT already", field: "movement")
        }
        let wallets = try await custody.store.wallets()
        if let frozen = wallets.first(where: { ($0.id == movement.draft.fromWallet || $0.id == movement.draft.toWallet) && $0.isFrozen }) {
            throw try await refuse(KinkoError(.conflict, "wallet \(frozen.id) is frozen: \(frozen.frozenReason ?? "")", field: "movement"))
        }
        let (source, descriptor) = try await adoptedWallet(movement.draft.fromWallet, field: "movement")
        let network = source.value.network
        guard let amount = UInt64(exactly: movement.draft.amount.units) else { throw KinkoError(.invalidInput, "the amount is past 21 million bitcoin", field: "movement") }
        var changes: [RecordWrite] = []
        let now = clock.now()
        let destination: String
        if let toWallet = movement.draft.toWallet {
            let (target, targetDescriptor) = try await adoptedWallet(toWallet, field: "movement")
            guard target.value.network == network else { throw KinkoError(.invalidInput, "wallets \(source.key) and \(toWallet) are on different networks", field: "movement") }
            destination = try targetDescriptor.address(branch: 0, index: target.value.nextReceive, network: network)
            var advanced = target.value
            advanced.nextReceive += 1
            changes.append(try walletRecords.update(target, to: advanced, tag: advanced.status.rawValue))
            changes.append(try addressRecords.insert(destination, BitcoinAddressRecord(
                address: destination, wallet: toWallet, branch: 0, index: target.value.nextReceive, purpose: .transfer, customer: nil, label: "movement \(movementID)", movement: movementID,
                issuedAt: now), tag: BitcoinAddressRecord.tag(wallet: toWallet, purpose: .transfer)))
        } else if let address = movement.draft.toAddress {
            destination = address
        } else {
            throw KinkoError(.storageCorrupted, "movement \(movementID) has no destination")
        }
        let coins = try await utxoRecords.all(tag: TrackedUTXO.tag(wallet: source.key, .unspent)).filter { $0.value.confirmations >= settings.confirmations }
        let builder = try WalletPSBTBuilder(descriptor: descriptor, network: network)
        let psbt: PSBT
        do {
            psbt = try builder.build(
                coins: coins.map { WalletPSBTBuilder.Coin(txid: $0.value.txid, vout: $0.value.vout, value: $0.value.valueSats, branch: $0.value.branch, index: $0.value.index) },
                payments: [BitcoinTransaction.Output(value: amount, scriptPubKey: try network.scriptPubKey(address: destination, field: "to_address"))],
                feeRate: feeRate ?? settings.feeRate, changeIndex: source.value.nextChange)
        } catch {
            throw try await refuse(error)
        }
        guard let fee = psbt.fee else { throw KinkoError(.internalError, "the PSBT's fee cannot be computed") }
        guard fee <= settings.feeCapSats else {
            throw try await refuse(KinkoError(.limitExceeded, "the fee would be \(fee) sat; the cap is \(settings.feeCapSats) sat", field: "fee_rate"))
        }
        var change: String?
        if psbt.transaction.outputs.count > 1 {
            let address = try descriptor.address(branch: 1, index: source.value.nextChange, network: network)
            change = address
            var advanced = source.value
            advanced.nextChange += 1
            changes.append(try walletRecords.update(source, to: advanced, tag: advanced.status.rawValue))
            changes.append(try addressRecords.insert(address, BitcoinAddressRecord(
                address: address, wallet: source.key, branch: 1, index: source.value.nextChange, purpose: .change, customer: nil, label: nil, movement: movementID,
                issuedAt: now), tag: BitcoinAddressRecord.tag(wallet: source.key, purpose: .change)))
        }
        let spent = Set(psbt.transaction.inputs.map(\.outpoint))
        for coin in coins where spent.contains(coin.key) {
            var reserved = coin.value
            reserved.status = .reserved
            reserved.movement = movementID
            changes.append(try utxoRecords.update(coin, to: reserved, tag: TrackedUTXO.tag(wallet: source.key, .reserved)))
        }
        let record = MovementPSBT(
            movement: movementID, wallet: source.key, status: .awaitingSignatures, psbt: psbt.base64, txid: psbt.transaction.txid, feeSats: fee,
            feeRate: feeRate ?? settings.feeRate, destination: destination, change: change, inputs: psbt.transaction.inputs.map(\.outpoint),
            builtBy: caller.name, builtAt: now, submissions: [], signedBy: [], transactionHex: nil, completedAt: nil)
        changes.append(try psbtRecords.insert(RecordCollection<MovementPSBT>.key(movementID), record, tag: record.status.rawValue))
        guard try await governance.store.write(changes, at: now, audit: caller.event(
            .custodyMovementsRelease, role: role, digest: digest, result: "psbt_built",
            details: ["movement": String(movementID), "txid": record.txid, "inputs": String(record.inputs.count), "fee_sats": String(fee), "destination": destination]))
        else {
            throw KinkoError(.conflict, "wallet \(source.key)'s coins or addresses changed meanwhile; build again", field: "movement")
        }
        return record
    }

    /// The PSBT of a movement as it stands (readers of custody: signers fetch it to sign).
    public func psbt(movement movementID: UInt64, by caller: Caller) async throws -> MovementPSBT {
        _ = try await governance.authorize(caller, .custodyRead)
        guard let entry = try await psbtRecords.get(RecordCollection<MovementPSBT>.key(movementID)) else {
            throw KinkoError(.notFound, "movement \(movementID) has no PSBT", field: "movement")
        }
        return entry.value
    }

    /// Takes a signer's copy of the movement's PSBT back: it must be the same transaction, and
    /// every signature in it must be by one of the wallet's keys and verify against the BIP 143
    /// hash of its input. The signatures are combined into Kinko's copy; once every input has
    /// its quorum the PSBT is finalized and the raw transaction is ready to broadcast.
    public func submitSignatures(movement movementID: UInt64, psbt signed: PSBT, by caller: Caller) async throws -> MovementPSBT {
        let digest = Governance.digest(["movement": .string(String(movementID)), "txid": .string(signed.transaction.txid)])
        let role = try await governance.authorize(caller, .custodyBitcoinSign, digest: digest)
        func refuse(_ error: KinkoError) async throws -> KinkoError {
            try await governance.refused(error, by: caller, role: role, .custodyBitcoinSign, digest: digest, details: ["movement": String(movementID)])
        }
        guard let entry = try await psbtRecords.get(RecordCollection<MovementPSBT>.key(movementID)) else {
            throw KinkoError(.notFound, "movement \(movementID) has no PSBT", field: "movement")
        }
        guard entry.value.status == .awaitingSignatures else {
            throw KinkoError(.conflict, "movement \(movementID)'s PSBT is \(entry.value.status.rawValue)", field: "movement")
        }
        guard let bytes = Base64.decode(entry.value.psbt) else { throw KinkoError(.storageCorrupted, "movement \(movementID)'s PSBT does not read") }
        let stored = try PSBT(parsing: bytes)
        guard signed.transaction == stored.transaction else {
            throw try await refuse(KinkoError(.invalidInput, "this PSBT spends or pays something else (txid \(signed.transaction.txid), not \(stored.transaction.txid))", field: "psbt"))
        }
        let before = try stored.signatureProgress()
        // Only signatures by the keys each input's own script names count (Kinko's copy of
        // the scripts and amounts wins over the signer's).
        var incoming = stored
        for index in incoming.inputs.indices {
            for (pubkey, signature) in signed.inputs[index].partialSignatures {
                guard before[index].keys.contains(pubkey) else {
                    throw try await refuse(KinkoError(.invalidInput, "inputs[\(index)]: a signature by \(Hex.encode(pubkey)), which is not one of this input's keys", field: "psbt"))
                }
                incoming.inputs[index].partialSignatures[pubkey] = signature
            }
        }
        var combined = try PSBT.combine([stored, incoming])
        do { try combined.verifySignatures() } catch { throw try await refuse(error) }
        let after = try combined.signatureProgress()
        var newKeys: [String] = []
        for (index, progress) in after.enumerated() {
            for pubkey in progress.signed where !before[index].signed.contains(pubkey) {
                guard let origin = stored.inputs[index].derivations[pubkey] else { continue }
                let id = XpubProof.keyID(fingerprint: origin.fingerprint, path: DerivationPath(origin.path.dropLast(2).map { ChildNumber(raw: $0) }))
                if !newKeys.contains(id) { newKeys.append(id) }
            }
        }
        guard !newKeys.isEmpty else {
            throw try await refuse(KinkoError(.invalidInput, "the PSBT brings no signature Kinko does not have already", field: "psbt"))
        }
        var record = entry.value
        let now = clock.now()
        record.submissions.append(.init(by: caller.name, at: now, keys: newKeys))
        record.signedBy += newKeys.filter { !record.signedBy.contains($0) }
        record.psbt = combined.base64
        if after.allSatisfy({ $0.signed.count >= $0.needed }) {
            try combined.finalize()
            let transaction = try combined.extract()
            guard transaction.txid == record.txid else { throw KinkoError(.internalError, "the final transaction's id differs from the unsigned one's") }
            record.psbt = combined.base64
            record.transactionHex = Hex.encode(transaction.serialized())
            record.status = .finalized
        }
        guard try await governance.store.write([try psbtRecords.update(entry, to: record, tag: record.status.rawValue)], at: now, audit: caller.event(
            .custodyBitcoinSign, role: role, digest: digest, result: record.status == .finalized ? "finalized" : "signatures_added",
            details: ["movement": String(movementID), "keys": newKeys.joined(separator: ","), "txid": record.txid]))
        else {
            throw KinkoError(.conflict, "movement \(movementID)'s PSBT changed meanwhile; submit again", field: "movement")
        }
        return record
    }

    /// The movement's transaction `txid` seen on chain with `confirmations`: with enough, the
    /// movement is completed (posted to the ledger with the transaction's real fee), the coins
    /// it spent are spent and its outputs to Kinko's wallets are tracked. Safe to repeat.
    public func observe(movement movementID: UInt64, txid: String, confirmations: Int, by caller: Caller) async throws -> Movement {
        let digest = Governance.digest(["movement": .string(String(movementID)), "txid": .string(txid), "confirmations": .string(String(confirmations))])
        let role = try await governance.authorize(caller, .custodyMovementsComplete, digest: digest)
        let settings = try settings.validated()
        guard let entry = try await psbtRecords.get(RecordCollection<MovementPSBT>.key(movementID)) else {
            throw KinkoError(.notFound, "movement \(movementID) has no PSBT", field: "movement")
        }
        guard txid == entry.value.txid else {
            throw try await governance.refused(KinkoError(.invalidInput, "movement \(movementID)'s transaction is \(entry.value.txid), not \(txid)", field: "txid"),
                                               by: caller, role: role, .custodyMovementsComplete, digest: digest)
        }
        guard entry.value.status != .awaitingSignatures else {
            throw KinkoError(.conflict, "movement \(movementID)'s PSBT is still collecting signatures", field: "movement")
        }
        guard confirmations >= settings.confirmations else {
            throw KinkoError(.invalidInput, "\(confirmations) confirmations; a movement completes at \(settings.confirmations)", field: "confirmations")
        }
        var movement = try await custody.requireMovement(movementID)
        if movement.status == .released {
            movement = try await custody.complete(movementID, transactionHash: txid, networkFee: Amount(units: UInt128(entry.value.feeSats)), by: caller)
        }
        guard entry.value.status == .finalized else { return movement }
        guard let bytes = Base64.decode(entry.value.psbt), let transaction = try? PSBT(parsing: bytes).transaction else {
            throw KinkoError(.storageCorrupted, "movement \(movementID)'s PSBT does not read")
        }
        let now = clock.now()
        var changes: [RecordWrite] = []
        var touched: Set<String> = [entry.value.wallet]
        for outpoint in entry.value.inputs {
            guard let coin = try await utxoRecords.get(outpoint), coin.value.status != .spent else { continue }
            var spent = coin.value
            spent.status = .spent
            spent.spentBy = txid
            changes.append(try utxoRecords.update(coin, to: spent, tag: TrackedUTXO.tag(wallet: coin.value.wallet, .spent)))
        }
        let network = try await walletRecords.get(entry.value.wallet)?.value.network ?? .mainnet
        for (vout, output) in transaction.outputs.enumerated() {
            let key = "\(txid):\(vout)"
            guard let address = network.address(scriptPubKey: output.scriptPubKey),
                let place = try await addressRecords.get(address), try await utxoRecords.get(key) == nil
            else { continue }
            let record = TrackedUTXO(txid: txid, vout: UInt32(vout), wallet: place.value.wallet, valueSats: output.value, address: address, branch: place.value.branch,
                                     index: place.value.index, confirmations: confirmations, blockHeight: nil, status: .unspent, movement: nil, spentBy: nil,
                                     firstSeenAt: now)
            changes.append(try utxoRecords.insert(key, record, tag: TrackedUTXO.tag(wallet: place.value.wallet, .unspent)))
            touched.insert(place.value.wallet)
        }
        var completed = entry.value
        completed.status = .completed
        completed.completedAt = now
        changes.append(try psbtRecords.update(entry, to: completed, tag: completed.status.rawValue))
        guard try await governance.store.write(changes, at: now, audit: caller.event(
            .custodyMovementsComplete, role: role, digest: digest, result: "observed",
            details: ["movement": String(movementID), "txid": txid, "confirmations": String(confirmations)]))
        else {
            throw KinkoError(.conflict, "movement \(movementID)'s outputs changed meanwhile; observe again", field: "movement")
        }
        // What the chain now holds in each wallet the transaction touched, as observed.
        var observations: [BalanceObservation] = []
        for wallet in touched.sorted() {
            let confirmed = try await holdings(of: wallet, settings: settings).confirmed
            observations.append(BalanceObservation(wallet: wallet, asset: Self.asset, amount: Amount(units: UInt128(confirmed)), observedAt: now,
                                                   source: "bitcoin-utxos (movement \(movementID) confirmed)"))
        }
        try await custody.recordBalances(observations, by: caller)
        return movement
    }
}

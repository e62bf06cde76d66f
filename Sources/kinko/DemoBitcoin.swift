import Crypto
import Foundation
import KinkoBitcoin
import KinkoControls
import KinkoCore
import KinkoCustody
import KinkoGovernance
import KinkoLedger

/// The demo's bitcoin on chain (regtest): the three signers hold BIP 32 key files of their own
/// (`demo-keys/<name>.tprv`, mode 0600) and register their xpubs with proof of possession; the
/// hot and cold customer wallets become 2-of-3 descriptors approved by the signers; customers
/// get deposit addresses, and the deposits arrive there as outputs Kinko tracks; the day's
/// hot → cold rebalancing of bitcoin is a PSBT two file signers sign, and its txid, once
/// confirmed, completes the movement with its real fee, which the exchange then puts back into
/// the pool from its own funds. No node runs here: the chain's side
/// (funding transactions, confirmations) is what a regtest node would report.
enum DemoBitcoin {
    /// Which signer holds which key, in which vendor's software.
    static let holders: [(name: String, vendor: String)] = [("suzuki.signer", "coldcard"), ("ito.signer", "ledger-hw"), ("yamada.signer", "kinko-signer")]
    static let vendors = [
        KinkoCustody.Vendor(name: "coldcard", noticeDate: "2026-04-01", noticeReference: "KFB-2026-0131"),
        KinkoCustody.Vendor(name: "ledger-hw", noticeDate: "2026-04-01", noticeReference: "KFB-2026-0132"),
        KinkoCustody.Vendor(name: "kinko-signer", noticeDate: "2026-04-01", noticeReference: "KFB-2026-0133"),
    ]
    /// BIP 48 accounts: 0' for the hot wallet's keys, 1' for the cold wallet's.
    static let wallets: [(wallet: String, account: UInt32, tier: BitcoinTier)] = [("btc-hot", 0, .hot), ("btc-cold", 1, .cold)]
    /// The ledger id of the sweep that makes the pool whole after movement `id`'s network fee.
    static func feeTopUp(_ movement: UInt64) -> TransferID { TransferID(880_000 + UInt128(movement)) }
    static let feeRate: UInt64 = 5

    /// A signer's key file: made on first use (a regtest key derived from the name, so every
    /// run of the demo meets the same wallets), read after.
    static func master(_ name: String, directory: String) throws -> ExtendedKey {
        let path = "\(directory)/\(name).tprv"
        if FileManager.default.fileExists(atPath: path) { return try SignerKeyFile.load(path: path) }
        let seed = Array(SHA256.hash(data: Array("kinko demo bitcoin signer: \(name)".utf8)))
        let master = try ExtendedKey.master(seed: seed, network: .regtest)
        guard FileManager.default.createFile(atPath: path, contents: Data((master.serialized + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw KinkoError(.storageFailure, "cannot write \(path)")
        }
        return master
    }

    static func path(_ account: UInt32) throws -> DerivationPath { try DerivationPath(parsing: "m/48'/1'/\(account)'/2'") }

    /// Keys, wallets, deposit addresses, the fee float and the deposits on chain. Runs once;
    /// a later run finds it done.
    static func setUp(_ kinko: Exchange, book: DemoBook, treasurer: Caller, exchange: Caller,
                      signers: [(Caller, LocalSigningKey)], directory: String) async throws {
        let bitcoin = kinko.bitcoin
        for vendor in vendors { try await kinko.custody.saveVendor(vendor, by: treasurer) }
        guard try await bitcoin.wallets(by: treasurer).isEmpty else {
            print("\nbitcoin on chain: keys, wallets and deposit addresses already there (kinko custody bitcoin wallets)")
            return
        }
        print("\nbitcoin on chain (regtest):")
        var keys: [String: [String]] = [:]
        for ((caller, _), holder) in zip(signers, holders) {
            let master = try master(holder.name, directory: directory)
            for wallet in wallets {
                let challenge = try await bitcoin.issueChallenge(by: caller)
                let proof = try XpubProof.sign(master: master, path: try path(wallet.account), challenge: challenge.challenge)
                let record = try await bitcoin.registerXpub(key: proof.keyExpression, challenge: challenge.challenge, signature: proof.signature,
                                                            vendor: holder.vendor, by: caller)
                keys[wallet.wallet, default: []].append(record.key)
            }
            print("• \(caller.name) registers two xpubs from \(directory)/\(holder.name).tprv (\(holder.vendor)), each proven by signing Kinko's challenge")
        }
        for wallet in wallets {
            let descriptor = "wsh(sortedmulti(2,\((keys[wallet.wallet] ?? []).map { $0 + "/<0;1>/*" }.joined(separator: ","))))"
            let (_, request) = try await bitcoin.proposeWallet(wallet.wallet, descriptor: descriptor, network: .regtest, tier: wallet.tier, by: treasurer)
            try await DemoSigners.approve(request.id, governance: kinko.governance, by: Array(signers.prefix(2)))
            let adopted = try await bitcoin.adoptWallet(wallet.wallet, by: treasurer)
            print("• \(wallet.wallet) (\(wallet.tier.rawValue)): 2 of 3, one key per signer and per vendor — approved by \(signers.prefix(2).map(\.0.name).joined(separator: ", ")), adopted: \(adopted.descriptor.prefix(40))…")
        }
        // Each customer's deposit address, and their deposit arriving there.
        var outputs: [ObservedUTXO] = []
        let deposits = book.deposits.flatMap(\.requests).filter { $0.wallet.rawValue == DemoBook.hot(DemoBook.btc) }
        for (index, deposit) in deposits.enumerated() {
            guard let (account, _) = await kinko.engine.account(deposit.account) else { continue }
            let address = try await bitcoin.depositAddress(wallet: "btc-hot", customer: String(account.owner), by: exchange)
            outputs.append(ObservedUTXO(txid: fundingTxid(index), vout: 0, valueSats: UInt64(deposit.amount), address: address.address, confirmations: 6, blockHeight: 101))
            if index < 2 { print("• customer \(account.owner)'s deposit address: \(address.address) (btc-hot /0/\(address.index))") }
        }
        let imported = try await bitcoin.importUTXOs(wallet: "btc-hot", outputs, by: treasurer)
        _ = try await bitcoin.importUTXOs(wallet: "btc-cold", [], by: treasurer)
        print("• the node reports btc-hot's outputs: \(imported.added) at Kinko's addresses, \(SigningReview.bitcoin(imported.confirmedSats)) BTC confirmed — "
              + (try await bitcoin.agreement(wallet: "btc-hot", by: treasurer).first?.agrees == true ? "the same as the ledger" : "NOT the ledger's figure"))
    }

    /// A regtest funding transaction's id (what the node would report).
    static func fundingTxid(_ index: Int) -> String {
        Hex.encode(SHA256.hash(data: Array("kinko demo funding \(index)".utf8)))
    }

    /// A released bitcoin movement on chain: its PSBT, signed by two file signers (each sees
    /// what they sign first), combined and finalized by Kinko; the transaction confirmed, the
    /// movement completed with its fee.
    static func settle(_ movement: Movement, kinko: Exchange, treasurer: Caller, exchange: Caller, finance: (Caller, LocalSigningKey),
                       signers: [(Caller, LocalSigningKey)], directory: String) async throws {
        let bitcoin = kinko.bitcoin
        let built = try await bitcoin.buildPSBT(movement: movement.id, feeRate: feeRate, by: treasurer)
        print("  PSBT: \(built.inputs.count) input(s) of btc-hot, \(SigningReview.bitcoin(UInt64(movement.draft.amount.units))) BTC to btc-cold \(built.destination), change to \(built.change ?? "none"), fee \(built.feeSats) sat")
        var record = built
        for ((caller, _), holder) in zip(signers, holders).prefix(2) {
            let master = try master(holder.name, directory: directory)
            guard let bytes = Base64.decode(record.psbt) else { throw KinkoError(.storageCorrupted, "the PSBT does not read") }
            var psbt = try PSBT(parsing: bytes)
            let review = try SigningReview(psbt, master: master, network: .regtest)
            _ = try psbt.sign(with: master)
            record = try await bitcoin.submitSignatures(movement: movement.id, psbt: psbt, by: caller)
            print("  \(caller.name) signs offline with \(holder.name).tprv after reading: " + review.outputs.map { "\(SigningReview.bitcoin($0.amount)) BTC to \($0.destination)\($0.isChange ? " (change, proven)" : "")" }.joined(separator: ", ") + "; fee \(review.fee) sat")
        }
        print("  finalized: txid \(record.txid) (\((record.transactionHex?.count ?? 0) / 2) bytes to broadcast)")
        // The node sees it confirmed: btc-hot's outputs now, and btc-cold's.
        var hot = try await bitcoin.utxos(wallet: "btc-hot", by: treasurer).map {
            ObservedUTXO(txid: $0.txid, vout: $0.vout, valueSats: $0.valueSats, address: $0.address, confirmations: $0.confirmations + 3, blockHeight: $0.blockHeight)
        }
        guard let bytes = Base64.decode(record.psbt) else { throw KinkoError(.storageCorrupted, "the PSBT does not read") }
        let transaction = try PSBT(parsing: bytes).transaction
        if let change = record.change, let vout = transaction.outputs.indices.last, vout > 0 {
            hot.append(ObservedUTXO(txid: record.txid, vout: UInt32(vout), valueSats: transaction.outputs[vout].value, address: change, confirmations: 3, blockHeight: 104))
        }
        let imported = try await bitcoin.importUTXOs(wallet: "btc-hot", hot, by: exchange)
        _ = try await bitcoin.importUTXOs(wallet: "btc-cold", [ObservedUTXO(txid: record.txid, vout: 0, valueSats: transaction.outputs[0].value, address: record.destination,
                                                                           confirmations: 3, blockHeight: 104)], by: treasurer)
        // The fee came out of customers' coins: the exchange puts as much of its own back (a
        // sweep into the pool, treasury asks, finance approves), arriving at a hot address.
        let topUp = try await bitcoin.transferAddress(wallet: "btc-hot", label: "network fee of movement \(movement.id), from own funds", by: treasurer)
        let sweep = Transfer(id: feeTopUp(movement.id), debitAccountID: AccountID(DemoBook.hot(DemoBook.btc)),
                             creditAccountID: AccountID(DemoBook.ownHolding(DemoBook.btc)), amount: UInt128(record.feeSats), ledger: DemoBook.btc, code: .segregationSweep)
        if try await kinko.ledger.createTransfers([sweep], by: treasurer)[0] == .pendingApproval,
            let parked = try await kinko.ledger.parkedTransfer(sweep.id), let request = ApprovalRequestID(parsing: parked.requestID) {
            try await DemoSigners.approve(request, governance: kinko.governance, by: [finance])
            _ = try await kinko.ledger.postApproved(request, by: treasurer)
        }
        let now = try await bitcoin.utxos(wallet: "btc-hot", by: treasurer).map {
            ObservedUTXO(txid: $0.txid, vout: $0.vout, valueSats: $0.valueSats, address: $0.address, confirmations: $0.confirmations, blockHeight: $0.blockHeight)
        }
        _ = try await bitcoin.importUTXOs(wallet: "btc-hot", now + [ObservedUTXO(txid: fundingTxid(1_000 + Int(movement.id)), vout: 0, valueSats: record.feeSats,
                                                                                  address: topUp.address, confirmations: 3, blockHeight: 105)], by: treasurer)
        print("  \(treasurer.name) makes the pool whole: \(record.feeSats) sat of the exchange's own into btc-hot \(topUp.address.prefix(16))… (a sweep into the pool, approved by \(finance.0.name))")
        let agreement = try await bitcoin.agreement(by: treasurer)
        print("  confirmed (3 blocks): movement \(imported.completedMovements.map(String.init).joined(separator: ", ")) completed with its \(record.feeSats) sat fee; "
              + "outputs and ledger " + (agreement.allSatisfy(\.agrees) ? "agree in both wallets" : "DIFFER: \(agreement.flatMap(\.differences).joined(separator: "; "))"))
    }
}

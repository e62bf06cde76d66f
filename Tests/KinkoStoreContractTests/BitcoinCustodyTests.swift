import Foundation
import KinkoBitcoin
import KinkoCore
import KinkoCustody
import KinkoGovernance
import KinkoLedger
import KinkoStores
import Testing

/// Three signers, each with a BIP 32 key of their own; Kinko sees only their xpubs.
private struct FileSigner {
    let caller: Caller
    let approvalKey: LocalSigningKey
    let master: ExtendedKey
    let vendor: String

    func path(_ account: UInt32) throws -> DerivationPath { try DerivationPath(parsing: "m/48'/1'/\(account)'/2'") }
    func keyExpression(_ account: UInt32) throws -> String { try SignerKeyFile.keyExpression(master: master, path: try path(account)) }

    func register(_ bitcoin: BitcoinCustody, account: UInt32) async throws -> RegisteredXpub {
        let challenge = try await bitcoin.issueChallenge(by: caller)
        let proof = try XpubProof.sign(master: master, path: try path(account), challenge: challenge.challenge)
        return try await bitcoin.registerXpub(key: proof.keyExpression, challenge: challenge.challenge, signature: proof.signature, vendor: vendor, by: caller)
    }

    func sign(_ record: MovementPSBT) throws -> PSBT {
        var psbt = try PSBT(parsing: try #require(Base64.decode(record.psbt)))
        _ = try psbt.sign(with: master)
        return psbt
    }
}

@Suite("Bitcoin custody on chain, on every database", .serialized)
struct BitcoinCustodyTests {
    static let start: TimestampNanoseconds = 1_795_305_600_000_000_000  // 2026-11-22T00:00:00Z

    static func descriptor(_ threshold: Int, _ keys: [String]) -> String {
        "wsh(sortedmulti(\(threshold),\(keys.map { $0 + "/<0;1>/*" }.joined(separator: ","))))"
    }

    static func utxo(_ txid: String, _ vout: UInt32, _ sats: UInt64, _ address: String, confirmations: Int = 6) -> ObservedUTXO {
        ObservedUTXO(txid: txid, vout: vout, valueSats: sats, address: address, confirmations: confirmations, blockHeight: 100)
    }

    // Goal: keys registered with proof of possession; wallets adopted only when no one person
    // and no one vendor can sign alone; deposit addresses per customer within the gap limit;
    // unspent outputs imported and agreeing with the ledger; a released hot→cold movement
    // becomes a PSBT, two signers sign it offline, Kinko verifies, combines and finalizes it,
    // and the confirmed txid completes the movement with its real fee — every refusal audited.
    @Test(arguments: Backend.configured) func keysWalletsAddressesAndAMovementOnChain(_ backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let f = try await GovernanceFixture(harness, start: Self.start)
            let (treasurer, _) = try await f.person("sato.treasury", [.treasurer])
            let (exchange, _) = try await f.person("matching-engine", [.operator])
            let ledger = try await Ledger.open(store: f.stores.ledger, clock: f.clock)
            try await ledger.registerAssets(Asset.standard, by: f.admin)
            let custody = Custody(governance: f.governance, ledger: ledger, store: f.stores.custody, clock: f.clock)
            var settings = BitcoinSettings()
            settings.gapLimit = 3
            let bitcoin = BitcoinCustody(custody: custody, settings: settings)
            for vendor in ["coldcard", "ledger-hw", "kinko-signer", "ginkgo-custody"] {
                try await custody.saveVendor(Vendor(name: vendor, noticeDate: "2026-04-01", noticeReference: "FSA-\(vendor)"), by: treasurer)
            }
            for (id, temperature, purpose) in [("btc-hot", Temperature.hot, WalletPurpose.customerPool), ("btc-cold", .cold, .customerPool), ("btc-own", .hot, .ownFunds)] {
                _ = try await custody.registerWallet(Wallet(id: id, chain: "bitcoin", temperature: temperature, purpose: purpose, assets: ["BTC"],
                                                            vendor: "ginkgo-custody", vendorVersion: "5.1"), by: treasurer)
            }
            var signers: [FileSigner] = []
            for (n, vendor) in ["coldcard", "ledger-hw", "kinko-signer"].enumerated() {
                let (caller, _) = try await f.person("signer.\(n)", [.signer])
                signers.append(FileSigner(caller: caller, approvalKey: try await f.key(for: caller),
                                          master: try ExtendedKey.master(seed: [UInt8](repeating: UInt8(n + 1), count: 32), network: .regtest), vendor: vendor))
            }

            // Keys: each signer registers the xpubs of two accounts (0: hot, 1: cold).
            var registered: [[RegisteredXpub]] = []
            for signer in signers { registered.append([try await signer.register(bitcoin, account: 0), try await signer.register(bitcoin, account: 1)]) }
            #expect(registered[0][0].id == "\(Hex.encode(signers[0].master.fingerprint))/48'/1'/0'/2'")
            #expect(registered.allSatisfy { $0.allSatisfy(\.testNetworks) })
            #expect(try await bitcoin.xpubs(by: treasurer).count == 6)

            // Proof of possession, tried wrongly.
            let mine = try await bitcoin.issueChallenge(by: signers[0].caller)
            let other = try XpubProof.sign(master: signers[1].master, path: try signers[0].path(2), challenge: mine.challenge)
            let wrongKey = await #expect(throws: KinkoError.self) {
                try await bitcoin.registerXpub(key: try signers[0].keyExpression(2), challenge: mine.challenge, signature: other.signature, vendor: "coldcard",
                                               by: signers[0].caller)
            }
            #expect(wrongKey?.field == "signature")
            let proof = try XpubProof.sign(master: signers[0].master, path: try signers[0].path(2), challenge: mine.challenge)
            let notTheirs = await #expect(throws: KinkoError.self) {
                try await bitcoin.registerXpub(key: proof.keyExpression, challenge: mine.challenge, signature: proof.signature, vendor: "coldcard", by: signers[1].caller)
            }
            #expect(notTheirs?.field == "challenge")
            let unknownVendor = await #expect(throws: KinkoError.self) {
                try await bitcoin.registerXpub(key: proof.keyExpression, challenge: mine.challenge, signature: proof.signature, vendor: "nobody", by: signers[0].caller)
            }
            #expect(unknownVendor?.code == .notFound && unknownVendor?.field == "vendor")
            let notASigner = await #expect(throws: KinkoError.self) { try await bitcoin.issueChallenge(by: treasurer) }
            #expect(notASigner?.code == .forbidden)
            let again = try await bitcoin.issueChallenge(by: signers[0].caller)
            let twice = try XpubProof.sign(master: signers[0].master, path: try signers[0].path(0), challenge: again.challenge)
            let duplicate = await #expect(throws: KinkoError.self) {
                try await bitcoin.registerXpub(key: twice.keyExpression, challenge: again.challenge, signature: twice.signature, vendor: "coldcard", by: signers[0].caller)
            }
            #expect(duplicate?.code == .conflict && duplicate?.field == "key")
            f.clock.advance(seconds: 601)
            let late = await #expect(throws: KinkoError.self) {
                try await bitcoin.registerXpub(key: proof.keyExpression, challenge: mine.challenge, signature: proof.signature, vendor: "coldcard", by: signers[0].caller)
            }
            #expect(late?.field == "challenge" && late?.message.contains("expired") == true)

            // Wallet policy: one person with two keys, one vendor with two keys, no spare key, an unregistered key.
            let hotKeys = try signers.map { try $0.keyExpression(0) }, coldKeys = try signers.map { try $0.keyExpression(1) }
            let onePerson = await #expect(throws: KinkoError.self) {
                try await bitcoin.proposeWallet("btc-cold", descriptor: Self.descriptor(2, [hotKeys[0], coldKeys[0], coldKeys[1]]), network: .regtest, tier: .cold, by: treasurer)
            }
            #expect(onePerson?.code == .walletPolicyRefused && onePerson?.message.contains("signer.0 holds 2 keys") == true)
            let noSpare = await #expect(throws: KinkoError.self) {
                try await bitcoin.proposeWallet("btc-cold", descriptor: Self.descriptor(2, [coldKeys[0], coldKeys[1]]), network: .regtest, tier: .cold, by: treasurer)
            }
            #expect(noSpare?.code == .walletPolicyRefused && noSpare?.message.contains("beyond its 2 signatures") == true)
            let stranger = try SignerKeyFile.keyExpression(master: try ExtendedKey.master(seed: [UInt8](repeating: 9, count: 32), network: .regtest),
                                                           path: try signers[0].path(0))
            let unregistered = await #expect(throws: KinkoError.self) {
                try await bitcoin.proposeWallet("btc-cold", descriptor: Self.descriptor(2, [coldKeys[0], coldKeys[1], stranger]), network: .regtest, tier: .cold, by: treasurer)
            }
            #expect(unregistered?.code == .notFound && unregistered?.field == "descriptor.keys[2]")
            let mainnet = await #expect(throws: KinkoError.self) {
                try await bitcoin.proposeWallet("btc-cold", descriptor: Self.descriptor(2, coldKeys), network: .mainnet, tier: .cold, by: treasurer)
            }
            #expect(mainnet?.field == "descriptor.keys[0]")
            let wrongTier = await #expect(throws: KinkoError.self) {
                try await bitcoin.proposeWallet("btc-hot", descriptor: Self.descriptor(2, hotKeys), network: .regtest, tier: .cold, by: treasurer)
            }
            #expect(wrongTier?.field == "tier")

            // Both wallets proposed, approved by two signers each, adopted.
            var descriptors: [String: Descriptor] = [:]
            for (wallet, keys, tier) in [("btc-hot", hotKeys, BitcoinTier.hot), ("btc-cold", coldKeys, .cold)] {
                let (proposed, request) = try await bitcoin.proposeWallet(wallet, descriptor: Self.descriptor(2, keys), network: .regtest, tier: tier, by: treasurer)
                #expect(proposed.status == .proposed && proposed.keys.map(\.vendor) == ["coldcard", "ledger-hw", "kinko-signer"])
                #expect(request.policy.approvalsRequired == 2 && request.policy.eligibleRoles == [.signer])
                let early = await #expect(throws: KinkoError.self) { try await bitcoin.adoptWallet(wallet, by: treasurer) }
                #expect(early?.code == .approvalRequired)
                for signer in signers.prefix(2) { _ = try await f.approve(request.id, by: signer.caller, key: signer.approvalKey) }
                let adopted = try await bitcoin.adoptWallet(wallet, by: treasurer)
                #expect(adopted.status == .adopted && adopted.descriptor.contains("#"))
                descriptors[wallet] = try Descriptor(parsing: adopted.descriptor)
                let twiceAdopted = await #expect(throws: KinkoError.self) { try await bitcoin.adoptWallet(wallet, by: treasurer) }
                #expect(twiceAdopted?.code == .conflict)
            }
            let hot = try #require(descriptors["btc-hot"]), cold = try #require(descriptors["btc-cold"])

            // Deposit addresses: one per customer, handed out again on asking; a fresh one on request; none past the gap limit.
            let a1 = try await bitcoin.depositAddress(wallet: "btc-hot", customer: "1", by: exchange)
            let first0 = try hot.address(branch: 0, index: 0, network: .regtest)
            #expect(a1.index == 0 && a1.address == first0 && a1.address.hasPrefix("bcrt1q"))
            #expect(try await bitcoin.depositAddress(wallet: "btc-hot", customer: "1", by: exchange) == a1)
            let a2 = try await bitcoin.depositAddress(wallet: "btc-hot", customer: "2", by: exchange)
            let a3 = try await bitcoin.depositAddress(wallet: "btc-hot", customer: "1", fresh: true, by: exchange)
            #expect([a2.index, a3.index] == [1, 2])
            let pastGap = await #expect(throws: KinkoError.self) { try await bitcoin.depositAddress(wallet: "btc-hot", customer: "3", by: exchange) }
            #expect(pastGap?.code == .limitExceeded && pastGap?.field == "gap_limit")
            let badCustomer = await #expect(throws: KinkoError.self) { try await bitcoin.depositAddress(wallet: "btc-hot", customer: "", by: exchange) }
            #expect(badCustomer?.field == "customer")
            #expect(try await bitcoin.addresses(wallet: "btc-hot", customer: "1", by: treasurer).map(\.index) == [0, 2])

            // The ledger: customers' deposits and the exchange's capital.
            let hotAccount = Wallet.accountID(wallet: "btc-hot", asset: "BTC"), coldAccount = Wallet.accountID(wallet: "btc-cold", asset: "BTC")
            _ = try await ledger.createAccounts([1, 2].map { (n: UInt128) in
                Account(id: AccountID(n * 10 + 2), ledger: 2, code: 100, accountClass: .customerLiability, flags: .debitsMustNotExceedCredits, owner: n)
            }, by: exchange)
            #expect(try await ledger.createTransfers([
                Transfer(id: TransferID(1), debitAccountID: hotAccount, creditAccountID: AccountID(12), amount: 60_000_000, ledger: 2, code: .deposit),
                Transfer(id: TransferID(2), debitAccountID: hotAccount, creditAccountID: AccountID(22), amount: 40_000_000, ledger: 2, code: .deposit),
                Transfer(id: TransferID(3), debitAccountID: Wallet.accountID(wallet: "btc-own", asset: "BTC"), creditAccountID: Custody.feeAccountID(asset: "BTC"),
                         amount: 10_000_000, ledger: 2, code: .capital),
            ], by: treasurer) == [.ok, .ok, .ok])

            // The chain: the two deposits at the customers' addresses, and an output Kinko never handed out.
            let funding1 = String(repeating: "a1", count: 32), funding2 = String(repeating: "b2", count: 32)
            let foreign = try cold.address(branch: 0, index: 50, network: .regtest)
            let imported = try await bitcoin.importUTXOs(wallet: "btc-hot", [
                Self.utxo(funding1, 0, 60_000_000, a1.address), Self.utxo(funding2, 3, 40_000_000, a2.address), Self.utxo(funding2, 4, 5_000, foreign),
            ], by: treasurer)
            #expect(imported.added == 2 && imported.foreign.map(\.vout) == [4] && imported.confirmedSats == 100_000_000 && imported.spentOutside.isEmpty)
            _ = try await bitcoin.importUTXOs(wallet: "btc-cold", [], by: treasurer)
            _ = try await bitcoin.importUTXOs(wallet: "btc-hot", [
                Self.utxo(funding1, 0, 60_000_000, a1.address, confirmations: 7), Self.utxo(funding2, 3, 40_000_000, a2.address, confirmations: 7),
            ], by: treasurer)
            #expect(try await bitcoin.agreement(by: treasurer).map { "\($0.wallet) \($0.utxoSats) \($0.ledgerSats ?? 0) \($0.agrees)" } == [
                "btc-cold 0 0 true", "btc-hot 100000000 100000000 true",
            ])
            // Index 1 received coins: the gap limit lets one more address out.
            #expect(try await bitcoin.depositAddress(wallet: "btc-hot", customer: "3", by: exchange).index == 3)

            // A hot → cold movement under its signers' quorum; no PSBT before it is released.
            try await custody.recordPrices([PriceObservation(asset: "BTC", price: try JPYPrice(decimal: "15000000"), observedAt: f.clock.now(), source: "test")], by: exchange)
            let draft = MovementDraft(kind: .hotToCold, fromWallet: "btc-hot", toWallet: "btc-cold", asset: "BTC", amount: Amount(units: 50_000_000))
            let movement = try await custody.requestMovement(draft, by: treasurer).get()
            let early = await #expect(throws: KinkoError.self) { try await bitcoin.buildPSBT(movement: movement.id, by: treasurer) }
            #expect(early?.code == .approvalRequired)
            let needed = try #require(try await f.governance.store.request(movement.requestID)).policy.approvalsRequired
            for signer in signers.prefix(needed) { _ = try await f.approve(movement.requestID, by: signer.caller, key: signer.approvalKey) }
            _ = try await custody.release(movement.id, by: treasurer)
            let overCap = BitcoinCustody(custody: custody, settings: { var s = settings; s.feeCapSats = 1_000; return s }())
            let capped = await #expect(throws: KinkoError.self) { try await overCap.buildPSBT(movement: movement.id, feeRate: 5, by: treasurer) }
            #expect(capped?.code == .limitExceeded && capped?.field == "fee_rate")
            let built = try await bitcoin.buildPSBT(movement: movement.id, feeRate: 5, by: treasurer)
            #expect(built.status == .awaitingSignatures && built.inputs == ["\(funding1):0"])
            #expect(built.destination == (try cold.address(branch: 0, index: 0, network: .regtest)))
            #expect(built.change == (try hot.address(branch: 1, index: 0, network: .regtest)))
            let unsigned = try PSBT(parsing: try #require(Base64.decode(built.psbt)))
            #expect(unsigned.fee == built.feeSats && built.feeSats > 0 && built.feeSats < 5_000)
            #expect(unsigned.transaction.outputs.map(\.value) == [50_000_000, 10_000_000 - built.feeSats])
            #expect(try await bitcoin.utxos(wallet: "btc-hot", status: .reserved, by: treasurer).map(\.vout) == [0])
            let rebuilt = await #expect(throws: KinkoError.self) { try await bitcoin.buildPSBT(movement: movement.id, by: treasurer) }
            #expect(rebuilt?.code == .conflict)

            // Signers sign offline; Kinko checks each copy before it counts.
            let first = try signers[0].sign(built)
            let afterFirst = try await bitcoin.submitSignatures(movement: movement.id, psbt: first, by: signers[0].caller)
            #expect(afterFirst.status == .awaitingSignatures && afterFirst.signedBy == [registered[0][0].id])
            let repeated = await #expect(throws: KinkoError.self) { try await bitcoin.submitSignatures(movement: movement.id, psbt: first, by: signers[0].caller) }
            #expect(repeated?.message.contains("no signature Kinko does not have") == true)
            var tampered = try signers[1].sign(built)
            tampered.transaction.outputs[0].value -= 1
            let otherTransaction = await #expect(throws: KinkoError.self) { try await bitcoin.submitSignatures(movement: movement.id, psbt: tampered, by: signers[1].caller) }
            #expect(otherTransaction?.field == "psbt" && otherTransaction?.message.contains("spends or pays something else") == true)
            var forged = try signers[1].sign(built)
            let key = try #require(forged.inputs[0].partialSignatures.keys.first { !first.inputs[0].partialSignatures.keys.contains($0) })
            forged.inputs[0].partialSignatures[key]?[20] ^= 0x01
            let badSignature = await #expect(throws: KinkoError.self) { try await bitcoin.submitSignatures(movement: movement.id, psbt: forged, by: signers[1].caller) }
            #expect(badSignature?.message.contains("does not verify") == true)
            let notSigner = await #expect(throws: KinkoError.self) { try await bitcoin.submitSignatures(movement: movement.id, psbt: try signers[1].sign(built), by: treasurer) }
            #expect(notSigner?.code == .forbidden)
            let finalized = try await bitcoin.submitSignatures(movement: movement.id, psbt: try signers[1].sign(built), by: signers[1].caller)
            #expect(finalized.status == .finalized && finalized.signedBy == [registered[0][0].id, registered[1][0].id])
            let hex = try #require(finalized.transactionHex)
            let transaction = try BitcoinTransaction(parsing: try #require(Hex.decode(hex)))
            #expect(transaction.txid == built.txid && transaction.inputs[0].witness.count == 4)

            // Seen on chain: too few confirmations, then enough (the hot wallet's next import shows the change).
            let shallow = await #expect(throws: KinkoError.self) { try await bitcoin.observe(movement: movement.id, txid: built.txid, confirmations: 1, by: exchange) }
            #expect(shallow?.field == "confirmations")
            let wrongTxid = await #expect(throws: KinkoError.self) { try await bitcoin.observe(movement: movement.id, txid: funding1, confirmations: 3, by: exchange) }
            #expect(wrongTxid?.field == "txid")
            let afterBroadcast = try await bitcoin.importUTXOs(wallet: "btc-hot", [
                Self.utxo(funding2, 3, 40_000_000, a2.address, confirmations: 10), Self.utxo(built.txid, 1, 10_000_000 - built.feeSats, try #require(built.change), confirmations: 3),
            ], by: exchange)
            #expect(afterBroadcast.spentByMovements == 1 && afterBroadcast.spentOutside.isEmpty && afterBroadcast.completedMovements == [movement.id])
            let done = try #require(try await custody.store.movements().first { $0.id == movement.id })
            #expect(done.status == .completed && done.transactionHash == built.txid && done.networkFee == Amount(units: UInt128(built.feeSats)))
            #expect(await ledger.account(hotAccount)?.balance.netPosted(claim: false) == 50_000_000 - UInt128(built.feeSats))
            #expect(await ledger.account(coldAccount)?.balance.netPosted(claim: false) == 50_000_000)
            #expect(try await bitcoin.observe(movement: movement.id, txid: built.txid, confirmations: 4, by: exchange).status == .completed)
            _ = try await bitcoin.importUTXOs(wallet: "btc-cold", [Self.utxo(built.txid, 0, 50_000_000, built.destination, confirmations: 3)], by: treasurer)
            #expect(try await bitcoin.agreement(by: treasurer).map { "\($0.wallet) \($0.utxoSats) \($0.agrees)" } == [
                "btc-cold 50000000 true", "btc-hot \(50_000_000 - built.feeSats) true",
            ])

            // Coins that leave without a movement are an alarm, and the wallet no longer agrees with the ledger.
            let emptied = try await bitcoin.importUTXOs(wallet: "btc-cold", [], by: treasurer)
            #expect(emptied.spentOutside == ["\(built.txid):0"])
            let alarm = try #require(try await bitcoin.agreement(wallet: "btc-cold", by: treasurer).first)
            #expect(!alarm.agrees && alarm.differences.first?.contains("-50000000 sat") == true)

            // Every step and refusal is in the audit log, which verifies.
            let report = try await f.governance.verifyAudit(publicKey: f.publicKey)
            #expect(report.problems == [])
        }
    }

    @Test func theKeyPolicyNamesEveryWayOnePersonOrOneVendorCouldSignAlone() {
        let settings = BitcoinSettings()
        func holder(_ key: String, _ person: String, _ vendor: String) -> BitcoinWalletRecord.KeyHolder {
            .init(key: key, principal: person, principalName: person, vendor: vendor)
        }
        let spread = [holder("k1", "a", "v1"), holder("k2", "b", "v2"), holder("k3", "c", "v3")]
        #expect(WalletKeyPolicy.problems(threshold: 2, keys: spread, tier: .cold, settings: settings) == [])
        // 3 of 5 where one person holds two keys: two people reach three signatures.
        let five = [holder("k1", "a", "v1"), holder("k2", "a", "v2"), holder("k3", "b", "v3"), holder("k4", "c", "v1"), holder("k5", "d", "v2")]
        #expect(WalletKeyPolicy.problems(threshold: 3, keys: five, tier: .cold, settings: settings)
            == ["2 person(s) could sign alone (a holds 2 keys): the 3 signatures must come from 3 different people"])
        // The vendor limit at m − 1 keys and at m.
        let twoOfOneVendor = [holder("k1", "a", "v1"), holder("k2", "b", "v1"), holder("k3", "c", "v2"), holder("k4", "d", "v3")]
        #expect(WalletKeyPolicy.problems(threshold: 3, keys: twoOfOneVendor, tier: .cold, settings: settings) == [])
        #expect(WalletKeyPolicy.problems(threshold: 2, keys: twoOfOneVendor, tier: .cold, settings: settings)
            == ["vendor v1 holds 2 of the keys, enough to sign alone (DMM Bitcoin's lesson): at most 1 keys per vendor"])
        // The tier's least m and spare keys, at the limit and one past.
        #expect(WalletKeyPolicy.problems(threshold: 2, keys: Array(spread.prefix(2)), tier: .hot, settings: settings) == [])
        #expect(WalletKeyPolicy.problems(threshold: 2, keys: Array(spread.prefix(2)), tier: .warm, settings: settings)
            == ["a warm wallet has at least 1 key(s) beyond its 2 signatures, so losing one does not lose the coins; this one has 0"])
        #expect(WalletKeyPolicy.problems(threshold: 1, keys: Array(spread.prefix(2)), tier: .hot, settings: settings)
            == ["a hot wallet needs at least 2 signatures; this one needs 1"])
    }

    @Test func everySettingIsCheckedAtItsLimits() throws {
        var settings = BitcoinSettings()
        settings.gapLimit = WalletScan.gapLimitMax
        settings.confirmations = 100
        settings.feeRate = 1_000
        settings.challengeSeconds = 60
        _ = try settings.validated()
        for (change, field) in [({ (s: inout BitcoinSettings) in s.gapLimit = WalletScan.gapLimitMax + 1 }, "gap_limit"),
                                ({ (s: inout BitcoinSettings) in s.gapLimit = 0 }, "gap_limit"),
                                ({ (s: inout BitcoinSettings) in s.confirmations = 101 }, "confirmations"),
                                ({ (s: inout BitcoinSettings) in s.feeRate = 1_001 }, "fee_rate"),
                                ({ (s: inout BitcoinSettings) in s.feeCapSats = 0 }, "fee_cap_sats"),
                                ({ (s: inout BitcoinSettings) in s.challengeSeconds = 59 }, "challenge_seconds"),
                                ({ (s: inout BitcoinSettings) in s.thresholdMin[.cold] = 0 }, "threshold_min"),
                                ({ (s: inout BitcoinSettings) in s.spareKeysMin[.cold] = 19 }, "spare_keys_min")] {
            var bad = settings
            change(&bad)
            #expect(throws: KinkoError.self) { try bad.validated() }
            #expect((try? bad.validated()) == nil, "\(field)")
            do { _ = try bad.validated() } catch { #expect(error.field == field) }
        }
    }
}

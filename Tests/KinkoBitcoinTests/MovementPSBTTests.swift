import Foundation
import KinkoBitcoin
import KinkoCore
import Testing

/// A 2-of-3 regtest wallet of three file signers, as the demo builds it.
struct TestWallet {
    let masters: [ExtendedKey]
    let descriptor: Descriptor
    let builder: WalletPSBTBuilder

    init(seed: UInt8 = 1, threshold: Int = 2, signers: Int = 3) throws {
        masters = try (0..<signers).map { try ExtendedKey.master(seed: Array(repeating: seed &+ UInt8($0), count: 32), network: .regtest) }
        let keys = try masters.map { try SignerKeyFile.keyExpression(master: $0, path: DerivationPath(parsing: "m/48'/1'/0'/2'")) + "/<0;1>/*" }
        descriptor = try Descriptor(parsing: "wsh(sortedmulti(\(threshold),\(keys.joined(separator: ","))))")
        builder = try WalletPSBTBuilder(descriptor: descriptor, network: .regtest)
    }

    func coin(_ n: Int, _ value: UInt64, index: UInt32) -> WalletPSBTBuilder.Coin {
        WalletPSBTBuilder.Coin(txid: Hex.encode(BitcoinHash.sha256(Array("coin \(n)".utf8))), vout: UInt32(n % 3), value: value, branch: 0, index: index)
    }

    /// A payment to an address of another wallet.
    static func payment(_ value: UInt64) throws -> BitcoinTransaction.Output {
        let other = try TestWallet(seed: 200)
        return BitcoinTransaction.Output(value: value, scriptPubKey: try other.descriptor.scriptPubKey(branch: 0, index: 0))
    }
}

@Suite("A movement as a PSBT")
struct MovementPSBTTests {
    // Goal: hot → elsewhere, 2 of 3: Kinko builds the PSBT (change to the change branch); each
    // signer's review shows the payment, the proven change and the fee; two signers sign; the
    // combined PSBT finalizes to a transaction whose witnesses hold two valid signatures; one
    // signature alone does not finalize.
    @Test func twoOfThreeFromBuildToTransaction() throws {
        let wallet = try TestWallet()
        let coins = [wallet.coin(1, 50_000_000, index: 0), wallet.coin(2, 30_000_000, index: 1), wallet.coin(3, 5_000, index: 2)]
        let payment = try TestWallet.payment(60_000_000)
        let psbt = try wallet.builder.build(coins: coins, payments: [payment], feeRate: 10, changeIndex: 4)
        #expect(psbt.transaction.inputs.count == 2 && psbt.transaction.outputs.count == 2)
        let fee = try #require(psbt.fee)
        #expect(psbt.transaction.outputs[1].value == 80_000_000 - 60_000_000 - fee)
        #expect(psbt.transaction.outputs[1].scriptPubKey == (try wallet.descriptor.scriptPubKey(branch: 1, index: 4)))
        #expect(psbt.globalXpubs.count == 3)

        let review = try SigningReview(psbt, master: wallet.masters[0], network: .regtest)
        #expect(review.outputs.map(\.isChange) == [false, true])
        #expect(review.outputs[0].destination == (try TestWallet(seed: 200).descriptor.address(branch: 0, index: 0, network: .regtest)))
        #expect(review.outputs[0].amount == 60_000_000 && review.fee == fee && review.inputsToSign == [0, 1])
        #expect(review.text.contains("0.60000000 BTC to bcrt1q") && review.text.contains("[change, proven]"))

        var first = psbt, second = psbt
        #expect(try first.sign(with: wallet.masters[0]) == [0, 1])
        #expect(try second.sign(with: wallet.masters[2]) == [0, 1])
        var alone = first
        let short = #expect(throws: KinkoError.self) { try alone.finalize() }
        #expect(short?.code == .signaturesMissing)
        var combined = try PSBT.combine([first, second])
        try combined.verifySignatures()
        try combined.finalize()
        let transaction = try combined.extract()
        #expect(transaction.txid == psbt.transaction.txid, "witnesses do not change the txid")
        for (index, input) in transaction.inputs.enumerated() {
            #expect(input.witness.count == 4 && input.witness[0].isEmpty)
            let script = input.witness[3]
            let hash = try transaction.segwitSignatureHash(input: index, scriptCode: script, amount: psbt.inputs[index].witnessUTXO!.value)
            let keys = try #require(Script.multisig(script)).keys
            for signature in input.witness[1...2] {
                #expect(keys.contains { Secp256k1.verify(signature: Array(signature.dropLast()), hash: hash, publicKey: $0) })
            }
        }
    }

    // Goal: an exact match needs no change (branch and bound); a fee over the cap, too little
    // money, a fee rate out of range and dust are refused by name.
    @Test func coinSelectionAndLimits() throws {
        let wallet = try TestWallet()
        let exact = try wallet.builder.build(coins: [wallet.coin(1, 100_000, index: 0), wallet.coin(2, 250_000, index: 1), wallet.coin(3, 70_000, index: 2)],
                                             payments: [try TestWallet.payment(249_000)], feeRate: 5, changeIndex: 0)
        #expect(exact.transaction.outputs.count == 1, "250,000 covers 249,000 and the fee with less than a change output's worth left")
        #expect(exact.transaction.inputs.count == 1)
        // At the search's limit the exact match is found; one coin past it, largest first pays with change.
        for (count, outputs) in [(WalletPSBTBuilder.branchAndBoundCoinsMax, 1), (WalletPSBTBuilder.branchAndBoundCoinsMax + 1, 2)] {
            let many = [wallet.coin(1, 250_000, index: 0)] + (1..<count).map { wallet.coin($0 + 1, 10_000 + UInt64($0), index: UInt32($0)) }
            let chosen = try wallet.builder.build(coins: many, payments: [try TestWallet.payment(249_000)], feeRate: 5, changeIndex: 0)
            #expect(chosen.transaction.outputs.count == outputs, "\(count) coins")
        }
        let coins = [wallet.coin(1, 1_000_000, index: 0)]
        for (rate, value, field) in [(0, 100_000, "fee_rate"), (1_001, 100_000, "fee_rate"), (5, 2_000_000, "payments"), (5, 329, "payments")] as [(UInt64, UInt64, String)] {
            let error = #expect(throws: KinkoError.self, "rate \(rate), value \(value)") {
                try wallet.builder.build(coins: coins, payments: [try TestWallet.payment(value)], feeRate: rate, changeIndex: 0)
            }
            #expect(error?.field == field)
        }
        #expect(try wallet.builder.build(coins: coins, payments: [try TestWallet.payment(330)], feeRate: 1_000, changeIndex: 0).fee != nil)
        let psbt = try wallet.builder.build(coins: coins, payments: [try TestWallet.payment(100_000)], feeRate: 100, changeIndex: 0)
        let capped = #expect(throws: KinkoError.self) { try SigningReview(psbt, master: wallet.masters[0], network: .regtest, feeCap: try #require(psbt.fee) - 1) }
        #expect(capped?.code == .limitExceeded && capped?.field == "fee")
        #expect(try SigningReview(psbt, master: wallet.masters[0], network: .regtest, feeCap: try #require(psbt.fee)).fee == psbt.fee)
        let notKinko = #expect(throws: KinkoError.self) {
            try WalletPSBTBuilder(descriptor: try Descriptor(parsing: "wsh(multi(1,\(wallet.descriptor.keys[0])))"), network: .regtest)
        }
        #expect(notKinko?.field == "descriptor")
    }

    // Goal: a coordinator that swaps the change for its own multisig, claiming the signers'
    // fingerprints, is caught: the review refuses to sign.
    @Test func forgedChangeIsRefused() throws {
        let wallet = try TestWallet()
        var psbt = try wallet.builder.build(coins: [wallet.coin(1, 50_000_000, index: 0)], payments: [try TestWallet.payment(10_000_000)], feeRate: 2, changeIndex: 0)
        let attacker = try TestWallet(seed: 90)
        let forgedScript = try attacker.descriptor.witnessScript(branch: 1, index: 0)
        psbt.transaction.outputs[1].scriptPubKey = try attacker.descriptor.scriptPubKey(branch: 1, index: 0)
        psbt.outputs[1].witnessScript = forgedScript
        let realOrigins = Array(psbt.outputs[1].derivations.values)
        psbt.outputs[1].derivations = Dictionary(uniqueKeysWithValues: zip(try #require(Script.multisig(forgedScript)).keys, realOrigins))
        let error = #expect(throws: KinkoError.self) { try SigningReview(psbt, master: wallet.masters[0], network: .regtest) }
        #expect(error?.message.contains("claims to be change") == true)
    }

    // Goal (interop, both ways): a PSBT embit builds is read by Kinko (the same outpoints and
    // outputs), reviewed as `kinko signer sign` reviews it (the payment, embit's change proven
    // against the xpubs embit put in, the fee), signed by two Kinko file signers and finalized
    // by Kinko; embit finds every input fully signed. And a PSBT Kinko builds, signed by embit
    // with both keys, is verified, finalized and extracted by Kinko; embit agrees.
    @Test(.enabled(if: Interop.available, "no interop venv (Tests/interop/setup.sh)"))
    func embitBuildsKinkoSignsAndTheReverse() throws {
        let wallet = try TestWallet(seed: 40)
        let coins = (0..<2).map { wallet.coin($0 + 20, UInt64(30_000_000 + $0 * 7), index: UInt32($0 + 3)) }
        let payment = try TestWallet.payment(41_000_000)
        let fee: UInt64 = 2_000
        let changeValue = coins.reduce(UInt64(0)) { $0 + $1.value } - payment.value - fee
        struct Coin: Encodable { var txid: String, vout: UInt32, value: UInt64, branch: Int, index: UInt32 }
        struct Payment: Encodable { var script: String, value: UInt64 }
        struct Change: Encodable { var index: UInt32, value: UInt64 }
        struct Build: Encodable { var command = "build", descriptor: String, network = "regtest", coins: [Coin], payments: [Payment], change: Change }
        struct Built: Decodable { var psbt: String }
        struct Request: Encodable { var command: String, psbt: String, xprv: String? }
        struct Check: Decodable { struct Input: Decodable { var threshold: Int, valid: Int }; var inputs: [Input], txid: String }
        let built = try JSONDecoder().decode(Built.self, from: try Interop.run("bitcoin_psbt.py", input: try JSONEncoder().encode(Build(
            descriptor: wallet.descriptor.withChecksum, coins: coins.map { Coin(txid: $0.txid, vout: $0.vout, value: $0.value, branch: $0.branch, index: $0.index) },
            payments: [Payment(script: Hex.encode(payment.scriptPubKey), value: payment.value)], change: Change(index: 4, value: changeValue)))))
        var theirs = try PSBT(parsingFile: Array(built.psbt.utf8))
        #expect(theirs.transaction.inputs.map(\.outpoint) == coins.map { "\($0.txid):\($0.vout)" })
        #expect(theirs.transaction.outputs.map(\.value) == [41_000_000, changeValue] && theirs.fee == fee)
        for master in [wallet.masters[0], wallet.masters[2]] {
            let review = try SigningReview(theirs, master: master, network: .regtest)
            #expect(review.fee == fee && review.outputs.map(\.isChange) == [false, true] && review.inputsToSign == [0, 1])
            #expect(try theirs.sign(with: master) == [0, 1])
        }
        try theirs.finalize()
        _ = try theirs.extract()
        let checked = try JSONDecoder().decode(Check.self, from: try Interop.run("bitcoin_psbt.py", input: try JSONEncoder().encode(Request(command: "check", psbt: theirs.base64, xprv: nil))))
        #expect(checked.txid == theirs.transaction.txid && checked.inputs.count == 2 && checked.inputs.allSatisfy { $0.threshold == 2 && $0.valid == 2 })

        // The reverse: Kinko builds, embit signs with two keys, Kinko finalizes.
        var ours = try wallet.builder.build(coins: coins, payments: [payment], feeRate: 4, changeIndex: 5)
        for master in [wallet.masters[1], wallet.masters[2]] {
            struct Signed: Decodable { var psbt: String, signatures: Int }
            let signed = try JSONDecoder().decode(Signed.self, from: try Interop.run("bitcoin_psbt.py", input: try JSONEncoder().encode(
                Request(command: "sign", psbt: ours.base64, xprv: master.serialized))))
            #expect(signed.signatures == 2)
            ours = try PSBT(parsingFile: Array(signed.psbt.utf8))
        }
        try ours.finalize()  // verifies embit's four signatures first
        #expect(try ours.extract().txid == ours.transaction.txid)
        let again = try JSONDecoder().decode(Check.self, from: try Interop.run("bitcoin_psbt.py", input: try JSONEncoder().encode(Request(command: "check", psbt: ours.base64, xprv: nil))))
        #expect(again.inputs.allSatisfy { $0.valid == 2 })
    }

    // Goal (interop): embit signs with one signer's key and Kinko with another's; Kinko verifies
    // embit's signature, finalizes and extracts; embit then finds every input fully signed
    // (its own BIP 143 hash, two valid signatures in script order).
    @Test(.enabled(if: Interop.available, "no interop venv (Tests/interop/setup.sh)"))
    func embitAndKinkoSignTogether() throws {
        let wallet = try TestWallet(seed: 7)
        let coins = (0..<3).map { wallet.coin($0 + 10, UInt64(20_000_000 + $0 * 1_000), index: UInt32($0)) }
        let psbt = try wallet.builder.build(coins: coins, payments: [try TestWallet.payment(45_000_000)], feeRate: 3, changeIndex: 1)
        struct Request: Encodable { var command: String, psbt: String, xprv: String? }
        struct Signed: Decodable { var psbt: String, signatures: Int }
        let output = try Interop.run("bitcoin_psbt.py", input: try JSONEncoder().encode(Request(command: "sign", psbt: psbt.base64, xprv: wallet.masters[1].serialized)))
        let signed = try JSONDecoder().decode(Signed.self, from: output)
        #expect(signed.signatures == psbt.inputs.count)
        var theirs = try PSBT(parsingFile: Array(signed.psbt.utf8))
        try theirs.verifySignatures()
        #expect(try theirs.sign(with: wallet.masters[0]) == Array(psbt.inputs.indices))
        try theirs.finalize()
        _ = try theirs.extract()
        struct Check: Decodable { struct Input: Decodable { var threshold: Int, valid: Int }; var inputs: [Input], txid: String }
        let check = try JSONDecoder().decode(Check.self, from: try Interop.run("bitcoin_psbt.py", input: try JSONEncoder().encode(Request(command: "check", psbt: theirs.base64, xprv: nil))))
        #expect(check.txid == psbt.transaction.txid)
        #expect(check.inputs.count == 3 && check.inputs.allSatisfy { $0.threshold == 2 && $0.valid == 2 })
    }
}

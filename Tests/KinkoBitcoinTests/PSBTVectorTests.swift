import Foundation
import KinkoBitcoin
import KinkoCore
import Testing

@Suite("PSBT (BIP 174)")
struct PSBTVectorTests {
    static func psbt(_ object: Any?) throws -> (bytes: [UInt8], psbt: PSBT) {
        let fields = try #require(object as? [String: Any])
        let hex = try #require(fields["hex"] as? String)
        let bytes = try #require(Hex.decode(hex))
        return (bytes, try PSBT(parsing: bytes))
    }

    /// A WIF key's 32-byte secret.
    static func secret(wif: String) throws -> [UInt8] {
        let payload = try #require(Base58.decodeCheck(wif))
        return Array(payload[1..<33])
    }

    // Goal: every invalid PSBT of the BIP is refused (field psbt); every valid one is read and
    // written back byte for byte, in binary and base64.
    @Test func validAndInvalidVectors() throws {
        let vectors = try Vectors.load("bip174")
        let invalid = try Vectors.list(vectors, "invalid")
        #expect(invalid.count == 20)
        for vector in invalid {
            let hex = try #require(vector["hex"] as? String)
            let bytes = try #require(Hex.decode(hex))
            let error = #expect(throws: KinkoError.self, "\(vector["description"] ?? "")") { try PSBT(parsing: bytes) }
            #expect(error?.field == "psbt")
        }
        let valid = try Vectors.list(vectors, "valid")
        #expect(valid.count == 10)
        for vector in valid {
            let (bytes, psbt) = try Self.psbt(vector)
            #expect(psbt.serialized == bytes, "\(vector["description"] ?? "")")
            #expect(psbt.base64 == vector["base64"] as? String)
            let base64 = try #require(vector["base64"] as? String)
            #expect(try PSBT(parsingFile: Array(base64.utf8)) == psbt)
        }
    }

    // Goal: the four PSBTs a signer must refuse are read, and signing (or hashing) them fails.
    @Test func signerChecks() throws {
        let cases = try Vectors.list(try Vectors.load("bip174"), "fails_signer_checks")
        #expect(cases.count == 4)
        for vector in cases {
            let (_, psbt) = try Self.psbt(vector)
            let failures = psbt.inputs.indices.filter { (try? psbt.signatureHash(input: $0)) == nil }
            #expect(!failures.isEmpty, "\(vector["description"] ?? "")")
        }
    }

    // Goal: the role tests, end to end and byte-exact: Creator, Updater (adding SIGHASH_ALL),
    // both Signers (RFC 6979 signatures), Combiner, Finalizer, Extractor.
    @Test func roles() throws {
        let vectors = try Vectors.load("bip174")
        let creator = try #require(vectors["creator"] as? [String: Any])
        let inputs = try Vectors.list(creator, "inputs").map { input in
            BitcoinTransaction.Input(previousTxid: Array(Hex.decode(input["txid"] as! String)!.reversed()), previousIndex: UInt32(input["index"] as! Int),
                                     sequence: 0xFFFF_FFFF)
        }
        let outputs = try Vectors.list(creator, "outputs").map { output in
            BitcoinTransaction.Output(value: (output["amount_sat"] as! NSNumber).uint64Value, scriptPubKey: Hex.decode(output["script_pubkey"] as! String)!)
        }
        let created = try PSBT(transaction: BitcoinTransaction(version: 2, inputs: inputs, outputs: outputs, lockTime: 0))
        #expect(created.serialized == (try Self.psbt(creator["expected_psbt"])).bytes)

        // The Updater: previous transactions by txid, scripts by hash, keys by script.
        let updater = try #require(vectors["updater"] as? [String: Any])
        let masterText = try #require((vectors["master_key"] as? [String: Any])?["extended_private_key"] as? String)
        let master = try ExtendedKey(parsing: masterText)
        var updated = created
        let previous = try (updater["previous_transactions"] as! [String]).map { try BitcoinTransaction(parsing: Hex.decode($0)!) }
        let scripts = (updater["redeem_scripts"] as! [String] + (updater["witness_scripts"] as! [String])).map { Hex.decode($0)! }
        let keys = try Vectors.list(updater, "public_keys").map { key in
            (Hex.decode(key["key"] as! String)!, try DerivationPath(parsing: key["derivation_path"] as! String))
        }
        func origin(_ path: DerivationPath) -> PSBT.KeyOrigin { PSBT.KeyOrigin(fingerprint: master.fingerprint, path: path.steps.map(\.value)) }
        for index in updated.inputs.indices {
            let outpoint = updated.transaction.inputs[index]
            let spent = try #require(previous.first { Hex.decode($0.txid).map { Array($0.reversed()) } == outpoint.previousTxid })
            let output = spent.outputs[Int(outpoint.previousIndex)]
            var lookFor = [output.scriptPubKey]
            if case .p2sh(let hash) = Script.kind(of: output.scriptPubKey), let redeem = scripts.first(where: { BitcoinHash.hash160($0) == hash }) {
                updated.inputs[index].redeemScript = redeem
                lookFor.append(redeem)
                if case .p2wsh(let hash) = Script.kind(of: redeem), let witness = scripts.first(where: { BitcoinHash.sha256($0) == hash }) {
                    updated.inputs[index].witnessScript = witness
                    lookFor.append(witness)
                }
            }
            if updated.inputs[index].witnessScript != nil { updated.inputs[index].witnessUTXO = output } else { updated.inputs[index].nonWitnessUTXO = spent }
            for (key, path) in keys where lookFor.contains(where: { Script.multisig($0)?.keys.contains(key) == true }) {
                updated.inputs[index].derivations[key] = origin(path)
            }
        }
        for index in updated.outputs.indices {
            for (key, path) in keys where Script.kind(of: updated.transaction.outputs[index].scriptPubKey) == .p2wpkh(keyHash: BitcoinHash.hash160(key)) {
                updated.outputs[index].derivations[key] = origin(path)
            }
        }
        #expect(updated.serialized == (try Self.psbt(updater["expected_psbt"])).bytes)
        for index in updated.inputs.indices { updated.inputs[index].sighashType = 1 }
        let sighashAll = try #require(updater["sighash_all"] as? [String: Any])
        #expect(updated.serialized == (try Self.psbt(sighashAll["expected_psbt"])).bytes)

        // Two signers, each with two keys.
        var signedBy: [PSBT] = []
        for signer in try Vectors.list(try #require(vectors["signer"] as? [String: Any]), "signers") {
            var psbt = updated
            var secrets: [[UInt8]: [UInt8]] = [:]
            for key in try Vectors.list(signer, "keys") {
                let secret = try Self.secret(wif: key["wif"] as! String)
                secrets[try Secp256k1.publicKey(secretKey: secret)] = secret
                // The WIF is the master key's child at the stated path.
                #expect(try master.derive(DerivationPath(parsing: key["derivation_path"] as! String)).secretKey == secret)
            }
            #expect(try psbt.sign(secretKeys: secrets) == [0, 1])
            try psbt.verifySignatures()
            #expect(psbt.serialized == (try Self.psbt(signer["expected_psbt"])).bytes)
            signedBy.append(psbt)
        }
        // Signing with the master key finds the same four keys through the derivations.
        var byMaster = updated
        #expect(try byMaster.sign(with: master) == [0, 1])
        #expect(byMaster == (try PSBT.combine(signedBy)))

        let combiner = try Vectors.list(try #require(vectors["combiner"] as? [String: Any]), "cases")
        var combined = try PSBT.combine(signedBy)
        #expect(combined.serialized == (try Self.psbt(combiner[0]["expected_psbt"])).bytes)
        let unknowns = try (combiner[1]["input_psbts"] as! [Any]).map { try Self.psbt($0).psbt }
        #expect(try PSBT.combine(unknowns).serialized == (try Self.psbt(combiner[1]["expected_psbt"])).bytes)

        let finalizer = try #require(vectors["finalizer"] as? [String: Any])
        try combined.finalize()
        #expect(combined.serialized == (try Self.psbt(finalizer["expected_psbt"])).bytes)
        let extractor = try #require(vectors["extractor"] as? [String: Any])
        #expect(Hex.encode(try combined.extract().serialized()) == extractor["expected_transaction_hex"] as? String)
    }
}

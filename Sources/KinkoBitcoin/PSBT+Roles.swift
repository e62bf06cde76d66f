public import KinkoCore

/// BIP 174's roles after the Creator: Signer, Combiner, Finalizer, Extractor.
extension PSBT {
    /// How input `index` is spent: the sighash algorithm, the script code it signs, the amount
    /// (segwit) and the script that must hold the signing key. Every script given must hash to
    /// the one it stands for; a witness UTXO for a non-witness spend is refused (BIP 174's
    /// "fails signer checks" vectors).
    struct Spend {
        var segwit: Bool
        var scriptCode: [UInt8]
        var amount: UInt64?
        /// The multisig script (witness or redeem script), when the spend is a multisig.
        var multisig: (threshold: Int, keys: [[UInt8]])?
        var kind: Script.Kind
        var nested: Bool
    }

    func spend(_ index: Int) throws(KinkoError) -> Spend {
        let input = inputs[index]
        let map = "inputs[\(index)]"
        func refuse(_ reason: String) -> KinkoError { KinkoError(.invalidInput, "\(map): \(reason)", field: "psbt") }
        let outpoint = transaction.inputs[index]
        let spent: BitcoinTransaction.Output
        if let previous = input.nonWitnessUTXO {
            guard previous.outputs.indices.contains(Int(outpoint.previousIndex)) else { throw refuse("the spent transaction has no output \(outpoint.previousIndex)") }
            spent = previous.outputs[Int(outpoint.previousIndex)]
        } else if let utxo = input.witnessUTXO {
            spent = utxo
        } else {
            throw refuse("neither the spent output nor its transaction is given")
        }
        var script = spent.scriptPubKey
        var nested = false
        if case .p2sh(let hash) = Script.kind(of: script) {
            guard let redeem = input.redeemScript else { throw refuse("a P2SH output without its redeemScript") }
            guard BitcoinHash.hash160(redeem) == hash else { throw refuse("the redeemScript does not match the spent scriptPubKey") }
            script = redeem
            nested = true
        }
        let kind = Script.kind(of: script)
        switch kind {
        case .p2wsh(let hash):
            guard let witnessScript = input.witnessScript else { throw refuse("a P2WSH output without its witnessScript") }
            guard BitcoinHash.sha256(witnessScript) == hash else { throw refuse("the witnessScript does not match the \(nested ? "redeemScript" : "spent scriptPubKey")") }
            return Spend(segwit: true, scriptCode: witnessScript, amount: spent.value, multisig: Script.multisig(witnessScript), kind: kind, nested: nested)
        case .p2wpkh(let hash):
            return Spend(segwit: true, scriptCode: Script.p2pkh(keyHash: hash), amount: spent.value, multisig: nil, kind: kind, nested: nested)
        default:
            guard input.witnessUTXO == nil || input.nonWitnessUTXO != nil else { throw refuse("a witness UTXO for a non-witness spend") }
            guard input.nonWitnessUTXO != nil else { throw refuse("a non-witness spend needs the whole previous transaction") }
            return Spend(segwit: false, scriptCode: script, amount: nil, multisig: Script.multisig(script), kind: kind, nested: nested)
        }
    }

    /// The hash input `index`'s signatures commit to (SIGHASH_ALL, the only type Kinko signs).
    public func signatureHash(input index: Int) throws(KinkoError) -> [UInt8] {
        try signatureHash(input: index, spend: try spend(index))
    }

    private func signatureHash(input index: Int, spend: Spend) throws(KinkoError) -> [UInt8] {
        let type = inputs[index].sighashType ?? BitcoinTransaction.SighashType.all.rawValue
        guard type == BitcoinTransaction.SighashType.all.rawValue else {
            throw KinkoError(.invalidInput, "inputs[\(index)]: sighash type \(type); Kinko signs SIGHASH_ALL only", field: "psbt")
        }
        if spend.segwit {
            return try transaction.segwitSignatureHash(input: index, scriptCode: spend.scriptCode, amount: spend.amount ?? 0)
        }
        // Legacy SIGHASH_ALL: this input's scriptSig is the script code, the others' empty.
        var copy = transaction
        for position in copy.inputs.indices { copy.inputs[position].scriptSig = position == index ? spend.scriptCode : [] }
        var bytes = ByteWriter()
        bytes.bytes = copy.serialized(includingWitness: false)
        bytes.uint32(BitcoinTransaction.SighashType.all.rawValue)
        return BitcoinHash.hash256(bytes.bytes)
    }

    /// Signs every input holding a key derived from `master` (matched by fingerprint, then by
    /// deriving the path and comparing the public key); returns the inputs signed. A derivation
    /// that claims the master's fingerprint but derives another key is refused.
    @discardableResult
    public mutating func sign(with master: ExtendedKey) throws(KinkoError) -> [Int] {
        guard master.isPrivate else { throw KinkoError(.invalidInput, "signing needs the private key", field: "key_file") }
        var secrets: [[UInt8]: [UInt8]] = [:]
        for (index, input) in inputs.enumerated() where !input.isFinalized {
            for (pubkey, origin) in input.derivations where origin.fingerprint == master.fingerprint && secrets[pubkey] == nil {
                let derived = try master.derive(DerivationPath(origin.path.map { ChildNumber(raw: $0) }))
                guard derived.publicKey == pubkey else {
                    throw KinkoError(.invalidInput, "inputs[\(index)]: \(origin.pathDescription) of this key is not the public key the PSBT names", field: "psbt")
                }
                secrets[pubkey] = derived.secretKey
            }
        }
        return try sign(secretKeys: secrets)
    }

    /// Signs, with each of `secretKeys` (public key → secret key), every input whose script
    /// holds that public key; returns the inputs signed.
    @discardableResult
    public mutating func sign(secretKeys: [[UInt8]: [UInt8]]) throws(KinkoError) -> [Int] {
        var signed: [Int] = []
        for index in inputs.indices where !inputs[index].isFinalized {
            let spend = try spend(index)
            let holds: ([UInt8]) -> Bool
            switch spend.kind {
            case .p2wpkh(let hash), .p2pkh(let hash): holds = { BitcoinHash.hash160($0) == hash }
            default: holds = { spend.multisig?.keys.contains($0) ?? false }
            }
            let candidates = secretKeys.filter { holds($0.key) }
            guard !candidates.isEmpty else { continue }
            let hash = try signatureHash(input: index, spend: spend)
            for (pubkey, secret) in candidates {
                inputs[index].partialSignatures[pubkey] = try Secp256k1.sign(hash: hash, secretKey: secret) + [UInt8(BitcoinTransaction.SighashType.all.rawValue)]
            }
            signed.append(index)
        }
        return signed
    }

    /// Checks every partial signature against its key and the input's signature hash; the
    /// first that fails is named.
    public func verifySignatures() throws(KinkoError) {
        for index in inputs.indices where !inputs[index].partialSignatures.isEmpty {
            let hash = try signatureHash(input: index)
            for (pubkey, signature) in inputs[index].partialSignatures {
                guard signature.last == UInt8(BitcoinTransaction.SighashType.all.rawValue),
                    Secp256k1.verify(signature: Array(signature.dropLast()), hash: hash, publicKey: pubkey)
                else {
                    throw KinkoError(.invalidInput, "inputs[\(index)]: the signature of key \(Hex.encode(pubkey)) does not verify", field: "psbt")
                }
            }
        }
    }

    /// Per input: the multisig script's keys that have signed, and how many must. An input
    /// that is not a multisig spend, or is finalized, answers its own state (`signed` empty,
    /// `needed` 0 once final).
    public func signatureProgress() throws(KinkoError) -> [(signed: [[UInt8]], needed: Int, keys: [[UInt8]])] {
        var progress: [(signed: [[UInt8]], needed: Int, keys: [[UInt8]])] = []
        for index in inputs.indices {
            if inputs[index].isFinalized {
                progress.append(([], 0, []))
                continue
            }
            guard let (threshold, keys) = try spend(index).multisig else {
                throw KinkoError(.invalidInput, "inputs[\(index)] is not a multisig spend", field: "psbt")
            }
            progress.append((keys.filter { inputs[index].partialSignatures[$0] != nil }, threshold, keys))
        }
        return progress
    }

    /// The Combiner: the union of several PSBTs of the same transaction.
    public static func combine(_ psbts: [PSBT]) throws(KinkoError) -> PSBT {
        guard var combined = psbts.first else { throw KinkoError(.invalidInput, "nothing to combine", field: "psbt") }
        for other in psbts.dropFirst() {
            guard other.transaction == combined.transaction else {
                throw KinkoError(.invalidInput, "the PSBTs are for different transactions (\(combined.transaction.txid), \(other.transaction.txid))", field: "psbt")
            }
            combined.globalXpubs.merge(other.globalXpubs) { first, _ in first }
            combined.globalUnknown.merge(other.globalUnknown) { first, _ in first }
            combined.version = combined.version ?? other.version
            for index in combined.inputs.indices {
                var input = combined.inputs[index]
                let theirs = other.inputs[index]
                input.nonWitnessUTXO = input.nonWitnessUTXO ?? theirs.nonWitnessUTXO
                input.witnessUTXO = input.witnessUTXO ?? theirs.witnessUTXO
                input.partialSignatures.merge(theirs.partialSignatures) { first, _ in first }
                input.sighashType = input.sighashType ?? theirs.sighashType
                input.redeemScript = input.redeemScript ?? theirs.redeemScript
                input.witnessScript = input.witnessScript ?? theirs.witnessScript
                input.derivations.merge(theirs.derivations) { first, _ in first }
                input.finalScriptSig = input.finalScriptSig ?? theirs.finalScriptSig
                input.finalScriptWitness = input.finalScriptWitness ?? theirs.finalScriptWitness
                input.unknown.merge(theirs.unknown) { first, _ in first }
                combined.inputs[index] = input
            }
            for index in combined.outputs.indices {
                var output = combined.outputs[index]
                let theirs = other.outputs[index]
                output.redeemScript = output.redeemScript ?? theirs.redeemScript
                output.witnessScript = output.witnessScript ?? theirs.witnessScript
                output.derivations.merge(theirs.derivations) { first, _ in first }
                output.unknown.merge(theirs.unknown) { first, _ in first }
                combined.outputs[index] = output
            }
        }
        return combined
    }

    /// The Finalizer: builds each input's final scriptSig and witness from its signatures
    /// (multisig: the first `m` valid signatures in the script's key order), and clears what
    /// only signers needed. Refuses an input short of its quorum, naming it and the count.
    public mutating func finalize() throws(KinkoError) {
        try verifySignatures()
        for index in inputs.indices where !inputs[index].isFinalized {
            let spend = try spend(index)
            let input = inputs[index]
            var scriptSig: [UInt8] = []
            var witness: [[UInt8]]?
            if let (threshold, keys) = spend.multisig {
                let signatures = keys.compactMap { input.partialSignatures[$0] }.prefix(threshold)
                guard signatures.count == threshold else {
                    throw KinkoError(.signaturesMissing, "inputs[\(index)]: \(signatures.count) of \(threshold) signatures; the quorum is not reached", field: "psbt")
                }
                if spend.segwit {
                    witness = [[]] + signatures + [spend.scriptCode]
                } else {
                    scriptSig = [0x00] + signatures.flatMap(Script.push) + Script.push(spend.scriptCode)
                }
            } else {
                guard let (pubkey, signature) = input.partialSignatures.first else {
                    throw KinkoError(.signaturesMissing, "inputs[\(index)]: no signature", field: "psbt")
                }
                if spend.segwit { witness = [signature, pubkey] } else { scriptSig = Script.push(signature) + Script.push(pubkey) }
            }
            // Nested segwit: the scriptSig only pushes the redeemScript (the witness program).
            if spend.nested, spend.segwit, let redeem = input.redeemScript { scriptSig = Script.push(redeem) }
            var final = Input()
            final.nonWitnessUTXO = input.nonWitnessUTXO
            final.witnessUTXO = input.witnessUTXO
            final.unknown = input.unknown
            final.finalScriptSig = scriptSig.isEmpty && witness != nil ? nil : scriptSig
            final.finalScriptWitness = witness
            inputs[index] = final
        }
    }

    /// The Extractor: the network transaction, once every input is final.
    public func extract() throws(KinkoError) -> BitcoinTransaction {
        var final = transaction
        for index in inputs.indices {
            guard inputs[index].isFinalized else { throw KinkoError(.signaturesMissing, "inputs[\(index)] is not finalized", field: "psbt") }
            final.inputs[index].scriptSig = inputs[index].finalScriptSig ?? []
            final.inputs[index].witness = inputs[index].finalScriptWitness ?? []
        }
        return final
    }

    /// The fee: what the inputs spend minus what the outputs pay; nil when an input's amount
    /// is not known.
    public var fee: UInt64? {
        var amounts: [UInt64] = []
        for index in inputs.indices {
            guard let spend = try? spend(index), let amount = spend.amount ?? inputs[index].nonWitnessUTXO?.outputs[Int(transaction.inputs[index].previousIndex)].value else { return nil }
            amounts.append(amount)
        }
        guard let spent = BitcoinTransaction.total(amounts), let paid = BitcoinTransaction.total(transaction.outputs.map(\.value)) else { return nil }
        return spent >= paid ? spent - paid : nil
    }
}

extension KinkoError.Code {
    /// A PSBT input short of the signatures its script needs (finalizing or extracting).
    public static let signaturesMissing = Self(rawValue: "signatures_missing")
}

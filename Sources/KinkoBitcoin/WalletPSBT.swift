public import KinkoCore

/// Builds the PSBT of a movement out of a multisig wallet: inputs chosen from the wallet's
/// unspent outputs, the payments, change back to the wallet's change branch, and everything a
/// signer needs to check it (each input's spent output, witness script and key derivations,
/// the change output's script and derivations, the wallet's xpubs with their origins).
public struct WalletPSBTBuilder: Sendable {
    /// An unspent output of the wallet: where it is, what it holds, and at which branch and
    /// index of the descriptor its script was derived.
    public struct Coin: Sendable, Hashable {
        public var txid: String
        public var vout: UInt32
        public var value: UInt64
        public var branch: Int
        public var index: UInt32
        public init(txid: String, vout: UInt32, value: UInt64, branch: Int, index: UInt32) {
            self.txid = txid
            self.vout = vout
            self.value = value
            self.branch = branch
            self.index = index
        }
    }

    public let descriptor: Descriptor
    public let network: BitcoinNetwork

    /// Fee rates a builder accepts, in satoshis per virtual byte.
    public static let feeRateRange: ClosedRange<UInt64> = 1...1_000
    /// Below this a change output costs more to spend than it holds: it goes to the fee.
    public static let dustLimit: UInt64 = 330
    /// Inputs one PSBT spends at most.
    public static let inputsMax = 2_500
    /// Coins branch and bound searches at most (its recursion goes one level per coin); a
    /// wallet with more is served largest first.
    public static let branchAndBoundCoinsMax = 500

    public init(descriptor: Descriptor, network: BitcoinNetwork) throws(KinkoError) {
        guard descriptor.wrapper == .wsh, descriptor.kind == .sortedmulti, descriptor.branchCount == 2, descriptor.isRanged,
            descriptor.isDerivableFromPublicKeys, !descriptor.containsPrivateKeys
        else {
            throw KinkoError(.invalidInput, "a Kinko wallet is wsh(sortedmulti(m, xpub…/<0;1>/*, …)) with public keys only", field: "descriptor")
        }
        self.descriptor = descriptor
        self.network = network
    }

    /// Virtual bytes of one input spending this wallet's m-of-n P2WSH (73-byte signatures).
    var inputVirtualBytes: UInt64 {
        let witness = 1 + 1 + 73 * descriptor.threshold + 3 + (1 + 34 * descriptor.keys.count + 2)
        return (41 * 4 + UInt64(witness) + 3) / 4
    }

    /// Virtual bytes of the transaction without inputs: version, counts, locktime, segwit marker.
    func baseVirtualBytes(outputs: [BitcoinTransaction.Output]) -> UInt64 {
        let outputBytes = outputs.reduce(0) { $0 + 8 + 1 + $1.scriptPubKey.count }
        return UInt64(4 + 1 + 1 + outputBytes + 4) + 1
    }

    /// The PSBT paying `payments` from `coins` at `feeRate` sat/vB, change at `changeIndex`.
    /// Coins are chosen by branch and bound for a changeless match (within the cost of a
    /// change output), else largest first.
    public func build(coins: [Coin], payments: [BitcoinTransaction.Output], feeRate: UInt64, changeIndex: UInt32) throws(KinkoError) -> PSBT {
        guard Self.feeRateRange.contains(feeRate) else {
            throw KinkoError(.invalidInput, "a fee rate of \(feeRate) sat/vB; \(Self.feeRateRange.lowerBound)–\(Self.feeRateRange.upperBound)", field: "fee_rate")
        }
        guard !payments.isEmpty else { throw KinkoError(.invalidInput, "nothing to pay", field: "payments") }
        guard let held = BitcoinTransaction.total(coins.map(\.value)) else {
            throw KinkoError(.invalidInput, "the coins add up past 21 million bitcoin", field: "coins")
        }
        if let dust = payments.first(where: { $0.value < Self.dustLimit }) {
            throw KinkoError(.invalidInput, "a payment of \(dust.value) sat is below the dust limit", field: "payments")
        }
        guard let target = BitcoinTransaction.total(payments.map(\.value)) else {
            throw KinkoError(.invalidInput, "the payments add up past 21 million bitcoin", field: "payments")
        }
        let changeScript = try descriptor.scriptPubKey(branch: 1, index: changeIndex)
        let perInput = inputVirtualBytes * feeRate
        let changeCost = UInt64(8 + 1 + changeScript.count) * feeRate
        let base = baseVirtualBytes(outputs: payments) * feeRate
        let usable = coins.filter { $0.value > perInput }
        let exact = usable.count <= Self.branchAndBoundCoinsMax
            ? Self.branchAndBound(usable, target: target + base, perInput: perInput, tolerance: changeCost + Self.dustLimit) : nil
        guard let selection = exact
            ?? Self.largestFirst(usable, target: target + base + changeCost, perInput: perInput)
        else {
            throw KinkoError(.invalidInput, "the wallet's \(coins.count) coins (\(held) sat) do not cover \(target) sat and the fee at \(feeRate) sat/vB", field: "payments")
        }
        guard selection.count <= Self.inputsMax else { throw KinkoError(.limitExceeded, "\(selection.count) inputs; at most \(Self.inputsMax)", field: "payments") }
        let selected = selection.reduce(UInt64(0)) { $0 + $1.value }
        let feeWithoutChange = base + UInt64(selection.count) * perInput
        var outputs = payments
        var changeOutput: Int?
        if selected >= target + feeWithoutChange + changeCost + Self.dustLimit {
            outputs.append(BitcoinTransaction.Output(value: selected - target - feeWithoutChange - changeCost, scriptPubKey: changeScript))
            changeOutput = outputs.count - 1
        }
        var inputs: [BitcoinTransaction.Input] = []
        for coin in selection {
            guard let txid = Hex.decode(coin.txid), txid.count == 32 else { throw KinkoError(.invalidInput, "txid \(coin.txid) is not 64 hex digits", field: "coins") }
            inputs.append(BitcoinTransaction.Input(previousTxid: txid.reversed(), previousIndex: coin.vout))
        }
        var psbt = try PSBT(transaction: BitcoinTransaction(version: 2, inputs: inputs, outputs: outputs, lockTime: 0))
        for (position, coin) in selection.enumerated() {
            psbt.inputs[position].witnessUTXO = BitcoinTransaction.Output(value: coin.value, scriptPubKey: try descriptor.scriptPubKey(branch: coin.branch, index: coin.index))
            psbt.inputs[position].witnessScript = try descriptor.witnessScript(branch: coin.branch, index: coin.index)
            psbt.inputs[position].derivations = try derivations(branch: coin.branch, index: coin.index)
        }
        if let changeOutput {
            psbt.outputs[changeOutput].witnessScript = try descriptor.witnessScript(branch: 1, index: changeIndex)
            psbt.outputs[changeOutput].derivations = try derivations(branch: 1, index: changeIndex)
        }
        for key in descriptor.keys {
            guard case .extended(let extended, let steps, _, _) = key.material, let origin = key.origin else {
                throw KinkoError(.invalidInput, "key \(key) has no origin [fingerprint/path]", field: "descriptor")
            }
            psbt.globalXpubs[try extended.derive(steps).neutered.serializedBytes] = PSBT.KeyOrigin(fingerprint: origin.fingerprint, path: (origin.path.steps + steps.steps).map(\.value))
        }
        return psbt
    }

    /// Each key's public key at `branch`/`index` with its full origin path.
    func derivations(branch: Int, index: UInt32) throws(KinkoError) -> [[UInt8]: PSBT.KeyOrigin] {
        var result: [[UInt8]: PSBT.KeyOrigin] = [:]
        for key in descriptor.keys {
            guard case .extended(_, let steps, let branches?, _) = key.material, let origin = key.origin else {
                throw KinkoError(.invalidInput, "key \(key) has no origin [fingerprint/path] or no <0;1> branches", field: "descriptor")
            }
            let path = origin.path.steps + steps.steps + [ChildNumber(branches[branch]), ChildNumber(index)]
            result[try key.point(branch: branch, index: index)] = PSBT.KeyOrigin(fingerprint: origin.fingerprint, path: path.map(\.value))
        }
        return result
    }

    /// Branch and bound (Bitcoin Core's, simplified): the smallest-waste set of coins whose
    /// effective values cover `target` without exceeding it by more than `tolerance`, so no
    /// change output is needed; nil when none is found within the search budget.
    static func branchAndBound(_ coins: [Coin], target: UInt64, perInput: UInt64, tolerance: UInt64) -> [Coin]? {
        let sorted = coins.sorted { $0.value > $1.value }
        let effective = sorted.map { $0.value - perInput }
        let remaining = effective.reduce(UInt64(0), +)
        guard remaining >= target else { return nil }
        var best: [Bool]?
        var bestExcess = UInt64.max
        var chosen = [Bool](repeating: false, count: sorted.count)
        var tries = 0
        func search(_ depth: Int, _ total: UInt64, _ available: UInt64) {
            tries += 1
            guard tries <= 100_000, total <= target + tolerance else { return }
            if total >= target {
                if total - target < bestExcess {
                    bestExcess = total - target
                    best = chosen
                }
                return
            }
            guard depth < sorted.count, total + available >= target else { return }
            chosen[depth] = true
            search(depth + 1, total + effective[depth], available - effective[depth])
            chosen[depth] = false
            search(depth + 1, total, available - effective[depth])
        }
        search(0, 0, remaining)
        return best.map { flags in zip(sorted, flags).filter(\.1).map(\.0) }
    }

    /// Largest coins first until `target` (payments, fee and a change output) is covered.
    static func largestFirst(_ coins: [Coin], target: UInt64, perInput: UInt64) -> [Coin]? {
        var total: UInt64 = 0
        var chosen: [Coin] = []
        for coin in coins.sorted(by: { $0.value > $1.value }) {
            chosen.append(coin)
            total += coin.value - perInput
            if total >= target { return chosen }
        }
        return nil
    }
}

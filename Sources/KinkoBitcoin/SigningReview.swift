public import KinkoCore

/// What a signer sees before signing a PSBT ("what you see is what you sign"): every output
/// with its address and amount, which outputs are proven change, the fee. Change is proven
/// only cryptographically: the output's witness script is a multisig of the inputs' wallet
/// (same threshold, same number of keys), and every key of it derives, at an unhardened change
/// path (`…/1/i`), from one of the PSBT's global xpubs — the same xpubs every input's keys
/// derive from. A coordinator cannot pass off its own address as change.
public struct SigningReview: Sendable, Equatable {
    public struct Line: Sendable, Equatable {
        public var index: Int
        /// The address on the review's network, or the script in hex when it has none.
        public var destination: String
        public var amount: UInt64
        public var isChange: Bool
    }

    public var outputs: [Line]
    /// Satoshis the inputs spend minus what the outputs pay.
    public var fee: UInt64
    /// Inputs with a key derived from the signer's master key.
    public var inputsToSign: [Int]
    public var txid: String

    /// A signer's default fee cap: 0.01 BTC. A PSBT paying more in fees is refused unless the
    /// signer raises the cap (`kinko signer sign --fee-cap-sats`).
    public static let feeCapDefault: UInt64 = 1_000_000

    /// The review of `psbt` for the holder of `master`; refuses a PSBT whose fee is unknown or
    /// over `feeCap`, and one with an output that claims to be change (a derivation from the
    /// inputs' wallet) but fails the proof.
    public init(_ psbt: PSBT, master: ExtendedKey, network: BitcoinNetwork, feeCap: UInt64 = SigningReview.feeCapDefault) throws(KinkoError) {
        guard let fee = psbt.fee else {
            throw KinkoError(.invalidInput, "the fee cannot be computed: an input's amount is missing", field: "psbt")
        }
        guard fee <= feeCap else {
            throw KinkoError(.limitExceeded, "the fee is \(fee) satoshis, over the cap of \(feeCap)", field: "fee")
        }
        self.fee = fee
        txid = psbt.transaction.txid
        inputsToSign = psbt.inputs.indices.filter { index in psbt.inputs[index].derivations.values.contains { $0.fingerprint == master.fingerprint } }

        // The wallet: the global xpubs, by master fingerprint and account path.
        var xpubs: [(origin: PSBT.KeyOrigin, key: ExtendedKey)] = []
        for (serialized, origin) in psbt.globalXpubs {
            xpubs.append((origin, try ExtendedKey(serializedBytes: serialized, field: "psbt")))
        }
        let inputScripts = try psbt.inputs.indices.map { (index) throws(KinkoError) -> (threshold: Int, keys: [[UInt8]])? in try psbt.spend(index).multisig }
        let walletShape = inputScripts.first.flatMap { $0.map { ($0.threshold, $0.keys.count) } }

        var lines: [Line] = []
        for (index, output) in psbt.transaction.outputs.enumerated() {
            let meta = psbt.outputs[index]
            let claimsChange = !meta.derivations.isEmpty
            var proven = false
            if claimsChange {
                proven = try Self.provesChange(output: output, meta: meta, xpubs: xpubs, shape: walletShape)
                guard proven else {
                    throw KinkoError(.invalidInput, "output \(index) claims to be change but does not derive from the wallet's keys; do not sign", field: "psbt")
                }
            }
            lines.append(Line(index: index, destination: Self.destination(output.scriptPubKey, network: network), amount: output.value, isChange: proven))
        }
        outputs = lines
    }

    private static func provesChange(output: BitcoinTransaction.Output, meta: PSBT.Output, xpubs: [(origin: PSBT.KeyOrigin, key: ExtendedKey)],
                                     shape: (threshold: Int, count: Int)?) throws(KinkoError) -> Bool {
        guard case .p2wsh(let hash) = Script.kind(of: output.scriptPubKey), let script = meta.witnessScript, BitcoinHash.sha256(script) == hash,
            let (threshold, keys) = Script.multisig(script), let shape, threshold == shape.threshold, keys.count == shape.count
        else { return false }
        var used = Set<Int>()
        for key in keys {
            guard let origin = meta.derivations[key], origin.path.count >= 2 else { return false }
            let branch = origin.path[origin.path.count - 2], index = origin.path[origin.path.count - 1]
            guard branch == 1, index < ChildNumber.hardenedBit else { return false }
            let account = Array(origin.path.dropLast(2))
            guard let position = xpubs.firstIndex(where: { $0.origin.fingerprint == origin.fingerprint && $0.origin.path == account }), !used.contains(position) else {
                return false
            }
            guard try xpubs[position].key.child(ChildNumber(1)).child(ChildNumber(index)).publicKey == key else { return false }
            used.insert(position)
        }
        return true
    }

    /// Where a script pays: its address on `network`, or the script in hex.
    public static func destination(_ script: [UInt8], network: BitcoinNetwork) -> String {
        network.address(scriptPubKey: script) ?? "script " + Hex.encode(script)
    }

    /// The review as a signer reads it, one line per output, then the fee.
    public var text: String {
        var lines = ["Transaction \(txid)"]
        for line in outputs {
            lines.append("  output \(line.index): \(Self.bitcoin(line.amount)) BTC to \(line.destination)\(line.isChange ? "  [change, proven]" : "")")
        }
        lines.append("  fee: \(Self.bitcoin(fee)) BTC (\(fee) sat)")
        lines.append("  inputs signed with this key: \(inputsToSign.isEmpty ? "none" : inputsToSign.map(String.init).joined(separator: ", "))")
        return lines.joined(separator: "\n")
    }

    /// Satoshis as bitcoin with eight decimals.
    public static func bitcoin(_ satoshis: UInt64) -> String {
        let fraction = String(satoshis % 100_000_000)
        return "\(satoshis / 100_000_000).\(String(repeating: "0", count: 8 - fraction.count))\(fraction)"
    }
}

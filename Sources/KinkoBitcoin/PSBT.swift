import Foundation
public import KinkoCore

/// A Partially Signed Bitcoin Transaction (BIP 174, version 0): the unsigned transaction and,
/// per input and output, what signers need (the spent outputs, scripts, BIP 32 derivations)
/// and what they add (partial signatures). Read and written byte-exact: known fields in
/// Bitcoin Core's order, maps sorted by key, unknown fields kept.
public struct PSBT: Sendable, Hashable {
    /// A key's master fingerprint and derivation path.
    public struct KeyOrigin: Sendable, Hashable {
        public var fingerprint: [UInt8]
        public var path: [UInt32]
        public init(fingerprint: [UInt8], path: [UInt32]) {
            self.fingerprint = fingerprint
            self.path = path
        }
        public var pathDescription: String { (["m"] + path.map { ChildNumber(raw: $0).description }).joined(separator: "/") }

        fileprivate var encoded: [UInt8] {
            var writer = ByteWriter()
            writer.bytes = fingerprint
            for step in path { writer.uint32(step) }
            return writer.bytes
        }

        fileprivate init(decoding value: [UInt8], field: String) throws(KinkoError) {
            guard value.count >= 4, value.count % 4 == 0 else { throw KinkoError(.invalidInput, "a key origin of \(value.count) bytes", field: field) }
            var reader = ByteReader(value, field: field)
            fingerprint = try reader.read(4)
            var path: [UInt32] = []
            while !reader.isAtEnd { path.append(try reader.uint32()) }
            self.path = path
        }
    }

    public struct Input: Sendable, Hashable {
        public var nonWitnessUTXO: BitcoinTransaction?
        public var witnessUTXO: BitcoinTransaction.Output?
        /// Public key → DER signature with its sighash byte.
        public var partialSignatures: [[UInt8]: [UInt8]] = [:]
        public var sighashType: UInt32?
        public var redeemScript: [UInt8]?
        public var witnessScript: [UInt8]?
        public var derivations: [[UInt8]: KeyOrigin] = [:]
        public var finalScriptSig: [UInt8]?
        public var finalScriptWitness: [[UInt8]]?
        /// Fields Kinko does not interpret, by their whole key.
        public var unknown: [[UInt8]: [UInt8]] = [:]
        public init() {}

        public var isFinalized: Bool { finalScriptSig != nil || finalScriptWitness != nil }
    }

    public struct Output: Sendable, Hashable {
        public var redeemScript: [UInt8]?
        public var witnessScript: [UInt8]?
        public var derivations: [[UInt8]: KeyOrigin] = [:]
        public var unknown: [[UInt8]: [UInt8]] = [:]
        public init() {}
    }

    public var transaction: BitcoinTransaction
    /// Serialized extended public key (78 bytes) → its origin.
    public var globalXpubs: [[UInt8]: KeyOrigin] = [:]
    public var version: UInt32?
    public var globalUnknown: [[UInt8]: [UInt8]] = [:]
    public var inputs: [Input]
    public var outputs: [Output]

    static let magic: [UInt8] = [0x70, 0x73, 0x62, 0x74, 0xFF]
    /// Whether a file's bytes are a binary PSBT (they start with `psbt\xff`), not base64.
    public static func isBinary(_ bytes: [UInt8]) -> Bool { bytes.starts(with: magic) }
    /// The largest PSBT Kinko reads (Bitcoin Core's own limit for a PSBT file is 100 MB; a
    /// movement of 2,500 inputs with full previous transactions stays far below this).
    public static let bytesMax = 100_000_000

    /// A PSBT for `transaction` with empty maps (the Creator role); its inputs' scriptSigs
    /// and witnesses must be empty.
    public init(transaction: BitcoinTransaction) throws(KinkoError) {
        guard transaction.inputs.allSatisfy({ $0.scriptSig.isEmpty && $0.witness.isEmpty }) else {
            throw KinkoError(.invalidInput, "the unsigned transaction has a scriptSig or witness", field: "psbt")
        }
        self.transaction = transaction
        inputs = Array(repeating: Input(), count: transaction.inputs.count)
        outputs = Array(repeating: Output(), count: transaction.outputs.count)
    }

    // MARK: Reading

    /// Parses BIP 174's binary form, refusing every malformation its invalid vectors list.
    public init(parsing bytes: [UInt8]) throws(KinkoError) {
        let field = "psbt"
        guard bytes.count <= Self.bytesMax else { throw KinkoError(.limitExceeded, "a PSBT of \(bytes.count) bytes; at most \(Self.bytesMax)", field: field) }
        guard bytes.starts(with: Self.magic) else { throw KinkoError(.invalidInput, "not a PSBT (no psbt\\xff magic)", field: field) }
        var reader = ByteReader(bytes, field: field)
        reader.position = Self.magic.count

        var transaction: BitcoinTransaction?
        var seen: Set<[UInt8]> = []
        var xpubs: [[UInt8]: KeyOrigin] = [:], version: UInt32?, unknown: [[UInt8]: [UInt8]] = [:]
        while let (key, value) = try Self.pair(&reader, seen: &seen, map: "global") {
            switch key[0] {
            case 0x00:
                guard key.count == 1 else { throw Self.invalid("the unsigned transaction's key has extra bytes", "global") }
                var txReader = ByteReader(value, field: field)
                let parsed = try BitcoinTransaction(reading: &txReader)
                guard txReader.isAtEnd else { throw Self.invalid("bytes after the unsigned transaction", "global") }
                guard !parsed.hasWitness, !(value.count > 5 && value[4] == 0 && value[5] == 1 && !parsed.inputs.isEmpty) else {
                    throw Self.invalid("the unsigned transaction is serialized with witnesses", "global")
                }
                guard parsed.inputs.allSatisfy({ $0.scriptSig.isEmpty }) else { throw Self.invalid("an input of the unsigned transaction has a scriptSig", "global") }
                transaction = parsed
            case 0x01:
                guard key.count == 1 + ExtendedKey.serializedBytes else { throw Self.invalid("a global xpub key of \(key.count) bytes", "global") }
                xpubs[Array(key.dropFirst())] = try KeyOrigin(decoding: value, field: field)
            case 0xFB:
                guard key.count == 1, value.count == 4 else { throw Self.invalid("a malformed version field", "global") }
                var versionReader = ByteReader(value, field: field)
                let number = try versionReader.uint32()
                guard number == 0 else { throw KinkoError(.invalidInput, "PSBT version \(number); Kinko reads version 0", field: field) }
                version = number
            default:
                unknown[key] = value
            }
        }
        guard let transaction else { throw KinkoError(.invalidInput, "no unsigned transaction in the global map", field: field) }
        self.transaction = transaction
        globalXpubs = xpubs
        self.version = version
        globalUnknown = unknown

        var inputs: [Input] = []
        for index in transaction.inputs.indices {
            var input = Input()
            var seen: Set<[UInt8]> = []
            let map = "inputs[\(index)]"
            while let (key, value) = try Self.pair(&reader, seen: &seen, map: map) {
                let type = key[0]
                func bare() throws(KinkoError) { guard key.count == 1 else { throw Self.invalid("field \(type)'s key has extra bytes", map) } }
                switch type {
                case 0x00:
                    try bare()
                    let previous = try BitcoinTransaction(parsing: value, field: field)
                    guard BitcoinHash.hash256(previous.serialized(includingWitness: false)) == transaction.inputs[index].previousTxid else {
                        throw Self.invalid("the non-witness UTXO is not the transaction this input spends", map)
                    }
                    input.nonWitnessUTXO = previous
                case 0x01:
                    try bare()
                    var outputReader = ByteReader(value, field: field)
                    let amount = try outputReader.uint64()
                    let script = try outputReader.varBytes()
                    guard outputReader.isAtEnd, amount <= BitcoinTransaction.moneyMax else { throw Self.invalid("a malformed witness UTXO", map) }
                    input.witnessUTXO = BitcoinTransaction.Output(value: amount, scriptPubKey: script)
                case 0x02:
                    let pubkey = Array(key.dropFirst())
                    guard Secp256k1.isValidPublicKey(pubkey) else { throw Self.invalid("a partial signature for an invalid public key", map) }
                    input.partialSignatures[pubkey] = value
                case 0x03:
                    try bare()
                    guard value.count == 4 else { throw Self.invalid("a sighash type of \(value.count) bytes", map) }
                    var typeReader = ByteReader(value, field: field)
                    input.sighashType = try typeReader.uint32()
                case 0x04:
                    try bare()
                    input.redeemScript = value
                case 0x05:
                    try bare()
                    input.witnessScript = value
                case 0x06:
                    let pubkey = Array(key.dropFirst())
                    guard Secp256k1.isValidPublicKey(pubkey) else { throw Self.invalid("a BIP 32 derivation for an invalid public key", map) }
                    input.derivations[pubkey] = try KeyOrigin(decoding: value, field: field)
                case 0x07:
                    try bare()
                    input.finalScriptSig = value
                case 0x08:
                    try bare()
                    var witnessReader = ByteReader(value, field: field)
                    let count = try witnessReader.compactSize()
                    guard count <= UInt64(value.count) else { throw Self.invalid("a final witness of \(count) items", map) }
                    var items: [[UInt8]] = []
                    for _ in 0..<count { items.append(try witnessReader.varBytes()) }
                    guard witnessReader.isAtEnd else { throw Self.invalid("bytes after the final witness", map) }
                    input.finalScriptWitness = items
                default:
                    input.unknown[key] = value
                }
            }
            inputs.append(input)
        }
        var outputs: [Output] = []
        for index in transaction.outputs.indices {
            var output = Output()
            var seen: Set<[UInt8]> = []
            let map = "outputs[\(index)]"
            while let (key, value) = try Self.pair(&reader, seen: &seen, map: map) {
                switch key[0] {
                case 0x00:
                    guard key.count == 1 else { throw Self.invalid("the redeemScript's key has extra bytes", map) }
                    output.redeemScript = value
                case 0x01:
                    guard key.count == 1 else { throw Self.invalid("the witnessScript's key has extra bytes", map) }
                    output.witnessScript = value
                case 0x02:
                    let pubkey = Array(key.dropFirst())
                    guard Secp256k1.isValidPublicKey(pubkey) else { throw Self.invalid("a BIP 32 derivation for an invalid public key", map) }
                    output.derivations[pubkey] = try KeyOrigin(decoding: value, field: field)
                default:
                    output.unknown[key] = value
                }
            }
            outputs.append(output)
        }
        guard reader.isAtEnd else { throw KinkoError(.invalidInput, "\(reader.remaining) bytes after the last output map", field: field) }
        self.inputs = inputs
        self.outputs = outputs
    }

    /// Base64 (how PSBTs travel as text) or binary.
    public init(parsingFile data: [UInt8]) throws(KinkoError) {
        if Self.isBinary(data) {
            try self.init(parsing: data)
        } else {
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let decoded = Base64.decode(text) else { throw KinkoError(.invalidInput, "neither a binary PSBT nor base64", field: "psbt") }
            try self.init(parsing: decoded)
        }
    }

    private static func invalid(_ reason: String, _ map: String) -> KinkoError { KinkoError(.invalidInput, "\(map): \(reason)", field: "psbt") }

    /// The next key-value pair of a map, or nil at its separator; a repeated key is refused.
    private static func pair(_ reader: inout ByteReader, seen: inout Set<[UInt8]>, map: String) throws(KinkoError) -> ([UInt8], [UInt8])? {
        guard !reader.isAtEnd else { throw invalid("ends before the map's separator", map) }
        let key = try reader.varBytes()
        if key.isEmpty { return nil }
        let value = try reader.varBytes()
        guard seen.insert(key).inserted else { throw invalid("a repeated key (type \(key[0]))", map) }
        return (key, value)
    }

    // MARK: Writing

    public var serialized: [UInt8] {
        var writer = ByteWriter()
        writer.bytes = Self.magic
        func put(_ key: [UInt8], _ value: [UInt8]) {
            writer.varBytes(key)
            writer.varBytes(value)
        }
        /// A map's pairs in key order (or in the order of `rank(key)`), each key after `prefix`.
        func putMap<Value>(_ prefix: [UInt8], _ map: [[UInt8]: Value], rank: ([UInt8]) -> [UInt8] = { $0 }, _ encode: (Value) -> [UInt8]) {
            let ordered = map.map { (rank: rank($0.key), key: $0.key, value: $0.value) }.sorted { $0.rank.lexicographicallyPrecedes($1.rank) }
            for pair in ordered { put(prefix + pair.key, encode(pair.value)) }
        }
        func putUnknown(_ unknown: [[UInt8]: [UInt8]]) { putMap([], unknown) { $0 } }
        put([0x00], transaction.serialized(includingWitness: false))
        putMap([0x01], globalXpubs) { $0.encoded }
        if let version {
            var number = ByteWriter()
            number.uint32(version)
            put([0xFB], number.bytes)
        }
        putUnknown(globalUnknown)
        writer.bytes.append(0)
        for input in inputs {
            if let utxo = input.nonWitnessUTXO { put([0x00], utxo.serialized()) }
            if let utxo = input.witnessUTXO {
                var output = ByteWriter()
                output.uint64(utxo.value)
                output.varBytes(utxo.scriptPubKey)
                put([0x01], output.bytes)
            }
            // Bitcoin Core keys partial signatures by the key's HASH160 (CKeyID), and writes them in that order.
            putMap([0x02], input.partialSignatures, rank: BitcoinHash.hash160) { $0 }
            if let type = input.sighashType {
                var number = ByteWriter()
                number.uint32(type)
                put([0x03], number.bytes)
            }
            if let script = input.redeemScript { put([0x04], script) }
            if let script = input.witnessScript { put([0x05], script) }
            putMap([0x06], input.derivations) { $0.encoded }
            if let script = input.finalScriptSig { put([0x07], script) }
            if let witness = input.finalScriptWitness {
                var items = ByteWriter()
                items.compactSize(witness.count)
                for item in witness { items.varBytes(item) }
                put([0x08], items.bytes)
            }
            putUnknown(input.unknown)
            writer.bytes.append(0)
        }
        for output in outputs {
            if let script = output.redeemScript { put([0x00], script) }
            if let script = output.witnessScript { put([0x01], script) }
            putMap([0x02], output.derivations) { $0.encoded }
            putUnknown(output.unknown)
            writer.bytes.append(0)
        }
        return writer.bytes
    }

    public var base64: String { Base64.encode(serialized) }
}

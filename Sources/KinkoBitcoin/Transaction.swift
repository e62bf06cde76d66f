public import KinkoCore

/// Reads Bitcoin's serializations: little-endian integers, CompactSize lengths, byte strings.
/// Every read past the end is an error naming `field`, never a trap.
struct ByteReader {
    let bytes: [UInt8]
    var position = 0
    let field: String

    init(_ bytes: [UInt8], field: String) {
        self.bytes = bytes
        self.field = field
    }

    var isAtEnd: Bool { position == bytes.count }
    var remaining: Int { bytes.count - position }

    mutating func read(_ count: Int) throws(KinkoError) -> [UInt8] {
        guard count >= 0, count <= remaining else { throw KinkoError(.invalidInput, "ends early (wanted \(count) more bytes at \(position))", field: field) }
        defer { position += count }
        return Array(bytes[position..<position + count])
    }

    mutating func byte() throws(KinkoError) -> UInt8 { try read(1)[0] }

    mutating func uint32() throws(KinkoError) -> UInt32 {
        let b = try read(4)
        return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
    }

    mutating func uint64() throws(KinkoError) -> UInt64 {
        let b = try read(8)
        return (0..<8).reduce(UInt64(0)) { $0 | UInt64(b[$1]) << UInt64(8 * $1) }
    }

    /// A CompactSize, refusing non-canonical encodings (a value that fits a shorter form).
    mutating func compactSize() throws(KinkoError) -> UInt64 {
        let first = try byte()
        switch first {
        case 0xFD:
            let b = try read(2)
            let value = UInt64(b[0]) | UInt64(b[1]) << 8
            guard value >= 0xFD else { throw KinkoError(.invalidInput, "a length written longer than needed", field: field) }
            return value
        case 0xFE:
            let value = UInt64(try uint32())
            guard value > 0xFFFF else { throw KinkoError(.invalidInput, "a length written longer than needed", field: field) }
            return value
        case 0xFF:
            let value = try uint64()
            guard value > 0xFFFF_FFFF else { throw KinkoError(.invalidInput, "a length written longer than needed", field: field) }
            return value
        default: return UInt64(first)
        }
    }

    /// A CompactSize-prefixed byte string.
    mutating func varBytes() throws(KinkoError) -> [UInt8] {
        let count = try compactSize()
        guard count <= UInt64(remaining) else { throw KinkoError(.invalidInput, "a length of \(count) past the end", field: field) }
        return try read(Int(count))
    }
}

/// Writes Bitcoin's serializations.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func uint32(_ value: UInt32) { for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) } }
    mutating func uint64(_ value: UInt64) { for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) } }

    mutating func compactSize(_ value: Int) {
        switch value {
        case ..<0xFD: bytes.append(UInt8(value))
        case ...0xFFFF: bytes += [0xFD, UInt8(value & 0xFF), UInt8(value >> 8)]
        case ...0xFFFF_FFFF:
            bytes.append(0xFE)
            uint32(UInt32(value))
        default:
            bytes.append(0xFF)
            uint64(UInt64(value))
        }
    }

    mutating func varBytes(_ data: [UInt8]) {
        compactSize(data.count)
        bytes += data
    }
}

/// A Bitcoin transaction: what a PSBT carries unsigned and what a finalized PSBT extracts.
public struct BitcoinTransaction: Sendable, Hashable {
    public struct Input: Sendable, Hashable {
        /// The previous transaction's id in internal byte order (the reverse of how it is shown).
        public var previousTxid: [UInt8]
        public var previousIndex: UInt32
        public var scriptSig: [UInt8]
        public var sequence: UInt32
        public var witness: [[UInt8]]

        public init(previousTxid: [UInt8], previousIndex: UInt32, scriptSig: [UInt8] = [], sequence: UInt32 = 0xFFFF_FFFD, witness: [[UInt8]] = []) {
            self.previousTxid = previousTxid
            self.previousIndex = previousIndex
            self.scriptSig = scriptSig
            self.sequence = sequence
            self.witness = witness
        }

        /// The previous output as `txid:vout`, txid as shown.
        public var outpoint: String { "\(Hex.encode(previousTxid.reversed())):\(previousIndex)" }
    }

    public struct Output: Sendable, Hashable {
        public var value: UInt64
        public var scriptPubKey: [UInt8]
        public init(value: UInt64, scriptPubKey: [UInt8]) {
            self.value = value
            self.scriptPubKey = scriptPubKey
        }
    }

    public var version: Int32
    public var inputs: [Input]
    public var outputs: [Output]
    public var lockTime: UInt32

    /// The most satoshis there will ever be: 21 million bitcoin. A value above is refused.
    public static let moneyMax: UInt64 = 2_100_000_000_000_000
    /// Inputs or outputs one transaction Kinko reads may have at most (a standard transaction
    /// of 400,000 weight units holds fewer than 2,500 inputs).
    public static let inOutMax = 10_000

    public init(version: Int32 = 2, inputs: [Input], outputs: [Output], lockTime: UInt32 = 0) {
        self.version = version
        self.inputs = inputs
        self.outputs = outputs
        self.lockTime = lockTime
    }

    public var hasWitness: Bool { inputs.contains { !$0.witness.isEmpty } }

    /// The sum of satoshi amounts; nil past 21 million bitcoin (no real set of coins holds more).
    public static func total(_ values: some Sequence<UInt64>) -> UInt64? {
        var sum: UInt64 = 0
        for value in values {
            let (next, overflow) = sum.addingReportingOverflow(value)
            guard !overflow, next <= moneyMax else { return nil }
            sum = next
        }
        return sum
    }

    /// The network serialization: with witnesses (BIP 144) when any input has one and
    /// `includingWitness`.
    public func serialized(includingWitness: Bool = true) -> [UInt8] {
        var writer = ByteWriter()
        writer.uint32(UInt32(bitPattern: version))
        let witness = includingWitness && hasWitness
        if witness { writer.bytes += [0x00, 0x01] }
        writer.compactSize(inputs.count)
        for input in inputs {
            writer.bytes += input.previousTxid
            writer.uint32(input.previousIndex)
            writer.varBytes(input.scriptSig)
            writer.uint32(input.sequence)
        }
        writer.compactSize(outputs.count)
        for output in outputs {
            writer.uint64(output.value)
            writer.varBytes(output.scriptPubKey)
        }
        if witness {
            for input in inputs {
                writer.compactSize(input.witness.count)
                for item in input.witness { writer.varBytes(item) }
            }
        }
        writer.uint32(lockTime)
        return writer.bytes
    }

    /// The transaction id as shown (hex, byte-reversed HASH256 of the serialization without
    /// witnesses).
    public var txid: String { Hex.encode(BitcoinHash.hash256(serialized(includingWitness: false)).reversed()) }

    /// Parses a network serialization (with or without witnesses); trailing bytes are refused.
    public init(parsing bytes: [UInt8], field: String = "transaction") throws(KinkoError) {
        var reader = ByteReader(bytes, field: field)
        try self.init(reading: &reader)
        guard reader.isAtEnd else { throw KinkoError(.invalidInput, "\(reader.remaining) bytes after the transaction", field: field) }
    }

    init(reading reader: inout ByteReader) throws(KinkoError) {
        let field = reader.field
        version = Int32(bitPattern: try reader.uint32())
        var inputCount = try reader.compactSize()
        var witness = false
        if inputCount == 0, reader.remaining > 0, reader.bytes[reader.position] == 0x01 {
            _ = try reader.byte()
            witness = true
            inputCount = try reader.compactSize()
        }
        guard inputCount <= UInt64(Self.inOutMax) else { throw KinkoError(.limitExceeded, "\(inputCount) inputs; at most \(Self.inOutMax)", field: field) }
        var inputs: [Input] = []
        for _ in 0..<inputCount {
            let txid = try reader.read(32)
            let index = try reader.uint32()
            let script = try reader.varBytes()
            inputs.append(Input(previousTxid: txid, previousIndex: index, scriptSig: script, sequence: try reader.uint32()))
        }
        let outputCount = try reader.compactSize()
        guard outputCount <= UInt64(Self.inOutMax) else { throw KinkoError(.limitExceeded, "\(outputCount) outputs; at most \(Self.inOutMax)", field: field) }
        var outputs: [Output] = []
        for _ in 0..<outputCount {
            let value = try reader.uint64()
            guard value <= Self.moneyMax else { throw KinkoError(.invalidInput, "an output of \(value) satoshis, more than 21 million bitcoin", field: field) }
            outputs.append(Output(value: value, scriptPubKey: try reader.varBytes()))
        }
        if witness {
            for index in inputs.indices {
                let items = try reader.compactSize()
                guard items <= UInt64(reader.remaining) else { throw KinkoError(.invalidInput, "a witness of \(items) items past the end", field: field) }
                for _ in 0..<items { inputs[index].witness.append(try reader.varBytes()) }
            }
            guard inputs.contains(where: { !$0.witness.isEmpty }) else { throw KinkoError(.invalidInput, "a witness flag with no witness", field: field) }
        }
        self.inputs = inputs
        self.outputs = outputs
        lockTime = try reader.uint32()
    }

    // MARK: Signature hashes (BIP 143)

    public struct SighashType: Sendable, Hashable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let all = SighashType(rawValue: 1)
        public static let none = SighashType(rawValue: 2)
        public static let single = SighashType(rawValue: 3)
        public static let anyoneCanPay: UInt32 = 0x80
        var base: UInt32 { rawValue & 0x1F }
        var isAnyoneCanPay: Bool { rawValue & Self.anyoneCanPay != 0 }
    }

    /// The BIP 143 hash a segwit v0 input's signature commits to: `scriptCode` (the witness
    /// script for P2WSH), the spent output's `amount` and the sighash type.
    public func segwitSignatureHash(input index: Int, scriptCode: [UInt8], amount: UInt64, type: SighashType = .all) throws(KinkoError) -> [UInt8] {
        guard inputs.indices.contains(index) else { throw KinkoError(.invalidInput, "no input \(index)", field: "input") }
        let zero = [UInt8](repeating: 0, count: 32)
        var prevouts = ByteWriter(), sequences = ByteWriter(), outputsWriter = ByteWriter()
        for input in inputs {
            prevouts.bytes += input.previousTxid
            prevouts.uint32(input.previousIndex)
            sequences.uint32(input.sequence)
        }
        let hashPrevouts = type.isAnyoneCanPay ? zero : BitcoinHash.hash256(prevouts.bytes)
        let hashSequence = type.isAnyoneCanPay || type.base == SighashType.single.rawValue || type.base == SighashType.none.rawValue
            ? zero : BitcoinHash.hash256(sequences.bytes)
        let hashOutputs: [UInt8]
        if type.base != SighashType.single.rawValue && type.base != SighashType.none.rawValue {
            for output in outputs {
                outputsWriter.uint64(output.value)
                outputsWriter.varBytes(output.scriptPubKey)
            }
            hashOutputs = BitcoinHash.hash256(outputsWriter.bytes)
        } else if type.base == SighashType.single.rawValue && index < outputs.count {
            outputsWriter.uint64(outputs[index].value)
            outputsWriter.varBytes(outputs[index].scriptPubKey)
            hashOutputs = BitcoinHash.hash256(outputsWriter.bytes)
        } else {
            hashOutputs = zero
        }
        var preimage = ByteWriter()
        preimage.uint32(UInt32(bitPattern: version))
        preimage.bytes += hashPrevouts + hashSequence + inputs[index].previousTxid
        preimage.uint32(inputs[index].previousIndex)
        preimage.varBytes(scriptCode)
        preimage.uint64(amount)
        preimage.uint32(inputs[index].sequence)
        preimage.bytes += hashOutputs
        preimage.uint32(lockTime)
        preimage.uint32(type.rawValue)
        return BitcoinHash.hash256(preimage.bytes)
    }
}

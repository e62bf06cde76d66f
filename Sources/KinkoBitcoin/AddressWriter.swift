import Crypto

/// P2WSH multisig addresses from public keys, written without the allocations of the general
/// path (`Descriptor.address`): the keys sorted in place, the witness script in one reused
/// buffer, SHA-256 over it, and Bech32 with the human-readable part's share of the checksum
/// computed once. For deposit addresses by the million; the tests hold it equal to the general
/// path and to BIP 173's encoder.
struct P2WSHAddressWriter {
    let hrp: [UInt8]
    let threshold: Int
    let sorted: Bool
    /// The checksum state after the expanded human-readable part.
    private let prefixState: UInt32
    private var script: [UInt8]
    /// OP_m, and OP_n OP_CHECKMULTISIG, as pushed once for every address.
    private let opening: [UInt8], closing: [UInt8]

    /// BIP 173's generator, indexed by the five bits shifted out.
    private static let generatorTable: [UInt32] = (0..<32).map { top in
        let generator: [UInt32] = [0x3B6A_57B2, 0x2650_8E6D, 0x1EA1_19FA, 0x3D42_33DD, 0x2A14_62B3]
        return (0..<5).reduce(UInt32(0)) { (top >> $1) & 1 == 1 ? $0 ^ generator[$1] : $0 }
    }

    @inline(__always) private static func step(_ state: UInt32, _ value: UInt8) -> UInt32 {
        generatorTable[Int(state >> 25)] ^ ((state & 0x1FF_FFFF) << 5 ^ UInt32(value))
    }

    init(hrp: String, threshold: Int, keys: Int, sorted: Bool) {
        self.hrp = Array(hrp.lowercased().utf8)
        self.threshold = threshold
        self.sorted = sorted
        var state: UInt32 = 1
        for value in self.hrp.map({ $0 >> 5 }) + [0] + self.hrp.map({ $0 & 31 }) { state = Self.step(state, value) }
        prefixState = state
        opening = Descriptor.pushNumber(threshold)
        closing = Descriptor.pushNumber(keys) + [0xAE]
        script = [UInt8](repeating: 0, count: opening.count + 34 * keys + closing.count)
    }

    /// The address of the multisig over `keys` (33-byte compressed keys, one per slice).
    mutating func address(_ keys: [ArraySlice<UInt8>]) -> String {
        var order = Array(keys.indices)
        if sorted { order.sort { keys[$0].lexicographicallyPrecedes(keys[$1]) } }
        // OP_m, the keys, OP_n, OP_CHECKMULTISIG; m and n pushed as the general path pushes them
        // (a number above 16 takes two bytes).
        var at = 0
        for byte in opening {
            script[at] = byte
            at += 1
        }
        for index in order {
            script[at] = 33
            for (offset, byte) in keys[index].enumerated() { script[at + 1 + offset] = byte }
            at += 34
        }
        for byte in closing {
            script[at] = byte
            at += 1
        }
        var hasher = SHA256()
        script.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[..<at])) }
        let digest = hasher.finalize()
        // Version 0, then the 32-byte program in 5-bit groups (52 of them).
        var data = [UInt8](repeating: 0, count: 1 + 52 + 6)
        digest.withUnsafeBytes { program in
            var accumulator: UInt32 = 0, bits = 0, position = 1
            for byte in program {
                accumulator = (accumulator << 8 | UInt32(byte)) & 0xFFFF
                bits += 8
                while bits >= 5 {
                    bits -= 5
                    data[position] = UInt8((accumulator >> UInt32(bits)) & 31)
                    position += 1
                }
            }
            if bits > 0 { data[position] = UInt8((accumulator << UInt32(5 - bits)) & 31) }
        }
        var state = prefixState
        for value in data { state = Self.step(state, value) }  // the data, then six zeros
        state ^= 1  // Bech32's constant (version 0)
        for index in 0..<6 { data[53 + index] = UInt8((state >> UInt32(5 * (5 - index))) & 31) }
        var text = hrp
        text.append(UInt8(ascii: "1"))
        for value in data { text.append(Bech32.alphabet[Int(value)]) }
        return String(decoding: text, as: UTF8.self)
    }
}

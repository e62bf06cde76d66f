public import KinkoCore

/// Bech32 (BIP 173) and Bech32m (BIP 350) strings and segregated-witness addresses.
/// Hand-written: no package in the mirror offers it; tested against both BIPs' vectors.
public enum Bech32 {
    public enum Variant: Sendable, Equatable {
        /// BIP 173: witness version 0.
        case bech32
        /// BIP 350: witness versions 1–16.
        case bech32m

        var constant: UInt32 { self == .bech32 ? 1 : 0x2BC8_30A3 }
    }

    /// The longest string BIP 173 allows.
    public static let lengthMax = 90
    static let alphabet = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)
    private static let reverse: [Int8] = {
        var table = [Int8](repeating: -1, count: 128)
        for (index, character) in alphabet.enumerated() { table[Int(character)] = Int8(index) }
        return table
    }()

    private static func polymod(_ values: some Sequence<UInt8>) -> UInt32 {
        let generator: [UInt32] = [0x3B6A_57B2, 0x2650_8E6D, 0x1EA1_19FA, 0x3D42_33DD, 0x2A14_62B3]
        var checksum: UInt32 = 1
        for value in values {
            let top = checksum >> 25
            checksum = (checksum & 0x1FF_FFFF) << 5 ^ UInt32(value)
            for i in 0..<5 where (top >> UInt32(i)) & 1 == 1 { checksum ^= generator[i] }
        }
        return checksum
    }

    private static func expand(_ hrp: [UInt8]) -> [UInt8] { hrp.map { $0 >> 5 } + [0] + hrp.map { $0 & 31 } }

    /// `hrp` and 5-bit `data` as a string with its checksum (lower case).
    public static func encode(hrp: String, data: [UInt8], variant: Variant) -> String {
        let hrpBytes = Array(hrp.lowercased().utf8)
        let mod = polymod(expand(hrpBytes) + data + [0, 0, 0, 0, 0, 0]) ^ variant.constant
        let checksum = (0..<6).map { UInt8((mod >> UInt32(5 * (5 - $0))) & 31) }
        return String(decoding: hrpBytes + [UInt8(ascii: "1")] + (data + checksum).map { alphabet[Int($0)] }, as: UTF8.self)
    }

    /// The human-readable part, the 5-bit data (without checksum) and the variant whose
    /// checksum matched; errors name what is wrong.
    public static func decode(_ string: String) throws(KinkoError) -> (hrp: String, data: [UInt8], variant: Variant) {
        let bytes = Array(string.utf8)
        guard bytes.count <= lengthMax else { throw invalid("longer than \(lengthMax) characters") }
        guard bytes.allSatisfy({ (33...126).contains($0) }) else { throw invalid("a character outside US-ASCII 33–126") }
        let hasLower = bytes.contains { (97...122).contains($0) }, hasUpper = bytes.contains { (65...90).contains($0) }
        guard !(hasLower && hasUpper) else { throw invalid("mixes upper and lower case") }
        let lower = bytes.map { (65...90).contains($0) ? $0 + 32 : $0 }
        guard let separator = lower.lastIndex(of: UInt8(ascii: "1")) else { throw invalid("no separator '1'") }
        guard separator >= 1 else { throw invalid("empty human-readable part") }
        guard lower.count - separator - 1 >= 6 else { throw invalid("shorter than its 6-character checksum") }
        let hrp = Array(lower[..<separator])
        var data: [UInt8] = []
        for character in lower[(separator + 1)...] {
            guard character < 128, reverse[Int(character)] >= 0 else {
                throw invalid("'\(String(decoding: [character], as: UTF8.self))' is not a bech32 character")
            }
            data.append(UInt8(reverse[Int(character)]))
        }
        let check = polymod(expand(hrp) + data)
        let variant: Variant
        switch check {
        case Variant.bech32.constant: variant = .bech32
        case Variant.bech32m.constant: variant = .bech32m
        default: throw invalid("checksum does not match")
        }
        return (String(decoding: hrp, as: UTF8.self), Array(data.dropLast(6)), variant)
    }

    /// Regroups `data` (values of `from` bits) into values of `to` bits, most significant
    /// first; also what is left over: its bit count and value.
    private static func regroup(_ data: [UInt8], from: Int, to: Int) -> (groups: [UInt8], bits: Int, rest: Int) {
        var accumulator = 0, bits = 0
        var groups: [UInt8] = []
        let mask = (1 << to) - 1
        for value in data {
            accumulator = ((accumulator << from) | Int(value)) & 0xFFFF
            bits += from
            while bits >= to {
                bits -= to
                groups.append(UInt8((accumulator >> bits) & mask))
            }
        }
        return (groups, bits, accumulator & ((1 << bits) - 1))
    }

    /// Bytes as 5-bit values, the last padded with zero bits.
    public static func fiveBitGroups(_ bytes: [UInt8]) -> [UInt8] {
        let (groups, bits, rest) = regroup(bytes, from: 8, to: 5)
        return bits > 0 ? groups + [UInt8((rest << (5 - bits)) & 31)] : groups
    }

    /// 5-bit values (as `decode` gives them) as bytes; nil where BIP 173 forbids the padding
    /// (five bits or more, or a bit that is not zero).
    public static func bytes(fromFiveBitGroups data: [UInt8]) -> [UInt8]? {
        let (groups, bits, rest) = regroup(data, from: 5, to: 8)
        return bits < 5 && rest == 0 ? groups : nil
    }

    /// A segregated-witness address: version 0 with Bech32, 1–16 with Bech32m.
    public static func segwitAddress(hrp: String, version: UInt8, program: [UInt8]) -> String {
        encode(hrp: hrp, data: [version] + fiveBitGroups(program), variant: version == 0 ? .bech32 : .bech32m)
    }

    /// The witness version and program of a segregated-witness address with human-readable
    /// part `hrp`.
    public static func decodeSegwitAddress(_ address: String, hrp expected: String) throws(KinkoError) -> (version: UInt8, program: [UInt8]) {
        let (hrp, data, variant) = try decode(address)
        guard hrp == expected else { throw invalid("human-readable part \(hrp), expected \(expected)") }
        guard let version = data.first, version <= 16 else { throw invalid("no witness version, or one above 16") }
        guard let program = bytes(fromFiveBitGroups: Array(data.dropFirst())) else { throw invalid("the program's padding is not zero") }
        guard (2...40).contains(program.count) else { throw invalid("a witness program of \(program.count) bytes (2–40)") }
        guard version != 0 || program.count == 20 || program.count == 32 else { throw invalid("a version 0 program of \(program.count) bytes (20 or 32)") }
        guard variant == (version == 0 ? .bech32 : .bech32m) else {
            throw invalid(version == 0 ? "version 0 with a Bech32m checksum" : "version \(version) with a Bech32 checksum")
        }
        return (version, program)
    }

    /// The scriptPubKey paying a witness program: OP_n and the pushed program.
    public static func scriptPubKey(version: UInt8, program: [UInt8]) -> [UInt8] {
        [version == 0 ? 0 : 0x50 + version, UInt8(program.count)] + program
    }

    private static func invalid(_ reason: String) -> KinkoError { KinkoError(.invalidInput, reason, field: "address") }
}

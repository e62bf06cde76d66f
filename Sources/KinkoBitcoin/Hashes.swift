import Crypto

/// Bitcoin's hash compositions over swift-crypto's SHA-256 and the hand-written RIPEMD-160.
public enum BitcoinHash {
    public static func sha256(_ data: some Collection<UInt8>) -> [UInt8] { Array(SHA256.hash(data: Array(data))) }
    /// SHA-256 twice: checksums and transaction ids.
    public static func hash256(_ data: some Collection<UInt8>) -> [UInt8] { sha256(sha256(data)) }
    /// RIPEMD-160 of SHA-256: key fingerprints and P2PKH/P2WPKH programs.
    public static func hash160(_ data: some Collection<UInt8>) -> [UInt8] { RIPEMD160.hash(sha256(data)) }
    public static func hmacSHA512(key: [UInt8], data: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA512>.authenticationCode(for: data, using: SymmetricKey(data: key)))
    }
}

/// Base58Check (extended keys): the bytes and the first four bytes of their HASH256.
public enum Base58 {
    static let alphabet = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        let zeros = bytes.prefix { $0 == 0 }.count
        var digits: [UInt8] = []  // base 58, little endian
        for byte in bytes {
            var carry = Int(byte)
            for i in digits.indices {
                carry += Int(digits[i]) << 8
                digits[i] = UInt8(carry % 58)
                carry /= 58
            }
            while carry > 0 {
                digits.append(UInt8(carry % 58))
                carry /= 58
            }
        }
        return String(decoding: [UInt8](repeating: alphabet[0], count: zeros) + digits.reversed().map { alphabet[Int($0)] }, as: UTF8.self)
    }

    /// nil when a character is not in the alphabet.
    public static func decode(_ string: String) -> [UInt8]? {
        let characters = Array(string.utf8)
        let zeros = characters.prefix { $0 == alphabet[0] }.count
        var bytes: [UInt8] = []  // base 256, little endian
        for character in characters {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            var carry = value
            for i in bytes.indices {
                carry += Int(bytes[i]) * 58
                bytes[i] = UInt8(carry & 0xFF)
                carry >>= 8
            }
            while carry > 0 {
                bytes.append(UInt8(carry & 0xFF))
                carry >>= 8
            }
        }
        return [UInt8](repeating: 0, count: zeros) + bytes.reversed()
    }

    public static func encodeCheck(_ payload: [UInt8]) -> String { encode(payload + BitcoinHash.hash256(payload).prefix(4)) }

    /// The payload, or nil when the string is not Base58 or its checksum does not match.
    public static func decodeCheck(_ string: String) -> [UInt8]? {
        guard let bytes = decode(string), bytes.count >= 4 else { return nil }
        let payload = Array(bytes.dropLast(4))
        return BitcoinHash.hash256(payload).prefix(4).elementsEqual(bytes.suffix(4)) ? payload : nil
    }
}

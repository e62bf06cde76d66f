/// Lower-case hexadecimal, the text form of digests, keys, signatures, scripts and transactions.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var characters: [UInt8] = []
        for byte in bytes {
            characters.append(digits[Int(byte >> 4)])
            characters.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: characters, as: UTF8.self)
    }

    /// The bytes of an even number of hex digits (either case); the error names `field`.
    public static func decode(_ text: String, field: String) throws(KinkoError) -> [UInt8] {
        guard text.utf8.count % 2 == 0 else {
            throw KinkoError(.invalidInput, "hexadecimal text must have an even number of digits", field: field)
        }
        guard let bytes = decode(text) else { throw KinkoError(.invalidInput, "\"\(text.prefix(16))…\" is not hexadecimal", field: field) }
        return bytes
    }

    /// nil unless the text is an even number of hex digits (either case).
    public static func decode(_ text: String) -> [UInt8]? {
        let characters = Array(text.utf8)
        guard characters.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(characters.count / 2)
        var index = 0
        while index < characters.count {
            guard let high = nibble(characters[index]), let low = nibble(characters[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case 48...57: character - 48
        case 97...102: character - 87
        case 65...70: character - 55
        default: nil
        }
    }
}

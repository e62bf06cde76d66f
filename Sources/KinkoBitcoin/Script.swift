import KinkoCore

/// The few script forms Kinko builds, signs and finalizes: multisig, P2WSH, P2SH, P2WPKH, P2PKH.
public enum Script {
    /// A data push, minimally encoded.
    public static func push(_ data: [UInt8]) -> [UInt8] {
        switch data.count {
        case ..<0x4C: [UInt8(data.count)] + data
        case ...0xFF: [0x4C, UInt8(data.count)] + data
        default: [0x4D, UInt8(data.count & 0xFF), UInt8(data.count >> 8)] + data
        }
    }

    public enum Kind: Sendable, Equatable {
        case p2wsh(scriptHash: [UInt8])
        case p2sh(scriptHash: [UInt8])
        case p2wpkh(keyHash: [UInt8])
        case p2pkh(keyHash: [UInt8])
        case other
    }

    public static func kind(of script: [UInt8]) -> Kind {
        if script.count == 34, script[0] == 0x00, script[1] == 0x20 { return .p2wsh(scriptHash: Array(script[2...])) }
        if script.count == 23, script[0] == 0xA9, script[1] == 0x14, script[22] == 0x87 { return .p2sh(scriptHash: Array(script[2..<22])) }
        if script.count == 22, script[0] == 0x00, script[1] == 0x14 { return .p2wpkh(keyHash: Array(script[2...])) }
        if script.count == 25, script[0] == 0x76, script[1] == 0xA9, script[2] == 0x14, script[23] == 0x88, script[24] == 0xAC {
            return .p2pkh(keyHash: Array(script[3..<23]))
        }
        return .other
    }

    public static func p2pkh(keyHash: [UInt8]) -> [UInt8] { [0x76, 0xA9, 0x14] + keyHash + [0x88, 0xAC] }

    /// `OP_m <key>… OP_n OP_CHECKMULTISIG`: the threshold and the keys in script order; nil for
    /// any other script.
    public static func multisig(_ script: [UInt8]) -> (threshold: Int, keys: [[UInt8]])? {
        var reader = ByteReader(script, field: "script")
        func number() -> Int? {
            guard let opcode = try? reader.byte() else { return nil }
            if (0x51...0x60).contains(opcode) { return Int(opcode) - 0x50 }
            if opcode == 0x01, let value = try? reader.byte(), value > 16 { return Int(value) }
            return nil
        }
        guard let threshold = number() else { return nil }
        var keys: [[UInt8]] = []
        while reader.remaining > 2, let length = reader.bytes.dropFirst(reader.position).first, length == 33 || length == 65 {
            _ = try? reader.byte()
            guard let key = try? reader.read(Int(length)) else { return nil }
            keys.append(key)
        }
        guard let count = number(), count == keys.count, (1...count).contains(threshold), (try? reader.byte()) == 0xAE, reader.isAtEnd else { return nil }
        return (threshold, keys)
    }
}

import Foundation
public import KinkoCore

/// Kinko canonical JSON, version 1: the byte form that request digests and audit entries are
/// computed over, so an outside tool can reproduce them (`docs/GOVERNANCE.md`).
///
/// - values are strings, objects and arrays only (numbers are written as decimal strings);
/// - object keys are sorted by their UTF-16 code units (as Python's `sort_keys=True` does);
/// - no whitespace; `"` and `\` are escaped with a backslash, `\b \f \n \r \t` as such, other
///   characters below U+0020 and everything above U+007E as `\uXXXX` (lower-case hex, UTF-16
///   surrogate pairs above U+FFFF).
///
/// Python reproduces it with `json.dumps(value, sort_keys=True, separators=(",", ":"),
/// ensure_ascii=True)`.
public indirect enum CanonicalJSON: Hashable, Sendable {
    case string(String)
    case object([String: CanonicalJSON])
    case array([CanonicalJSON])

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        write(to: &out)
        return out
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    private func write(to out: inout [UInt8]) {
        switch self {
        case .string(let value):
            Self.writeString(value, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            let keys = members.keys.sorted { Array($0.utf16).lexicographicallyPrecedes(Array($1.utf16)) }
            for (index, key) in keys.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                members[key]?.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func writeString(_ value: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for unit in value.utf16 {
            switch unit {
            case 0x22: out.append(contentsOf: Array("\\\"".utf8))
            case 0x5C: out.append(contentsOf: Array("\\\\".utf8))
            case 0x08: out.append(contentsOf: Array("\\b".utf8))
            case 0x0C: out.append(contentsOf: Array("\\f".utf8))
            case 0x0A: out.append(contentsOf: Array("\\n".utf8))
            case 0x0D: out.append(contentsOf: Array("\\r".utf8))
            case 0x09: out.append(contentsOf: Array("\\t".utf8))
            case 0x20...0x7E: out.append(UInt8(unit))
            default:
                let hex = String(unit, radix: 16)
                out.append(contentsOf: Array(("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).utf8))
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension CanonicalJSON {
    /// Reads JSON made only of strings, objects and arrays (what `bytes` writes).
    public init(parsing bytes: [UInt8]) throws(KinkoError) {
        guard let value = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]),
            let parsed = Self.convert(value)
        else {
            throw KinkoError(.invalidInput, "not JSON of strings, objects and arrays", field: "payload")
        }
        self = parsed
    }

    private static func convert(_ value: Any) -> CanonicalJSON? {
        if let text = value as? String { return .string(text) }
        if let array = value as? [Any] {
            var items: [CanonicalJSON] = []
            for item in array {
                guard let converted = convert(item) else { return nil }
                items.append(converted)
            }
            return .array(items)
        }
        if let object = value as? [String: Any] {
            var members: [String: CanonicalJSON] = [:]
            for (key, item) in object {
                guard let converted = convert(item) else { return nil }
                members[key] = converted
            }
            return .object(members)
        }
        return nil
    }
}

extension CanonicalJSON: ExpressibleByStringLiteral, ExpressibleByDictionaryLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(dictionaryLiteral elements: (String, CanonicalJSON)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}


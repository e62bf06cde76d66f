/// A 128-bit identifier tagged with what it identifies, so an account id can never be passed
/// where a transfer id is expected. Ids are chosen by the client (TigerBeetle's rule), which
/// makes retries idempotent. Zero and `UInt128.max` are reserved.
public struct Identifier<Tag>: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt128

    public init(_ rawValue: UInt128) { self.rawValue = rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { String(rawValue) }

    /// The id as the 64-bit integer column that stores it (principals, tokens, keys, approval
    /// requests, incidents: ids the databases hand out, which always fit). An id beyond
    /// `Int64.max` names nothing stored: `not_found`, never a clamped id that could name another.
    public func storedInteger() throws(KinkoError) -> Int64 {
        guard rawValue <= UInt128(Int64.max) else { throw KinkoError(.notFound, "nothing stored has id \(rawValue)", field: "id") }
        return Int64(rawValue)
    }

    /// Parses a decimal id (`"42"`) or a UUID (`"0190c6e2-…"`, read as a big-endian 128-bit number).
    public init(parsing text: String, field: String) throws(KinkoError) {
        if let value = UInt128(text) {
            self.init(value)
        } else if let value = UInt128(uuid: text) {
            self.init(value)
        } else {
            throw KinkoError(.identifierInvalid, "\"\(text)\" is neither a decimal 128-bit number nor a UUID", field: field)
        }
    }
}

public enum AccountTag {}
public enum TransferTag {}
public enum CustomerTag {}

public typealias AccountID = Identifier<AccountTag>
public typealias TransferID = Identifier<TransferTag>
public typealias CustomerID = Identifier<CustomerTag>

extension UInt128 {
    /// Reads the 36-character UUID form (8-4-4-4-12 hex digits) as a big-endian number.
    public init?(uuid text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return nil }
        var value: UInt128 = 0
        for (offset, byte) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(offset) {
                guard byte == UInt8(ascii: "-") else { return nil }
                continue
            }
            guard let nibble = Hex.nibble(byte) else { return nil }
            value = value << 4 | UInt128(nibble)
        }
        self = value
    }
}

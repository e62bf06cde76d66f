import KinkoCore

/// Conversions between Kinko's values and the PostgreSQL columns that hold them. Amounts are
/// `numeric(39,0)`: they travel as decimal text (`\(PostgresValues.numeric(a))::numeric` when
/// written, `column::text` when read), because postgres-nio's `Decimal` is not exact to 39 digits.
enum PostgresValues {
    /// An amount as the decimal text of its units, for a `…::numeric` parameter.
    static func numeric(_ amount: Amount) -> String { String(amount.units) }

    /// An amount read back as `column::text`.
    static func amount(_ text: String, column: String) throws -> Amount {
        guard let units = UInt128(text) else {
            throw KinkoError(.storageCorrupted, "\(column) holds \(text), which is not an amount")
        }
        return Amount(units: units)
    }

    /// A 64-bit unsigned value (nanoseconds, ids) in a `bigint`, bit for bit.
    static func int(_ value: UInt64) -> Int64 { Int64(bitPattern: value) }
    static func uint(_ value: Int64) -> UInt64 { UInt64(bitPattern: value) }
}

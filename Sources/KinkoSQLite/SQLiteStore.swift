import Foundation
import GRDB
import KinkoCore
import KinkoGovernance
import KinkoLedger

/// What every SQLite store shares: its database, the audited write (the change and its audit
/// entry commit together), and how amounts and 64-bit ids are stored in columns.
protocol SQLiteStore: Sendable {
    var database: KinkoDatabase { get }
}

extension SQLiteStore {
    func write<T: Sendable>(audit: AuditEvent, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await database.audited(audit, body)
    }

    /// An amount as 16 big-endian bytes (SQLite integers stop at 63 bits).
    static func blob(_ amount: Amount) -> Data { Data(LedgerCodec.bigEndianBytes(amount.units)) }
    static func amount(_ data: Data) throws -> Amount { Amount(units: try LedgerCodec.fromBigEndianBytes([UInt8](data))) }
    /// A 64-bit id in a signed 64-bit column, bit for bit.
    static func int(_ value: UInt64) -> Int64 { Int64(bitPattern: value) }
    static func uint(_ value: Int64) -> UInt64 { UInt64(bitPattern: value) }
}

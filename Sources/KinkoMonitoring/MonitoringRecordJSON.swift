import Foundation
public import KinkoCore

/// How both stores keep monitoring records (alert hits, cases) as text: JSON with sorted keys,
/// so the same record is the same bytes in SQLite and in PostgreSQL.
public enum MonitoringRecordJSON {
    public static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// `storage_corrupted` when the text is not such a record.
    public static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        do { return try JSONDecoder().decode(type, from: Data(text.utf8)) } catch {
            throw KinkoError(.storageCorrupted, "a monitoring record does not decode: \(error)")
        }
    }
}

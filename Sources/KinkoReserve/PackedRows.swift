public import KinkoCore

/// Entitlements and plan lines as stored: rows of 128-bit fields, each a little-endian 16-byte
/// word, so a 260,000-customer incident is one value per asset, not 260,000 rows. Both stores
/// keep them this way.
public enum PackedRows {
    public static func pack(_ rows: [[UInt128]]) -> [UInt8] {
        guard let width = rows.first?.count else { return [] }
        var bytes = [UInt8](repeating: 0, count: rows.count * width * 16)
        bytes.withUnsafeMutableBytes { raw in
            for (index, row) in rows.enumerated() {
                for (field, value) in row.enumerated() { raw.storeBytes(of: value.littleEndian, toByteOffset: (index * width + field) * 16, as: UInt128.self) }
            }
        }
        return bytes
    }

    /// `storage_corrupted` if the length is not a whole number of rows of `fields` fields.
    public static func unpack(_ bytes: [UInt8], fields: Int) throws(KinkoError) -> [[UInt128]] {
        guard fields > 0, bytes.count % (fields * 16) == 0 else {
            throw KinkoError(.storageCorrupted, "a packed list of \(bytes.count) bytes is malformed")
        }
        return bytes.withUnsafeBytes { raw in
            (0..<bytes.count / (fields * 16)).map { index in
                (0..<fields).map { UInt128(littleEndian: raw.loadUnaligned(fromByteOffset: (index * fields + $0) * 16, as: UInt128.self)) }
            }
        }
    }
}

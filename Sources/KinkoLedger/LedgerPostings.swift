public import KinkoCore

/// The per-account index of transfer locations written at each checkpoint: for every account
/// touched by the batches since the previous checkpoint, the ascending list of locations of the
/// transfers that debit or credit it.
public enum LedgerPostings {
    public static func build(from records: [LedgerBatchRecord]) throws(KinkoError) -> [UInt128: [TransferLocation]] {
        var postings: [UInt128: [TransferLocation]] = [:]
        for record in records.sorted(by: { $0.sequence < $1.sequence }) where record.kind == .transfers {
            try LedgerCodec.checkLength(record.body, count: record.count, size: LedgerCodec.transferSize, what: "transfers")
            record.body.withUnsafeBytes { raw in
                for slot in 0..<record.count {
                    let base = slot * LedgerCodec.transferSize
                    let debit = UInt128(littleEndian: raw.loadUnaligned(fromByteOffset: base + 16, as: UInt128.self))
                    let credit = UInt128(littleEndian: raw.loadUnaligned(fromByteOffset: base + 32, as: UInt128.self))
                    let location = TransferLocation(sequence: record.sequence, slot: slot)
                    postings[debit, default: []].append(location)
                    postings[credit, default: []].append(location)
                }
            }
        }
        return postings
    }

    public static func encode(_ locations: [TransferLocation]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: locations.count * 8)
        bytes.withUnsafeMutableBytes { raw in
            for (index, location) in locations.enumerated() {
                raw.storeBytes(of: location.rawValue.littleEndian, toByteOffset: index * 8, as: UInt64.self)
            }
        }
        return bytes
    }

    public static func decode(_ bytes: [UInt8]) throws(KinkoError) -> [TransferLocation] {
        guard bytes.count % 8 == 0 else {
            throw KinkoError(.storageCorrupted, "a postings list of \(bytes.count) bytes is not a multiple of 8")
        }
        return bytes.withUnsafeBytes { raw in
            (0..<bytes.count / 8).map {
                TransferLocation(rawValue: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)))
            }
        }
    }
}

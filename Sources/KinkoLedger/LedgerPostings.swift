public import KinkoCore

/// The per-account index of transfer locations written at each checkpoint. A checkpoint
/// closes a window (the batches since the previous one); for every account those batches
/// touched, the window gets the ascending list of locations of the account's transfers. Stores
/// key the index by (window, account), so a checkpoint appends at the end of the index instead
/// of writing all over it, and a history query looks up one key per window.
public enum LedgerPostings {
    /// One account's transfers within one checkpoint window, ascending.
    public struct List: Sendable, Equatable {
        public let account: UInt128
        public let locations: [TransferLocation]

        public init(account: UInt128, locations: [TransferLocation]) {
            self.account = account
            self.locations = locations
        }
    }

    /// The lists restricted to transfers in batches above `sequence` (another process may have
    /// checkpointed some of the batches a writer still holds).
    public static func restrict(_ lists: [List], above sequence: UInt64) -> [List] {
        guard lists.contains(where: { ($0.locations.first?.sequence ?? 0) <= sequence }) else { return lists }
        return lists.compactMap { list in
            let kept = list.locations.filter { $0.sequence > sequence }
            return kept.isEmpty ? nil : List(account: list.account, locations: kept)
        }
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

/// Where a stored transfer lives: its batch's sequence number and its slot in that batch.
/// Ordered like the transfers' timestamps, so it doubles as a stable paging cursor.
public struct TransferLocation: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64

    static let slotBits: UInt64 = 16

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public init(sequence: UInt64, slot: Int) {
        precondition(slot >= 0 && slot < 1 << 16, "slot \(slot) out of range")
        precondition(sequence < 1 << 47, "sequence \(sequence) out of range")
        rawValue = sequence << Self.slotBits | UInt64(slot)
    }

    public var sequence: UInt64 { rawValue >> Self.slotBits }
    public var slot: Int { Int(rawValue & 0xFFFF) }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    public static let end = TransferLocation(rawValue: UInt64(1) << 63)
    /// In the transfer index: the id failed for a transient reason and is used up
    /// (`id_already_failed`); no transfer lives there.
    static let failed = TransferLocation(rawValue: .max)

    public var description: String { "\(sequence):\(slot)" }
}


/// An audit entry as read back from storage: the position column and the bytes.
public struct StoredAuditEntry: Sendable, Equatable {
    public var position: Int
    public var bytes: [UInt8]
    public init(position: Int, bytes: [UInt8]) {
        self.position = position
        self.bytes = bytes
    }
}

public struct AuditProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case modified, deleted, inserted, reordered, truncated, malformed
        case forgedCheckpoint = "forged_checkpoint"
        case missingCheckpoint = "missing_checkpoint"
    }

    public var kind: Kind
    /// The entry index concerned (for checkpoints: the tree size).
    public var index: Int
    public var message: String

    public var description: String { "\(kind.rawValue) at \(index): \(message)" }

    public init(kind: Kind, index: Int, message: String) {
        self.kind = kind
        self.index = index
        self.message = message
    }
}

/// Recomputes the tree from the stored entries and checks every checkpoint against it. Needs no
/// secret: only the checkpoint key's public half.
public enum AuditVerifier {
    public struct Report: Sendable {
        public var entries: Int
        public var checkpoints: Int
        public var root: Merkle.Hash
        public var problems: [AuditProblem]
        public var isValid: Bool { problems.isEmpty }
        public var first: AuditProblem? { problems.first }
    }

    public static func verify(
        entries: [StoredAuditEntry], checkpoints: [AuditCheckpoint], publicKey: [UInt8]
    ) -> Report {
        var problems: [AuditProblem] = []
        let bySize = Dictionary(checkpoints.map { ($0.size, $0) }, uniquingKeysWith: { first, _ in first })
        for checkpoint in checkpoints.sorted(by: { $0.size < $1.size }) where !checkpoint.hasValidSignature(publicKey: publicKey) {
            problems.append(AuditProblem(kind: .forgedCheckpoint, index: checkpoint.size,
                                         message: "the checkpoint for size \(checkpoint.size) does not carry a valid signature"))
        }
        problems += orderProblems(entries)
        var frontier = MerkleFrontier()
        for entry in entries {
            frontier.append(Merkle.leafHash(entry.bytes))
            let size = frontier.size
            guard let checkpoint = bySize[size] else {
                problems.append(AuditProblem(kind: .missingCheckpoint, index: size, message: "no checkpoint covers size \(size)"))
                continue
            }
            if checkpoint.root != frontier.root && checkpoint.hasValidSignature(publicKey: publicKey) {
                problems.append(AuditProblem(kind: .modified, index: size - 1,
                                             message: "entry \(size - 1) does not match the signed checkpoint for size \(size)"))
            }
        }
        if let largest = checkpoints.map(\.size).max(), largest > entries.count {
            problems.append(AuditProblem(kind: .truncated, index: entries.count,
                                         message: "the log holds \(entries.count) entries but a checkpoint covers \(largest)"))
        }
        // One tampering shows up several ways; the earliest index tells where it happened.
        let ordered = problems.enumerated().sorted { a, b in
            a.element.index != b.element.index ? a.element.index < b.element.index : a.offset < b.offset
        }.map(\.element)
        return Report(entries: entries.count, checkpoints: checkpoints.count, root: frontier.root, problems: ordered)
    }

    /// Gaps in the position column, and entries whose own index is not their position.
    private static func orderProblems(_ entries: [StoredAuditEntry]) -> [AuditProblem] {
        var problems: [AuditProblem] = []
        let embedded: [Int?] = entries.map { try? AuditEntry(bytes: $0.bytes).index }
        var positionOf: [Int: Int] = [:]
        for (offset, index) in embedded.enumerated() { if let index { positionOf[index] = offset } }
        for (offset, entry) in entries.enumerated() {
            guard let index = embedded[offset] else {
                problems.append(AuditProblem(kind: .malformed, index: offset, message: "entry \(offset) is not a readable audit entry"))
                continue
            }
            if entry.position != offset {
                problems.append(AuditProblem(kind: .deleted, index: offset,
                                             message: "entry \(offset) is missing: the next stored position is \(entry.position)"))
                return problems
            }
            guard index != offset else { continue }
            if index == offset - 1 {
                problems.append(AuditProblem(kind: .inserted, index: offset - 1,
                                             message: "an entry was inserted at \(offset - 1): the entry written there now stands at \(offset)"))
            } else if let elsewhere = positionOf[offset], elsewhere != offset {
                problems.append(AuditProblem(kind: .reordered, index: offset,
                                             message: "entries \(offset) and \(elsewhere) were swapped"))
            } else if index > offset {
                problems.append(AuditProblem(kind: .deleted, index: offset,
                                             message: "entry \(offset) is missing: the entry at this position was written as \(index)"))
            } else {
                problems.append(AuditProblem(kind: .modified, index: offset,
                                             message: "entry \(offset) claims to be entry \(index)"))
            }
            return problems
        }
        return problems
    }
}

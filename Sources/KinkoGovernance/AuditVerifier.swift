import Foundation
public import KinkoCore

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
/// secret: only the checkpoint key's public half. A verification can resume where an earlier
/// one ended (`Progress`): it then reads only the entries and checkpoints written since.
public enum AuditVerifier {
    public struct Report: Sendable {
        public var entries: Int
        public var checkpoints: Int
        public var root: Merkle.Hash
        public var problems: [AuditProblem]
        public var isValid: Bool { problems.isEmpty }
        public var first: AuditProblem? { problems.first }
    }

    /// How far a verification got: the tree over the first `size` entries and the signed
    /// checkpoint for that size, both checked.
    public struct Progress: Sendable {
        public var frontier = MerkleFrontier()
        /// The checked checkpoint for `frontier.size` (nil at size 0).
        public var head: AuditCheckpoint?
        /// Checkpoints checked so far.
        public var checkpoints = 0
        public var size: Int { frontier.size }
        public init() {}
    }

    /// The whole log at once.
    public static func verify(
        entries: [StoredAuditEntry], checkpoints: [AuditCheckpoint], publicKey: [UInt8]
    ) -> Report {
        let (report, _) = resume(Progress(), entries: entries, checkpoints: checkpoints, publicKey: publicKey)
        return finish(report, checkpoints: checkpoints, publicKey: publicKey)
    }

    /// Continues `progress` with `entries` (those stored from position `progress.size` on, in
    /// order) and `checkpoints` (every stored checkpoint of size ≥ `progress.size`; the one at
    /// `progress.size` must still be the one checked before). The progress returned covers the
    /// new entries; it is only worth keeping when the report has no problem.
    public static func resume(
        _ progress: Progress, entries: [StoredAuditEntry], checkpoints: [AuditCheckpoint], publicKey: [UInt8]
    ) -> (report: Report, progress: Progress) {
        var progress = progress
        let base = progress.size
        var problems: [AuditProblem] = []
        if let head = progress.head, !checkpoints.contains(head) {
            problems.append(AuditProblem(kind: .modified, index: base,
                                         message: "the checkpoint for size \(base), verified before, is gone or changed"))
        }
        let covered = base...(base + entries.count)
        let relevant = checkpoints.filter { covered.contains($0.size) && $0.size > base }
        let bySize = Dictionary(relevant.map { ($0.size, $0) }, uniquingKeysWith: { first, _ in first })
        var valid: Set<Int> = []
        for checkpoint in relevant.sorted(by: { $0.size < $1.size }) {
            if checkpoint.hasValidSignature(publicKey: publicKey) {
                valid.insert(checkpoint.size)
            } else {
                problems.append(AuditProblem(kind: .forgedCheckpoint, index: checkpoint.size,
                                             message: "the checkpoint for size \(checkpoint.size) does not carry a valid signature"))
            }
        }
        problems += orderProblems(entries, base: base)
        for entry in entries {
            progress.frontier.append(Merkle.leafHash(entry.bytes))
            let size = progress.frontier.size
            guard let checkpoint = bySize[size] else {
                problems.append(AuditProblem(kind: .missingCheckpoint, index: size, message: "no checkpoint covers size \(size)"))
                continue
            }
            if checkpoint.root != progress.frontier.root && valid.contains(size) {
                problems.append(AuditProblem(kind: .modified, index: size - 1,
                                             message: "entry \(size - 1) does not match the signed checkpoint for size \(size)"))
            }
        }
        progress.checkpoints += valid.count
        if progress.size > base { progress.head = bySize[progress.size] }
        // One tampering shows up several ways; the earliest index tells where it happened.
        let ordered = problems.enumerated().sorted { a, b in
            a.element.index != b.element.index ? a.element.index < b.element.index : a.offset < b.offset
        }.map(\.element)
        let report = Report(entries: progress.size, checkpoints: progress.checkpoints, root: progress.frontier.root, problems: ordered)
        return (report, progress)
    }

    /// Adds the check only the end of the log allows: no checkpoint covers more entries than
    /// the log holds (a truncated log; a checkpoint past the end without a valid signature is
    /// a forged one).
    public static func finish(_ report: Report, checkpoints: [AuditCheckpoint], publicKey: [UInt8]) -> Report {
        var report = report
        let beyond = checkpoints.filter { $0.size > report.entries }.sorted { $0.size < $1.size }
        for checkpoint in beyond where !checkpoint.hasValidSignature(publicKey: publicKey) {
            report.problems.append(AuditProblem(kind: .forgedCheckpoint, index: checkpoint.size,
                                                message: "the checkpoint for size \(checkpoint.size) does not carry a valid signature"))
        }
        if let largest = beyond.last?.size {
            report.problems.append(AuditProblem(kind: .truncated, index: report.entries,
                                                message: "the log holds \(report.entries) entries but a checkpoint covers \(largest)"))
        }
        report.problems = report.problems.enumerated().sorted { a, b in
            a.element.index != b.element.index ? a.element.index < b.element.index : a.offset < b.offset
        }.map(\.element)
        return report
    }

    /// Gaps in the position column, and entries whose own index is not their position
    /// (`base` is the position of the first entry given).
    private static func orderProblems(_ entries: [StoredAuditEntry], base: Int) -> [AuditProblem] {
        var problems: [AuditProblem] = []
        let embedded: [Int?] = entries.map { try? AuditEntry(bytes: $0.bytes).index }
        var positionOf: [Int: Int] = [:]
        for (offset, index) in embedded.enumerated() { if let index { positionOf[index] = base + offset } }
        for (offset, entry) in entries.enumerated() {
            let expected = base + offset
            guard let index = embedded[offset] else {
                problems.append(AuditProblem(kind: .malformed, index: expected, message: "entry \(expected) is not a readable audit entry"))
                continue
            }
            if entry.position != expected {
                problems.append(AuditProblem(kind: .deleted, index: expected,
                                             message: "entry \(expected) is missing: the next stored position is \(entry.position)"))
                return problems
            }
            guard index != expected else { continue }
            if index == expected - 1 {
                problems.append(AuditProblem(kind: .inserted, index: expected - 1,
                                             message: "an entry was inserted at \(expected - 1): the entry written there now stands at \(expected)"))
            } else if let elsewhere = positionOf[expected], elsewhere != expected {
                problems.append(AuditProblem(kind: .reordered, index: expected,
                                             message: "entries \(expected) and \(elsewhere) were swapped"))
            } else if index > expected {
                problems.append(AuditProblem(kind: .deleted, index: expected,
                                             message: "entry \(expected) is missing: the entry at this position was written as \(index)"))
            } else {
                problems.append(AuditProblem(kind: .modified, index: expected,
                                             message: "entry \(expected) claims to be entry \(index)"))
            }
            return problems
        }
        return problems
    }
}

// MARK: Checkpoints kept outside the database

extension AuditCheckpoint {
    public static let exportType = "kinko.audit.checkpoint.v1"

    /// One line of JSON: type, size, root, time, key id and signature, as an auditor keeps it
    /// (`kinko audit checkpoint --out`, the server's checkpoint log).
    public var exported: String {
        var object = Governance.json(self)
        if case .object(var fields) = object {
            fields["type"] = .string(Self.exportType)
            object = .object(fields)
        }
        return object.text
    }

    /// Reads every checkpoint of an export: one JSON object per line (blank lines skipped).
    public static func parseExport(_ text: String) throws(KinkoError) -> [AuditCheckpoint] {
        var checkpoints: [AuditCheckpoint] = []
        for (number, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            let field = "checkpoint line \(number + 1)"
            guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any] else {
                throw KinkoError(.invalidInput, "\(field) is not a JSON object", field: "checkpoint")
            }
            func text(_ key: String) throws(KinkoError) -> String {
                guard let value = object[key] as? String else { throw KinkoError(.invalidInput, "\(field) has no \(key)", field: "checkpoint") }
                return value
            }
            guard try text("type") == exportType else {
                throw KinkoError(.invalidInput, "\(field) is not a \(exportType)", field: "checkpoint")
            }
            guard let size = Int(try text("size")), size >= 1, let time = UInt64(try text("time")) else {
                throw KinkoError(.invalidInput, "\(field): size and time are decimal integers, size at least 1", field: "checkpoint")
            }
            let root = try Hex.decode(try text("root"), field: "checkpoint")
            guard root.count == 32 else { throw KinkoError(.invalidInput, "\(field): a root is 32 bytes", field: "checkpoint") }
            checkpoints.append(AuditCheckpoint(size: size, root: root, time: time, keyID: try Hex.decode(try text("key_id"), field: "checkpoint"),
                                               signature: try Hex.decode(try text("signature"), field: "checkpoint")))
        }
        guard !checkpoints.isEmpty else { throw KinkoError(.invalidInput, "the checkpoint file holds no checkpoint", field: "checkpoint") }
        return checkpoints
    }
}

extension AuditVerifier {
    /// Whether the log whose leaf hashes are `leaves` extends `exported`, a checkpoint kept
    /// outside the database: its signature is checked with `publicKey`, then an RFC 9162
    /// consistency proof from its size to the whole log is built from the leaves and verified
    /// against the exported root and the log's root. A shorter log was truncated or rolled
    /// back; a proof that fails means the first `exported.size` entries were rewritten.
    public static func problem(extending exported: AuditCheckpoint, leaves: [Merkle.Hash], publicKey: [UInt8]) -> AuditProblem? {
        guard exported.hasValidSignature(publicKey: publicKey) else {
            return AuditProblem(kind: .forgedCheckpoint, index: exported.size,
                                message: "the exported checkpoint for size \(exported.size) does not carry a valid signature by the pinned key")
        }
        guard exported.size <= leaves.count else {
            return AuditProblem(kind: .truncated, index: leaves.count,
                                message: "the log holds \(leaves.count) entries but the exported checkpoint of \(exported.time.iso8601) covers \(exported.size): truncated or rolled back")
        }
        let proof = Merkle.consistencyProof(old: exported.size, leaves: leaves[...])
        guard Merkle.verifyConsistency(oldSize: exported.size, newSize: leaves.count, oldRoot: exported.root, newRoot: Merkle.root(leaves[...]), proof: proof) else {
            return AuditProblem(kind: .modified, index: exported.size - 1,
                                message: "the log does not extend the exported checkpoint for size \(exported.size): its first \(exported.size) entries were rewritten")
        }
        return nil
    }
}

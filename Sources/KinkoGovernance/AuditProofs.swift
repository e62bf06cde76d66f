public import KinkoCore

/// Inclusion and consistency proofs over the audit log, against its signed checkpoints, in the
/// JSON layout `scripts/verify_audit_proof.py` checks. The CLI prints them; the API serves them.
extension Governance {
    /// Proves that entry `entry` is in the log of `size` entries (default: the whole log); the
    /// size must have a signed checkpoint.
    public func inclusionProof(entry: Int, size: Int?, by caller: Caller) async throws -> CanonicalJSON {
        _ = try await authorize(caller, .auditRead)
        let total = try await store.auditSize()
        let size = size ?? total
        guard (1...max(total, 1)).contains(size), total > 0 else {
            throw KinkoError(.invalidInput, "size must be 1–\(total)", field: "size")
        }
        guard (0..<size).contains(entry) else { throw KinkoError(.invalidInput, "entry must be 0–\(size - 1)", field: "entry") }
        let head = try await checkpoint(size: size, field: "size")
        let stored = try await store.auditEntries(from: 0, limit: size)
        let leaves = stored.map { Merkle.leafHash($0.bytes) }
        return .object([
            "type": "inclusion", "index": .string(String(entry)), "size": .string(String(size)),
            "entry": .string(Hex.encode(stored[entry].bytes)), "leaf_hash": .string(Hex.encode(leaves[entry])),
            "root": .string(Hex.encode(head.root)),
            "proof": .array(Merkle.inclusionProof(index: entry, leaves: leaves[...]).map { .string(Hex.encode($0)) }),
            "checkpoint": Self.json(head),
        ])
    }

    /// Proves that the log of `from` entries is a prefix of the log of `to` entries; both sizes
    /// must have signed checkpoints.
    public func consistencyProof(from: Int, to: Int, by caller: Caller) async throws -> CanonicalJSON {
        _ = try await authorize(caller, .auditRead)
        let total = try await store.auditSize()
        guard 1 <= from, from <= to else { throw KinkoError(.invalidInput, "need 1 ≤ from ≤ to", field: "from") }
        guard to <= total else { throw KinkoError(.invalidInput, "the log has \(total) entries", field: "to") }
        let (old, new) = (try await checkpoint(size: from, field: "from"), try await checkpoint(size: to, field: "to"))
        let leaves = try await store.auditEntries(from: 0, limit: to).map { Merkle.leafHash($0.bytes) }
        return .object([
            "type": "consistency", "old_size": .string(String(from)), "new_size": .string(String(to)),
            "old_root": .string(Hex.encode(old.root)), "new_root": .string(Hex.encode(new.root)),
            "proof": .array(Merkle.consistencyProof(old: from, leaves: leaves[...]).map { .string(Hex.encode($0)) }),
            "old_checkpoint": Self.json(old), "new_checkpoint": Self.json(new),
        ])
    }

    /// The signed checkpoints, oldest first.
    public func checkpoints(by caller: Caller) async throws -> [AuditCheckpoint] {
        _ = try await authorize(caller, .auditRead)
        return try await store.auditCheckpoints().sorted { $0.size < $1.size }
    }

    private func checkpoint(size: Int, field: String) async throws -> AuditCheckpoint {
        guard let found = try await store.auditCheckpoints(sizeAtLeast: size).first(where: { $0.size == size }) else {
            throw KinkoError(.notFound, "no signed checkpoint for size \(size)", field: field)
        }
        return found
    }

    public static func json(_ checkpoint: AuditCheckpoint) -> CanonicalJSON {
        .object([
            "size": .string(String(checkpoint.size)), "root": .string(Hex.encode(checkpoint.root)),
            "time": .string(String(checkpoint.time)), "key_id": .string(Hex.encode(checkpoint.keyID)),
            "signature": .string(Hex.encode(checkpoint.signature)),
        ])
    }
}

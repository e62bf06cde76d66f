import Foundation
import KinkoCore
import KinkoGovernance
import Testing

@Suite("Audit log verification")
struct AuditVerifierTests {
    /// A log of `count` entries, each with its signed checkpoint, as a store would hold it.
    static func log(_ count: Int, signer: AuditSigner) throws -> ([StoredAuditEntry], [AuditCheckpoint]) {
        var frontier = MerkleFrontier()
        var entries: [StoredAuditEntry] = []
        var checkpoints: [AuditCheckpoint] = []
        for index in 0..<count {
            let event = AuditEvent(principal: PrincipalID(7), principalName: "sato", role: "operator", action: "ledger.transfers.create",
                                   requestDigest: [UInt8](repeating: UInt8(index % 256), count: 32), result: "ok", details: ["batch": String(index)])
            let bytes = AuditEntry(index: index, time: 1_000 + UInt64(index), event: event).bytes
            entries.append(StoredAuditEntry(position: index, bytes: bytes))
            frontier.append(Merkle.leafHash(bytes))
            checkpoints.append(try signer.checkpoint(size: frontier.size, root: frontier.root, time: 1_000 + UInt64(index)))
        }
        return (entries, checkpoints)
    }

    let signer = AuditSigner.generate().signer

    @Test func untouchedLogVerifies() throws {
        let (entries, checkpoints) = try Self.log(20, signer: signer)
        let report = AuditVerifier.verify(entries: entries, checkpoints: checkpoints, publicKey: signer.publicKey)
        #expect(report.problems == [])
        #expect(report.entries == 20 && report.checkpoints == 20)
    }

    // Goal: each kind of tampering is named with the index where it happened.
    @Test func modifiedEntry() throws {
        let (original, checkpoints) = try Self.log(20, signer: signer)
        var entries = original
        var entry = try AuditEntry(bytes: entries[7].bytes)
        entry.event.result = "forged"
        entries[7].bytes = entry.bytes
        let first = AuditVerifier.verify(entries: entries, checkpoints: checkpoints, publicKey: signer.publicKey).first
        #expect(first == AuditProblem(kind: .modified, index: 7, message: "entry 7 does not match the signed checkpoint for size 8"))
    }

    @Test func deletedEntryLeavesAGap() throws {
        let (original, checkpoints) = try Self.log(20, signer: signer)
        var entries = original
        entries.remove(at: 5)
        let first = AuditVerifier.verify(entries: entries, checkpoints: checkpoints, publicKey: signer.publicKey).first
        #expect(first == AuditProblem(kind: .deleted, index: 5, message: "entry 5 is missing: the next stored position is 6"))
    }

    @Test func deletedEntryWithRenumbering() throws {
        let (original, checkpoints) = try Self.log(20, signer: signer)
        var entries = original
        entries.remove(at: 5)
        for index in entries.indices { entries[index].position = index }
        let first = AuditVerifier.verify(entries: entries, checkpoints: checkpoints, publicKey: signer.publicKey).first
        #expect(first == AuditProblem(kind: .deleted, index: 5, message: "entry 5 is missing: the entry at this position was written as 6"))
    }

    @Test func insertedEntry() throws {
        let (original, checkpoints) = try Self.log(20, signer: signer)
        var entries = original
        var forged = try AuditEntry(bytes: original[4].bytes)
        forged.index = 4
        forged.event.action = "governance.roles.grant"
        entries.insert(StoredAuditEntry(position: 4, bytes: forged.bytes), at: 4)
        for index in entries.indices { entries[index].position = index }
        let first = AuditVerifier.verify(entries: entries, checkpoints: checkpoints, publicKey: signer.publicKey).first
        #expect(first?.kind == .modified && first?.index == 4 || first?.kind == .inserted && first?.index == 4)
        let report = AuditVerifier.verify(entries: entries, checkpoints: checkpoints, publicKey: signer.publicKey)
        #expect(report.problems.contains { $0.kind == .inserted && $0.index == 4 })
    }

    @Test func swappedEntries() throws {
        let (original, checkpoints) = try Self.log(20, signer: signer)
        var entries = original
        (entries[3].bytes, entries[9].bytes) = (entries[9].bytes, entries[3].bytes)
        let first = AuditVerifier.verify(entries: entries, checkpoints: checkpoints, publicKey: signer.publicKey).first
        #expect(first == AuditProblem(kind: .reordered, index: 3, message: "entries 3 and 9 were swapped"))
    }

    @Test func forgedCheckpoint() throws {
        let (original, signed) = try Self.log(20, signer: signer)
        var (entries, checkpoints) = (original, signed)
        // An attacker rewrites entry 12 and signs new checkpoints with a key of their own.
        var entry = try AuditEntry(bytes: entries[12].bytes)
        entry.event.principalName = "mallory"
        entries[12].bytes = entry.bytes
        let attacker = AuditSigner.generate().signer
        var frontier = MerkleFrontier()
        for (index, stored) in entries.enumerated() {
            frontier.append(Merkle.leafHash(stored.bytes))
            if index >= 12 { checkpoints[index] = try attacker.checkpoint(size: frontier.size, root: frontier.root, time: 9) }
        }
        let first = AuditVerifier.verify(entries: entries, checkpoints: checkpoints, publicKey: signer.publicKey).first
        #expect(first == AuditProblem(kind: .forgedCheckpoint, index: 13, message: "the checkpoint for size 13 does not carry a valid signature"))
    }

    @Test func truncatedLog() throws {
        let (entries, checkpoints) = try Self.log(20, signer: signer)
        let report = AuditVerifier.verify(entries: Array(entries.prefix(17)), checkpoints: checkpoints, publicKey: signer.publicKey)
        #expect(report.first == AuditProblem(kind: .truncated, index: 17, message: "the log holds 17 entries but a checkpoint covers 20"))
    }

    @Test func entryBytesMustBeCanonical() throws {
        let (entries, _) = try Self.log(1, signer: signer)
        #expect(try AuditEntry(bytes: entries[0].bytes).index == 0)
        let spaced = Array(String(decoding: entries[0].bytes, as: UTF8.self).replacingOccurrences(of: ":", with: ": ").utf8)
        #expect(throws: KinkoError.self) { try AuditEntry(bytes: spaced) }
    }
}

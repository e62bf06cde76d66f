import Foundation
import GRDB
import KinkoCore
import KinkoGovernance
import KinkoLedger
import KinkoPlaybook
import KinkoSQLite
import Testing

/// Issue 14, items 3 and 4: the audit log cannot be cut short or re-signed unnoticed, and its
/// verification for callers is incremental and runs once at a time.
@Suite("Audit log: pinned key, exported checkpoints, incremental verification", .serialized)
struct AuditPinningTests {
    /// A database with `batches` more audited ledger batches (one entry each).
    static func populated(batches: Int = 20) async throws -> (GovernanceFixture, Ledger, Caller) {
        let f = try await AuditTamperTests.populated()
        let (ops, _) = try await f.person("ops.more", [.operator])
        let ledger = try await Ledger.open(store: SQLiteLedgerStore(database: f.database), clock: f.clock)
        for n in 0..<batches { #expect(try await ledger.createAccounts([customer(UInt128(100 + n))], by: ops) == [.ok]) }
        return (f, ledger, ops)
    }

    static func publicKey(_ f: GovernanceFixture) throws -> [UInt8] { try #require(f.database.auditSigner?.publicKey) }

    // Attack: delete the last entries together with their checkpoints. The log alone still
    // verifies (nothing inside it is inconsistent); a checkpoint exported before the cut proves
    // the log no longer extends it.
    @Test func truncationIsCaughtByAnExportedCheckpoint() async throws {
        let (f, _, _) = try await Self.populated()
        let exported = try #require(try await f.governance.latestAuditCheckpoint())
        // The export survives a round trip through its file format.
        #expect(try AuditCheckpoint.parseExport("\n" + exported.exported + "\n") == [exported])
        try await AuditTamperTests.edit(f, "DELETE FROM audit_entries WHERE position >= ?; DELETE FROM audit_checkpoints WHERE size > ?",
                                        [exported.size - 3, exported.size - 3])
        let alone = try await f.governance.verifyAudit(publicKey: try Self.publicKey(f))
        #expect(alone.isValid, "the attack: a cut log is consistent with itself")
        let report = try await f.governance.verifyAudit(publicKey: try Self.publicKey(f), exported: [exported])
        #expect(report.problems.map(\.kind) == [.truncated])
        #expect(report.first?.message.hasPrefix("the log holds \(exported.size - 3) entries but the exported checkpoint") == true)
    }

    // Attack: rewrite an old entry and re-sign every checkpoint after it with the real key (a
    // stolen key file). The log verifies; the exported checkpoint's consistency proof fails.
    @Test func aRewrittenAndResignedPrefixFailsTheConsistencyProof() async throws {
        let (f, _, _) = try await Self.populated()
        let exported = try #require(try await f.governance.latestAuditCheckpoint())
        let signer = try #require(f.database.auditSigner)
        var entries = try await f.governance.store.auditEntries(from: 0, limit: 10_000)
        var entry = try AuditEntry(bytes: entries[4].bytes)
        entry.event.result = "rewritten"
        entries[4].bytes = entry.bytes
        var frontier = MerkleFrontier()
        var statements = "UPDATE audit_entries SET entry = x'\(Hex.encode(entry.bytes))' WHERE position = 4;"
        for stored in entries {
            frontier.append(Merkle.leafHash(stored.bytes))
            let checkpoint = try signer.checkpoint(size: frontier.size, root: frontier.root, time: 1)
            statements += "UPDATE audit_checkpoints SET time = 1, root = x'\(Hex.encode(checkpoint.root))', signature = x'\(Hex.encode(checkpoint.signature))' WHERE size = \(frontier.size);"
        }
        try await AuditTamperTests.edit(f, statements)
        #expect(try await f.governance.verifyAudit(publicKey: try Self.publicKey(f)).isValid, "the attack: re-signed, the log verifies")
        let report = try await f.governance.verifyAudit(publicKey: try Self.publicKey(f), exported: [exported])
        #expect(report.problems.map(\.kind) == [.modified])
        #expect(report.first?.message == "the log does not extend the exported checkpoint for size \(exported.size): its first \(exported.size) entries were rewritten")
        // An exported checkpoint signed by another key counts for nothing.
        let forged = try AuditSigner.generate().signer.checkpoint(size: exported.size, root: exported.root, time: exported.time)
        let withForged = try await f.governance.verifyAudit(publicKey: try Self.publicKey(f), exported: [forged])
        #expect(withForged.problems.map(\.kind) == [.forgedCheckpoint])
    }

    // The pin: a fingerprint is 64 hex digits and matches exactly one key.
    @Test func aPinMatchesOnlyItsKey() throws {
        let key = AuditSigner.generate().signer
        let pin = try AuditKeyPin(hex: AuditKeyPin(publicKey: key.publicKey).hex)
        #expect(pin.matches(key.publicKey) && !pin.matches(AuditSigner.generate().signer.publicKey))
        #expect(pin.fingerprint == key.keyID, "the fingerprint is the key id checkpoints carry")
        let short = #expect(throws: KinkoError.self) { _ = try AuditKeyPin(hex: String(pin.hex.dropLast(2))) }
        #expect(short?.field == "key_fingerprint")
        #expect(try AuditKeyPin.fromEnvironment([AuditKeyPin.environmentVariable: pin.hex]) == pin)
        #expect(try AuditKeyPin.fromEnvironment([:]) == nil)
    }

    // Goal: the verification callers trigger resumes where the last one ended, runs once at a
    // time (four callers at once share one run), and still catches what was written since,
    // a changed checkpoint it ended on, and a cut.
    @Test func incrementalVerificationRunsOnceAndResumes() async throws {
        let (f, ledger, ops) = try await Self.populated(batches: 300)
        let verification = AuditVerification(governance: f.governance, publicKey: try Self.publicKey(f))
        let (auditor, _) = try await f.person("auditor.one", [.auditor])
        async let a = verification.verify(by: auditor)
        async let b = verification.verify(by: auditor)
        async let c = verification.verify(by: auditor)
        async let d = verification.verify(by: auditor)
        let reports = try await [a, b, c, d]
        let size = try await f.governance.store.auditSize()
        #expect(reports.allSatisfy { $0.isValid && $0.entries == size - 1 || $0.isValid && $0.entries == size })
        #expect(await verification.runs == 1, "four callers at once share one run")
        let verified = await verification.verifiedSize

        // Resumes: only the new entries are read; a new, tampered entry is found.
        for n in 0..<5 { #expect(try await ledger.createAccounts([customer(UInt128(1_000 + n))], by: ops) == [.ok]) }
        let resumed = try await verification.verify(by: auditor)
        #expect(resumed.isValid && resumed.entries > verified)
        let head = await verification.verifiedSize
        #expect(try await ledger.createAccounts([customer(2_000)], by: ops) == [.ok])
        let stored = try #require(try await f.governance.store.auditEntries(from: head, limit: 1).first)
        var entry = try AuditEntry(bytes: stored.bytes)
        entry.event.principalName = "someone-else"
        try await AuditTamperTests.edit(f, "UPDATE audit_entries SET entry = ? WHERE position = ?", [Data(entry.bytes), head])
        let tampered = try await verification.verify(by: auditor)
        #expect(tampered.first?.kind == .modified && tampered.first?.index == head)
        // A problem does not move the starting point: it is found again.
        #expect(try await verification.verify(by: auditor).first?.index == head)
        #expect(await verification.verifiedSize == head)

        // The checkpoint it ended on, changed; then a cut below it.
        try await AuditTamperTests.edit(f, "UPDATE audit_checkpoints SET time = time + 1 WHERE size = ?", [head])
        #expect(try await verification.verify(by: auditor).first?.kind == .modified)
        try await AuditTamperTests.edit(f, "DELETE FROM audit_entries WHERE position >= ?", [head - 10])
        #expect(try await verification.verify(by: auditor).problems.contains { $0.kind == .truncated })

        // Only a caller allowed to read the audit log may run it.
        let refused = await #expect(throws: KinkoError.self) { _ = try await verification.verify(by: ops) }
        #expect(refused?.code == .forbidden)
    }
}

@Suite("kinko audit: key, checkpoint, verify with a pin", .serialized)
struct AuditPinningCLITests {
    // Goal: at installation `kinko audit key` prints the fingerprint to pin; `kinko audit
    // checkpoint --out` appends the latest checkpoint to a file the auditor keeps; `verify`
    // with the pin and that file passes, and fails once the tail is cut.
    @Test func exportPinAndCatchACut() async throws {
        let demo = try DemoDirectory()
        let key = try demo.kinko(["audit", "key"])
        #expect(key.status == 0)
        let fingerprint = try #require(key.output.split(separator: "\n").first { $0.hasPrefix("fingerprint") }?.split(separator: " ").last.map(String.init))
        #expect(fingerprint.count == 64)
        let file = demo.temp.url.appendingPathComponent("kept-checkpoints.jsonl").path
        #expect(try demo.kinko(["audit", "checkpoint", "--out", file]).status == 0)
        #expect(try demo.kinko(["reserve", "compute"], as: "auditor").status == 3, "a refusal: one more audited entry")
        #expect(try demo.kinko(["audit", "checkpoint", "--out", file]).status == 0)
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        let kept = try AuditCheckpoint.parseExport(String(lines[1]))[0]
        let ok = try demo.kinko(["audit", "verify", "--key-fingerprint", fingerprint, "--checkpoint", file])
        #expect(ok.status == 0 && ok.output.contains("audit log ok") && ok.output.contains("matching the pinned fingerprint"), "\(ok.output)\(ok.error)")

        let database = demo.temp.url.appendingPathComponent("kinko.sqlite").path
        let raw = try DatabaseQueue(path: database)
        try await raw.write { db in
            try db.execute(sql: "DELETE FROM audit_entries WHERE position >= ?; DELETE FROM audit_checkpoints WHERE size >= ?", arguments: [kept.size - 1, kept.size])
        }
        try raw.close()
        #expect(try demo.kinko(["audit", "verify", "--key-fingerprint", fingerprint]).status == 0, "the attack: without the kept checkpoint the cut is invisible")
        let cut = try demo.kinko(["audit", "verify", "--key-fingerprint", fingerprint, "--checkpoint", file])
        #expect(cut.status == 5 && cut.output.contains("truncated"), "\(cut.output)\(cut.error)")
    }

    // Attack: rewrite the log, re-sign every checkpoint with a key of one's own, record that key
    // in the database and remove <db>.audit-key.pub. Verification used to trust the database's
    // key and answer "ok"; now it refuses without a pin and fails with one.
    @Test func aLogResignedWithAnotherKeyIsNotTrusted() async throws {
        let demo = try DemoDirectory()
        let fingerprint = AuditKeyPin(publicKey: try AuditSigner.load(path: demo.temp.url.appendingPathComponent("kinko.sqlite.audit-key").path).publicKey).hex
        let database = demo.temp.url.appendingPathComponent("kinko.sqlite").path
        let forger = AuditSigner.generate().signer
        let raw = try DatabaseQueue(path: database)
        try await raw.write { db in
            let rows = try Row.fetchAll(db, sql: "SELECT size, root, time FROM audit_checkpoints")
            for row in rows {
                let size: Int = row["size"]
                let forged = try forger.checkpoint(size: size, root: [UInt8](row["root"] as Data), time: UInt64(bitPattern: row["time"]))
                try db.execute(sql: "UPDATE audit_checkpoints SET signature = ?, key_id = ? WHERE size = ?",
                               arguments: [Data(forged.signature), Data(forged.keyID), size])
            }
            try db.execute(sql: "DELETE FROM audit_keys")
            try db.execute(sql: "INSERT INTO audit_keys (key_id, public_key, added_at) VALUES (?, ?, 0)", arguments: [Data(forger.keyID), Data(forger.publicKey)])
        }
        try raw.close()
        try FileManager.default.removeItem(atPath: database + ".audit-key.pub")
        let unpinned = try demo.kinko(["audit", "verify"])
        #expect(unpinned.status != 0 && !unpinned.output.contains("audit log ok"))
        #expect(unpinned.error.contains("no trusted audit key"), "\(unpinned.error)")
        let pinned = try demo.kinko(["audit", "verify", "--key-fingerprint", fingerprint])
        #expect(pinned.status != 0 && pinned.error.contains("no key the database records matches the pinned fingerprint"), "\(pinned.output)\(pinned.error)")
        // The same pin through the configuration.
        let configured = try run(demo.kinko, ["audit", "verify"], in: demo.temp.url, environment: [AuditKeyPin.environmentVariable: fingerprint])
        #expect(configured.status != 0 && configured.error.contains("matches the pinned fingerprint"))
        // With the real public key in hand, every checkpoint is a forgery.
        let publicKey = Hex.encode(try AuditSigner.load(path: database + ".audit-key").publicKey)
        let withKey = try demo.kinko(["audit", "verify", "--public-key", publicKey])
        #expect(withKey.status == 5 && withKey.output.contains("forged_checkpoint"))
    }
}

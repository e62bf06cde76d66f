import ArgumentParser
import Foundation
import KinkoCore
import KinkoGovernance
import KinkoSQLite

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "The tamper-evident audit log: verify it, read it, print Merkle proofs.",
        subcommands: [Verify.self, Log.self, Proof.self]
    )

    struct Verify: KinkoCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the Merkle tree from the stored entries and check every signed checkpoint (no token needed).")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "The checkpoint public key in hex (default: <audit key>.pub, else the key recorded in the database).")
        var publicKey: String?

        func execute() async throws {
            let database = try self.database.openDatabase()
            let store = SQLiteGovernanceStore(database: database)
            let (key, source) = try await trustedKey(store)
            let report = try await Governance(store: store).verifyAudit(publicKey: key)
            print("checked \(report.entries) entries and \(report.checkpoints) checkpoints with the public key from \(source)")
            guard let first = report.first else {
                print("audit log ok: root \(Hex.encode(report.root)) over \(report.entries) entries")
                return
            }
            print("AUDIT LOG TAMPERED — first problem: \(first.kind.rawValue) at entry \(first.index): \(first.message)")
            for problem in report.problems.dropFirst().prefix(9) { print("  also: \(problem)") }
            throw ExitCode(5)
        }

        private func trustedKey(_ store: SQLiteGovernanceStore) async throws -> ([UInt8], String) {
            if let publicKey { return (try Hex.decode(publicKey, field: "public_key"), "--public-key") }
            let file = database.auditKeyPath + ".pub"
            if let data = FileManager.default.contents(atPath: file) {
                let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                return (try Hex.decode(text, field: "public_key"), file)
            }
            guard let recorded = try await store.auditPublicKeys().first else {
                throw KinkoError(.notFound, "no public key: pass --public-key", field: "public_key")
            }
            return (recorded, "the database itself (pass --public-key to check against a key you hold independently)")
        }
    }

    struct Log: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Show audit entries.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "First entry.") var from: Int = 0
        @Option(help: "Entries to show (1–1000).") var limit: Int = 50

        func validate() throws {
            guard (1...1000).contains(limit) else { throw ValidationError("--limit must be 1–1000; got \(limit)") }
            guard from >= 0 else { throw ValidationError("--from must not be negative") }
        }

        func execute() async throws {
            let session = try await Session.open(database, token)
            try await session.authorize(.auditRead)
            let rows = try await session.governance.store.auditEntries(from: from, limit: limit).map { stored -> [String] in
                guard let entry = try? AuditEntry(bytes: stored.bytes) else { return [String(stored.position), "?", "?", "?", "(unreadable)", ""] }
                let details = entry.event.details.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                return [String(entry.index), entry.time.iso8601, "\(entry.event.principalName) (\(entry.event.role))", entry.event.action,
                        entry.event.result, details]
            }
            print(Table(header: ["#", "time (UTC)", "who", "action", "result", "details"], rows: rows).rendered)
        }
    }

    struct Proof: KinkoCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print an inclusion proof (--entry N) or a consistency proof (--from A --to B) as JSON; scripts/verify_audit_proof.py checks it.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "Prove that this entry is in the log.") var entry: Int?
        @Option(help: "… in the tree of this size (default: the whole log).") var size: Int?
        @Option(help: "Prove that the log of size A …") var from: Int?
        @Option(help: "… is a prefix of the log of size B.") var to: Int?

        func execute() async throws {
            let session = try await Session.open(database, token)
            try await session.authorize(.auditRead)
            let store = session.governance.store
            let checkpoints = Dictionary(try await store.auditCheckpoints().map { ($0.size, $0) }, uniquingKeysWith: { a, _ in a })
            let total = try await store.auditSize()
            func checkpoint(_ size: Int) throws -> AuditCheckpoint {
                guard let found = checkpoints[size] else { throw KinkoError(.notFound, "no checkpoint for size \(size)", field: "size") }
                return found
            }
            if let entry {
                let size = self.size ?? total
                guard (1...total).contains(size), (0..<size).contains(entry) else {
                    throw KinkoError(.invalidInput, "entry must be below size, and size 1–\(total)", field: "entry")
                }
                let stored = try await store.auditEntries(from: 0, limit: size)
                let leaves = stored.map { Merkle.leafHash($0.bytes) }
                let head = try checkpoint(size)
                print(CanonicalJSON.object([
                    "type": "inclusion", "index": .string(String(entry)), "size": .string(String(size)),
                    "entry": .string(Hex.encode(stored[entry].bytes)), "leaf_hash": .string(Hex.encode(leaves[entry])),
                    "root": .string(Hex.encode(head.root)),
                    "proof": .array(Merkle.inclusionProof(index: entry, leaves: leaves[...]).map { .string(Hex.encode($0)) }),
                    "checkpoint": Self.json(head),
                ]).text)
            } else if let from, let to {
                guard 1 <= from, from <= to, to <= total else {
                    throw KinkoError(.invalidInput, "need 1 ≤ from ≤ to ≤ \(total)", field: "from")
                }
                let leaves = try await store.auditEntries(from: 0, limit: to).map { Merkle.leafHash($0.bytes) }
                let (old, new) = (try checkpoint(from), try checkpoint(to))
                print(CanonicalJSON.object([
                    "type": "consistency", "old_size": .string(String(from)), "new_size": .string(String(to)),
                    "old_root": .string(Hex.encode(old.root)), "new_root": .string(Hex.encode(new.root)),
                    "proof": .array(Merkle.consistencyProof(old: from, leaves: leaves[...]).map { .string(Hex.encode($0)) }),
                    "old_checkpoint": Self.json(old), "new_checkpoint": Self.json(new),
                ]).text)
            } else {
                throw ValidationError("give --entry N, or --from A --to B")
            }
        }

        static func json(_ checkpoint: AuditCheckpoint) -> CanonicalJSON {
            .object([
                "size": .string(String(checkpoint.size)), "root": .string(Hex.encode(checkpoint.root)),
                "time": .string(String(checkpoint.time)), "key_id": .string(Hex.encode(checkpoint.keyID)),
                "signature": .string(Hex.encode(checkpoint.signature)),
            ])
        }
    }
}

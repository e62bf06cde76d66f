import ArgumentParser
import Foundation
import KinkoCore
import KinkoGovernance
import KinkoStores

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "The tamper-evident audit log: verify it, pin its key, export checkpoints, read it, print Merkle proofs.",
        subcommands: [Verify.self, Key.self, Checkpoint.self, Log.self, Proof.self]
    )

    struct Verify: KinkoCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the Merkle tree from the stored entries, check every signed checkpoint with the pinned key, and prove the log extends the checkpoints you kept (no token needed).",
            discussion: """
                The key is pinned outside the database: --public-key, or its SHA-256 fingerprint (--key-fingerprint or \(AuditKeyPin.environmentVariable), as `kinko audit key` printed it at installation); a key file next to the database (<audit key>.pub) is used only when it matches the pin, or, with no pin at all, with a warning. A key the database records is never trusted on its own.
                --checkpoint FILE (one JSON checkpoint per line, as `kinko audit checkpoint --out` or the server's --checkpoint-log write them) proves with an RFC 9162 consistency proof that the current log extends each one: a truncated or rolled-back log fails.
                """)
        @OptionGroup var database: DatabaseOptions
        @Option(help: "The checkpoint public key in hex.") var publicKey: String?
        @Option(help: "The SHA-256 fingerprint of the checkpoint public key (64 hex digits).") var keyFingerprint: String?
        @Option(help: "A file of exported checkpoints the log must extend (repeatable).") var checkpoint: [String] = []

        func execute() async throws {
            let stores = try await database.openStores()
            let governance = Governance(store: stores.governance)
            let (key, source) = try await trustedKey(governance)
            var exported: [AuditCheckpoint] = []
            for file in checkpoint {
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw KinkoError(.notFound, "cannot read the checkpoint file \(file)", field: "checkpoint")
                }
                exported += try AuditCheckpoint.parseExport(String(decoding: data, as: UTF8.self))
            }
            let report = try await governance.verifyAudit(publicKey: key, exported: exported)
            print("checked \(report.entries) entries and \(report.checkpoints) checkpoints with the key \(AuditKeyPin(publicKey: key).hex) from \(source)")
            if !exported.isEmpty { print("and \(exported.count) exported checkpoint(s), up to size \(exported.map(\.size).max() ?? 0)") }
            guard let first = report.first else {
                print("audit log ok: root \(Hex.encode(report.root)) over \(report.entries) entries")
                return
            }
            print("AUDIT LOG TAMPERED — first problem: \(first.kind.rawValue) at entry \(first.index): \(first.message)")
            for problem in report.problems.dropFirst().prefix(9) { print("  also: \(problem)") }
            throw ExitCode(5)
        }

        /// The key to verify with, and where it came from: never the database's word alone.
        private func trustedKey(_ governance: Governance) async throws -> ([UInt8], String) {
            let pin: AuditKeyPin? = try keyFingerprint.map { try AuditKeyPin(hex: $0, field: "key_fingerprint") }
                ?? (try AuditKeyPin.fromEnvironment(ProcessInfo.processInfo.environment))
            func checked(_ key: [UInt8], _ source: String) throws -> ([UInt8], String) {
                if let pin, !pin.matches(key) {
                    throw KinkoError(.forbidden, "the key from \(source) has the fingerprint \(AuditKeyPin(publicKey: key).hex), not the pinned \(pin.hex)",
                                     field: "public_key")
                }
                return (key, pin == nil ? source : "\(source), matching the pinned fingerprint")
            }
            if let publicKey { return try checked(try Hex.decode(publicKey, field: "public_key"), "--public-key") }
            let file = database.auditKeyPath + ".pub"
            if let data = FileManager.default.contents(atPath: file) {
                let key = try Hex.decode(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines), field: "public_key")
                if pin == nil {
                    FileHandle.standardError.write(Data("warning: the audit key is not pinned; verifying with \(file). Record its fingerprint (kinko audit key) and pass --key-fingerprint or set \(AuditKeyPin.environmentVariable).\n".utf8))
                }
                return try checked(key, file)
            }
            guard let pin else {
                throw KinkoError(.notFound, "no trusted audit key: \(file) is missing and no key is pinned; pass --public-key or --key-fingerprint (or set \(AuditKeyPin.environmentVariable)); the key the database records is never trusted on its own",
                                 field: "public_key")
            }
            guard let recorded = try await governance.recordedAuditPublicKey(matching: pin) else {
                throw KinkoError(.forbidden, "no key the database records matches the pinned fingerprint \(pin.hex): the log was re-signed with another key, or the pin is wrong",
                                 field: "key_fingerprint")
            }
            return (recorded, "the database's record, matching the pinned fingerprint")
        }
    }

    struct Key: KinkoCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the checkpoint key's public half and its fingerprint (record the fingerprint at installation, outside the database).")
        @OptionGroup var database: DatabaseOptions

        func execute() async throws {
            let file = database.auditKeyPath + ".pub"
            let key: [UInt8]
            if let data = FileManager.default.contents(atPath: file) {
                key = try Hex.decode(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines), field: "public_key")
            } else {
                key = try AuditSigner.load(path: database.auditKeyPath).publicKey
            }
            print("public key   \(Hex.encode(key))")
            print("fingerprint  \(AuditKeyPin(publicKey: key).hex)")
            print("pin it: export \(AuditKeyPin.environmentVariable)=\(AuditKeyPin(publicKey: key).hex)  (or kinko audit verify --key-fingerprint …)")
        }
    }

    struct Checkpoint: KinkoCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export the latest signed checkpoint (size, root, time, key id, signature) as one line of JSON, for an auditor to keep outside the database.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Append it to this file (created mode 0644 if missing); default: print it.") var out: String?

        func execute() async throws {
            let stores = try await database.openStores()
            guard let latest = try await Governance(store: stores.governance).latestAuditCheckpoint() else {
                throw KinkoError(.notFound, "the audit log is empty: nothing to export yet", field: "database")
            }
            guard let out else {
                print(latest.exported)
                return
            }
            try CheckpointFile.append(latest, to: out)
            print("appended the checkpoint for size \(latest.size) (root \(Hex.encode(latest.root))) to \(out)")
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
            let rows = try await session.governance.auditEntries(from: from, limit: limit, by: session.caller).entries.map { stored -> [String] in
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
            if let entry {
                print(try await session.governance.inclusionProof(entry: entry, size: size, by: session.caller).text)
            } else if let from, let to {
                print(try await session.governance.consistencyProof(from: from, to: to, by: session.caller).text)
            } else {
                throw ValidationError("give --entry N, or --from A --to B")
            }
        }
    }
}

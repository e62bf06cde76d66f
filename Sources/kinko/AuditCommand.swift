import ArgumentParser
import Foundation
import KinkoCore
import KinkoGovernance
import KinkoStores

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
            let stores = try await database.openStores()
            let governance = Governance(store: stores.governance)
            let (key, source) = try await trustedKey(governance)
            let report = try await governance.verifyAudit(publicKey: key)
            print("checked \(report.entries) entries and \(report.checkpoints) checkpoints with the public key from \(source)")
            guard let first = report.first else {
                print("audit log ok: root \(Hex.encode(report.root)) over \(report.entries) entries")
                return
            }
            print("AUDIT LOG TAMPERED — first problem: \(first.kind.rawValue) at entry \(first.index): \(first.message)")
            for problem in report.problems.dropFirst().prefix(9) { print("  also: \(problem)") }
            throw ExitCode(5)
        }

        private func trustedKey(_ governance: Governance) async throws -> ([UInt8], String) {
            if let publicKey { return (try Hex.decode(publicKey, field: "public_key"), "--public-key") }
            let file = database.auditKeyPath + ".pub"
            if let data = FileManager.default.contents(atPath: file) {
                let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                return (try Hex.decode(text, field: "public_key"), file)
            }
            guard let recorded = try await governance.recordedAuditPublicKey() else {
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

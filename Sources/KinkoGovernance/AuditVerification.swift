import Crypto
import Foundation
public import KinkoCore

/// The audit log's verification as a server runs it for its callers: incremental (it resumes
/// from the last checkpoint it verified, reading only what was written since), off the
/// caller's task (a detached task of utility priority, yielding between pages), and single
/// flight (at most one runs; whoever asks meanwhile shares its result). `kinko audit verify`
/// re-reads everything; this is what `/v1/audit/verify` and the console answer with.
///
/// What an incremental run checks: every entry and checkpoint written since the last run, that
/// the checkpoint it ended on is still stored unchanged, and that no checkpoint covers more
/// entries than the log holds. An entry rewritten behind that checkpoint together with every
/// checkpoint after it is what only a full run (or an exported checkpoint) catches.
public actor AuditVerification {
    public let governance: Governance
    /// The pinned key (held outside the database).
    public let publicKey: [UInt8]
    private var progress = AuditVerifier.Progress()
    private var running: Task<(AuditVerifier.Report, AuditVerifier.Progress), any Error>?
    /// Verifications actually run (callers who shared one are not counted).
    public private(set) var runs = 0

    public init(governance: Governance, publicKey: [UInt8]) {
        self.governance = governance
        self.publicKey = publicKey
    }

    public func verify(by caller: Caller) async throws -> AuditVerifier.Report {
        _ = try await governance.authorize(caller, .auditRead)
        return try await verify()
    }

    /// How many entries the last successful run verified.
    public var verifiedSize: Int { progress.size }

    func verify() async throws -> AuditVerifier.Report {
        if let running { return try await running.value.0 }
        let (start, store, key) = (progress, governance.store, publicKey)
        let task = Task.detached(priority: .utility) { try await Self.run(store, from: start, publicKey: key) }
        running = task
        defer { running = nil }
        let (report, next) = try await task.value
        runs += 1
        // Only a clean run moves the starting point: a problem is found again next time.
        if report.isValid { progress = next }
        return report
    }

    private static func run(_ store: any GovernanceStore, from start: AuditVerifier.Progress, publicKey: [UInt8])
        async throws -> (AuditVerifier.Report, AuditVerifier.Progress)
    {
        // Checkpoints first, then no entry past the last of them: an entry and its checkpoint
        // commit together, so whatever is read has its checkpoint.
        let checkpoints = try await store.auditCheckpoints(sizeAtLeast: start.size)
        let end = max(checkpoints.last?.size ?? start.size, start.size)
        var progress = start
        var problems: [AuditProblem] = []
        var report = AuditVerifier.Report(entries: start.size, checkpoints: start.checkpoints, root: start.frontier.root, problems: [])
        repeat {
            let limit = min(Governance.auditPageEntries, end - progress.size)
            let page = limit > 0 ? try await store.auditEntries(from: progress.size, limit: limit) : []
            let (pageReport, next) = AuditVerifier.resume(progress, entries: page, checkpoints: checkpoints, publicKey: publicKey)
            report = pageReport
            problems += pageReport.problems
            guard pageReport.isValid, !page.isEmpty else { break }
            progress = next
            await Task.yield()
        } while progress.size < end
        report.problems = problems
        return (AuditVerifier.finish(report, checkpoints: checkpoints, publicKey: publicKey), progress)
    }
}

/// The audit key an installation trusts, pinned outside the database: the SHA-256 fingerprint
/// of the checkpoint key's public half (64 hex digits), recorded at installation (`kinko audit
/// key` prints it) and given in the configuration (`KINKO_AUDIT_KEY_FINGERPRINT`) or on the
/// command line (`--key-fingerprint`). Nothing verifies with a key only because the database
/// names it: a key read from the database counts only if it matches the pin.
public struct AuditKeyPin: Sendable, Equatable {
    public let fingerprint: [UInt8]

    public static let environmentVariable = "KINKO_AUDIT_KEY_FINGERPRINT"

    public init(hex: String, field: String = "key_fingerprint") throws(KinkoError) {
        let bytes = try Hex.decode(hex.trimmingCharacters(in: .whitespacesAndNewlines), field: field)
        guard bytes.count == 32 else {
            throw KinkoError(.invalidInput, "a key fingerprint is the SHA-256 of the public key: 64 hex digits; got \(bytes.count * 2)", field: field)
        }
        fingerprint = bytes
    }

    public init(publicKey: [UInt8]) { fingerprint = Self.fingerprint(of: publicKey) }

    public static func fingerprint(of publicKey: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: publicKey)) }

    public var hex: String { Hex.encode(fingerprint) }

    public func matches(_ publicKey: [UInt8]) -> Bool { Self.fingerprint(of: publicKey) == fingerprint }

    /// The pin in `environment`, if set (an empty value counts as unset).
    public static func fromEnvironment(_ environment: [String: String]) throws(KinkoError) -> AuditKeyPin? {
        guard let value = environment[environmentVariable], !value.isEmpty else { return nil }
        return try AuditKeyPin(hex: value, field: environmentVariable)
    }
}

import Foundation
public import KinkoCore
public import KinkoCustody
public import KinkoGovernance
public import KinkoLedger
public import KinkoMonitoring
public import KinkoReserve

/// A generated report as kept: which report, its SHA-256 (of `ReportDocument.canonicalBytes`),
/// who generated and who approved it, and for an STR the filing log. The document itself is
/// kept when it fits a record; a larger one (the CPA pack of a big exchange) is kept as its hash
/// and regenerated on demand, bit-identically, from the ledger and custody as of its date.
public struct ReportRecord: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        /// Generated, waiting for a second person.
        case generated
        /// Approved by a second person: final.
        case final
        /// An STR that was filed with the FIU.
        case filed
    }

    public struct Filing: Codable, Sendable, Equatable {
        public var filedAt: TimestampNanoseconds
        public var reference: String
        public var filedBy: String
    }

    public var kind: ReportKind
    public var period: String
    public var asOf: TimestampNanoseconds
    public var sha256: String
    public var bytes: Int
    public var status: Status
    public var generatedBy: String
    public var generatedAt: TimestampNanoseconds
    /// How many generations gave this hash or replaced an earlier one.
    public var generations: Int
    public var approvedBy: String?
    public var approvedAt: TimestampNanoseconds?
    public var filing: Filing?
    /// The CPA sample's seed and size, so a regeneration draws the same sample.
    public var seed: UInt64?
    public var sampleSize: Int?
    /// The canonical document, when at most `documentBytesMax`.
    public var document: String?

    public static let collection = "reports"
    /// A document larger than this is kept as its hash only.
    public static let documentBytesMax = 512 * 1024
    /// An FIU filing reference: 1–64 printable characters.
    public static let referenceLengthMax = 64

    public static func key(_ kind: ReportKind, _ period: ReportPeriod) -> String { "\(kind.rawValue)/\(period.text)" }
}

/// Books, records and reports: generated from the ledger and custody as of their date by
/// finance or compliance, hashed into the audit log, final once a second person approves,
/// readable by auditors and inspectors; STRs carry their filing log.
public struct Reports: Sendable {
    public let governance: Governance
    public let ledger: LedgerService
    public let custody: Custody
    public let reserve: Reserve
    public let monitoring: Monitoring
    public let customers: Customers
    public let clock: any WallClock

    public init(governance: Governance, ledger: LedgerService, custody: Custody, reserve: Reserve, monitoring: Monitoring, customers: Customers,
                clock: any WallClock) {
        self.governance = governance
        self.ledger = ledger
        self.custody = custody
        self.reserve = reserve
        self.monitoring = monitoring
        self.customers = customers
        self.clock = clock
    }

    var records: RecordCollection<ReportRecord> { RecordCollection(ReportRecord.collection, store: governance.store) }

    /// Roles that may read an STR: telling anyone else that one was filed is tipping off.
    static let strReaders: Set<Role> = [.compliance, .auditor, .inspector]

    public struct Generated: Sendable {
        public var document: ReportDocument
        public var record: ReportRecord
        /// False when an identical generation was already stored.
        public var changed: Bool
    }

    /// Generates the report and stores its hash (and, if small enough, the document); the
    /// audit entry carries the SHA-256. A report already approved is never replaced: a
    /// regeneration that differs is refused (and audited) as a finding.
    public func generate(_ kind: ReportKind, _ period: ReportPeriod, options: Options = Options(), by caller: Caller) async throws -> Generated {
        let digest = Governance.digest(["kind": .string(kind.rawValue), "period": .string(period.text)])
        let role = try await governance.authorize(caller, .reportsGenerate, digest: digest)
        if kind == .str, role != .compliance {
            throw try await governance.refused(KinkoError(.forbidden, "only compliance generates an STR", field: "kind"), by: caller, role: role,
                                               .reportsGenerate, digest: digest)
        }
        let key = ReportRecord.key(kind, period)
        let existing = try await records.get(key)
        var options = options
        if let stored = existing?.value, kind == .cpaEvidence, options.seed == nil {
            options = Options(seed: stored.seed, sampleSize: stored.sampleSize ?? options.sampleSize)
        }
        var document = try await build(kind, period, options: options, by: caller)
        let (bytes, hash) = document.hashed()
        let now = clock.now()
        var record = ReportRecord(
            kind: kind, period: period.text, asOf: document.asOf, sha256: hash, bytes: bytes.count, status: .generated, generatedBy: caller.name,
            generatedAt: now, generations: 1, approvedBy: nil, approvedAt: nil, filing: nil,
            seed: kind == .cpaEvidence ? (options.seed ?? Self.seed(for: period.text)) : nil, sampleSize: kind == .cpaEvidence ? options.sampleSize : nil,
            document: bytes.count <= ReportRecord.documentBytesMax ? String(decoding: bytes, as: UTF8.self) : nil)
        let details = ["kind": kind.rawValue, "period": period.text, "sha256": hash, "bytes": String(bytes.count), "as_of": document.asOf.iso8601Nanoseconds]
        if let existing {
            if existing.value.sha256 == hash {
                try await governance.store.appendAudit(caller.event(.reportsGenerate, role: role, digest: digest, result: "identical", details: details))
                return Generated(document: document, record: existing.value, changed: false)
            }
            guard existing.value.status == .generated else {
                throw try await governance.refused(
                    KinkoError(.conflict, "\(key) was approved with SHA-256 \(existing.value.sha256); the ledger and custody now give \(hash): the books changed after approval"),
                    by: caller, role: role, .reportsGenerate, digest: digest, details: details)
            }
            record.generations = existing.value.generations + 1
            guard try await governance.store.write([try records.update(existing, to: record, tag: record.status.rawValue)], at: now,
                                                  audit: caller.event(.reportsGenerate, role: role, digest: digest, result: "replaced", details: details))
            else { throw KinkoError(.conflict, "\(key) changed while it was generated; generate it again") }
        } else {
            guard try await governance.store.write([try records.insert(key, record, tag: record.status.rawValue)], at: now,
                                                  audit: caller.event(.reportsGenerate, role: role, digest: digest, result: "generated", details: details))
            else { throw KinkoError(.conflict, "\(key) was generated by someone else meanwhile; generate it again") }
        }
        return Generated(document: document, record: record, changed: true)
    }

    /// Regenerates a stored report without storing anything, and says whether it is
    /// bit-identical to what was stored. Any reader may check.
    public func verify(_ kind: ReportKind, _ period: ReportPeriod, by caller: Caller) async throws -> (document: ReportDocument, record: ReportRecord, identical: Bool) {
        let checked = try await regenerate(kind, period, by: caller)
        return (checked.document, checked.record, checked.identical)
    }

    /// `verify`, keeping the regenerated canonical bytes for a caller that serves them.
    private func regenerate(_ kind: ReportKind, _ period: ReportPeriod, by caller: Caller) async throws
        -> (document: ReportDocument, bytes: [UInt8], record: ReportRecord, identical: Bool)
    {
        let role = try await authorizeRead(kind, by: caller)
        guard let stored = try await records.get(ReportRecord.key(kind, period))?.value else {
            throw KinkoError(.notFound, "no \(kind.rawValue) report for \(period.text) was generated", field: "period")
        }
        var document = try await build(kind, period, options: Options(seed: stored.seed, sampleSize: stored.sampleSize ?? Self.sampleSizeDefault),
                                       by: caller)
        let (bytes, now) = document.hashed()
        let identical = now == stored.sha256
        try await governance.store.appendAudit(caller.event(.reportsRead, role: role, digest: Governance.digest(["kind": .string(kind.rawValue), "period": .string(period.text)]),
                                                            result: identical ? "identical" : "differs",
                                                            details: ["kind": kind.rawValue, "period": period.text, "stored": stored.sha256, "now": now]))
        return (document, bytes, stored, identical)
    }

    /// The stored document as generated (regenerated and checked when it was too large to keep).
    public func document(_ kind: ReportKind, _ period: ReportPeriod, by caller: Caller) async throws -> (document: ReportDocument?, canonical: [UInt8], record: ReportRecord) {
        _ = try await authorizeRead(kind, by: caller)
        guard let stored = try await records.get(ReportRecord.key(kind, period))?.value else {
            throw KinkoError(.notFound, "no \(kind.rawValue) report for \(period.text) was generated", field: "period")
        }
        if let text = stored.document { return (nil, Array(text.utf8), stored) }
        let checked = try await regenerate(kind, period, by: caller)
        guard checked.identical else {
            throw KinkoError(.storageCorrupted, "\(ReportRecord.key(kind, period)) no longer regenerates to its SHA-256 \(stored.sha256) (now \(checked.document.sha256))")
        }
        return (checked.document, checked.bytes, stored)
    }

    /// A second person makes a generated report final, after checking that it still
    /// regenerates to the same bytes. Its generator may not approve it.
    public func approve(_ kind: ReportKind, _ period: ReportPeriod, by caller: Caller) async throws -> ReportRecord {
        let key = ReportRecord.key(kind, period)
        let digest = Governance.digest(["kind": .string(kind.rawValue), "period": .string(period.text)])
        let role = try await governance.authorize(caller, .reportsApprove, digest: digest)
        guard let entry = try await records.get(key) else { throw KinkoError(.notFound, "no \(kind.rawValue) report for \(period.text) was generated", field: "period") }
        var record = entry.value
        func refuse(_ code: KinkoError.Code, _ message: String, field: String? = nil) async throws -> KinkoError {
            try await governance.refused(KinkoError(code, message, field: field), by: caller, role: role, .reportsApprove, digest: digest, details: ["report": key])
        }
        if kind == .str, role != .compliance { throw try await refuse(.forbidden, "only compliance approves an STR", field: "kind") }
        guard record.status == .generated else { throw try await refuse(.conflict, "\(key) is already \(record.status.rawValue)") }
        guard record.generatedBy != caller.name else {
            throw try await refuse(.forbidden, "\(caller.name) generated \(key); a second person approves it", field: "approver")
        }
        let now = try await build(kind, period, options: Options(seed: record.seed, sampleSize: record.sampleSize ?? Self.sampleSizeDefault), by: caller)
        guard now.sha256 == record.sha256 else {
            throw try await refuse(.conflict, "\(key) now regenerates to \(now.sha256), not the \(record.sha256) generated: generate it again and review the change")
        }
        record.status = .final
        record.approvedBy = caller.name
        record.approvedAt = clock.now()
        guard try await governance.store.write([try records.update(entry, to: record, tag: record.status.rawValue)], at: record.approvedAt ?? 0,
                                              audit: caller.event(.reportsApprove, role: role, digest: digest, result: "final",
                                                                  details: ["report": key, "sha256": record.sha256, "generated_by": record.generatedBy]))
        else { throw KinkoError(.conflict, "\(key) changed while it was approved; try again") }
        return record
    }

    /// Records that a final STR was filed with the FIU (the e-Gov reference), after which its
    /// case may close as `str_filed`.
    public func file(case id: UInt64, reference: String, by caller: Caller) async throws -> ReportRecord {
        let period = ReportPeriod.caseRecord(id)
        let key = ReportRecord.key(.str, period)
        let digest = Governance.digest(["case": .string(String(id)), "reference": .string(reference)])
        let role = try await governance.authorize(caller, .reportsFile, digest: digest)
        let reference = reference.trimmingCharacters(in: .whitespaces)
        guard (1...ReportRecord.referenceLengthMax).contains(reference.count), reference.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
            throw try await governance.refused(KinkoError(.invalidInput, "a filing reference is 1–\(ReportRecord.referenceLengthMax) printable characters",
                                                          field: "reference"), by: caller, role: role, .reportsFile, digest: digest)
        }
        guard let entry = try await records.get(key) else {
            throw try await governance.refused(KinkoError(.notFound, "no STR was generated for case \(id)", field: "case"), by: caller, role: role,
                                               .reportsFile, digest: digest)
        }
        var record = entry.value
        guard record.status == .final else {
            throw try await governance.refused(
                KinkoError(.conflict, record.status == .filed ? "the STR of case \(id) was filed already (\(record.filing?.reference ?? ""))"
                    : "the STR of case \(id) is not final: a second compliance officer approves it first"),
                by: caller, role: role, .reportsFile, digest: digest)
        }
        let now = clock.now()
        record.status = .filed
        record.filing = ReportRecord.Filing(filedAt: now, reference: reference, filedBy: caller.name)
        let filing = STRFiling(caseID: id, reference: reference, filedAt: now, filedBy: caller.name, sha256: record.sha256)
        let filings = RecordCollection<STRFiling>(STRFiling.collection, store: governance.store)
        guard try await governance.store.write(
            [try records.update(entry, to: record, tag: record.status.rawValue), try filings.insert(STRFiling.key(id), filing)], at: now,
            audit: caller.event(.reportsFile, role: role, digest: digest, result: "filed",
                                details: ["case": String(id), "reference": reference, "sha256": record.sha256]))
        else { throw KinkoError(.conflict, "the STR of case \(id) changed while it was filed; try again") }
        return record
    }

    /// Every stored report, optionally of one kind (STRs only for those who may read them).
    public func list(kind: ReportKind? = nil, by caller: Caller) async throws -> [ReportRecord] {
        let role = try await governance.authorize(caller, .reportsRead)
        return try await records.all().map(\.value).filter { record in
            (kind.map { record.kind == $0 } ?? true) && (record.kind != .str || Self.strReaders.contains(role))
        }.map { record in
            var listed = record
            listed.document = nil
            return listed
        }.sorted { ($0.kind.rawValue, $0.period) < ($1.kind.rawValue, $1.period) }
    }

    func authorizeRead(_ kind: ReportKind, by caller: Caller) async throws -> Role {
        let role = try await governance.authorize(caller, .reportsRead)
        if kind == .str, !Self.strReaders.contains(role) {
            throw try await governance.refused(KinkoError(.forbidden, "an STR is read by compliance, auditors and inspectors only", field: "kind"),
                                               by: caller, role: role, .reportsRead)
        }
        return role
    }
}

import Foundation
public import KinkoCore
public import KinkoGovernance
import Yams

/// What a record is kept as, for its retention period (DOMAIN.md §2).
public enum RecordClass: String, Sendable, Codable, CaseIterable {
    /// The books: the ledger, the segregation and customer-property reports, the CPA packs.
    case books
    /// Transaction records: the trade journal, monitoring alerts, cases and STRs.
    case transactions
    /// Identity-verification records (KYC).
    case verification
    /// Everything else.
    case others

    /// The law's minimum, in years: no adopted policy may keep a class for less.
    public var legalMinimumYears: Int {
        switch self {
        case .books: 10
        case .transactions, .verification: 7
        case .others: 5
        }
    }
}

/// How long each class of record is kept: a versioned setting, adopted under approval like a
/// rule set. A version below the law's minimum for any class is refused.
public struct RetentionPolicy: Sendable, Equatable {
    public var version: String
    public var years: [RecordClass: Int]

    public static let yearsMax = 30
    public static let yamlLengthMax = 4_096

    /// The law's periods: books 10 years, transactions and verification 7, others 5.
    public static let statutory = RetentionPolicy(version: "statutory", years: Dictionary(uniqueKeysWithValues: RecordClass.allCases.map { ($0, $0.legalMinimumYears) }))

    public static let defaultYAML = """
        # Retention periods in years (DOMAIN.md §2). No class may be kept less than the law requires:
        # books 10, transactions 7, verification 7, others 5.
        version: "2026.1"
        years:
          books: 10
          transactions: 7
          verification: 7
          others: 5

        """

    public func years(_ recordClass: RecordClass) -> Int { years[recordClass] ?? recordClass.legalMinimumYears }

    /// The end of a period of `years` from `start`: 365 days a year with leap days rounded up
    /// (one per four years, and one more), never past the end of time.
    public static func periodEnd(from start: TimestampNanoseconds, years: Int) -> TimestampNanoseconds {
        let years = UInt64(max(0, years))
        let span = years * 365 * 86_400_000_000_000 + (years / 4 + 1) * 86_400_000_000_000
        return start > TimestampNanoseconds.max - span ? .max : start + span
    }

    struct Document: Decodable {
        var version: String
        var years: [String: Int]
    }

    public init(version: String, years: [RecordClass: Int]) {
        self.version = version
        self.years = years
    }

    public init(yaml: String) throws(KinkoError) {
        guard yaml.utf8.count <= Self.yamlLengthMax else { throw KinkoError(.limitExceeded, "a retention policy is at most \(Self.yamlLengthMax) bytes", field: "retention") }
        let document: Document
        do { document = try YAMLDecoder().decode(Document.self, from: yaml) } catch {
            throw KinkoError(.invalidInput, "not a retention policy (version, and years per class): \(error)", field: "retention")
        }
        guard (1...32).contains(document.version.utf8.count) else { throw KinkoError(.invalidInput, "a version is 1–32 characters", field: "version") }
        var years: [RecordClass: Int] = [:]
        for (name, value) in document.years {
            guard let recordClass = RecordClass(rawValue: name) else {
                throw KinkoError(.invalidInput, "unknown record class \(name); one of \(RecordClass.allCases.map(\.rawValue).joined(separator: ", "))", field: "years.\(name)")
            }
            guard (recordClass.legalMinimumYears...Self.yearsMax).contains(value) else {
                throw KinkoError(.invalidInput, "\(name) records are kept \(recordClass.legalMinimumYears)–\(Self.yearsMax) years (the law's minimum is \(recordClass.legalMinimumYears)); got \(value)",
                                 field: "years.\(name)")
            }
            years[recordClass] = value
        }
        for recordClass in RecordClass.allCases where years[recordClass] == nil {
            throw KinkoError(.invalidInput, "is required", field: "years.\(recordClass.rawValue)")
        }
        self.init(version: document.version, years: years)
    }
}

extension RetentionPolicy: VersionedDocument {
    public static let settingsKind = "records.retention"
    public static let adoptionAction = "records.retention.adopt"
    public static let proposePermission = Permission.recordsRetain
    public static let readPermission = Permission.customersRead
    public static let noun = "retention policy"
    /// Another compliance officer or admin approves: one person cannot shorten what is kept.
    public static func adoptionPolicy() throws(KinkoError) -> ApprovalPolicy { try ApprovalPolicy(approvalsRequired: 1, eligibleRoles: [.compliance, .admin]) }
}

extension AdoptedDocuments where Document == RetentionPolicy {
    /// The policy in force: the adopted one, or the law's periods before any is.
    public func inForce() async throws -> RetentionPolicy {
        try await current() ?? .statutory
    }
}

/// A legal hold on a customer's records: while it stands, nothing of theirs is purged.
public struct LegalHold: Sendable, Codable, Equatable {
    public static let collection = "records.holds"
    public var customer: UInt64
    public var reason: String
    public var placedBy: String
    public var placedAt: TimestampNanoseconds
    public var liftedBy: String?
    public var liftedAt: TimestampNanoseconds?
    public var isActive: Bool { liftedAt == nil }
}

/// Retention: what is kept how long, legal holds, and purging a former customer's
/// identity-verification records once their period has run — filed by one person, approved by
/// another, refused (and audited) before the period ends or under a hold. Nothing else in Kinko
/// deletes: the ledger and the audit log are append-only.
public struct Retention: Sendable {
    public let customers: Customers
    public var governance: Governance { customers.governance }
    public var clock: any WallClock { customers.clock }

    public init(customers: Customers) { self.customers = customers }

    public var policies: AdoptedDocuments<RetentionPolicy> { AdoptedDocuments(governance: governance) }
    var holds: RecordCollection<LegalHold> { RecordCollection(LegalHold.collection, store: governance.store) }

    public static let purgeAction = "records.purge"

    /// The policy in force, or the law's periods before one is adopted.
    public func policy() async throws -> RetentionPolicy { try await policies.inForce() }

    public func hold(customer: UInt64, by caller: Caller) async throws -> LegalHold? {
        _ = try await governance.authorize(caller, .customersRead)
        return try await holds.get(RecordCollection<LegalHold>.key(customer)).map(\.value).flatMap { $0.isActive ? $0 : nil }
    }

    /// Places a legal hold (compliance or admin; a reason is required).
    public func placeHold(customer: UInt64, reason: String, by caller: Caller) async throws -> LegalHold {
        let digest = Governance.digest(["customer": .string(String(customer)), "reason": .string(reason)])
        let role = try await governance.authorize(caller, .recordsRetain, digest: digest)
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...KYCRecord.reasonLengthMax).contains(reason.count) else {
            throw try await governance.refused(KinkoError(.invalidInput, "a hold says why, in 1–\(KYCRecord.reasonLengthMax) characters", field: "reason"),
                                               by: caller, role: role, .recordsRetain, digest: digest)
        }
        let key = RecordCollection<LegalHold>.key(customer)
        let hold = LegalHold(customer: customer, reason: reason, placedBy: caller.name, placedAt: clock.now())
        let write: RecordWrite
        if let existing = try await holds.get(key) {
            guard !existing.value.isActive else {
                throw try await governance.refused(KinkoError(.conflict, "customer \(customer)'s records are already on hold", field: "customer"),
                                                   by: caller, role: role, .recordsRetain, digest: digest)
            }
            write = try holds.update(existing, to: hold, tag: "active")
        } else {
            write = try holds.insert(key, hold, tag: "active")
        }
        guard try await governance.store.write([write], at: hold.placedAt, audit: caller.event(
            .recordsRetain, role: role, digest: digest, result: "held", details: ["customer": String(customer), "reason": reason]))
        else { throw KinkoError(.conflict, "the hold changed meanwhile; try again", field: "customer") }
        return hold
    }

    /// Lifts a hold: someone other than who placed it.
    public func liftHold(customer: UInt64, by caller: Caller) async throws -> LegalHold {
        let digest = Governance.digest(["customer": .string(String(customer)), "lift": "hold"])
        let role = try await governance.authorize(caller, .recordsRetain, digest: digest)
        guard let entry = try await holds.get(RecordCollection<LegalHold>.key(customer)), entry.value.isActive else {
            throw try await governance.refused(KinkoError(.notFound, "customer \(customer)'s records are not on hold", field: "customer"),
                                               by: caller, role: role, .recordsRetain, digest: digest)
        }
        guard entry.value.placedBy != caller.name else {
            throw try await governance.refused(KinkoError(.forbidden, "\(caller.name) placed this hold; a second person lifts it", field: "customer"),
                                               by: caller, role: role, .recordsRetain, digest: digest)
        }
        var lifted = entry.value
        lifted.liftedBy = caller.name
        lifted.liftedAt = clock.now()
        guard try await governance.store.write([try holds.update(entry, to: lifted, tag: "lifted")], at: lifted.liftedAt ?? 0, audit: caller.event(
            .recordsRetain, role: role, digest: digest, result: "hold lifted", details: ["customer": String(customer), "placed_by": entry.value.placedBy]))
        else { throw KinkoError(.conflict, "the hold changed meanwhile; try again", field: "customer") }
        return lifted
    }

    /// Until when a customer's verification records must be kept: the relationship's end plus
    /// the verification period; nil while the relationship continues.
    public func keepUntil(_ record: KYCRecord) async throws -> TimestampNanoseconds? {
        guard let closed = record.closedAt else { return nil }
        return RetentionPolicy.periodEnd(from: closed, years: try await policy().years(.verification))
    }

    /// Why the customer's verification records may not be purged now, or nil if they may.
    func purgeRefusal(_ customer: UInt64) async throws -> KinkoError? {
        guard let record = try await customers.latest(customer) else { return KinkoError(.notFound, "no records of customer \(customer)", field: "customer") }
        if record.purgedAt != nil { return KinkoError(.conflict, "customer \(customer)'s verification records were purged already", field: "customer") }
        guard let until = try await keepUntil(record) else {
            return KinkoError(.conflict, "customer \(customer) is still a customer: records are kept for the relationship and \(try await policy().years(.verification)) years after it", field: "customer")
        }
        guard until <= clock.now() else {
            return KinkoError(.conflict, "customer \(customer)'s verification records are kept until \(until.jstDay) (\(try await policy().years(.verification)) years after the relationship ended)", field: "customer")
        }
        if let hold = try await holds.get(RecordCollection<LegalHold>.key(customer))?.value, hold.isActive {
            return KinkoError(.conflict, "customer \(customer)'s records are on legal hold since \(hold.placedAt.jstDay): \(hold.reason)", field: "customer")
        }
        return nil
    }

    /// Files the purge of a former customer's verification records for a second person's
    /// approval; refused before the period ends or under a hold.
    public func requestPurge(customer: UInt64, by caller: Caller) async throws -> ApprovalRequest {
        let payload: CanonicalJSON = ["customer": .string(String(customer)), "class": .string(RecordClass.verification.rawValue)]
        let role = try await governance.authorize(caller, .recordsRetain, digest: Governance.digest(payload))
        if let refusal = try await purgeRefusal(customer) {
            throw try await governance.refused(refusal, by: caller, role: role, .recordsRetain, digest: Governance.digest(payload))
        }
        let policy = try ApprovalPolicy(approvalsRequired: 1, eligibleRoles: [.compliance, .admin], expirySeconds: 7 * 86_400)
        return try await governance.submit(action: Self.purgeAction, payload: payload, policy: policy, by: caller, role: role, permission: .recordsRetain,
                                           details: ["customer": String(customer)])
    }

    /// Carries out an approved purge: every version's identity data is erased (name, birth,
    /// address, document hashes), leaving who changed what when, and that it was purged under
    /// which request. Checked again: a hold placed since the request stops it.
    @discardableResult
    public func executePurge(request id: ApprovalRequestID, by caller: Caller) async throws -> Int {
        let request = try await governance.requireRequest(id)
        let role = try await governance.authorize(caller, .recordsRetain, digest: request.digest)
        guard request.action == Self.purgeAction, case .object(let fields) = request.payload, case .string(let text)? = fields["customer"],
            let customer = UInt64(text)
        else { throw KinkoError(.invalidInput, "request \(id) is not a purge", field: "request") }
        let evaluation = try await governance.requireApproved(id, "purging customer \(customer)'s records", by: caller, role: role, .recordsRetain,
                                                              digest: request.digest)
        if let refusal = try await purgeRefusal(customer) {
            throw try await governance.refused(refusal, by: caller, role: role, .recordsRetain, digest: request.digest)
        }
        let now = clock.now()
        var writes: [RecordWrite] = [.executeRequest(id, revision: request.revision)]
        let prefix = RecordCollection<KYCRecord>.key(customer) + "/"
        var count = 0
        for entry in try await customers.versions.list(after: prefix) where entry.key.hasPrefix(prefix) {
            writes.append(try customers.versions.update(entry, to: Self.erased(entry.value, at: now, request: id), tag: RecordCollection<KYCRecord>.key(customer)))
            count += 1
        }
        if let current = try await customers.current.get(RecordCollection<KYCRecord>.key(customer)) {
            writes.append(try customers.current.update(current, to: Self.erased(current.value, at: now, request: id), tag: "purged"))
        }
        guard try await governance.store.write(writes, at: now, audit: caller.event(
            .recordsRetain, role: role, digest: request.digest, result: "purged",
            details: ["customer": String(customer), "versions": String(count), "request": id.description,
                      "approvers": evaluation.counted.map(\.description).joined(separator: ",")]))
        else { throw KinkoError(.conflict, "customer \(customer)'s records changed while they were purged; try again", field: "customer") }
        return count
    }

    static func erased(_ record: KYCRecord, at time: TimestampNanoseconds, request: ApprovalRequestID) -> KYCRecord {
        var erased = record
        erased.name = ""
        erased.dateOfBirth = nil
        erased.address = nil
        erased.occupation = nil
        erased.documents = []
        erased.declaredIncomeJPY = 0
        erased.declaredAssetsJPY = 0
        erased.purgedAt = time
        erased.purgeRequest = request.description
        return erased
    }
}

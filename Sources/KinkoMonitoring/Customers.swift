import Crypto
import Foundation
public import KinkoCore
public import KinkoGovernance

/// How a customer's identity was verified under the Act on Prevention of Transfer of Criminal
/// Proceeds (犯罪収益移転防止法) and its ordinance's methods.
public enum VerificationMethod: String, Sendable, Codable, CaseIterable {
    /// Face to face, with an original photo ID.
    case inPerson = "in_person"
    /// Online: a photo of the customer and of a photo ID (ホ方式).
    case onlinePhotoID = "online_photo_id"
    /// Online: the IC chip of a My Number card or other IC ID, read with its signature (ワ方式/JPKI).
    case onlineICChip = "online_ic_chip"
    /// Documents by post and a registered letter sent to the address on them.
    case postal
}

public enum RiskRating: String, Sendable, Codable, CaseIterable, Comparable {
    case low, medium, high
    var rank: Int {
        switch self {
        case .low: 0
        case .medium: 1
        case .high: 2
        }
    }

    public static func < (a: RiskRating, b: RiskRating) -> Bool { a.rank < b.rank }
}

/// One identity document seen: its kind and its number, stored only as a salted SHA-256 (the
/// number is an identifier; a salt per document makes a table of all numbers useless).
public struct IdentityDocument: Sendable, Codable, Equatable {
    public static let kinds = ["my_number_card", "driver_license", "passport", "residence_card", "health_insurance", "other"]
    public var kind: String
    public var numberSalt: String
    public var numberSHA256: String

    /// Hashes `number` with a fresh salt; the number itself is not kept.
    public static func hashing(kind: String, number: String) throws(KinkoError) -> IdentityDocument {
        guard kinds.contains(kind) else {
            throw KinkoError(.invalidInput, "a document kind is one of \(kinds.joined(separator: ", ")); got \"\(kind.prefix(40))\"", field: "documents")
        }
        let trimmed = number.trimmingCharacters(in: .whitespaces)
        guard (4...64).contains(trimmed.count) else { throw KinkoError(.invalidInput, "a document number is 4–64 characters", field: "documents") }
        let salt = Hex.encode((0..<16).map { _ in UInt8.random(in: 0...255) })
        return IdentityDocument(kind: kind, numberSalt: salt, numberSHA256: digest(salt: salt, number: trimmed))
    }

    /// Whether `number` is the number this document was recorded with.
    public func matches(_ number: String) -> Bool { Self.digest(salt: numberSalt, number: number.trimmingCharacters(in: .whitespaces)) == numberSHA256 }

    static func digest(salt: String, number: String) -> String { Hex.encode(Array(SHA256.hash(data: Array("\(salt)/\(number)".utf8)))) }
}

/// One version of a customer's record: identity, how and when it was verified and by whom, the
/// risk rating, PEP and sanctions screening, and the next review. Versions are never
/// overwritten: every change is a new version naming who made it and why.
public struct KYCRecord: Sendable, Codable, Equatable {
    public var customer: UInt64
    public var version: Int
    public var name: String
    public var dateOfBirth: String?
    public var address: String?
    public var country: String
    public var occupation: String?
    public var method: VerificationMethod?
    public var documents: [IdentityDocument]
    public var verifiedAt: TimestampNanoseconds?
    public var verifiedBy: String?
    public var riskRating: RiskRating
    public var pep: Bool
    /// `clear`, `potential_match` or `match`, against the lists in force when screened.
    public var sanctionsScreening: String
    public var screenedAt: TimestampNanoseconds?
    /// The JST day the customer is due for re-verification.
    public var nextReviewDate: String
    public var declaredIncomeJPY: UInt64
    public var declaredAssetsJPY: UInt64
    /// Set when the relationship ended (the retention period runs from then).
    public var closedAt: TimestampNanoseconds?
    public var changedBy: String
    public var changedAt: TimestampNanoseconds
    public var reason: String
    /// Set when the identity data was erased after its retention period (`Retention`).
    public var purgedAt: TimestampNanoseconds? = nil
    public var purgeRequest: String? = nil

    public var isVerified: Bool { verifiedAt != nil && method != nil && !documents.isEmpty }

    public static let screeningResults = ["clear", "potential_match", "match", "pending"]
    public static let reasonLengthMax = 500
    public static let textLengthMax = 200
    /// Versions one customer may have (a new one per change; years of reviews fit).
    public static let versionsMax = 10_000
    /// How long after a verification the next review is due, by risk rating (practice).
    public static func reviewYears(_ rating: RiskRating) -> Int {
        switch rating {
        case .high: 1
        case .medium: 2
        case .low: 3
        }
    }
}

/// A piece of KYC work someone must do: a re-verification that is due, a large spot trade by
/// an unverified customer, a risk rating monitoring raised.
public struct KYCWorkItem: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case reverificationDue = "reverification_due"
        case unverifiedLargeTrade = "unverified_large_trade"
        case riskRaised = "risk_raised"
    }
    public var kind: Kind
    public var customer: UInt64
    public var raisedAt: TimestampNanoseconds
    public var reason: String
    public var event: String?
    public var doneAt: TimestampNanoseconds?
    public var doneBy: String?

    public static let collection = "kyc.work"
}

/// A payment of ¥30,000,000 or more to or from abroad, noted when monitoring ingested it, for
/// the FEFTA report (Art. 55).
public struct CrossBorderPayment: Sendable, Codable, Equatable {
    public static let thresholdJPY: UInt64 = 30_000_000
    public static let collection = "fefta.payments"
    public var event: String
    public var time: TimestampNanoseconds
    public var customer: UInt64
    /// `inbound` (a deposit from abroad) or `outbound`.
    public var direction: String
    public var country: String
    public var asset: String?
    public var amount: String?
    public var amountJPY: UInt64
    public var counterparty: String

    /// The payment an event is, if it crosses the border at or above the threshold.
    public static func of(_ event: MonitoringEvent) -> CrossBorderPayment? {
        guard event.kind == .deposit || event.kind == .withdrawal, event.amountJPY >= thresholdJPY,
            let country = event.vaspCountry?.uppercased(), country != "JP", country.count == 2
        else { return nil }
        return CrossBorderPayment(event: event.id, time: event.time, customer: event.customer, direction: event.kind == .deposit ? "inbound" : "outbound",
                                  country: country, asset: event.asset, amount: event.amount.map { String($0.units) }, amountJPY: event.amountJPY,
                                  counterparty: event.vasp ?? event.address ?? "")
    }
}

/// That a case's STR was filed with the FIU: what lets the case close as `str_filed`.
public struct STRFiling: Sendable, Codable, Equatable {
    public static let collection = "str.filings"
    public var caseID: UInt64
    public var reference: String
    public var filedAt: TimestampNanoseconds
    public var filedBy: String
    public var sha256: String
    public static func key(_ caseID: UInt64) -> String { RecordCollection<STRFiling>.key(caseID) }

    public init(caseID: UInt64, reference: String, filedAt: TimestampNanoseconds, filedBy: String, sha256: String) {
        self.caseID = caseID
        self.reference = reference
        self.filedAt = filedAt
        self.filedBy = filedBy
        self.sha256 = sha256
    }
}

/// Customers' identity-verification records, versioned, and the KYC work they raise.
public struct Customers: Sendable {
    public let governance: Governance
    public let monitoring: Monitoring
    public let clock: any WallClock

    public init(governance: Governance, monitoring: Monitoring, clock: any WallClock) {
        self.governance = governance
        self.monitoring = monitoring
        self.clock = clock
    }

    var versions: RecordCollection<KYCRecord> { RecordCollection("kyc.versions", store: governance.store) }
    var current: RecordCollection<KYCRecord> { RecordCollection("kyc.current", store: governance.store) }
    var work: RecordCollection<KYCWorkItem> { RecordCollection(KYCWorkItem.collection, store: governance.store) }

    static func versionKey(_ customer: UInt64, _ version: Int) -> String {
        RecordCollection<KYCRecord>.key(customer) + "/" + String(format: "%06d", version)
    }

    /// What a change says; fields left nil keep the previous version's value.
    public struct Change: Sendable {
        public var name: String?
        public var dateOfBirth: String?
        public var address: String?
        public var country: String?
        public var occupation: String?
        public var method: VerificationMethod?
        /// Documents seen in this verification: (kind, number); numbers are hashed at once.
        public var documents: [(kind: String, number: String)]?
        public var riskRating: RiskRating?
        public var pep: Bool?
        public var sanctionsScreening: String?
        public var declaredIncomeJPY: UInt64?
        public var declaredAssetsJPY: UInt64?
        public var closed: Bool?
        public var reason: String
        public init(reason: String) { self.reason = reason }
    }

    /// The latest version, nil for a customer never recorded.
    public func latest(_ customer: UInt64) async throws -> KYCRecord? { try await current.get(RecordCollection<KYCRecord>.key(customer))?.value }

    public func record(_ customer: UInt64, by caller: Caller) async throws -> KYCRecord {
        _ = try await governance.authorize(caller, .customersRead)
        guard let found = try await latest(customer) else { throw KinkoError(.notFound, "no KYC record for customer \(customer)", field: "customer") }
        return found
    }

    /// Every version, oldest first.
    public func history(_ customer: UInt64, by caller: Caller) async throws -> [KYCRecord] {
        _ = try await governance.authorize(caller, .customersRead)
        let prefix = RecordCollection<KYCRecord>.key(customer) + "/"
        var found: [KYCRecord] = []
        var after = prefix
        while true {
            let page = try await versions.list(after: after)
            let mine = page.prefix { $0.key.hasPrefix(prefix) }
            found += mine.map(\.value)
            guard mine.count == page.count, page.count == RecordLimits.pageMax, let last = page.last else { break }
            after = last.key
        }
        return found
    }

    /// Records a new version. Identity and verification (method, documents) are recorded by
    /// operations or compliance (`customers.verify`); the risk rating, PEP and sanctions result
    /// only by compliance (`customers.rate`). The monitoring profile follows the new version.
    @discardableResult
    public func change(_ customer: UInt64, _ change: Change, by caller: Caller) async throws -> KYCRecord {
        let digest = Governance.digest(["customer": .string(String(customer)), "reason": .string(change.reason)])
        let rates = change.riskRating != nil || change.pep != nil || change.sanctionsScreening != nil
        let role = try await governance.authorize(caller, rates ? .customersRate : .customersVerify, digest: digest)
        let permission: Permission = rates ? .customersRate : .customersVerify
        func invalid(_ message: String, _ field: String) async throws -> KinkoError {
            try await governance.refused(KinkoError(.invalidInput, message, field: field), by: caller, role: role, permission, digest: digest)
        }
        guard customer > 0 else { throw try await invalid("a customer id is a positive number", "customer") }
        let reason = change.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...KYCRecord.reasonLengthMax).contains(reason.count) else {
            throw try await invalid("say why, in 1–\(KYCRecord.reasonLengthMax) characters", "reason")
        }
        for (field, value) in [("name", change.name), ("address", change.address), ("occupation", change.occupation)] {
            if let value, !(1...KYCRecord.textLengthMax).contains(value.count) {
                throw try await invalid("\(field) is 1–\(KYCRecord.textLengthMax) characters", field)
            }
        }
        if let birth = change.dateOfBirth {
            guard (try? CalendarDay.epochSeconds(birth, field: "date_of_birth")) != nil || birth.hasPrefix("19") && birth.count == 10 else {
                throw try await invalid("a date of birth is written YYYY-MM-DD", "date_of_birth")
            }
        }
        if let country = change.country, country.count != 2 || !country.allSatisfy({ $0.isASCII && $0.isUppercase }) {
            throw try await invalid("a country is an ISO 3166-1 alpha-2 code such as JP", "country")
        }
        if let screening = change.sanctionsScreening, !KYCRecord.screeningResults.contains(screening) {
            throw try await invalid("a sanctions screening result is one of \(KYCRecord.screeningResults.joined(separator: ", "))", "sanctions")
        }
        var documents: [IdentityDocument]?
        if let given = change.documents {
            guard (1...5).contains(given.count) else { throw try await invalid("a verification names 1–5 documents", "documents") }
            do { documents = try given.map { try IdentityDocument.hashing(kind: $0.kind, number: $0.number) } } catch let error as KinkoError {
                throw try await governance.refused(error, by: caller, role: role, permission, digest: digest)
            }
        }
        let now = clock.now()
        let key = RecordCollection<KYCRecord>.key(customer)
        let previousEntry = try await current.get(key)
        let previous = previousEntry?.value
        guard previous != nil || change.name != nil else { throw try await invalid("a new customer's record names them", "name") }
        if previous?.purgedAt != nil {
            throw try await governance.refused(KinkoError(.conflict, "customer \(customer)'s records were purged; a returning customer is recorded under a new id", field: "customer"),
                                               by: caller, role: role, permission, digest: digest)
        }
        let version = (previous?.version ?? 0) + 1
        guard version <= KYCRecord.versionsMax else {
            throw try await governance.refused(KinkoError(.limitExceeded, "customer \(customer) has \(KYCRecord.versionsMax) versions", field: "customer"),
                                               by: caller, role: role, permission, digest: digest)
        }
        if (change.method != nil) != (documents != nil) {
            throw try await invalid("a verification names its method and the documents seen together", change.method == nil ? "method" : "documents")
        }
        let verifies = change.method != nil
        let rating = change.riskRating ?? previous?.riskRating ?? .medium
        let verifiedAt = verifies ? now : previous?.verifiedAt
        let reviewBase = verifiedAt ?? now
        let nextReview = CalendarDay.text(daysSinceEpoch: Int64(reviewBase / 1_000_000_000 + 9 * 3_600) / 86_400 + Int64(365 * KYCRecord.reviewYears(rating)))
        let record = KYCRecord(
            customer: customer, version: version, name: change.name ?? previous?.name ?? "", dateOfBirth: change.dateOfBirth ?? previous?.dateOfBirth,
            address: change.address ?? previous?.address, country: change.country ?? previous?.country ?? "JP",
            occupation: change.occupation ?? previous?.occupation, method: change.method ?? previous?.method,
            documents: documents ?? previous?.documents ?? [], verifiedAt: verifiedAt, verifiedBy: verifies ? caller.name : previous?.verifiedBy,
            riskRating: rating, pep: change.pep ?? previous?.pep ?? false, sanctionsScreening: change.sanctionsScreening ?? previous?.sanctionsScreening ?? "pending",
            screenedAt: change.sanctionsScreening != nil ? now : previous?.screenedAt, nextReviewDate: nextReview,
            declaredIncomeJPY: change.declaredIncomeJPY ?? previous?.declaredIncomeJPY ?? 0, declaredAssetsJPY: change.declaredAssetsJPY ?? previous?.declaredAssetsJPY ?? 0,
            closedAt: change.closed == true ? now : change.closed == false ? nil : previous?.closedAt,
            changedBy: caller.name, changedAt: now, reason: reason)
        var writes = [try versions.insert(Self.versionKey(customer, version), record, tag: RecordCollection<KYCRecord>.key(customer))]
        if let previousEntry {
            writes.append(try current.update(previousEntry, to: record, tag: record.riskRating.rawValue))
        } else {
            writes.append(try current.insert(key, record, tag: record.riskRating.rawValue))
        }
        // A verification settles an open large-trade item and a due review.
        if verifies {
            for item in try await work.list(tag: "open:\(customer)") where item.value.kind != .riskRaised {
                var done = item.value
                done.doneAt = now
                done.doneBy = caller.name
                writes.append(try work.update(item, to: done, tag: "done:\(customer)"))
            }
        }
        guard try await governance.store.write(writes, at: now, audit: caller.event(
            permission, role: role, digest: digest, result: "version \(version)",
            details: ["customer": String(customer), "version": String(version), "reason": reason, "verified": String(verifies),
                      "risk": record.riskRating.rawValue]))
        else { throw KinkoError(.conflict, "customer \(customer)'s record changed meanwhile; read it again and retry", field: "customer") }
        // The monitoring profile reads from the record (income and assets for the income rules).
        try await monitoring.store.importProfiles(
            [CustomerProfile(customer: customer, name: record.name, country: record.country, declaredIncomeJPY: record.declaredIncomeJPY,
                             declaredAssetsJPY: record.declaredAssetsJPY)],
            audit: caller.event(permission, role: role, digest: digest, result: "profile", details: ["customer": String(customer)]))
        return record
    }

    /// Open KYC work, and re-verifications due by `day` (JST), oldest first.
    public func workItems(dueBy day: String? = nil, by caller: Caller) async throws -> [KYCWorkItem] {
        _ = try await governance.authorize(caller, .customersRead)
        let today = day ?? clock.now().jstDay
        _ = try CalendarDay.parse(today, field: "day")
        var items = try await work.all().map(\.value).filter { $0.doneAt == nil }
        for record in try await current.all().map(\.value) where record.closedAt == nil && record.nextReviewDate <= today {
            items.append(KYCWorkItem(kind: .reverificationDue, customer: record.customer, raisedAt: clock.now(),
                                     reason: "re-verification was due \(record.nextReviewDate) (risk \(record.riskRating.rawValue))", event: nil))
        }
        return items.sorted { ($0.raisedAt, $0.customer) < ($1.raisedAt, $1.customer) }
    }

    /// What monitoring raises after a batch: a spot trade at or over ¥2,000,000 by a customer
    /// without a verified record, and a risk review for a customer rated below high whose event
    /// was held or blocked. Keyed by event, so a retry adds nothing twice.
    static let largeTradeJPY: UInt64 = 2_000_000

    /// Attempts at storing a batch's follow-ups when another batch's changed the same records.
    static let followUpAttemptsMax = 3

    /// Stores what a batch raises, in one write. Two events of one customer raise one risk
    /// review; when another batch wrote a record meanwhile the follow-ups are worked out again,
    /// and they are never dropped silently.
    func raise(after events: [MonitoringEvent], outcomes: [String: Outcome], by caller: Caller, role: Role) async throws {
        for _ in 0..<Self.followUpAttemptsMax {
            let (writes, payments) = try await followUps(after: events, outcomes: outcomes)
            guard !writes.isEmpty else { return }
            if try await governance.store.write(writes, at: clock.now(), audit: caller.event(
                .monitorIngest, role: role, digest: [], result: "follow-ups",
                details: ["work_items": String(writes.count - payments), "cross_border_payments": String(payments)]))
            {
                return
            }
        }
        throw KinkoError(.conflict, "the batch was evaluated and stored, but its KYC work items and cross-border payments changed meanwhile "
                         + "\(Self.followUpAttemptsMax) times; send the batch again to record them")
    }

    private func followUps(after events: [MonitoringEvent], outcomes: [String: Outcome]) async throws -> (writes: [RecordWrite], payments: Int) {
        var writes: [RecordWrite] = []
        var fefta: [CrossBorderPayment] = []
        // Keys this batch writes already: a second event of the same customer adds nothing.
        var planned = Set<String>()
        let now = clock.now()
        let payments = RecordCollection<CrossBorderPayment>(CrossBorderPayment.collection, store: governance.store)
        for event in events {
            if let payment = CrossBorderPayment.of(event) {
                let key = RecordCollection<CrossBorderPayment>.key(event.time) + "/" + String(event.id.prefix(150))
                if planned.insert("payment/" + key).inserted, try await payments.get(key) == nil {
                    writes.append(try payments.insert(key, payment, tag: payment.direction))
                    fefta.append(payment)
                }
            }
            let large = event.kind == .trade && event.amountJPY >= Self.largeTradeJPY
            let flagged = outcomes[event.id].map { $0 != .clear } ?? false
            // Only these read the customer's record: most events pass without a lookup.
            guard large || flagged else { continue }
            let record = try await latest(event.customer)
            if event.kind == .trade, event.amountJPY >= Self.largeTradeJPY, record?.isVerified != true {
                let key = "trade/" + String(event.id.prefix(150))
                if planned.insert(key).inserted, try await work.get(key) == nil {
                    writes.append(try work.insert(key, KYCWorkItem(
                        kind: .unverifiedLargeTrade, customer: event.customer, raisedAt: now,
                        reason: "a spot trade of \(MonitoringEngine.jpy(event.amountJPY)), at or over ¥2,000,000, by a customer without a verified identity",
                        event: event.id), tag: "open:\(event.customer)"))
                }
            }
            if let outcome = outcomes[event.id], outcome != .clear, record.map({ $0.riskRating < .high }) ?? true {
                let key = "risk/" + RecordCollection<KYCWorkItem>.key(event.customer)
                guard planned.insert(key).inserted else { continue }
                let existing = try await work.get(key)
                if existing == nil {
                    writes.append(try work.insert(key, KYCWorkItem(
                        kind: .riskRaised, customer: event.customer, raisedAt: now,
                        reason: "monitoring \(outcome.rawValue == "block" ? "blocked" : "held") event \(event.id); the customer is rated \(record?.riskRating.rawValue ?? "unrated"): review the rating",
                        event: event.id), tag: "open:\(event.customer)"))
                } else if let existing, existing.value.doneAt != nil {
                    var reopened = existing.value
                    reopened.doneAt = nil
                    reopened.doneBy = nil
                    reopened.raisedAt = now
                    reopened.event = event.id
                    writes.append(try work.update(existing, to: reopened, tag: "open:\(event.customer)"))
                }
            }
        }
        return (writes, fefta.count)
    }

    /// Closes a work item with what was done.
    public func complete(_ key: String, note: String, by caller: Caller) async throws -> KYCWorkItem {
        let digest = Governance.digest(["item": .string(key), "note": .string(note)])
        let role = try await governance.authorize(caller, .customersRate, digest: digest)
        guard let entry = try await work.get(key), entry.value.doneAt == nil else {
            throw try await governance.refused(KinkoError(.notFound, "no open KYC work item \(key)", field: "item"), by: caller, role: role, .customersRate,
                                               digest: digest)
        }
        var done = entry.value
        done.doneAt = clock.now()
        done.doneBy = caller.name
        guard try await governance.store.write([try work.update(entry, to: done, tag: "done:\(done.customer)")], at: done.doneAt ?? 0,
                                              audit: caller.event(.customersRate, role: role, digest: digest, result: "done", details: ["item": key, "note": note]))
        else { throw KinkoError(.conflict, "work item \(key) changed meanwhile", field: "item") }
        return done
    }

    /// Open work items with their keys (for `complete`).
    public func openWork(by caller: Caller) async throws -> [(key: String, item: KYCWorkItem)] {
        _ = try await governance.authorize(caller, .customersRead)
        return try await work.all().filter { $0.value.doneAt == nil }.map { ($0.key, $0.value) }
    }
}

extension Monitoring {
    /// Cross-border payments noted from `from` through `through`.
    public func crossBorderPayments(from: TimestampNanoseconds, through: TimestampNanoseconds, by caller: Caller) async throws -> [CrossBorderPayment] {
        _ = try await governance.authorize(caller, .reportsRead)
        let payments = RecordCollection<CrossBorderPayment>(CrossBorderPayment.collection, store: governance.store)
        var found: [CrossBorderPayment] = []
        var after = RecordCollection<CrossBorderPayment>.key(from == 0 ? 0 : from - 1)
        while true {
            let page = try await payments.list(after: after)
            let within = page.map(\.value).prefix { $0.time <= through }
            found += within.filter { $0.time >= from }
            guard within.count == page.count, page.count == RecordLimits.pageMax, let last = page.last else { return found }
            after = last.key
        }
    }

    /// The filing of a case's STR, if it was filed.
    public func strFiling(case id: UInt64) async throws -> STRFiling? {
        try await RecordCollection<STRFiling>(STRFiling.collection, store: governance.store).get(STRFiling.key(id))?.value
    }
}

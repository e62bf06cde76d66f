import Crypto
import Foundation
public import KinkoCore
public import KinkoGovernance

/// What a batch starts from (`MonitoringStore.batchStart`).
public struct BatchStart: Sendable {
    public var batches: UInt64
    public var evaluated: [String: (outcome: Outcome, alert: UInt64?)]
    public var listVersions: [String]
    public var jurisdictions: TravelRuleJurisdictions?

    public init(
        batches: UInt64,
        evaluated: [String: (outcome: Outcome, alert: UInt64?)],
        listVersions: [String],
        jurisdictions: TravelRuleJurisdictions? = nil
    ) {
        self.batches = batches
        self.evaluated = evaluated
        self.listVersions = listVersions
        self.jurisdictions = jurisdictions
    }
}

/// What a batch will read, fetched before it is evaluated (`MonitoringStore.prefetch`).
public struct PrefetchedState: Sendable {
    public var customers: [UInt64: [UInt8]]
    public var ips: [String: [UInt8]]
    public var profiles: [CustomerProfile]

    public init(customers: [UInt64: [UInt8]], ips: [String: [UInt8]], profiles: [CustomerProfile]) {
        self.customers = customers
        self.ips = ips
        self.profiles = profiles
    }
}

/// What happened to one line of an ingested batch.
public struct IngestResult: Sendable, Equatable {
    public enum Status: String, Sendable { case evaluated, duplicate, rejected }
    public var line: Int
    public var event: String?
    public var status: Status
    public var outcome: Outcome?
    public var alert: UInt64?
    public var rules: [String]
    public var message: String?
}

/// Where monitoring keeps lists, profiles, per-customer state, alerts and cases.
/// Every write appends its audit event in the same transaction.
public protocol MonitoringStore: MonitoringStateSource, Sendable {
    func addressLists() async throws -> [AddressList]
    /// The lists in force as `kind/asset/version`, sorted: what identifies them without reading
    /// their addresses (a change means the cached watchlists are stale).
    func addressListVersions() async throws -> [String]
    /// Replaces the list of its kind and asset; `alongside` (the approval's execution) commits with it.
    func importAddressList(_ list: AddressList, at time: TimestampNanoseconds, alongside: [RecordWrite], audit: AuditEvent) async throws
    func jurisdictions() async throws -> TravelRuleJurisdictions?
    func setJurisdictions(_ jurisdictions: TravelRuleJurisdictions, alongside: [RecordWrite], audit: AuditEvent) async throws

    func importProfiles(_ profiles: [CustomerProfile], audit: AuditEvent) async throws
    func profiles(_ customers: [UInt64]) async throws -> [CustomerProfile]
    /// In one read, ahead of a batch (so that the engine finds it in memory): the stored state
    /// of those of `customers` and `ips` that have any, and the profiles of `customers`.
    func prefetch(customers: [UInt64], ips: [String]) async throws -> PrefetchedState

    /// What a batch starts from, in one read: the number of batches recorded (recording checks
    /// nobody recorded one meanwhile), which of `eventIDs` were evaluated before (with their
    /// outcome and alert), the lists in force and the travel-rule jurisdictions.
    func batchStart(eventIDs: [String]) async throws -> BatchStart
    /// Stores a batch's verdicts, its alerts, its travel-rule messages (stamped `time`) and the
    /// changed state at once, if `expectedBatches` batches are recorded; returns the alert id of
    /// each alerting event, or nil on a conflict.
    func recordBatch(expectedBatches: UInt64, evaluations: [Evaluation], messages: [TravelRuleMessage], customers: [(UInt64, [UInt8])],
                     ips: [(String, [UInt8])], at time: TimestampNanoseconds, audit: AuditEvent) async throws -> [String: UInt64]?

    /// The stored travel-rule message of a transfer's event, or nil.
    func travelRuleMessage(event: String) async throws -> TravelRuleMessage?
    /// A customer's stored travel-rule messages after `cursor` (by time, then event), oldest
    /// first, at most `limit`.
    func travelRuleMessages(customer: UInt64, after cursor: (time: TimestampNanoseconds, event: String)?, limit: Int) async throws -> [TravelRuleMessage]

    /// Up to `limit` stored transfers between customers after `cursor` (by time, then event id),
    /// oldest first.
    func customerTransfers(after cursor: (time: TimestampNanoseconds, event: String)?, limit: Int) async throws -> [CustomerTransfer]
    /// The stored transfers between customers among `events` (by event id; unknown ids are absent).
    func customerTransfers(events: [String]) async throws -> [CustomerTransfer]
    /// Alerts raised at or after `since`, counted per JST day (days numbered from 1970-01-01
    /// JST, `(raised + 9 h) / 24 h`); days with none are absent.
    func alertsRaisedPerDay(since: TimestampNanoseconds) async throws -> [Int64: Int]
    /// Raises alerts a scan found (the network scan's motifs, market surveillance's alerts), each
    /// keyed by its `event`: those with no alert of that key yet are inserted, open; returns
    /// their ids by key.
    func recordScanAlerts(_ alerts: [Evaluation], at time: TimestampNanoseconds, audit: AuditEvent) async throws -> [String: UInt64]
    /// Appends `hit` to alert `id` if its hits are still `previous` and it is open or in a case;
    /// false, with nothing written, otherwise. The audit event commits with it.
    func appendAlertHit(_ id: UInt64, after previous: [RuleHit], hit: RuleHit, audit: AuditEvent) async throws -> Bool
    /// Where the alerts raised for these event keys stand, by key (keys with no alert are absent).
    func alertRefs(events: [String]) async throws -> [String: AlertRef]

    /// Up to `limit` alerts with ids above `after` (in `status`, when given), oldest first.
    func alerts(status: AlertStatus?, after: UInt64, limit: Int) async throws -> [MonitoringAlert]
    /// The number of alerts per status (`open`, `in_case`, `dismissed`, …).
    func alertCounts() async throws -> [String: Int]
    func alert(_ id: UInt64) async throws -> MonitoringAlert?
    /// Moves alerts to `status` if each is still `expected` (when given); false, with nothing
    /// written, if one is not. `alongside` commits with it.
    func setAlertStatus(_ ids: [UInt64], expected: AlertStatus?, status: AlertStatus, caseID: UInt64?, alongside: [RecordWrite],
                        audit: AuditEvent) async throws -> Bool

    /// Up to `limit` cases with ids above `after`, oldest first, each with its alerts.
    func cases(after: UInt64, limit: Int) async throws -> [MonitoringCase]
    func caseRecord(_ id: UInt64) async throws -> MonitoringCase?
    /// Inserts (id 0) or replaces a case and moves its alerts into it; returns the stored case.
    func saveCase(_ record: MonitoringCase, audit: AuditEvent) async throws -> MonitoringCase
}

/// Real-time AML/CFT monitoring: rule sets under approval, lists, KYC profiles, ingestion with
/// a verdict per event, alerts, cases and STR drafts. Every command checks the caller's role
/// and is audited.
public struct Monitoring: Sendable {
    public let governance: Governance
    public let store: any MonitoringStore
    public let clock: any WallClock
    public var reportingEntity: String

    public static let profilesPerImportMax = 1_000_000

    /// The watchlists of the lists in force, kept between batches (up to 1,000,000 addresses a
    /// list): reloaded only when a list's version changes.
    public let watchlists = WatchlistCache()
    /// The engine kept between batches (one per process: share this `Monitoring`).
    public let runtime: MonitoringRuntime

    public init(governance: Governance, store: any MonitoringStore, clock: any WallClock = SystemWallClock(), reportingEntity: String = "Kinko exchange",
                runtime: MonitoringRuntime = MonitoringRuntime()) {
        self.governance = governance
        self.runtime = runtime
        self.store = store
        self.clock = clock
        self.reportingEntity = reportingEntity
    }

    // MARK: Rule sets

    /// Monitoring's rule sets: one compliance officer proposes, another approves; every alert
    /// records the version in force.
    public var ruleSets: AdoptedDocuments<MonitoringRules> { AdoptedDocuments(governance: governance, cache: ruleCache) }
    /// The rule set in force, parsed once per version (every batch reads which one it is).
    public let ruleCache = ParsedDocumentCache<MonitoringRules>()
    /// The law-dated regulatory settings in force (the travel rule's threshold), parsed once per version.
    public let regulatoryCache = ParsedDocumentCache<RegulatorySettings>()

    // MARK: Lists and profiles

    public static let listReplacementAction = "monitor.lists.replace"
    public static let jurisdictionsAction = "monitor.jurisdictions.replace"
    public static let dismissalAction = "monitor.alerts.dismiss"
    /// Replacing a sanctions or stolen-address list, the travel-rule jurisdictions, or dismissing
    /// a blocking alert: one more compliance officer (the one asking does not count).
    public static let secondOfficerPolicy = try? ApprovalPolicy(approvalsRequired: 1, eligibleRoles: [.compliance], expirySeconds: 3 * 86_400)

    /// The list's identity for approval: SHA-256 over its kind, asset, version and sorted
    /// addresses, so the approver approves exactly these addresses.
    public static func digest(of list: AddressList) -> String {
        let lines = ["kinko.address-list.v1", list.kind.rawValue, list.asset, list.version] + list.addresses.sorted()
        return Hex.encode(SHA256.hash(data: Array(lines.joined(separator: "\n").utf8)))
    }

    /// Files a replacement of the list of its kind and asset for a second compliance officer's
    /// approval (an emptied or shortened list would stop matching sanctioned addresses).
    public func proposeList(_ list: AddressList, by caller: Caller) async throws -> ApprovalRequest {
        let current = try await store.addressLists().first { $0.kind == list.kind && $0.asset == list.asset }
        let payload: CanonicalJSON = [
            "kind": .string(list.kind.rawValue), "asset": .string(list.asset), "version": .string(list.version),
            "addresses": .string(String(list.addresses.count)), "list_sha256": .string(Self.digest(of: list)),
            "replaces_version": .string(current?.version ?? ""), "replaces_addresses": .string(String(current?.addresses.count ?? 0)),
            "removed": .string(String(current.map { $0.addresses.subtracting(list.addresses).count } ?? 0)),
        ]
        let role = try await governance.authorize(caller, .monitorListsManage, digest: Governance.digest(payload))
        return try await governance.submit(action: Self.listReplacementAction, payload: payload, policy: Self.secondOfficerPolicy, by: caller, role: role,
                                           permission: .monitorListsManage, details: ["list": list.kind.rawValue, "asset": list.asset, "version": list.version])
    }

    /// Puts an approved list in force: the list given must be exactly the one approved (same
    /// digest), and the approval is used once, in the same transaction.
    public func activateList(_ list: AddressList, request id: ApprovalRequestID, by caller: Caller) async throws {
        let request = try await governance.requireRequest(id)
        let role = try await governance.authorize(caller, .monitorListsManage, digest: request.digest)
        guard request.action == Self.listReplacementAction, case .object(let fields) = request.payload,
            case .string(let approved)? = fields["list_sha256"]
        else { throw KinkoError(.invalidInput, "request \(id) is not a list replacement", field: "request") }
        guard approved == Self.digest(of: list) else {
            throw try await governance.refused(KinkoError(.approvalRefused, "this list is not the one approved in request \(id) (its SHA-256 differs)", field: "file"),
                                               by: caller, role: role, .monitorListsManage, digest: request.digest)
        }
        let evaluation = try await governance.requireApproved(id, "the list replacement", by: caller, role: role, .monitorListsManage, digest: request.digest)
        try await store.importAddressList(list, at: clock.now(), alongside: [.executeRequest(id, revision: request.revision)], audit: caller.event(
            .monitorListsManage, role: role, digest: request.digest, result: "imported",
            details: ["list": list.kind.rawValue, "asset": list.asset, "version": list.version, "addresses": String(list.addresses.count),
                      "request": id.description, "approvers": evaluation.counted.map(\.description).joined(separator: ",")]))
    }

    /// Files a new travel-rule jurisdiction list for a second compliance officer's approval.
    public func proposeJurisdictions(_ jurisdictions: TravelRuleJurisdictions, by caller: Caller) async throws -> ApprovalRequest {
        let payload: CanonicalJSON = ["version": .string(jurisdictions.version), "countries": .string(jurisdictions.text)]
        let role = try await governance.authorize(caller, .monitorListsManage, digest: Governance.digest(payload))
        return try await governance.submit(action: Self.jurisdictionsAction, payload: payload, policy: Self.secondOfficerPolicy, by: caller, role: role,
                                           permission: .monitorListsManage, details: ["version": jurisdictions.version])
    }

    /// Puts approved jurisdictions in force (the approved list, read from the request), once.
    public func activateJurisdictions(request id: ApprovalRequestID, by caller: Caller) async throws -> TravelRuleJurisdictions {
        let request = try await governance.requireRequest(id)
        let role = try await governance.authorize(caller, .monitorListsManage, digest: request.digest)
        guard request.action == Self.jurisdictionsAction, case .object(let fields) = request.payload, case .string(let version)? = fields["version"],
            case .string(let countries)? = fields["countries"]
        else { throw KinkoError(.invalidInput, "request \(id) is not a jurisdiction list", field: "request") }
        let jurisdictions = try TravelRuleJurisdictions(version: version, text: countries)
        _ = try await governance.requireApproved(id, "the jurisdiction list", by: caller, role: role, .monitorListsManage, digest: request.digest)
        try await store.setJurisdictions(jurisdictions, alongside: [.executeRequest(id, revision: request.revision)], audit: caller.event(
            .monitorListsManage, role: role, digest: request.digest, result: "jurisdictions",
            details: ["version": version, "countries": countries, "request": id.description]))
        return jurisdictions
    }

    /// Imports KYC profiles from CSV `customer,name,country,declared_income_jpy,declared_assets_jpy`.
    /// A bad line refuses the whole file, naming the line and field.
    public func importProfiles(csv: String, by caller: Caller) async throws -> Int {
        let role = try await governance.authorize(caller, .monitorCustomersImport)
        let profiles = try Self.parseProfiles(csv)
        let digest = Array(SHA256.hash(data: Array(csv.utf8)))
        try await store.importProfiles(profiles, audit: caller.event(.monitorCustomersImport, role: role, digest: digest, result: "imported",
                                                                     details: ["profiles": String(profiles.count)]))
        return profiles.count
    }

    public static func parseProfiles(_ csv: String) throws(KinkoError) -> [CustomerProfile] {
        let table = try CSVTable(csv, name: "customers")
        let columns = (try table.column("customer"), try table.column("name"), try table.column("country"), try table.column("declared_income_jpy"),
                       try table.column("declared_assets_jpy"))
        guard table.rows.count <= profilesPerImportMax else {
            throw KinkoError(.limitExceeded, "an import holds at most \(profilesPerImportMax) customers", field: "file")
        }
        var seen = Set<UInt64>()
        return try table.rows.map { row throws(KinkoError) -> CustomerProfile in
            let line = row.line
            guard let customer = UInt64(row[columns.0]), customer < MonitoringEngine.addressBit else {
                throw KinkoError(.invalidInput, "line \(line): a customer id is a whole number below 2^63", field: "customer")
            }
            guard seen.insert(customer).inserted else { throw KinkoError(.invalidInput, "line \(line): customer \(customer) appears twice", field: "customer") }
            let name = row[columns.1].trimmingCharacters(in: .whitespaces)
            guard (1...200).contains(name.count) else { throw KinkoError(.invalidInput, "line \(line): a name is 1–200 characters", field: "name") }
            let country = row[columns.2].uppercased()
            guard country.utf8.count == 2, country.utf8.allSatisfy({ (0x41...0x5A).contains($0) }) else {
                throw KinkoError(.invalidInput, "line \(line): a country is an ISO 3166-1 alpha-2 code", field: "country")
            }
            guard let income = UInt64(row[columns.3]) else { throw KinkoError(.invalidInput, "line \(line): must be whole yen", field: "declared_income_jpy") }
            guard let assets = UInt64(row[columns.4]) else { throw KinkoError(.invalidInput, "line \(line): must be whole yen", field: "declared_assets_jpy") }
            return CustomerProfile(customer: customer, name: name, country: country, declaredIncomeJPY: income, declaredAssetsJPY: assets)
        }
    }

    // MARK: Ingestion

    /// Evaluates a batch of NDJSON events under the adopted rule set. Each bad line is rejected
    /// with its number and field; an event id seen before is reported as a duplicate with its
    /// first verdict. Verdicts, alerts and state are stored in one transaction.
    public func ingest(ndjson: String, by caller: Caller) async throws -> [IngestResult] {
        let digest = Array(SHA256.hash(data: Array(ndjson.utf8)))
        let role = try await governance.authorize(caller, .monitorIngest, digest: digest)
        let (parsed, rejected) = EventInput.parse(ndjson)
        return try await ingest(parsed, rejected: rejected, digest: digest, by: caller, role: role)
    }

    /// Evaluates events built by another module (a withdrawal or deposit flow taking its
    /// verdict): the same rules, state and records as an NDJSON batch, one verdict each.
    public func evaluate(_ events: [MonitoringEvent], by caller: Caller) async throws -> [IngestResult] {
        let digest = Governance.digest(.array(events.map { .string($0.id) }))
        let role = try await governance.authorize(caller, .monitorIngest, digest: digest)
        return try await ingest(events.enumerated().map { ($0.offset + 1, $0.element) }, rejected: [], digest: digest, by: caller, role: role)
    }

    private func ingest(_ parsed: [(line: Int, event: MonitoringEvent)], rejected: [EventInput.Rejection], digest: [UInt8], by caller: Caller,
                        role: Role) async throws -> [IngestResult] {
        guard let rules = try await ruleSets.current() else {
            throw KinkoError(.conflict, "no monitoring rule set is adopted yet: propose one (kinko monitor rules propose) and have it approved")
        }
        var results = rejected.map { IngestResult(line: $0.line, event: nil, status: .rejected, outcome: nil, alert: nil, rules: [], message: $0.description) }
        // The batch counter is read with the rest: a batch recorded after it makes ours a conflict.
        let start = try await store.batchStart(eventIDs: parsed.map(\.event.id))
        let (batches, known) = (start.batches, start.evaluated)
        var inBatch = Set<String>()
        var fresh: [(line: Int, event: MonitoringEvent)] = []
        for (line, event) in parsed {
            if let previous = known[event.id] {
                results.append(IngestResult(line: line, event: event.id, status: .duplicate, outcome: previous.outcome, alert: previous.alert, rules: [],
                                            message: "evaluated before"))
            } else if !inBatch.insert(event.id).inserted {
                results.append(IngestResult(line: line, event: event.id, status: .rejected, outcome: nil, alert: nil, rules: [],
                                            message: "line \(line), field id: appears earlier in this batch"))
            } else {
                fresh.append((line, event))
            }
        }
        let (store, clock, rejectedCount) = (self.store, self.clock, rejected.count)
        let versions = start.listVersions
        let lists = try await watchlists.current(versions: versions) { try await store.addressLists() }
        let regulatory = try await AdoptedDocuments<RegulatorySettings>(governance: governance, cache: regulatoryCache).inForce()
        let runtime = self.runtime
        let messages = fresh.compactMap { TravelRuleMessage($0.event, exchange: reportingEntity) }
        let evaluated = try await withTaskExecutorPreference(store.blockingReadsExecutor) {
            try await runtime.evaluate(
                fresh, batches: batches, rules: rules, lists: lists, listVersions: versions, jurisdictions: start.jurisdictions ?? .designatedByFSA,
                regulatory: regulatory, store: store,
                record: { evaluations, customers, ips in
                    try await store.recordBatch(
                        expectedBatches: batches, evaluations: evaluations, messages: messages, customers: customers, ips: ips, at: clock.now(),
                        audit: caller.event(.monitorIngest, role: role, digest: digest, result: "evaluated",
                                            details: ["events": String(evaluations.count), "alerts": String(evaluations.count { $0.outcome != .clear }),
                                                      "rejected": String(rejectedCount), "rule_set": rules.version]))
                })
        }
        guard let (evaluations, alertIDs) = evaluated else {
            throw KinkoError(.conflict, "another batch was ingested meanwhile; nothing was stored — send this batch again")
        }
        for (line, evaluation) in evaluations {
            results.append(IngestResult(line: line, event: evaluation.event, status: .evaluated, outcome: evaluation.outcome,
                                        alert: alertIDs[evaluation.event], rules: evaluation.hits.map(\.rule), message: nil))
        }
        // KYC work and cross-border payments the batch raises (keyed by event: a retry adds nothing twice).
        let outcomes = Dictionary(evaluations.map { ($0.1.event, $0.1.outcome) }, uniquingKeysWith: { a, _ in a })
        try await Customers(governance: governance, monitoring: self, clock: clock).raise(after: fresh.map(\.event), outcomes: outcomes, by: caller, role: role)
        return results.sorted { $0.line < $1.line }
    }

    // MARK: Alerts and cases

    public func alerts(status: AlertStatus?, after: UInt64 = 0, limit: Int = 100, by caller: Caller) async throws -> [MonitoringAlert] {
        _ = try await governance.authorize(caller, .monitorRead)
        return try await store.alerts(status: status, after: after, limit: try Governance.page(limit))
    }

    public func alert(_ id: UInt64, by caller: Caller) async throws -> MonitoringAlert {
        _ = try await governance.authorize(caller, .monitorRead)
        guard let alert = try await store.alert(id) else { throw KinkoError(.notFound, "no alert \(id)", field: "alert") }
        return alert
    }

    public enum Dismissal: Sendable, Equatable {
        case dismissed
        /// A blocking alert: a second compliance officer must approve (then `executeDismissal`).
        case awaitingApproval(ApprovalRequest)
    }

    /// Closes an open alert with no further action; the reason is kept in the audit log. An
    /// alert whose verdict was `block` (sanctions, stolen coins, the heaviest typologies) is
    /// high severity: dismissing it needs a second compliance officer.
    public func dismiss(_ id: UInt64, reason: String, by caller: Caller) async throws -> Dismissal {
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...MonitoringCase.noteLengthMax).contains(reason.count) else {
            throw KinkoError(.invalidInput, "a reason is 1–\(MonitoringCase.noteLengthMax) characters", field: "reason")
        }
        let role = try await governance.authorize(caller, .monitorAlertsManage)
        guard let alert = try await store.alert(id) else { throw KinkoError(.notFound, "no alert \(id)", field: "alert") }
        guard alert.status == .open else { throw KinkoError(.conflict, "alert \(id) is \(alert.status.rawValue), not open", field: "alert") }
        let digest = Governance.digest(["alert": .string(String(id))])
        if alert.outcome == .block {
            let payload: CanonicalJSON = ["alert": .string(String(id)), "reason": .string(reason), "outcome": .string(alert.outcome.rawValue),
                                          "rules": .array(alert.hits.map { .string($0.rule) })]
            return .awaitingApproval(try await governance.submit(action: Self.dismissalAction, payload: payload, policy: Self.secondOfficerPolicy,
                                                                 by: caller, role: role, permission: .monitorAlertsManage,
                                                                 details: ["alert": String(id)]))
        }
        guard try await store.setAlertStatus([id], expected: .open, status: .dismissed, caseID: nil, alongside: [], audit: caller.event(
            .monitorAlertsManage, role: role, digest: digest, result: "dismissed", details: ["alert": String(id), "reason": reason]))
        else {
            throw KinkoError(.conflict, "alert \(id) is no longer open (a case took it meanwhile)", field: "alert")
        }
        return .dismissed
    }

    /// Dismisses a blocking alert whose dismissal a second compliance officer approved.
    public func executeDismissal(request id: ApprovalRequestID, by caller: Caller) async throws {
        let request = try await governance.requireRequest(id)
        let role = try await governance.authorize(caller, .monitorAlertsManage, digest: request.digest)
        guard request.action == Self.dismissalAction, case .object(let fields) = request.payload, case .string(let text)? = fields["alert"],
            let alert = UInt64(text)
        else { throw KinkoError(.invalidInput, "request \(id) is not an alert dismissal", field: "request") }
        let evaluation = try await governance.requireApproved(id, "dismissing alert \(alert)", by: caller, role: role, .monitorAlertsManage, digest: request.digest)
        guard try await store.setAlertStatus([alert], expected: .open, status: .dismissed, caseID: nil,
                                             alongside: [.executeRequest(id, revision: request.revision)], audit: caller.event(
            .monitorAlertsManage, role: role, digest: request.digest, result: "dismissed",
            details: ["alert": text, "request": id.description, "approvers": evaluation.counted.map(\.description).joined(separator: ",")]))
        else {
            throw KinkoError(.conflict, "alert \(alert) is no longer open, or the dismissal ran already", field: "alert")
        }
    }

    public func openCase(title: String, alerts ids: [UInt64], assignee: String?, by caller: Caller) async throws -> MonitoringCase {
        let title = title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...MonitoringCase.titleLengthMax).contains(title.count) else {
            throw KinkoError(.invalidInput, "a title is 1–\(MonitoringCase.titleLengthMax) characters", field: "title")
        }
        guard (1...MonitoringCase.alertsMax).contains(ids.count) else {
            throw KinkoError(.invalidInput, "a case holds 1–\(MonitoringCase.alertsMax) alerts", field: "alerts")
        }
        let role = try await governance.authorize(caller, .monitorCasesManage)
        try await requireOpenAlerts(ids)
        if let assignee { try await requireAssignable(assignee) }
        let record = MonitoringCase(id: 0, title: title, assignee: assignee, status: .open, disposition: nil, openedBy: caller.name, openedAt: clock.now(),
                                    closedAt: nil, alerts: Array(Set(ids)).sorted(), notes: [])
        return try await store.saveCase(record, audit: caller.event(
            .monitorCasesManage, role: role, digest: Governance.digest(["title": .string(title)]), result: "opened",
            details: ["alerts": record.alerts.map(String.init).joined(separator: ","), "assignee": assignee ?? ""]))
    }

    /// One page of cases, oldest first: those with ids above `after`, at most `limit`
    /// (1–`Governance.pageMax`, default `Governance.pageDefault`).
    public struct CasePage: Sendable, Equatable {
        public var cases: [MonitoringCase]
        /// The `after` of the next page; nil on the last one.
        public var next: UInt64?

        public init(cases: [MonitoringCase], next: UInt64? = nil) {
            self.cases = cases
            self.next = next
        }
    }

    public func cases(after: UInt64 = 0, limit: Int? = nil, by caller: Caller) async throws -> CasePage {
        _ = try await governance.authorize(caller, .monitorRead)
        let limit = try Governance.page(limit)
        let cases = try await store.cases(after: after, limit: limit)
        return CasePage(cases: cases, next: cases.count == limit ? cases.last?.id : nil)
    }

    public func caseRecord(_ id: UInt64, by caller: Caller) async throws -> MonitoringCase {
        _ = try await governance.authorize(caller, .monitorRead)
        return try await requireCase(id)
    }

    public enum CaseChange: Sendable {
        case assign(String)
        case note(String)
        case addAlerts([UInt64])
        case investigate
        case close(CaseDisposition)
    }

    public func updateCase(_ id: UInt64, _ change: CaseChange, by caller: Caller) async throws -> MonitoringCase {
        let role = try await governance.authorize(caller, .monitorCasesManage)
        var record = try await requireCase(id)
        guard record.status != .closed else { throw KinkoError(.conflict, "case \(id) is closed", field: "case") }
        let details: [String: String]
        switch change {
        case .assign(let name):
            try await requireAssignable(name)
            record.assignee = name
            details = ["assignee": name]
        case .note(let text):
            let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard (1...MonitoringCase.noteLengthMax).contains(text.count) else {
                throw KinkoError(.invalidInput, "a note is 1–\(MonitoringCase.noteLengthMax) characters", field: "note")
            }
            record.notes.append(CaseNote(at: clock.now(), author: caller.name, text: text))
            details = ["note": String(record.notes.count)]
        case .addAlerts(let ids):
            try await requireOpenAlerts(ids)
            record.alerts = Array(Set(record.alerts + ids)).sorted()
            guard record.alerts.count <= MonitoringCase.alertsMax else {
                throw KinkoError(.limitExceeded, "a case holds at most \(MonitoringCase.alertsMax) alerts", field: "alerts")
            }
            details = ["alerts": ids.map(String.init).joined(separator: ",")]
        case .investigate:
            record.status = .investigating
            details = ["status": "investigating"]
        case .close(let disposition):
            guard record.assignee != nil else { throw KinkoError(.conflict, "assign case \(id) before closing it", field: "assignee") }
            if disposition == .strFiled, try await strFiling(case: id) == nil {
                throw try await governance.refused(
                    KinkoError(.conflict, "case \(id) has no filed STR: generate it (kinko report str --case \(id)), have a second compliance officer approve it and record its filing (kinko report file) first",
                               field: "disposition"), by: caller, role: role, .monitorCasesManage)
            }
            record.status = .closed
            record.disposition = disposition
            record.closedAt = clock.now()
            details = ["status": "closed", "disposition": disposition.rawValue]
        }
        return try await store.saveCase(record, audit: caller.event(
            .monitorCasesManage, role: role, digest: Governance.digest(["case": .string(String(id))]), result: "updated",
            details: details.merging(["case": String(id)]) { first, _ in first }))
    }

    /// Drafts the suspicious transaction report for a case (audited: who drafted what, when).
    public func draftSTR(case id: UInt64, by caller: Caller) async throws -> STRDraft {
        let role = try await governance.authorize(caller, .monitorReportsDraft)
        let record = try await requireCase(id)
        var alerts: [MonitoringAlert] = []
        for alertID in record.alerts { if let alert = try await store.alert(alertID) { alerts.append(alert) } }
        let draft = STRDraft(caseRecord: record, alerts: alerts, profiles: [], reportingEntity: reportingEntity, preparedBy: caller.name,
                             preparedAt: clock.now())
        var complete = draft
        complete.profiles = try await store.profiles(draft.subjects)
        try await governance.store.appendAudit(caller.event(.monitorReportsDraft, role: role, digest: Governance.digest(["case": .string(String(id))]),
                                                            result: "drafted", details: ["case": String(id), "subjects": String(draft.subjects.count)]))
        return complete
    }

    private func requireCase(_ id: UInt64) async throws -> MonitoringCase {
        guard let record = try await store.caseRecord(id) else { throw KinkoError(.notFound, "no case \(id)", field: "case") }
        return record
    }

    private func requireOpenAlerts(_ ids: [UInt64]) async throws {
        for id in ids {
            guard let alert = try await store.alert(id) else { throw KinkoError(.notFound, "no alert \(id)", field: "alerts") }
            guard alert.status == .open else { throw KinkoError(.conflict, "alert \(id) is \(alert.status.rawValue), not open", field: "alerts") }
        }
    }

    /// Cases go to compliance officers only.
    private func requireAssignable(_ name: String) async throws {
        guard let principal = try await governance.store.principal(named: name) else {
            throw KinkoError(.notFound, "no principal named \(name)", field: "assignee")
        }
        guard principal.roles.contains(.compliance) else {
            throw KinkoError(.invalidInput, "\(name) is not a compliance officer", field: "assignee")
        }
    }
}

/// A monitoring rule set goes live with one approval by another compliance officer.
extension MonitoringRules: VersionedDocument {
    public static let settingsKind = "monitor.rules"
    public static let adoptionAction = "monitor.rules.adopt"
    public static let proposePermission = Permission.monitorRulesPropose
    public static let readPermission = Permission.monitorRead
    public static let noun = "monitoring rule set"
    public static func adoptionPolicy() throws(KinkoError) -> ApprovalPolicy { try ApprovalPolicy(approvalsRequired: 1, eligibleRoles: [.compliance]) }
}

public import KinkoCore
public import KinkoGovernance
import KinkoLedger

public struct AdequacyPoint: Sendable, Equatable {
    public var time: TimestampNanoseconds
    public var ruleVersion: String
    public var required: Amount
    public var funded: Amount
    public var isShort: Bool { funded < required }

    public init(time: TimestampNanoseconds, ruleVersion: String, required: Amount, funded: Amount) {
        self.time = time
        self.ruleVersion = ruleVersion
        self.required = required
        self.funded = funded
    }
}

public enum PlanStatus: String, Sendable {
    case proposed, executing, paid
}

public struct StoredPlan: Sendable, Equatable {
    public var plan: CompensationPlan
    public var requestID: ApprovalRequestID
    public var status: PlanStatus

    public init(plan: CompensationPlan, requestID: ApprovalRequestID, status: PlanStatus) {
        self.plan = plan
        self.requestID = requestID
        self.status = status
    }
}

/// Where volumes, insurance, requirements, incidents, plans and the insolvency state
/// live. Every write appends its audit event in the same transaction.
public protocol ReserveStore: Sendable {
    /// Daily JPY volume per category and day, from the ledger and from imports.
    func volumes() async throws -> [String: [String: Amount]]
    /// The ledger batch up to which trades have been aggregated.
    func volumeWatermark() async throws -> UInt64
    /// Adds ledger-derived volumes and moves the watermark (only forward, from `expected`).
    func addLedgerVolumes(_ volumes: [VolumeRow], from expected: UInt64, to watermark: UInt64, audit: AuditEvent) async throws -> Bool
    /// Replaces imported volumes for the given days and categories.
    func importVolumes(_ volumes: [VolumeRow], audit: AuditEvent) async throws

    func policies() async throws -> [InsurancePolicy]
    func insertPolicy(_ policy: InsurancePolicy, audit: AuditEvent) async throws -> InsurancePolicy

    func saveRequirement(_ requirement: Requirement, funded: Amount, audit: AuditEvent) async throws
    func adequacy() async throws -> [AdequacyPoint]
    func latestRequirement() async throws -> Requirement?

    /// Marks an approval request executed (for fund movements), atomically with the audit entry.
    func markExecuted(_ id: ApprovalRequestID, revision: Int, at time: TimestampNanoseconds, audit: AuditEvent) async throws -> Bool

    func incidents() async throws -> [Incident]
    func insertIncident(_ incident: Incident, entitlements: [String: [Entitlement]], audit: AuditEvent) async throws -> Incident
    func entitlements(incident: UInt64, asset: String) async throws -> [Entitlement]

    func savePlan(_ plan: CompensationPlan, requestID: ApprovalRequestID, audit: AuditEvent) async throws
    func plan(incident: UInt64, asset: String) async throws -> StoredPlan?
    /// Moves the plan to `executing` and its request to executed, atomically — once. A plan already
    /// executing may be resumed: false only if it is paid or its request changed.
    func startExecution(incident: UInt64, asset: String, requestID: ApprovalRequestID, revision: Int, at time: TimestampNanoseconds, audit: AuditEvent) async throws -> Bool
    func finishExecution(incident: UInt64, asset: String, paidAt: TimestampNanoseconds, claims: [(policy: UInt64, amount: Amount)], audit: AuditEvent) async throws

    func insolvencySince() async throws -> TimestampNanoseconds?
    func enterInsolvency(at time: TimestampNanoseconds, audit: AuditEvent) async throws
    func raiseAlert(kind: String, subject: String, message: String, at time: TimestampNanoseconds) async throws
}

public struct VolumeRow: Sendable, Equatable {
    public var day: String
    public var category: String
    public var amount: Amount

    public init(day: String, category: String, amount: Amount) {
        self.day = day
        self.category = category
        self.amount = amount
    }
}

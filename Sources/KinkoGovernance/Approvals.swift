import Crypto
public import KinkoCore

public enum ApprovalRequestTag {}
public typealias ApprovalRequestID = Identifier<ApprovalRequestTag>

/// Who must approve an action before it runs.
public struct ApprovalPolicy: Sendable, Equatable {
    /// How many distinct approvers (m of the n principals holding an eligible role).
    public var approvalsRequired: Int
    /// Roles whose holders may approve.
    public var eligibleRoles: Set<Role>
    /// At least k of the approvals from holders of a role.
    public var minimumFromRole: [Role: Int]
    /// Earliest execution: this long after the request was made.
    public var timeLockSeconds: UInt64
    /// The request lapses this long after it was made.
    public var expirySeconds: UInt64
    /// Principals whose approval does not count although they hold an eligible role: whoever
    /// could act for the one the request concerns (the admin who enrolled a principal, say).
    public var excludedApprovers: Set<PrincipalID>

    public static let approvalsRequiredMax = 16
    public static let expirySecondsMax: UInt64 = 30 * 86_400

    public init(
        approvalsRequired: Int, eligibleRoles: Set<Role>, minimumFromRole: [Role: Int] = [:], timeLockSeconds: UInt64 = 0,
        expirySeconds: UInt64 = 7 * 86_400, excludedApprovers: Set<PrincipalID> = []
    ) throws(KinkoError) {
        guard (1...Self.approvalsRequiredMax).contains(approvalsRequired) else {
            throw KinkoError(.invalidInput, "approvals required must be 1–\(Self.approvalsRequiredMax); got \(approvalsRequired)", field: "approvals_required")
        }
        guard !eligibleRoles.isEmpty else { throw KinkoError(.invalidInput, "at least one role must be eligible", field: "eligible_roles") }
        for (role, count) in minimumFromRole {
            guard eligibleRoles.contains(role), count >= 1, count <= approvalsRequired else {
                throw KinkoError(.invalidInput, "at least \(count) from \(role.rawValue) does not fit the policy", field: "minimum_from_role")
            }
        }
        guard (1...Self.expirySecondsMax).contains(expirySeconds), timeLockSeconds < expirySeconds else {
            throw KinkoError(.invalidInput, "expiry must be 1 s–30 days and after the time lock", field: "expiry_seconds")
        }
        self.approvalsRequired = approvalsRequired
        self.eligibleRoles = eligibleRoles
        self.minimumFromRole = minimumFromRole
        self.timeLockSeconds = timeLockSeconds
        self.expirySeconds = expirySeconds
        self.excludedApprovers = excludedApprovers
    }

    /// The same policy, with more principals whose approval does not count.
    public func excluding(_ principals: some Sequence<PrincipalID>) -> ApprovalPolicy {
        var policy = self
        policy.excludedApprovers.formUnion(principals)
        return policy
    }

    /// The policy as signers see it inside the request they sign.
    public var json: CanonicalJSON {
        var fields: [String: CanonicalJSON] = [
            "approvals_required": .string(String(approvalsRequired)),
            "eligible_roles": .array(eligibleRoles.sorted().map { .string($0.rawValue) }),
            "minimum_from_role": .object(Dictionary(uniqueKeysWithValues: minimumFromRole.map { ($0.key.rawValue, CanonicalJSON.string(String($0.value))) })),
            "time_lock_seconds": .string(String(timeLockSeconds)),
            "expiry_seconds": .string(String(expirySeconds)),
        ]
        // Absent when empty, so requests filed before exclusions existed keep their digest.
        if !excludedApprovers.isEmpty { fields["excluded_approvers"] = .array(excludedApprovers.sorted().map { .string($0.description) }) }
        return .object(fields)
    }

    public init(json: CanonicalJSON) throws(KinkoError) {
        let malformed = KinkoError(.storageCorrupted, "an approval policy is malformed")
        guard case .object(let fields) = json, case .string(let required)? = fields["approvals_required"], let m = Int(required),
            case .array(let roles)? = fields["eligible_roles"], case .object(let minimums)? = fields["minimum_from_role"],
            case .string(let lock)? = fields["time_lock_seconds"], let timeLock = UInt64(lock),
            case .string(let expiry)? = fields["expiry_seconds"], let expirySeconds = UInt64(expiry)
        else { throw malformed }
        var eligible: Set<Role> = []
        for role in roles {
            guard case .string(let name) = role else { throw malformed }
            eligible.insert(try Role(parsing: name))
        }
        var minimumFromRole: [Role: Int] = [:]
        for (name, value) in minimums {
            guard case .string(let text) = value, let count = Int(text) else { throw malformed }
            minimumFromRole[try Role(parsing: name)] = count
        }
        var excluded: Set<PrincipalID> = []
        if let listed = fields["excluded_approvers"] {
            guard case .array(let ids) = listed else { throw malformed }
            for id in ids {
                guard case .string(let text) = id, let value = UInt128(text) else { throw malformed }
                excluded.insert(PrincipalID(value))
            }
        }
        try self.init(approvalsRequired: m, eligibleRoles: eligible, minimumFromRole: minimumFromRole, timeLockSeconds: timeLock,
                      expirySeconds: expirySeconds, excludedApprovers: excluded)
    }

    public var summary: String {
        var text = "\(approvalsRequired) of \(eligibleRoles.sorted().map(\.rawValue).joined(separator: "/"))"
        for (role, count) in minimumFromRole.sorted(by: { $0.key < $1.key }) { text += ", at least \(count) \(role.rawValue)" }
        if !excludedApprovers.isEmpty { text += ", not by principal \(excludedApprovers.sorted().map(\.description).joined(separator: ", "))" }
        if timeLockSeconds > 0 { text += ", time lock \(timeLockSeconds) s" }
        return text + ", expires after \(expirySeconds) s"
    }
}

public enum ApprovalStatus: String, Sendable {
    case open, executed, cancelled
}

/// A request waiting for approval. Its digest is SHA-256 over the canonical JSON of every field
/// that matters (`canonical`); approvers sign that digest. Changing the request bumps the
/// revision, which changes the digest, so earlier approvals no longer count.
public struct ApprovalRequest: Sendable, Equatable {
    public var id: ApprovalRequestID
    public var action: String
    public var payload: CanonicalJSON
    /// Who must approve; part of what is signed.
    public var policy: ApprovalPolicy
    public var revision: Int
    public var initiator: PrincipalID
    public var createdAt: TimestampNanoseconds
    public var notBefore: TimestampNanoseconds
    public var expiresAt: TimestampNanoseconds
    public var status: ApprovalStatus
    public var executedAt: TimestampNanoseconds?

    public init(
        id: ApprovalRequestID, action: String, payload: CanonicalJSON, policy: ApprovalPolicy, revision: Int, initiator: PrincipalID,
        createdAt: TimestampNanoseconds, notBefore: TimestampNanoseconds, expiresAt: TimestampNanoseconds,
        status: ApprovalStatus = .open, executedAt: TimestampNanoseconds? = nil
    ) {
        self.id = id
        self.action = action
        self.payload = payload
        self.policy = policy
        self.revision = revision
        self.initiator = initiator
        self.createdAt = createdAt
        self.notBefore = notBefore
        self.expiresAt = expiresAt
        self.status = status
        self.executedAt = executedAt
    }

    public var canonical: CanonicalJSON {
        .object([
            "type": "kinko.approval.request.v1",
            "id": .string(String(id.rawValue)),
            "action": .string(action),
            "revision": .string(String(revision)),
            "initiator": .string(String(initiator.rawValue)),
            "not_before": .string(String(notBefore)),
            "expires_at": .string(String(expiresAt)),
            "payload": payload,
            "policy": policy.json,
        ])
    }

    /// What approvers sign: SHA-256 of the canonical bytes (Ed25519 and ECDSA P-256/SHA-256
    /// both sign these 32 bytes as their message).
    public var digest: [UInt8] { Array(SHA256.hash(data: canonical.bytes)) }
}

public struct Approval: Sendable, Equatable {
    public var requestID: ApprovalRequestID
    public var approver: PrincipalID
    public var keyID: String
    public var digest: [UInt8]
    public var signature: [UInt8]
    public var approvedAt: TimestampNanoseconds

    public init(
        requestID: ApprovalRequestID,
        approver: PrincipalID,
        keyID: String,
        digest: [UInt8],
        signature: [UInt8],
        approvedAt: TimestampNanoseconds
    ) {
        self.requestID = requestID
        self.approver = approver
        self.keyID = keyID
        self.digest = digest
        self.signature = signature
        self.approvedAt = approvedAt
    }
}

/// Whether a request may run now, and why not.
public struct ApprovalEvaluation: Sendable, Equatable {
    public var counted: [PrincipalID]
    public var reasons: [String]
    public var isSatisfied: Bool { reasons.isEmpty }

    /// Counts the approvals that still hold — signed over the current digest, by someone other
    /// than the initiator and not excluded by the policy, once per approver, with an active key
    /// they registered themselves (approved, not revoked), while they hold an eligible role — and
    /// checks the policy and the clock.
    public static func evaluate(
        _ request: ApprovalRequest, policy: ApprovalPolicy, approvals: [Approval], keys: [String: SignerKey],
        principals: [PrincipalID: Principal], now: TimestampNanoseconds
    ) -> ApprovalEvaluation {
        var reasons: [String] = []
        if request.status != .open { reasons.append("the request is \(request.status.rawValue)") }
        if now >= request.expiresAt { reasons.append("the request expired at \(request.expiresAt.iso8601)") }
        if now < request.notBefore { reasons.append("the time lock runs until \(request.notBefore.iso8601)") }
        let digest = request.digest
        var counted: [PrincipalID] = []
        var byRole: [Role: Int] = [:]
        for approval in approvals.sorted(by: { $0.approvedAt < $1.approvedAt }) {
            guard approval.digest == digest, approval.approver != request.initiator, !counted.contains(approval.approver),
                !policy.excludedApprovers.contains(approval.approver),
                let key = keys[approval.keyID], key.principal == approval.approver, key.isActive,
                key.isValidSignature(approval.signature, for: digest),
                let approver = principals[approval.approver], !approver.roles.isDisjoint(with: policy.eligibleRoles)
            else { continue }
            counted.append(approval.approver)
            for role in approver.roles { byRole[role, default: 0] += 1 }
        }
        if counted.count < policy.approvalsRequired {
            reasons.append("\(counted.count) of \(policy.approvalsRequired) approvals")
        }
        for (role, minimum) in policy.minimumFromRole.sorted(by: { $0.key < $1.key }) where byRole[role, default: 0] < minimum {
            reasons.append("\(byRole[role, default: 0]) of at least \(minimum) approvals from \(role.rawValue)")
        }
        return ApprovalEvaluation(counted: counted, reasons: reasons)
    }
}

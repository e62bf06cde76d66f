public import KinkoCore

public enum PrincipalKind: String, Sendable, Codable, CaseIterable {
    /// A person, signing in with a token and (for approvals) a key.
    case person
    /// One of the exchange's systems calling the API.
    case client
}

public struct Principal: Sendable, Equatable {
    public var id: PrincipalID
    /// Unique, e.g. `sato.treasury` or `matching-engine`.
    public var name: String
    public var kind: PrincipalKind
    public var roles: Set<Role>
    public var createdAt: TimestampNanoseconds

    public static let nameLengthMax = 64

    /// 1–64 characters: lower-case letters, digits, `.`, `-`, `_`.
    public static func validate(name: String) throws(KinkoError) {
        guard (1...nameLengthMax).contains(name.utf8.count),
            name.utf8.allSatisfy({ (97...122).contains($0) || (48...57).contains($0) || [46, 45, 95].contains($0) })
        else {
            throw KinkoError(
                .invalidInput, "a name is 1–\(nameLengthMax) lower-case letters, digits, '.', '-' or '_'; got \"\(name)\"", field: "name")
        }
    }

    public init(id: PrincipalID, name: String, kind: PrincipalKind, roles: Set<Role>, createdAt: TimestampNanoseconds) {
        self.id = id
        self.name = name
        self.kind = kind
        self.roles = roles
        self.createdAt = createdAt
    }
}

/// Who is calling, as established by `Governance.authenticate`: a principal and the roles it
/// holds now. Every command asks it for the permission it needs.
public struct Caller: Sendable, Equatable {
    public let principal: PrincipalID
    public let name: String
    public let roles: Set<Role>

    init(principal: Principal) {
        self.principal = principal.id
        self.name = principal.name
        self.roles = principal.roles
    }

    /// Kinko's own jobs (migrations, the pulse of the server): not a person, holds no role,
    /// recorded as principal 0 `kinko`.
    public static let system = Caller(principal: Principal(id: PrincipalID(0), name: "kinko", kind: .client, roles: [], createdAt: 0))

    /// The role that grants `permission` (the first in `Role.allCases` order), or a
    /// `forbidden` error naming the roles that would.
    public func role(for permission: Permission, table: PermissionTable = .standard) throws(KinkoError) -> Role {
        if let role = roles.sorted().first(where: { table.allows($0, permission) }) { return role }
        let allowed = (table.roles[permission] ?? []).sorted().map(\.rawValue).joined(separator: ", ")
        let held = roles.isEmpty ? "no role" : roles.sorted().map(\.rawValue).joined(separator: ", ")
        throw KinkoError(.forbidden, "\(name) (\(held)) may not run \(permission.rawValue); it needs one of: \(allowed)")
    }

    /// The audit event for `action` by this caller in `role`.
    public func event(
        _ permission: Permission, role: Role, digest: [UInt8], result: String, details: [String: String] = [:]
    ) -> AuditEvent {
        AuditEvent(principal: principal, principalName: name, role: role.rawValue, action: permission.rawValue,
                   requestDigest: digest, result: result, details: details)
    }

    /// The audit event for something the caller does to their own credentials, which any
    /// principal may do whatever roles they hold (role `self`).
    public func selfEvent(_ permission: Permission, digest: [UInt8], result: String, details: [String: String] = [:]) -> AuditEvent {
        AuditEvent(principal: principal, principalName: name, role: "self", action: permission.rawValue,
                   requestDigest: digest, result: result, details: details)
    }
}

extension KinkoError.Code {
    public static let unauthenticated = Self(rawValue: "unauthenticated")
    public static let forbidden = Self(rawValue: "forbidden")
    public static let conflict = Self(rawValue: "conflict")
    public static let approvalRequired = Self(rawValue: "approval_required")
    public static let approvalRefused = Self(rawValue: "approval_refused")
}

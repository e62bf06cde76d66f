import Crypto
public import KinkoCore

/// One version of a versioned setting (a rule set, a policy): proposed by one person, adopted
/// once a second approves. The most recently adopted version is in force; nothing is edited in
/// place, so every version that was ever in force stays readable.
public struct SettingsVersion: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case proposed, adopted }

    public var kind: String
    public var version: String
    /// The document, verbatim.
    public var document: String
    public var status: Status
    public var requestID: String
    public var proposedBy: String
    public var proposedAt: UInt64
    public var adoptedAt: UInt64?

    public static let versionLengthMax = 64
    public static let documentBytesMax = 256 * 1024
}

/// The lifecycle every versioned setting shares (rule sets, the transfer-control policy):
/// propose under a policy, approve, adopt exactly once, read the one in force.
extension Governance {
    public static func settingsAction(_ kind: String) -> String { "settings.\(kind).adopt" }

    func settings(_ kind: String) -> RecordCollection<SettingsVersion> { RecordCollection("settings.\(kind)", store: store) }

    /// Files `document` as version `version` of `kind` for approval under `policy`. The caller
    /// checks the document reads first; `permission` is the one proposing needs.
    public func proposeSettings(kind: String, version: String, document: String, policy: ApprovalPolicy, permission: Permission,
                                action: String? = nil, by caller: Caller) async throws -> ApprovalRequest {
        guard (1...SettingsVersion.versionLengthMax).contains(version.utf8.count), !version.utf8.contains(0) else {
            throw KinkoError(.invalidInput, "a version is 1–\(SettingsVersion.versionLengthMax) characters", field: "version")
        }
        guard document.utf8.count <= SettingsVersion.documentBytesMax else {
            throw KinkoError(.limitExceeded, "a settings document is at most \(SettingsVersion.documentBytesMax) bytes", field: "document")
        }
        let payload: CanonicalJSON = ["kind": .string(kind), "version": .string(version),
                                      "document_sha256": .string(Hex.encode(SHA256.hash(data: Array(document.utf8))))]
        let role = try await authorize(caller, permission, digest: Self.digest(payload))
        let collection = settings(kind)
        if try await collection.get(version) != nil {
            throw KinkoError(.conflict, "\(kind) version \(version) exists already; give the new one a new version", field: "version")
        }
        let now = clock.now()
        let proposedBy = caller.principal.description
        return try await submit(action: action ?? Self.settingsAction(kind), payload: payload, policy: policy, by: caller, role: role, permission: permission,
                                details: ["kind": kind, "version": version]) { id in
            [try collection.insert(version, SettingsVersion(kind: kind, version: version, document: document, status: .proposed,
                                                            requestID: id.description, proposedBy: proposedBy, proposedAt: now, adoptedAt: nil),
                                   tag: SettingsVersion.Status.proposed.rawValue)]
        }
    }

    /// Puts an approved version in force, exactly once (the request is executed in the same
    /// transaction).
    public func adoptSettings(kind: String, version: String, by caller: Caller) async throws -> SettingsVersion {
        let collection = settings(kind)
        guard let entry = try await collection.get(version) else { throw KinkoError(.notFound, "no \(kind) version \(version)", field: "version") }
        guard let requestID = UInt128(entry.value.requestID) else { throw KinkoError(.storageCorrupted, "\(kind) \(version) names no request") }
        let request = try await requireRequest(ApprovalRequestID(requestID))
        let role = try await authorize(caller, .approvalsExecute, digest: request.digest)
        guard entry.value.status == .proposed else { throw KinkoError(.conflict, "\(kind) version \(version) was adopted already", field: "version") }
        let evaluation = try await requireApproved(request.id, "\(kind) version \(version)", by: caller, role: role, .approvalsExecute, digest: request.digest)
        var adopted = entry.value
        adopted.status = .adopted
        adopted.adoptedAt = clock.now()
        guard try await store.write(
            [.executeRequest(request.id, revision: request.revision), try collection.update(entry, to: adopted, tag: SettingsVersion.Status.adopted.rawValue)],
            at: clock.now(),
            audit: caller.event(.approvalsExecute, role: role, digest: request.digest, result: "adopted",
                                details: ["kind": kind, "version": version, "request": request.id.description,
                                          "approvers": evaluation.counted.map(\.description).joined(separator: ",")]))
        else {
            throw KinkoError(.conflict, "\(kind) version \(version) was adopted meanwhile")
        }
        return adopted
    }

    /// The version in force: the most recently adopted one, or nil before any is.
    public func currentSettings(kind: String) async throws -> SettingsVersion? {
        try await settingsInForce(kind: kind, at: .max)
    }

    /// The version that was in force at `time`: the last adopted at or before it, or nil.
    public func settingsInForce(kind: String, at time: UInt64) async throws -> SettingsVersion? {
        try await settings(kind).list(tag: SettingsVersion.Status.adopted.rawValue).map(\.value)
            .filter { ($0.adoptedAt ?? .max) <= time }
            .max { ($0.adoptedAt ?? 0, $0.version) < ($1.adoptedAt ?? 0, $1.version) }
    }

    /// Every version of `kind`, proposed and adopted, in the order they were proposed (callers
    /// holding `permission`, by default readers of governance).
    public func settingsVersions(kind: String, permission: Permission = .governanceRead, by caller: Caller) async throws -> [SettingsVersion] {
        _ = try await authorize(caller, permission)
        return try await settings(kind).list().map(\.value).sorted { ($0.proposedAt, $0.version) < ($1.proposedAt, $1.version) }
    }
}

public import KinkoCore
import Synchronization

/// A document that is put in force only under approval, one version at a time: a rule set, a
/// policy, a setting. Its YAML text is kept verbatim; `init(yaml:)` checks it reads.
public protocol VersionedDocument: Sendable {
    /// The settings kind it is stored under (`reserve.rules`, `monitor.rules`, …).
    static var settingsKind: String { get }
    /// The approval request's action, as approvers see it.
    static var adoptionAction: String { get }
    /// Who may propose a version.
    static var proposePermission: Permission { get }
    /// Who may list the versions.
    static var readPermission: Permission { get }
    /// Who approves a version (the proposer does not count).
    static func adoptionPolicy() throws(KinkoError) -> ApprovalPolicy
    /// What names it in messages ("reserve rule set").
    static var noun: String { get }

    init(yaml: String) throws(KinkoError)
    var version: String { get }

    /// Refuses this version if it may not follow `current` (the version in force, nil before
    /// any) at `now`; checked when it is proposed and again when it is adopted. By default any
    /// version may follow any other.
    func checkFollows(_ current: Self?, at now: TimestampNanoseconds) throws(KinkoError)
}

extension VersionedDocument {
    public func checkFollows(_ current: Self?, at now: TimestampNanoseconds) throws(KinkoError) {}
}

/// The one lifecycle of every `VersionedDocument`: propose (the text must read), approve under
/// the document's policy, adopt exactly once, read the version in force. Stored as governance
/// settings (`SettingsVersion`), so no module keeps tables or store methods of its own for it.
public struct AdoptedDocuments<Document: VersionedDocument>: Sendable {
    public let governance: Governance
    /// Where the last document read is kept parsed (nil: parse at every read).
    public let cache: ParsedDocumentCache<Document>?

    public init(governance: Governance, cache: ParsedDocumentCache<Document>? = nil) {
        self.governance = governance
        self.cache = cache
    }

    /// Files `yaml` for approval; it comes into force only after approval and `adopt`.
    public func propose(yaml: String, by caller: Caller) async throws -> (Document, ApprovalRequest) {
        let document = try Document(yaml: yaml)
        // Whether it may follow the version in force is told only to whoever may propose.
        _ = try await governance.authorize(caller, Document.proposePermission)
        try document.checkFollows(try await current(), at: governance.clock.now())
        let request = try await governance.proposeSettings(kind: Document.settingsKind, version: document.version, document: yaml,
                                                           policy: try Document.adoptionPolicy(), permission: Document.proposePermission,
                                                           action: Document.adoptionAction, by: caller)
        return (document, request)
    }

    /// Puts an approved version in force, unless it may no longer follow the version in force.
    public func adopt(version: String, by caller: Caller) async throws -> Document {
        if let stored = try await governance.settings(Document.settingsKind).get(version)?.value {
            _ = try await governance.authorize(caller, .approvalsExecute)
            try Document(yaml: stored.document).checkFollows(try await current(), at: governance.clock.now())
        }
        return try Document(yaml: try await governance.adoptSettings(kind: Document.settingsKind, version: version, by: caller).document)
    }

    /// The version in force, read; nil before any is adopted.
    public func current() async throws -> Document? {
        guard let stored = try await currentVersion() else { return nil }
        return try cache?.document(for: stored.document) ?? Document(yaml: stored.document)
    }

    /// The version that was in force at `time`, read, with when it was adopted; nil before the
    /// first adoption.
    public func inForce(at time: TimestampNanoseconds) async throws -> (document: Document, adoptedAt: TimestampNanoseconds)? {
        guard let stored = try await governance.settingsInForce(kind: Document.settingsKind, at: time) else { return nil }
        return (try Document(yaml: stored.document), stored.adoptedAt ?? 0)
    }

    /// The version in force as stored (who proposed it, when it was adopted).
    public func currentVersion() async throws -> SettingsVersion? {
        try await governance.currentSettings(kind: Document.settingsKind)
    }

    /// Every version, proposed and adopted, oldest first.
    public func versions(by caller: Caller) async throws -> [SettingsVersion] {
        try await governance.settingsVersions(kind: Document.settingsKind, permission: Document.readPermission, by: caller)
    }

    public func version(_ version: String, by caller: Caller) async throws -> SettingsVersion {
        _ = try await governance.authorize(caller, Document.readPermission)
        guard let stored = try await governance.settings(Document.settingsKind).get(version)?.value else {
            throw KinkoError(.notFound, "no \(Document.noun) \(version)", field: "version")
        }
        return stored
    }
}

/// The last document text read and what it parsed to: a process that reads the version in
/// force for every batch (monitoring) pays for the parse once per version, not once per batch.
/// The text is compared whole, so a different version, or the same version stored differently,
/// is parsed afresh.
public final class ParsedDocumentCache<Document: VersionedDocument>: Sendable {
    private let last = Mutex<(text: String, document: Document)?>(nil)
    private let parses = Atomic<Int>(0)

    public init() {}

    /// How many times a text was parsed (for tests).
    public var parseCount: Int { parses.load(ordering: .relaxed) }

    public func document(for text: String) throws(KinkoError) -> Document {
        if let hit = last.withLock({ $0?.text == text ? $0?.document : nil }) { return hit }
        let parsed = try Document(yaml: text)
        parses.add(1, ordering: .relaxed)
        last.withLock { $0 = (text, parsed) }
        return parsed
    }
}

import Foundation
public import KinkoCore

/// One record of a domain collection as stored: a JSON body under a key, a tag lists can filter
/// on (a status, an owner), and a version for compare-and-set updates.
public struct StoredRecord: Sendable, Equatable {
    public var collection: String
    public var key: String
    public var tag: String
    public var version: Int64
    public var body: [UInt8]
    public var updatedAt: TimestampNanoseconds

    public init(collection: String, key: String, tag: String, version: Int64, body: [UInt8], updatedAt: TimestampNanoseconds) {
        self.collection = collection
        self.key = key
        self.tag = tag
        self.version = version
        self.body = body
        self.updatedAt = updatedAt
    }
}

/// One change of a `RecordStore.write`. All changes of one write and its audit entry commit
/// together or not at all.
public enum RecordWrite: Sendable, Equatable {
    /// A new record at version 1; the write fails if the key exists.
    case insert(collection: String, key: String, tag: String, body: [UInt8])
    /// Replaces the record if it is still at `version` (then at `version + 1`); the write fails
    /// otherwise. This is how a state transition checks the current state in its transaction.
    case update(collection: String, key: String, version: Int64, tag: String, body: [UInt8])
    /// Marks an approval request executed if it is still open at `revision`; the write fails
    /// otherwise, so an approved change runs exactly once.
    case executeRequest(ApprovalRequestID, revision: Int)
    /// Marks an approval request cancelled if it is still open; the write fails otherwise.
    case cancelRequest(ApprovalRequestID)
}

/// Where domain modules keep records that need no tables of their own: enrolments, versioned
/// settings, withdrawal and deposit decisions, parked transfers. One implementation per
/// database serves every collection, so the store contract is written once.
public protocol RecordStore: Sendable {
    func record(_ collection: String, key: String) async throws -> StoredRecord?
    /// Records of a collection in key order after `after`, with `tag` if given, at most `limit`.
    func records(_ collection: String, tag: String?, after: String?, limit: Int) async throws -> [StoredRecord]
    /// Applies every change and appends `audit` in one transaction. False, with nothing
    /// written and nothing audited, if any insert, update or execution finds the state moved.
    func write(_ changes: [RecordWrite], at time: TimestampNanoseconds, audit: AuditEvent) async throws -> Bool
}

public enum RecordLimits {
    public static let collectionLengthMax = 64
    public static let keyLengthMax = 200
    public static let tagLengthMax = 200
    /// One record's JSON body.
    public static let bodyBytesMax = 1 << 20
    /// Records one `records` call returns.
    public static let pageMax = 10_000

    /// Checks a change before any store sees it.
    public static func validate(_ change: RecordWrite) throws(KinkoError) {
        switch change {
        case .insert(let collection, let key, let tag, let body), .update(let collection, let key, _, let tag, let body):
            guard (1...collectionLengthMax).contains(collection.utf8.count) else {
                throw KinkoError(.invalidInput, "a collection name is 1–\(collectionLengthMax) bytes", field: "collection")
            }
            guard (1...keyLengthMax).contains(key.utf8.count), !key.utf8.contains(0) else {
                throw KinkoError(.invalidInput, "a record key is 1–\(keyLengthMax) bytes without NUL", field: "key")
            }
            guard tag.utf8.count <= tagLengthMax, !tag.utf8.contains(0) else {
                throw KinkoError(.invalidInput, "a record tag is at most \(tagLengthMax) bytes without NUL", field: "tag")
            }
            guard body.count <= bodyBytesMax else {
                throw KinkoError(.limitExceeded, "a record holds at most \(bodyBytesMax) bytes; got \(body.count)", field: "body")
            }
        case .executeRequest, .cancelRequest:
            break
        }
    }
}

/// A typed view of one collection: values are JSON (sorted keys), keys are chosen by the
/// module (zero-padded numbers sort as numbers).
public struct RecordCollection<Value: Codable & Sendable>: Sendable {
    public let name: String
    public let store: any RecordStore

    public init(_ name: String, store: any RecordStore) {
        self.name = name
        self.store = store
    }

    public struct Entry: Sendable {
        public var key: String
        public var version: Int64
        public var value: Value
        public var updatedAt: TimestampNanoseconds
    }

    public func get(_ key: String) async throws -> Entry? {
        guard let stored = try await store.record(name, key: key) else { return nil }
        return try decode(stored)
    }

    public func list(tag: String? = nil, after: String? = nil, limit: Int = RecordLimits.pageMax) async throws -> [Entry] {
        try await store.records(name, tag: tag, after: after, limit: min(limit, RecordLimits.pageMax)).map(decode)
    }

    /// Every record (with `tag` if given), page by page: for collections that may outgrow one page.
    public func all(tag: String? = nil) async throws -> [Entry] {
        var entries: [Entry] = []
        var after: String?
        while true {
            let page = try await list(tag: tag, after: after)
            entries += page
            guard page.count == RecordLimits.pageMax, let last = page.last else { return entries }
            after = last.key
        }
    }

    public func insert(_ key: String, _ value: Value, tag: String = "") throws -> RecordWrite {
        .insert(collection: name, key: key, tag: tag, body: try Self.encode(value))
    }

    public func update(_ entry: Entry, to value: Value, tag: String = "") throws -> RecordWrite {
        .update(collection: name, key: entry.key, version: entry.version, tag: tag, body: try Self.encode(value))
    }

    private func decode(_ stored: StoredRecord) throws -> Entry {
        do {
            return Entry(key: stored.key, version: stored.version, value: try JSONDecoder().decode(Value.self, from: Data(stored.body)),
                         updatedAt: stored.updatedAt)
        } catch {
            throw KinkoError(.storageCorrupted, "record \(name)/\(stored.key) does not decode: \(error)")
        }
    }

    static func encode(_ value: Value) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    /// A number as a key that sorts like the number (20 digits, zero-padded).
    public static func key(_ number: UInt64) -> String {
        let digits = String(number)
        return String(repeating: "0", count: 20 - digits.count) + digits
    }
}

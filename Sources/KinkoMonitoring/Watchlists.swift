import Foundation
public import KinkoCore

/// Why an address is on a list: sanctioned (OFAC SDN digital-currency addresses) or known
/// stolen (proceeds of a hack, as shared by other exchanges or JAFIC).
public enum AddressListKind: String, Sendable, CaseIterable {
    case sanctioned, stolen

    public var rule: String { self == .sanctioned ? "sanctioned_address" : "stolen_address" }
}

/// One imported list: the addresses of one asset, in OFAC's layout (one address a line),
/// lowercased for matching, with the version the importer gave it.
public struct AddressList: Sendable, Equatable {
    public var kind: AddressListKind
    public var asset: String
    public var version: String
    public var addresses: Set<String>

    public static let addressesMax = 1_000_000
    public static let addressLengthMax = 128

    /// Parses a list file. Blank lines and `#` comments are skipped; any other line must be one
    /// address (letters, digits, `:`, `_`, `-`), or the whole file is refused with its line number.
    public init(kind: AddressListKind, asset: String, version: String, text: String) throws(KinkoError) {
        let asset = asset.uppercased()
        guard (1...16).contains(asset.utf8.count), asset.utf8.allSatisfy({ $0 >= 0x30 && $0 < 0x7F }) else {
            throw KinkoError(.invalidInput, "an asset code is 1–16 characters", field: "asset")
        }
        guard (1...64).contains(version.utf8.count) else { throw KinkoError(.invalidInput, "a list version is 1–64 characters", field: "version") }
        var addresses = Set<String>()
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard line.utf8.count <= Self.addressLengthMax,
                line.unicodeScalars.allSatisfy({ ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || ":_-".unicodeScalars.contains($0) })
            else {
                throw KinkoError(.invalidInput, "line \(index + 1) is not an address (letters and digits, at most \(Self.addressLengthMax))", field: "file")
            }
            addresses.insert(line.lowercased())
            guard addresses.count <= Self.addressesMax else {
                throw KinkoError(.limitExceeded, "a list holds at most \(Self.addressesMax) addresses", field: "file")
            }
        }
        self.init(kind: kind, asset: asset, version: version, addresses: addresses)
    }

    public init(kind: AddressListKind, asset: String, version: String, addresses: Set<String>) {
        self.kind = kind
        self.asset = asset
        self.version = version
        self.addresses = addresses
    }
}

/// Every list in force, for matching: per kind and asset, the current version.
public struct Watchlists: Sendable {
    private var lists: [AddressListKind: [String: AddressList]] = [:]

    public init(_ lists: [AddressList] = []) {
        for list in lists { replace(list) }
    }

    /// The newer import of a kind and asset replaces the older one.
    public mutating func replace(_ list: AddressList) {
        lists[list.kind, default: [:]][list.asset] = list
    }

    public var all: [AddressList] {
        lists.values.flatMap(\.values).sorted { ($0.kind.rawValue, $0.asset) < ($1.kind.rawValue, $1.asset) }
    }

    /// The list that holds `address` (matching ignores case). Without an asset every list of the kind is searched.
    public func match(_ kind: AddressListKind, asset: String?, address: String) -> AddressList? {
        guard let byAsset = lists[kind] else { return nil }
        let key = address.lowercased()
        if let asset {
            if let list = byAsset[asset.uppercased()], list.addresses.contains(key) { return list }
            return nil
        }
        return byAsset.values.sorted { $0.asset < $1.asset }.first { $0.addresses.contains(key) }
    }
}

/// Where the travel rule applies, as a dated list: Japan always, and each jurisdiction the FSA
/// designates from the day its designation takes effect (20 from 1 June 2023, 28 from 1 May
/// 2024) until the day it ends, if ever. The list is data, not code: compliance replaces it
/// (with a second officer's approval) when the FSA's notice changes, and a transfer is judged
/// by the designations in force at its own time.
///
/// Its text form, one token per designation, is what `kinko monitor jurisdictions set` takes and
/// the stores keep: `JP` (always), `US@2023-06-01` (from that day, 00:00 JST), or
/// `XX@2023-06-01..2025-01-01` (from the first day until the second, exclusive). A list stored
/// before designations were dated reads as undated tokens, in force at every time.
public struct TravelRuleJurisdictions: Sendable, Equatable {
    public struct Designation: Sendable, Equatable, Comparable {
        public var country: String
        /// `YYYY-MM-DD`: in force from 00:00 JST of this day; nil: from the beginning.
        public var from: String?
        /// `YYYY-MM-DD`: no longer in force from 00:00 JST of this day; nil: still in force.
        public var until: String?
        public var fromTime: TimestampNanoseconds
        public var untilTime: TimestampNanoseconds

        public func inForce(at time: TimestampNanoseconds) -> Bool { fromTime <= time && time < untilTime }

        /// The token of the text form.
        public var token: String { Self.token(country: country, from: from, until: until) }

        public static func token(country: String, from: String?, until: String?) -> String {
            switch (from, until) {
            case (nil, nil): return country
            case (let from?, nil): return "\(country)@\(from)"
            case (let from, let until?): return "\(country)@\(from ?? "")..\(until)"
            }
        }

        public static func < (a: Self, b: Self) -> Bool { (a.country, a.fromTime) < (b.country, b.fromTime) }
    }

    public var version: String
    /// Sorted by country, then start.
    public private(set) var designations: [Designation]

    /// Designations one list may hold (every country code twice over, with room for changes).
    public static let designationsMax = 300

    /// Undated countries: each in force at every time.
    public init(version: String, countries: Set<String>) throws(KinkoError) {
        try self.init(version: version, tokens: countries.sorted())
    }

    /// Reads the text form, token by token (see the type's documentation).
    public init(version: String, tokens: [String]) throws(KinkoError) {
        guard (1...64).contains(version.utf8.count), !version.utf8.contains(where: { $0 < 0x20 }) else {
            throw KinkoError(.invalidInput, "a version is 1–64 printable characters", field: "version")
        }
        let tokens = tokens.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard tokens.count <= Self.designationsMax else {
            throw KinkoError(.limitExceeded, "a list holds at most \(Self.designationsMax) designations; got \(tokens.count)", field: "countries")
        }
        var designations: [Designation] = []
        for token in tokens { designations.append(try Self.designation(token)) }
        designations.sort()
        for (a, b) in zip(designations, designations.dropFirst()) where a.country == b.country && b.fromTime < a.untilTime {
            throw KinkoError(.invalidInput, "\(a.token) and \(b.token) overlap; a country's designations follow one another", field: "countries")
        }
        guard designations.contains(where: { $0.country == "JP" && $0.until == nil }) else {
            throw KinkoError(.invalidInput, "Japan (JP) is always a travel-rule jurisdiction: list JP without an end", field: "countries")
        }
        self.version = version
        self.designations = designations
    }

    /// The text form, one token per designation, sorted.
    public var tokens: [String] { designations.map(\.token) }

    /// The text form as one line, tokens separated by commas (as stored and approved).
    public var text: String { tokens.joined(separator: ",") }

    public init(version: String, text: String) throws(KinkoError) {
        try self.init(version: version, tokens: text.split(separator: ",").map(String.init))
    }

    static func designation(_ token: String) throws(KinkoError) -> Designation {
        let parts = token.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let country = parts[0].uppercased()
        guard country.utf8.count == 2, country.utf8.allSatisfy({ (0x41...0x5A).contains($0) }) else {
            throw KinkoError(.invalidInput, "\"\(parts[0])\" is not an ISO 3166-1 alpha-2 code (in \"\(token)\")", field: "countries")
        }
        guard parts.count == 2 else { return Designation(country: country, from: nil, until: nil, fromTime: 0, untilTime: .max) }
        let range = parts[1].components(separatedBy: "..")
        guard range.count <= 2, !(range.count == 1 && range[0].isEmpty) else {
            throw KinkoError(.invalidInput, "\"\(token)\" is CC, CC@FROM, CC@FROM..UNTIL or CC@..UNTIL (days YYYY-MM-DD)", field: "countries")
        }
        let from = range[0].isEmpty ? nil : range[0]
        let until = range.count == 2 ? range[1] : nil
        let fromTime = try from.map { day throws(KinkoError) in try TimestampNanoseconds.startOfDayJST(day, field: "countries") } ?? 0
        let untilTime = try until.map { day throws(KinkoError) in try TimestampNanoseconds.startOfDayJST(day, field: "countries") } ?? .max
        guard fromTime < untilTime else {
            throw KinkoError(.invalidInput, "\"\(token)\" ends on or before it begins", field: "countries")
        }
        return Designation(country: country, from: from, until: until, fromTime: fromTime, untilTime: untilTime)
    }

    /// The countries whose designation is in force at `time`.
    public func countries(at time: TimestampNanoseconds) -> Set<String> {
        Set(designations.filter { $0.inForce(at: time) }.map(\.country))
    }

    public func applies(to country: String, at time: TimestampNanoseconds) -> Bool {
        designations.contains { $0.country == country && $0.inForce(at: time) }
    }

    /// The latest day on which the set in force at `time` changed (nil: it never has).
    public func lastChange(atOrBefore time: TimestampNanoseconds) -> String? {
        designations.flatMap { d in [(d.fromTime, d.from), (d.untilTime, d.until)] }
            .filter { $0.0 <= time && $0.1 != nil }.max { $0.0 < $1.0 }?.1
    }

    /// The legal basis, for the regulatory parameters' view.
    public static let source = "APTCP Art. 10-5; Enforcement Order Art. 17-2 and 17-3; the FSA's notice designating jurisdictions (20 from 1 June 2023; 28 from 1 May 2024: AE, BH, EE, GB, ID, IN, NG and PT added)"

    /// The FSA's designations as shipped: Japan, the 20 jurisdictions of the notice in force
    /// from 1 June 2023 (fsa.go.jp/news/r4/sonota/20230203-2) and the 8 added from 1 May 2024
    /// (fsa.go.jp/news/r5/sonota/20240417). Compliance replaces it when the FSA's notice
    /// changes (`kinko monitor jurisdictions set`).
    public static let designatedByFSA: TravelRuleJurisdictions = {
        let june2023 = ["AL", "BM", "BS", "CA", "CH", "DE", "GI", "HK", "IL", "KR", "KY", "LI", "LU", "MU", "MY", "PH", "RS", "SG", "US", "VE"]
        let may2024 = ["AE", "BH", "EE", "GB", "ID", "IN", "NG", "PT"]
        let tokens = ["JP"] + june2023.map { "\($0)@2023-06-01" } + may2024.map { "\($0)@2024-05-01" }
        do { return try TravelRuleJurisdictions(version: "fsa-2024-05-01", tokens: tokens) } catch {
            preconditionFailure("the FSA's designated jurisdictions do not read: \(error)")
        }
    }()
}

/// IVMS101 completeness: a natural person is identified by a name, an account (number or wallet
/// address) and at least one of a geographic address, a national identifier, or a date and
/// place of birth.
public enum TravelRule {
    public static func missingFields(_ party: TravelRuleParty?, role: String) -> [String] {
        guard let party else { return ["\(role)"] }
        var missing: [String] = []
        func present(_ value: String?) -> Bool { !(value?.trimmingCharacters(in: .whitespaces).isEmpty ?? true) }
        if !present(party.name) { missing.append("\(role).name") }
        if !present(party.account) { missing.append("\(role).account") }
        if !present(party.geographicAddress) && !present(party.nationalID) && !(present(party.dateOfBirth) && present(party.placeOfBirth)) {
            missing.append("\(role).geographic_address|national_id|date_and_place_of_birth")
        }
        return missing
    }

    /// A missing field as a compliance officer reads it (`originator.national_id|…` is the
    /// originator's address, national ID, or date and place of birth); the paths stay in the
    /// hit's `missing` value for machines.
    public static func describe(_ path: String) -> String {
        let parts = path.split(separator: ".", maxSplits: 1).map(String.init)
        switch (parts.first ?? "", parts.count > 1 ? parts[1] : nil) {
        case ("vasp", nil): return "the receiving VASP's name"
        case ("vasp_country", nil): return "the receiving VASP's country"
        case (let role, nil): return "every detail of the \(role)"
        case (let role, "name"?): return "the \(role)'s name"
        case (let role, "account"?): return "the \(role)'s account number or wallet address"
        case (let role, "geographic_address|national_id|date_and_place_of_birth"?): return "the \(role)'s address, national ID, or date and place of birth (one of them)"
        case (let role, let field?): return "the \(role)'s \(field.replacingOccurrences(of: "_", with: " "))"
        }
    }
}

/// The watchlists one process evaluates with, swapped as a whole when the lists in force change
/// (their `kind/asset/version` keys), so a batch does not reload a million addresses.
public final class WatchlistCache: @unchecked Sendable {
    private let lock = NSLock()
    private var versions: [String]?
    private var cached = Watchlists()
    private var loadCount = 0
    /// How many times the lists were read from the store (for tests and metrics).
    public var loads: Int { lock.withLock { loadCount } }

    public init() {}

    /// The watchlists for `versions`: the cached ones if they match, else `load()`'s.
    public func current(versions: [String], load: () async throws -> [AddressList]) async throws -> Watchlists {
        if let hit = lock.withLock({ self.versions == versions ? cached : nil }) { return hit }
        let fresh = Watchlists(try await load())
        lock.withLock {
            // Keyed by the versions read before the lists: at worst a newer list waits one
            // batch more to be cached, never an older one under a newer key.
            self.versions = versions
            cached = fresh
            loadCount += 1
        }
        return fresh
    }
}

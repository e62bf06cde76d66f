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

/// Where the travel rule applies: Japan and the jurisdictions the FSA designates (28 from May
/// 2024). The list is data, not code: compliance replaces it when the FSA's notice changes.
public struct TravelRuleJurisdictions: Sendable, Equatable {
    public var version: String
    public var countries: Set<String>

    public init(version: String, countries: Set<String>) throws(KinkoError) {
        guard (1...64).contains(version.utf8.count) else { throw KinkoError(.invalidInput, "a version is 1–64 characters", field: "version") }
        let upper = Set(countries.map { $0.uppercased() })
        if let bad = upper.sorted().first(where: { $0.utf8.count != 2 || !$0.utf8.allSatisfy { (0x41...0x5A).contains($0) } }) {
            throw KinkoError(.invalidInput, "\"\(bad)\" is not an ISO 3166-1 alpha-2 code", field: "countries")
        }
        guard upper.contains("JP") else { throw KinkoError(.invalidInput, "Japan (JP) is always a travel-rule jurisdiction", field: "countries") }
        self.init(checked: version, countries: upper)
    }

    /// A list already known to be valid (the starter; a test checks it passes `init`).
    private init(checked version: String, countries: Set<String>) {
        self.version = version
        self.countries = countries
    }

    /// A starting list: Japan and jurisdictions with travel-rule legislation in force. Replace it
    /// with the FSA's current notice (`kinko monitor jurisdictions set`).
    public static let starter = TravelRuleJurisdictions(
        checked: "starter-2024-05",
        countries: ["JP", "US", "CA", "SG", "KR", "HK", "GB", "CH", "DE", "FR", "NL", "AT", "BE", "IE", "IT", "ES", "LU", "EE", "LT", "LI", "AE",
                    "BM", "KY", "GI", "ZA", "PH", "ID", "MY"])
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

import Foundation
public import KinkoCore
public import KinkoGovernance
import Yams

/// The insider list compliance keeps: the exchange's staff, the restricted list (accounts that
/// must not trade a market over a window), blackouts per market, the households the exchange has
/// observed (accounts tied by a device, a bank account, a withdrawal address or a home IP), and
/// pre-clearances of staff trades. It changes only under approval, like a rule set, and the
/// pre-trade check reads the version in force. Times are milliseconds since the epoch (UTC).
public struct InsiderList: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public let account: String
        public let market: String
        public let from: Milliseconds
        public let to: Milliseconds
        public let reason: String
        public init(account: String, market: String, from: Milliseconds, to: Milliseconds, reason: String) {
            self.account = account
            self.market = market
            self.from = from
            self.to = to
            self.reason = reason
        }
    }

    public var version: String
    public var preClearanceRequired: Bool
    public var staff: [String]
    public var households: [[String]]
    public var restricted: [Entry]
    public var blackouts: [Blackout]
    public var preClearances: [PreClearance]

    /// An IP address shared by at most this many accounts ties a household together; more is an
    /// office, a carrier's NAT or the exchange's own network, which ties no one.
    public static let householdAccountsMax = 6
    /// How long after publication staff stay out of a market by default.
    public static let coolingOffMilliseconds: Milliseconds = 24 * 3_600_000

    public init(version: String, preClearanceRequired: Bool, staff: [String], households: [[String]], restricted: [Entry], blackouts: [Blackout],
                preClearances: [PreClearance]) {
        self.version = version
        self.preClearanceRequired = preClearanceRequired
        self.staff = staff
        self.households = households
        self.restricted = restricted
        self.blackouts = blackouts
        self.preClearances = preClearances
    }

    /// The list a data set implies: its employees, its restricted list, a blackout per
    /// announcement from `known_from` to `coolingOff` after publication, and the households its
    /// links reveal around staff and restricted accounts.
    public static func derive(from dataset: MarketDataset, version: String, coolingOff: Milliseconds = coolingOffMilliseconds,
                              preClearanceRequired: Bool = false) -> InsiderList {
        let name = { (account: Int32) in dataset.accounts.name(account) }
        let staff = dataset.info.values.filter { $0.kind == .employee }.map { name($0.account) }.sorted()
        let restricted = dataset.restricted.map { Entry(account: name($0.account), market: dataset.markets[$0.market].symbol, from: $0.from, to: $0.to, reason: $0.reason) }
        let blackouts = dataset.announcements.map {
            Blackout(market: dataset.markets[$0.market].symbol, from: $0.knownFrom, to: $0.publishedAt + coolingOff, reason: "\($0.id): \($0.description)")
        }
        var sharing: [String: Set<Int32>] = [:]
        for link in dataset.links where link.kind == .ip { sharing[link.value, default: []].formUnion([link.a, link.b]) }
        let principals = Set(staff).union(restricted.map(\.account))
        var households: Set<[String]> = []
        for link in dataset.links where link.kind.strong || (sharing[link.value]?.count ?? 0) <= householdAccountsMax {
            let pair = [name(link.a), name(link.b)].sorted()
            if principals.contains(pair[0]) || principals.contains(pair[1]) { households.insert(pair) }
        }
        return InsiderList(version: version, preClearanceRequired: preClearanceRequired, staff: staff,
                           households: households.sorted { $0.lexicographicallyPrecedes($1) }, restricted: restricted, blackouts: blackouts, preClearances: [])
    }

    /// The list as the YAML document compliance proposes.
    public var yaml: String {
        func quoted(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        var lines = ["version: \(quoted(version))", "pre_clearance_required: \(preClearanceRequired)",
                     "staff: [" + staff.map(quoted).joined(separator: ", ") + "]", "households:"]
        lines += households.map { "  - [" + $0.map(quoted).joined(separator: ", ") + "]" }
        lines.append("restricted:")
        lines += restricted.map { "  - {account: \(quoted($0.account)), market: \(quoted($0.market)), from: \($0.from), to: \($0.to), reason: \(quoted($0.reason))}" }
        lines.append("blackouts:")
        lines += blackouts.map { "  - {market: \(quoted($0.market)), from: \($0.from), to: \($0.to), reason: \(quoted($0.reason))}" }
        lines.append("pre_clearances:")
        lines += preClearances.map {
            "  - {account: \(quoted($0.account)), market: \(quoted($0.market)), side: \($0.side.rawValue), from: \($0.from), to: \($0.to), approved_by: \(quoted($0.approvedBy))}"
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public init(yaml: String) throws(KinkoError) {
        guard yaml.utf8.count <= SettingsVersion.documentBytesMax else {
            throw KinkoError(.limitExceeded, "an insider list is at most \(SettingsVersion.documentBytesMax) bytes", field: "insiders")
        }
        let loaded: Any?
        do { loaded = try Yams.load(yaml: yaml) } catch { throw KinkoError(.invalidInput, "not YAML: \(error)", field: "insiders") }
        guard let root = loaded as? [String: Any] else { throw KinkoError(.invalidInput, "an insider list is a YAML mapping", field: "insiders") }
        guard let version = root["version"] as? String, (1...32).contains(version.utf8.count) else {
            throw KinkoError(.invalidInput, "is required: 1–32 characters", field: "version")
        }
        self.version = version
        preClearanceRequired = root["pre_clearance_required"] as? Bool ?? false
        staff = try Self.strings(root["staff"], field: "staff")
        households = try (root["households"] as? [Any] ?? []).enumerated().map { (index, item) throws(KinkoError) in
            let members = try Self.strings(item, field: "households[\(index)]")
            guard members.count >= 2 else { throw KinkoError(.invalidInput, "a household has at least two accounts", field: "households[\(index)]") }
            return members
        }
        func window(_ item: Any, _ field: String) throws(KinkoError) -> (market: String, from: Milliseconds, to: Milliseconds, reason: String, map: [String: Any]) {
            guard let map = item as? [String: Any] else { throw KinkoError(.invalidInput, "must be a mapping", field: field) }
            guard let market = map["market"] as? String, !market.isEmpty else { throw KinkoError(.invalidInput, "is required", field: "\(field).market") }
            guard let from = (map["from"] as? Int).map(Int64.init) else { throw KinkoError(.invalidInput, "must be ms since the epoch", field: "\(field).from") }
            guard let to = (map["to"] as? Int).map(Int64.init), to >= from else { throw KinkoError(.invalidInput, "must be ms since the epoch, not before from", field: "\(field).to") }
            return (market, from, to, map["reason"] as? String ?? "", map)
        }
        var restricted: [Entry] = []
        for (index, item) in (root["restricted"] as? [Any] ?? []).enumerated() {
            let field = "restricted[\(index)]"
            let parsed = try window(item, field)
            guard let account = parsed.map["account"] as? String, !account.isEmpty else { throw KinkoError(.invalidInput, "is required", field: "\(field).account") }
            restricted.append(Entry(account: account, market: parsed.market, from: parsed.from, to: parsed.to, reason: parsed.reason))
        }
        self.restricted = restricted
        var blackouts: [Blackout] = []
        for (index, item) in (root["blackouts"] as? [Any] ?? []).enumerated() {
            let parsed = try window(item, "blackouts[\(index)]")
            blackouts.append(Blackout(market: parsed.market, from: parsed.from, to: parsed.to, reason: parsed.reason))
        }
        self.blackouts = blackouts
        var clearances: [PreClearance] = []
        for (index, item) in (root["pre_clearances"] as? [Any] ?? []).enumerated() {
            let field = "pre_clearances[\(index)]"
            let parsed = try window(item, field)
            guard let account = parsed.map["account"] as? String, !account.isEmpty else { throw KinkoError(.invalidInput, "is required", field: "\(field).account") }
            guard let side = (parsed.map["side"] as? String).flatMap(OrderSide.init(rawValue:)) else { throw KinkoError(.invalidInput, "must be buy or sell", field: "\(field).side") }
            guard let approver = parsed.map["approved_by"] as? String, !approver.isEmpty else { throw KinkoError(.invalidInput, "is required", field: "\(field).approved_by") }
            clearances.append(PreClearance(account: account, market: parsed.market, side: side, from: parsed.from, to: parsed.to, approvedBy: approver))
        }
        preClearances = clearances
    }

    private static func strings(_ value: Any?, field: String) throws(KinkoError) -> [String] {
        guard let value else { return [] }
        guard let list = value as? [Any], let strings = list as? [String], strings.allSatisfy({ !$0.isEmpty }) else {
            throw KinkoError(.invalidInput, "must be a list of account ids", field: field)
        }
        return strings
    }
}

extension InsiderList: VersionedDocument {
    public static let settingsKind = "surveil.insiders"
    public static let adoptionAction = "surveil.insiders.adopt"
    public static let proposePermission = Permission.monitorListsManage
    public static let readPermission = Permission.monitorRead
    public static let noun = "insider list"
    public static func adoptionPolicy() throws(KinkoError) -> ApprovalPolicy { try ApprovalPolicy(approvalsRequired: 1, eligibleRoles: [.compliance]) }
}

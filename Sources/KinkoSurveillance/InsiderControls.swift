/// A market closed to the exchange's staff and everyone tied to them, e.g. from the day a listing
/// is known inside the exchange until it is public.
public struct Blackout: Sendable, Equatable {
    public let market: String
    public let from: Milliseconds
    public let to: Milliseconds
    public let reason: String
    public init(market: String, from: Milliseconds, to: Milliseconds, reason: String) {
        self.market = market
        self.from = from
        self.to = to
        self.reason = reason
    }
}

/// Compliance's permission for an employee to trade a market within a window.
public struct PreClearance: Sendable, Equatable {
    public let account: String
    public let market: String
    public let side: OrderSide
    public let from: Milliseconds
    public let to: Milliseconds
    public let approvedBy: String
    public init(account: String, market: String, side: OrderSide, from: Milliseconds, to: Milliseconds, approvedBy: String) {
        self.account = account
        self.market = market
        self.side = side
        self.from = from
        self.to = to
        self.approvedBy = approvedBy
    }
}

/// An order the matching engine asks about before accepting it.
public struct PreTradeRequest: Sendable, Equatable {
    public let account: String
    public let market: String
    public let side: OrderSide
    public let time: Milliseconds
    public init(account: String, market: String, side: OrderSide, time: Milliseconds) {
        self.account = account
        self.market = market
        self.side = side
        self.time = time
    }
}

public struct PreTradeDecision: Sendable, Equatable {
    public enum Reason: String, Sendable {
        /// The account is on the restricted list for the market.
        case restrictedList = "restricted_list"
        /// A restricted account's household (a shared device, bank account, withdrawal address or
        /// home IP) is on the restricted list for the market.
        case linkedToRestricted = "linked_to_restricted"
        /// The exchange's staff may not trade a market in its blackout.
        case blackout
        /// An employee's household may not trade a market in its blackout either.
        case linkedToEmployeeInBlackout = "linked_to_employee_in_blackout"
        /// An employee's trade needs compliance's pre-clearance.
        case noPreClearance = "no_pre_clearance"
    }

    public let allowed: Bool
    public let reason: Reason?
    /// The account, list entry or blackout behind a refusal, for the person who reads it.
    public let detail: String

    public static let allow = PreTradeDecision(allowed: true, reason: nil, detail: "")
    static func refuse(_ reason: Reason, _ detail: String) -> PreTradeDecision { PreTradeDecision(allowed: false, reason: reason, detail: detail) }
}

/// The insider controls at the boundary: the restricted list, blackout windows per market, the
/// households of staff and restricted accounts (from the links the exchange observes), and
/// pre-clearances for staff trades. `check` answers the matching engine's pre-trade question from
/// dictionaries built up front, so it costs a few hash lookups.
public struct InsiderControls: Sendable {
    private var restricted: [String: [RestrictedWindow]] = [:]
    private var blackouts: [String: [Blackout]] = [:]
    private var employees: Set<String> = []
    /// Account → the staff and restricted accounts it shares a household with.
    private var households: [String: [String]] = [:]
    private var preClearances: [String: [PreClearance]] = [:]
    public let preClearanceRequired: Bool

    struct RestrictedWindow: Sendable {
        let market: String
        let from: Milliseconds
        let to: Milliseconds
        let reason: String
    }

    /// The controls of an insider list (the version in force, or one derived from a data set).
    public init(list: InsiderList) {
        preClearanceRequired = list.preClearanceRequired
        for entry in list.restricted {
            restricted[entry.account, default: []].append(RestrictedWindow(market: entry.market, from: entry.from, to: entry.to, reason: entry.reason))
        }
        for blackout in list.blackouts { blackouts[blackout.market, default: []].append(blackout) }
        employees = Set(list.staff)
        for clearance in list.preClearances { preClearances[clearance.account, default: []].append(clearance) }
        let principals = employees.union(restricted.keys)
        for household in list.households {
            for account in household {
                for other in household where other != account && principals.contains(other) && !(households[account]?.contains(other) ?? false) {
                    households[account, default: []].append(other)
                }
            }
        }
    }

    public func check(_ request: PreTradeRequest) -> PreTradeDecision {
        if let window = restrictedWindow(request.account, request) {
            return .refuse(.restrictedList, "\(request.account) is restricted in \(request.market): \(window.reason)")
        }
        let household = households[request.account] ?? []
        for principal in household {
            if let window = restrictedWindow(principal, request) {
                return .refuse(.linkedToRestricted, "\(request.account) shares a household with \(principal), restricted in \(request.market): \(window.reason)")
            }
        }
        let blackout = blackouts[request.market]?.first { $0.from <= request.time && request.time <= $0.to }
        if employees.contains(request.account) {
            if let blackout { return .refuse(.blackout, "\(request.market) is in blackout for staff: \(blackout.reason)") }
            if preClearanceRequired, !(preClearances[request.account] ?? []).contains(where: {
                $0.market == request.market && $0.side == request.side && $0.from <= request.time && request.time <= $0.to
            }) {
                return .refuse(.noPreClearance, "\(request.account) has no pre-clearance to \(request.side.rawValue) \(request.market)")
            }
        }
        if let blackout, let employee = household.first(where: { employees.contains($0) }) {
            return .refuse(.linkedToEmployeeInBlackout, "\(request.account) shares a household with employee \(employee); \(request.market) is in blackout: \(blackout.reason)")
        }
        return .allow
    }

    private func restrictedWindow(_ account: String, _ request: PreTradeRequest) -> RestrictedWindow? {
        restricted[account]?.first { $0.market == request.market && $0.from <= request.time && request.time <= $0.to }
    }
}

/// Milliseconds since the Unix epoch (UTC): the exchange's order and trade stream keeps time in
/// milliseconds, and so does every surveillance window.
public typealias Milliseconds = Int64

public enum OrderSide: String, Sendable, CaseIterable {
    case buy, sell

    public var opposite: OrderSide { self == .buy ? .sell : .buy }
    /// +1 for a buy (a position grows), −1 for a sell.
    public var sign: Double { self == .buy ? 1 : -1 }
}

public enum OrderType: String, Sendable, CaseIterable {
    case limit, market
}

/// What happened to an order: accepted, (partly) filled, cancelled by its account, or expired
/// (removed by the exchange).
public enum OrderEventKind: String, Sendable, CaseIterable {
    case new
    case partialFill = "partial_fill"
    case fill, cancel, expire

    /// After this event nothing of the order rests in the book.
    public var ends: Bool { self == .fill || self == .cancel || self == .expire }
}

public enum AccountKind: String, Sendable, CaseIterable {
    case customer, employee
    case marketMaker = "market_maker"
}

/// A fact the exchange observed that ties two accounts together.
public enum LinkKind: String, Sendable, CaseIterable {
    case device, ip
    case bankAccount = "bank_account"
    case withdrawalAddress = "withdrawal_address"

    /// A device, a bank account or a withdrawal address is one person's (or one household's)
    /// thing; an IP address is shared by offices, carrier NAT and families.
    public var strong: Bool { self != .ip }
}

/// A market with its increments. Prices and quantities are kept as whole ticks and lots, so the
/// book's levels are exact; notional values are in the quote asset (yen) as `Double`, which
/// surveillance statistics need and money never passes through.
public struct MarketSpec: Sendable, Equatable {
    public let symbol: String
    public let base: String
    public let quote: String
    public let tickSize: Double
    public let lotSize: Double

    public init(symbol: String, base: String, quote: String, tickSize: Double, lotSize: Double) {
        self.symbol = symbol
        self.base = base
        self.quote = quote
        self.tickSize = tickSize
        self.lotSize = lotSize
    }

    public func notional(priceTicks: Int64, lots: Int64) -> Double {
        Double(priceTicks) * tickSize * Double(lots) * lotSize
    }

    public func price(ticks: Int64) -> Double { Double(ticks) * tickSize }
    public func quantity(lots: Int64) -> Double { Double(lots) * lotSize }

    /// `text` as a whole number of `step`s, or nil when it is not a number or not a multiple.
    public static func steps(_ text: Substring, of step: Double) -> Int64? {
        guard let value = Double(text), value.isFinite, value >= 0 else { return nil }
        let steps = (value / step).rounded()
        guard abs(steps * step - value) <= step * 1e-6, steps < 9.0e15 else { return nil }
        return Int64(steps)
    }
}

/// Account ids of the stream interned to dense numbers, so per-account state lives in arrays.
public struct AccountDirectory: Sendable {
    public private(set) var names: [String] = []
    private var index: [String: Int32] = [:]

    public init() {}

    public var count: Int { names.count }

    /// The number of `name`, adding it when new.
    public mutating func intern(_ name: String) -> Int32 {
        if let known = index[name] { return known }
        let number = Int32(names.count)
        names.append(name)
        index[name] = number
        return number
    }

    public func number(of name: String) -> Int32? { index[name] }
    public func name(_ number: Int32) -> String { names[Int(number)] }
}

public struct AccountInfo: Sendable, Equatable {
    public let account: Int32
    public let customer: String
    public let kind: AccountKind
    public let openedAt: Milliseconds

    public init(account: Int32, customer: String, kind: AccountKind, openedAt: Milliseconds) {
        self.account = account
        self.customer = customer
        self.kind = kind
        self.openedAt = openedAt
    }
}

public struct AccountLink: Sendable, Equatable {
    public let a: Int32
    public let b: Int32
    public let kind: LinkKind
    public let value: String

    public init(a: Int32, b: Int32, kind: LinkKind, value: String) {
        self.a = a
        self.b = b
        self.kind = kind
        self.value = value
    }
}

/// One row of the order stream.
public struct OrderEvent: Sendable, Equatable {
    public let time: Milliseconds
    public let order: Int64
    public let account: Int32
    public let market: Int
    public let side: OrderSide
    public let type: OrderType
    /// The limit price in ticks; 0 for a market order.
    public let priceTicks: Int64
    /// The order's original quantity in lots.
    public let lots: Int64
    public let kind: OrderEventKind
    /// Lots filled so far, after this event.
    public let filledLots: Int64

    public init(time: Milliseconds, order: Int64, account: Int32, market: Int, side: OrderSide, type: OrderType,
                priceTicks: Int64, lots: Int64, kind: OrderEventKind, filledLots: Int64) {
        self.time = time
        self.order = order
        self.account = account
        self.market = market
        self.side = side
        self.type = type
        self.priceTicks = priceTicks
        self.lots = lots
        self.kind = kind
        self.filledLots = filledLots
    }
}

public struct Trade: Sendable, Equatable {
    public let time: Milliseconds
    public let id: Int64
    public let market: Int
    public let priceTicks: Int64
    public let lots: Int64
    public let buyOrder: Int64
    public let sellOrder: Int64
    public let buyer: Int32
    public let seller: Int32
    public let aggressor: OrderSide

    public init(time: Milliseconds, id: Int64, market: Int, priceTicks: Int64, lots: Int64, buyOrder: Int64, sellOrder: Int64,
                buyer: Int32, seller: Int32, aggressor: OrderSide) {
        self.time = time
        self.id = id
        self.market = market
        self.priceTicks = priceTicks
        self.lots = lots
        self.buyOrder = buyOrder
        self.sellOrder = sellOrder
        self.buyer = buyer
        self.seller = seller
        self.aggressor = aggressor
    }
}

public enum AnnouncementKind: String, Sendable, CaseIterable {
    case listingElsewhere = "listing_elsewhere"
    case delisting, partnership, hack
    case issuerEvent = "issuer_event"

    /// The price move the news makes: +1 up, −1 down, 0 either way (read from the market).
    public var direction: Double {
        switch self {
        case .listingElsewhere, .partnership: 1
        case .delisting, .hack: -1
        case .issuerEvent: 0
        }
    }
}

/// A material fact: known inside the exchange or the issuer from `knownFrom`, public from
/// `publishedAt`.
public struct Announcement: Sendable, Equatable {
    public let id: String
    public let market: Int
    public let kind: AnnouncementKind
    public let knownFrom: Milliseconds
    public let publishedAt: Milliseconds
    public let description: String

    public init(id: String, market: Int, kind: AnnouncementKind, knownFrom: Milliseconds, publishedAt: Milliseconds, description: String) {
        self.id = id
        self.market = market
        self.kind = kind
        self.knownFrom = knownFrom
        self.publishedAt = publishedAt
        self.description = description
    }
}

/// An account that must not trade a market between `from` and `to` (the restricted list).
public struct RestrictedEntry: Sendable, Equatable {
    public let account: Int32
    public let market: Int
    public let from: Milliseconds
    public let to: Milliseconds
    public let reason: String

    public init(account: Int32, market: Int, from: Milliseconds, to: Milliseconds, reason: String) {
        self.account = account
        self.market = market
        self.from = from
        self.to = to
        self.reason = reason
    }
}

import Foundation

/// The kinds of market abuse the detectors look for. Spoofing and layering are one family: the
/// same scheme with one large order or several price levels.
public enum SurveillanceTypology: String, Sendable, CaseIterable, Comparable {
    case washTrade = "wash_trade"
    case spoofing, layering
    case insiderTrading = "insider_trading"
    case pumpAndDump = "pump_and_dump"
    case multiAccount = "multi_account"

    public var family: SurveillanceTypology { self == .layering ? .spoofing : self }

    public static var families: [SurveillanceTypology] { allCases.filter { $0.family == $0 } }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (allCases.firstIndex(of: lhs) ?? 0) < (allCases.firstIndex(of: rhs) ?? 0)
    }
}

/// A number behind an alert set against the threshold it had to pass.
public struct Figure: Sendable, Equatable {
    public let name: String
    public let value: Double
    public let threshold: Double
    public init(_ name: String, _ value: Double, threshold: Double) {
        self.name = name
        self.value = value
        self.threshold = threshold
    }
}

/// A market-abuse alert: the typology, the market, the accounts involved and the window, with the
/// figures that made it fire and the orders and trades behind it.
public struct SurveillanceAlert: Sendable, Equatable {
    public var typology: SurveillanceTypology
    /// The market traded; for multi-account, the market the group traded most.
    public var market: Int
    public var accounts: [Int32]
    public var start: Milliseconds
    public var end: Milliseconds
    /// How strongly the figures exceed their thresholds (1 at the thresholds); the queue's order.
    public var score: Double
    public var explanation: String
    public var figures: [Figure]
    public var orders: [Int64]
    public var trades: [Int64]

    public init(typology: SurveillanceTypology, market: Int, accounts: [Int32], start: Milliseconds, end: Milliseconds, score: Double,
                explanation: String, figures: [Figure], orders: [Int64] = [], trades: [Int64] = []) {
        self.typology = typology
        self.market = market
        self.accounts = accounts
        self.start = start
        self.end = end
        self.score = score
        self.explanation = explanation
        self.figures = figures
        self.orders = orders
        self.trades = trades
    }

    /// The alert as one NDJSON object in the scoring layout (`typology`, `market`, `accounts`,
    /// `start`, `end`), with the score, figures and evidence besides.
    public func json(markets: [MarketSpec], accounts directory: AccountDirectory) -> [String: Any] {
        [
            "typology": typology.rawValue, "market": markets[market].symbol, "accounts": accounts.map { directory.name($0) },
            "start": start, "end": end, "score": (score * 1000).rounded() / 1000, "explanation": explanation,
            "figures": figures.map { ["name": $0.name, "value": ($0.value * 10_000).rounded() / 10_000, "threshold": $0.threshold] as [String: Any] },
            "orders": orders.prefix(200).map { $0 }, "trades": trades.prefix(200).map { $0 },
        ]
    }
}

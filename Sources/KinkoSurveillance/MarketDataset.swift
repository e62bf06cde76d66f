public import KinkoCore

/// An exchange's order and trade stream with what surveillance knows about its accounts, in the
/// layout of a marketsim data set (`markets`, `accounts`, `links`, `orders`, `trades`,
/// `announcements`, `restricted`; each a CSV file). Errors name the file, the line and the column.
public struct MarketDataset: Sendable {
    public var markets: [MarketSpec] = []
    public var accounts = AccountDirectory()
    public var info: [Int32: AccountInfo] = [:]
    public var links: [AccountLink] = []
    public var orders: [OrderEvent] = []
    public var trades: [Trade] = []
    public var announcements: [Announcement] = []
    public var restricted: [RestrictedEntry] = []

    /// The files a data set consists of, in the order they are read.
    public static let fileNames = ["markets", "accounts", "links", "orders", "trades", "announcements", "restricted"]

    /// The columns each file must have (others are ignored).
    public static let columns: [String: [String]] = [
        "markets": ["market", "base", "quote", "tick_size", "lot_size"],
        "accounts": ["account_id", "customer_id", "kind", "opened_at"],
        "links": ["account_a", "account_b", "link_kind", "value"],
        "orders": ["time", "order_id", "account_id", "market", "side", "type", "price", "quantity", "event", "filled_quantity"],
        "trades": ["time", "trade_id", "market", "price", "quantity", "buy_order_id", "sell_order_id", "buy_account_id", "sell_account_id", "aggressor"],
        "announcements": ["announcement_id", "market", "kind", "known_from", "published_at", "description"],
        "restricted": ["account_id", "market", "from", "to", "reason"],
    ]

    /// The latest time the stream may carry: 9999-12-31T23:59:59.999Z.
    public static let timeMax: Milliseconds = 253_402_300_799_999

    public init() {}

    /// Reads the files' texts, keyed by the names in `fileNames`. `orders` and `markets` are
    /// required; a missing other file is an empty one.
    public init(files: [String: String]) throws(KinkoError) {
        guard let markets = files["markets"] else { throw KinkoError(.invalidInput, "the data set has no markets file", field: "markets") }
        guard let orders = files["orders"] else { throw KinkoError(.invalidInput, "the data set has no orders file", field: "orders") }
        try readMarkets(markets)
        if let text = files["accounts"] { try readAccounts(text) }
        if let text = files["links"] { try readLinks(text) }
        try readOrders(orders)
        if let text = files["trades"] { try readTrades(text) }
        if let text = files["announcements"] { try readAnnouncements(text) }
        if let text = files["restricted"] { try readRestricted(text) }
    }

    public func market(named symbol: String) -> Int? { markets.firstIndex { $0.symbol == symbol } }

    // MARK: - Files

    private struct Reader {
        let table: CSVTable
        let file: String
        let positions: [Int]
        init(_ text: String, file: String, columns: [String]) throws(KinkoError) {
            table = try CSVTable(text, name: file)
            self.file = file
            var positions: [Int] = []
            for column in columns { positions.append(try table.column(column)) }
            self.positions = positions
        }

        func fault(_ row: CSVTable.Row, _ column: Int, _ reason: String) -> KinkoError {
            KinkoError(.invalidInput, "\(file) line \(row.line): \(reason)", field: "\(file).\(table.header[positions[column]])")
        }

        func text(_ row: CSVTable.Row, _ column: Int) -> String { row[positions[column]] }

        func integer(_ row: CSVTable.Row, _ column: Int) throws(KinkoError) -> Int64 {
            guard let value = Int64(row[positions[column]]) else { throw fault(row, column, "\"\(row[positions[column]])\" is not an integer") }
            return value
        }

        /// A time: ms since the epoch, from 1970 to the end of 9999 (so window arithmetic never overflows).
        func time(_ row: CSVTable.Row, _ column: Int) throws(KinkoError) -> Milliseconds {
            let value = try integer(row, column)
            guard (0...MarketDataset.timeMax).contains(value) else { throw fault(row, column, "\(value) is not a time: ms since the epoch, 0–\(MarketDataset.timeMax)") }
            return value
        }

        func choice<T: RawRepresentable>(_ row: CSVTable.Row, _ column: Int, as _: T.Type) throws(KinkoError) -> T where T.RawValue == String {
            guard let value = T(rawValue: row[positions[column]]) else { throw fault(row, column, "\"\(row[positions[column]])\" is not a known value") }
            return value
        }
    }

    private func marketIndex(_ reader: Reader, _ row: CSVTable.Row, _ column: Int) throws(KinkoError) -> Int {
        guard let index = market(named: reader.text(row, column)) else { throw reader.fault(row, column, "market \"\(reader.text(row, column))\" is not in markets") }
        return index
    }

    private mutating func readMarkets(_ text: String) throws(KinkoError) {
        let reader = try Reader(text, file: "markets", columns: Self.columns["markets"] ?? [])
        for row in reader.table.rows {
            guard let tick = Double(reader.text(row, 3)), tick > 0 else { throw reader.fault(row, 3, "the tick size must be a positive number") }
            guard let lot = Double(reader.text(row, 4)), lot > 0 else { throw reader.fault(row, 4, "the lot size must be a positive number") }
            guard market(named: reader.text(row, 0)) == nil else { throw reader.fault(row, 0, "market \(reader.text(row, 0)) appears twice") }
            markets.append(MarketSpec(symbol: reader.text(row, 0), base: reader.text(row, 1), quote: reader.text(row, 2), tickSize: tick, lotSize: lot))
        }
    }

    private mutating func readAccounts(_ text: String) throws(KinkoError) {
        let reader = try Reader(text, file: "accounts", columns: Self.columns["accounts"] ?? [])
        for row in reader.table.rows {
            let account = accounts.intern(reader.text(row, 0))
            info[account] = AccountInfo(account: account, customer: reader.text(row, 1), kind: try reader.choice(row, 2, as: AccountKind.self),
                                        openedAt: try reader.time(row, 3))
        }
    }

    private mutating func readLinks(_ text: String) throws(KinkoError) {
        let reader = try Reader(text, file: "links", columns: Self.columns["links"] ?? [])
        for row in reader.table.rows {
            let a = accounts.intern(reader.text(row, 0)), b = accounts.intern(reader.text(row, 1))
            guard a != b else { throw reader.fault(row, 1, "an account cannot be linked to itself") }
            links.append(AccountLink(a: a, b: b, kind: try reader.choice(row, 2, as: LinkKind.self), value: reader.text(row, 3)))
        }
    }

    private mutating func readOrders(_ text: String) throws(KinkoError) {
        let reader = try Reader(text, file: "orders", columns: Self.columns["orders"] ?? [])
        orders.reserveCapacity(reader.table.rows.count)
        var last: Milliseconds = .min
        for row in reader.table.rows {
            let time = try reader.time(row, 0)
            guard time >= last else { throw reader.fault(row, 0, "events must be in time order (\(time) after \(last))") }
            last = time
            let market = try marketIndex(reader, row, 3)
            let spec = markets[market]
            let type = try reader.choice(row, 5, as: OrderType.self)
            var price: Int64 = 0
            if type == .limit {
                guard let ticks = MarketSpec.steps(Substring(reader.text(row, 6)), of: spec.tickSize), ticks > 0 else {
                    throw reader.fault(row, 6, "a limit order's price must be a positive multiple of the tick size \(spec.tickSize)")
                }
                price = ticks
            }
            guard let lots = MarketSpec.steps(Substring(reader.text(row, 7)), of: spec.lotSize), lots > 0 else {
                throw reader.fault(row, 7, "the quantity must be a positive multiple of the lot size \(spec.lotSize)")
            }
            guard let filled = MarketSpec.steps(Substring(reader.text(row, 9)), of: spec.lotSize), filled <= lots else {
                throw reader.fault(row, 9, "the filled quantity must be a multiple of the lot size, at most the quantity")
            }
            orders.append(OrderEvent(time: time, order: try reader.integer(row, 1), account: accounts.intern(reader.text(row, 2)), market: market,
                                     side: try reader.choice(row, 4, as: OrderSide.self), type: type, priceTicks: price, lots: lots,
                                     kind: try reader.choice(row, 8, as: OrderEventKind.self), filledLots: filled))
        }
    }

    private mutating func readTrades(_ text: String) throws(KinkoError) {
        let reader = try Reader(text, file: "trades", columns: Self.columns["trades"] ?? [])
        trades.reserveCapacity(reader.table.rows.count)
        for row in reader.table.rows {
            let market = try marketIndex(reader, row, 2)
            guard let price = MarketSpec.steps(Substring(reader.text(row, 3)), of: markets[market].tickSize), price > 0 else {
                throw reader.fault(row, 3, "the price must be a positive multiple of the tick size")
            }
            guard let lots = MarketSpec.steps(Substring(reader.text(row, 4)), of: markets[market].lotSize), lots > 0 else {
                throw reader.fault(row, 4, "the quantity must be a positive multiple of the lot size")
            }
            trades.append(Trade(time: try reader.time(row, 0), id: try reader.integer(row, 1), market: market, priceTicks: price, lots: lots,
                                buyOrder: try reader.integer(row, 5), sellOrder: try reader.integer(row, 6),
                                buyer: accounts.intern(reader.text(row, 7)), seller: accounts.intern(reader.text(row, 8)),
                                aggressor: try reader.choice(row, 9, as: OrderSide.self)))
        }
    }

    private mutating func readAnnouncements(_ text: String) throws(KinkoError) {
        let reader = try Reader(text, file: "announcements", columns: Self.columns["announcements"] ?? [])
        for row in reader.table.rows {
            let known = try reader.time(row, 3), published = try reader.time(row, 4)
            guard known <= published else { throw reader.fault(row, 3, "known_from must not be after published_at") }
            announcements.append(Announcement(id: reader.text(row, 0), market: try marketIndex(reader, row, 1), kind: try reader.choice(row, 2, as: AnnouncementKind.self),
                                              knownFrom: known, publishedAt: published, description: reader.text(row, 5)))
        }
    }

    private mutating func readRestricted(_ text: String) throws(KinkoError) {
        let reader = try Reader(text, file: "restricted", columns: Self.columns["restricted"] ?? [])
        for row in reader.table.rows {
            let from = try reader.time(row, 2), to = try reader.time(row, 3)
            guard from <= to else { throw reader.fault(row, 2, "from must not be after to") }
            restricted.append(RestrictedEntry(account: accounts.intern(reader.text(row, 0)), market: try marketIndex(reader, row, 1),
                                              from: from, to: to, reason: reader.text(row, 4)))
        }
    }
}

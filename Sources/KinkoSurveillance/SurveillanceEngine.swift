/// Runs every detector over the order and trade stream, in time order (at the same millisecond,
/// order events before the trades they make). Per market it keeps the book and the typical order;
/// the detectors keep bounded state per account and market, and alert as evidence completes.
public struct SurveillanceEngine: Sendable {
    public let rules: SurveillanceRules
    let markets: [MarketSpec]
    let kinds: [Int32: AccountKind]
    private(set) var books: [OrderBook]
    private(set) var typical: [TypicalSize]
    private(set) var lastPrice: [Int64?]
    private var wash: WashDetector
    private var spoof: SpoofDetector
    var history: MarketHistory
    private var insider: InsiderDetector
    private var pump: PumpDetector
    private var multiAccount: MultiAccountDetector
    private var nextSweep: Milliseconds?
    private var lastTime: Milliseconds = 0
    public private(set) var alerts: [SurveillanceAlert] = []
    public private(set) var orderEvents = 0
    public private(set) var tradesSeen = 0

    public init(dataset: MarketDataset, rules: SurveillanceRules) {
        self.rules = rules
        markets = dataset.markets
        kinds = dataset.info.mapValues(\.kind)
        books = Array(repeating: OrderBook(), count: dataset.markets.count)
        typical = Array(repeating: TypicalSize(), count: dataset.markets.count)
        lastPrice = Array(repeating: nil, count: dataset.markets.count)
        wash = WashDetector(settings: rules.wash, dataset: dataset)
        spoof = SpoofDetector(settings: rules.spoof)
        history = MarketHistory(markets: dataset.markets.count, retention: rules.historyMilliseconds)
        insider = InsiderDetector(settings: rules.insider, dataset: dataset)
        pump = PumpDetector(settings: rules.pump, dataset: dataset)
        multiAccount = MultiAccountDetector(settings: rules.multiAccount, dataset: dataset)
    }

    /// Every alert the detectors raise over a whole data set, ordered by start.
    public static func run(_ dataset: MarketDataset, rules: SurveillanceRules) -> [SurveillanceAlert] {
        var engine = SurveillanceEngine(dataset: dataset, rules: rules)
        var trade = 0
        for event in dataset.orders {
            while trade < dataset.trades.count, dataset.trades[trade].time < event.time {
                engine.observe(dataset.trades[trade])
                trade += 1
            }
            engine.observe(event)
        }
        while trade < dataset.trades.count {
            engine.observe(dataset.trades[trade])
            trade += 1
        }
        return engine.finish()
    }

    func watched(_ account: Int32) -> Bool { !rules.excludedKinds.contains(kinds[account] ?? .customer) }

    public mutating func observe(_ event: OrderEvent) {
        orderEvents += 1
        sweepIfDue(event.time)
        let market = event.market
        guard event.kind == .new else {
            books[market].apply(event)
            spoof.changed(event, into: &alerts)
            return
        }
        let touch = books[market].best(event.side)
        books[market].apply(event)
        guard watched(event.account) else { return }
        let price = event.type == .limit ? event.priceTicks : lastPrice[market]
        let notional = price.map { markets[market].notional(priceTicks: $0, lots: event.lots) }
        if let notional {
            typical[market].add(time: event.time, account: event.account, notional: notional, settings: rules.typical)
            history.placed(event, notional: notional)
        }
        spoof.placed(event, notional: notional, touch: touch, typical: typical[market].value, ownMedian: typical[market].median(of: event.account))
        multiAccount.placed(event, notional: notional, into: &alerts)
    }

    public mutating func observe(_ trade: Trade) {
        tradesSeen += 1
        sweepIfDue(trade.time)
        lastPrice[trade.market] = trade.priceTicks
        history.traded(trade, notional: markets[trade.market].notional(priceTicks: trade.priceTicks, lots: trade.lots),
                       price: markets[trade.market].price(ticks: trade.priceTicks), buyerWatched: watched(trade.buyer), sellerWatched: watched(trade.seller))
        wash.observe(trade, into: &alerts)
    }

    private mutating func sweepIfDue(_ time: Milliseconds) {
        lastTime = max(lastTime, time)
        if let due = nextSweep, time < due { return }
        nextSweep = time + rules.sweepMilliseconds
        wash.sweep(at: time, into: &alerts)
        spoof.sweep(at: time, into: &alerts)
        history.trim(before: time)
        insider.scan(at: time, history: history, typical: typical, into: &alerts)
        pump.scan(at: time, history: history, typical: typical, into: &alerts)
    }

    /// What the engine holds, by kind: resting orders, the scans' history, the per-account state
    /// of the detectors. For benchmarks that show memory bounded by activity, not by time.
    public var stateEntries: [String: Int] {
        [
            "resting_orders": books.reduce(0) { $0 + $1.resting.count },
            "history_orders": history.placed.reduce(0) { $0 + $1.count }, "history_trades": history.fills.reduce(0) { $0 + $1.count },
            "typical_accounts": typical.reduce(0) { $0 + $1.accounts.count }, "multi_account_orders": multiAccount.notesCount,
        ]
    }

    /// Ends the stream: judges what is still open and returns every alert, ordered by start.
    public mutating func finish() -> [SurveillanceAlert] {
        wash.finish(into: &alerts)
        spoof.finish(into: &alerts)
        insider.finish(history: history, typical: typical, into: &alerts)
        pump.finish(at: lastTime, history: history, typical: typical, into: &alerts)
        multiAccount.finish(into: &alerts)
        alerts.sort { a, b in
            if a.start != b.start { return a.start < b.start }
            if a.typology != b.typology { return a.typology < b.typology }
            if a.market != b.market { return a.market < b.market }
            return a.accounts.lexicographicallyPrecedes(b.accounts)
        }
        return alerts
    }
}

public import KinkoGovernance

/// What the market looked like around an alert, for a person to see the scheme: the trade prices,
/// the touch and the book's top levels over time, and the alert's own orders (when placed, at
/// which price, how and when they ended) and trades (its own, and those its orders made). Rebuilt from the kept stream.
public struct MarketReplay: Sendable, Equatable {
    public struct Point: Sendable, Equatable {
        public let time: Milliseconds
        public let price: Double
    }

    public struct Touch: Sendable, Equatable {
        public let time: Milliseconds
        public let bid: Double?
        public let ask: Double?
    }

    public struct Depth: Sendable, Equatable {
        public let time: Milliseconds
        public let bids: [Double]
        public let asks: [Double]
    }

    public struct FlaggedOrder: Sendable, Equatable {
        public let order: Int64
        public let account: String
        public let side: OrderSide
        public let price: Double?
        public let quantity: Double
        public let placedAt: Milliseconds
        public let endedAt: Milliseconds?
        /// How it ended: fill, cancel or expire (nil: still resting at the window's end).
        public let ended: OrderEventKind?
    }

    public let market: String
    public let from: Milliseconds
    public let to: Milliseconds
    public let trades: [Point]
    public let flaggedTrades: [Point]
    public let touch: [Touch]
    public let depth: [Depth]
    public let flagged: [FlaggedOrder]

    /// Most points of each series kept (evenly thinned beyond that).
    public static let pointsMax = 2_000
    /// Levels of each side in a depth sample, and depth samples kept.
    public static let levels = 3, depthSamples = 60
    /// Time shown before and after the alert's window (at least; a tenth of the window if longer).
    public static let paddingMilliseconds: Milliseconds = 5 * 60_000

    /// The replay of `market` over the alert's window with padding, from the data set.
    public init(dataset: MarketDataset, market symbol: String, start: Milliseconds, end: Milliseconds, orders: Set<Int64>, trades flaggedIDs: Set<Int64>) {
        let padding = max(Self.paddingMilliseconds, (end - start) / 10)
        market = symbol
        from = start - padding
        to = end + padding
        guard let market = dataset.market(named: symbol) else {
            (trades, flaggedTrades, touch, depth, flagged) = ([], [], [], [], [])
            return
        }
        let spec = dataset.markets[market]
        var book = OrderBook()
        var touches: [Touch] = [], depths: [Depth] = []
        var placed: [Int64: (OrderEvent, OrderEventKind?, Milliseconds?)] = [:]
        var lastTouch: (Int64?, Int64?) = (nil, nil)
        let (low, high) = (start - padding, end + padding)
        let sampleEvery = max(1, (high - low) / Milliseconds(Self.depthSamples))
        var nextSample = low
        for event in dataset.orders where event.market == market && event.time <= high {
            book.apply(event)
            if orders.contains(event.order) {
                if event.kind == .new { placed[event.order] = (event, nil, nil) } else if event.kind.ends, let known = placed[event.order] {
                    placed[event.order] = (known.0, event.kind, event.time)
                }
            }
            guard event.time >= low else { continue }
            if (book.bestBid, book.bestAsk) != lastTouch {
                lastTouch = (book.bestBid, book.bestAsk)
                touches.append(Touch(time: event.time, bid: book.bestBid.map(spec.price(ticks:)), ask: book.bestAsk.map(spec.price(ticks:))))
            }
            if event.time >= nextSample {
                depths.append(Depth(time: event.time, bids: book.levels(.buy, count: Self.levels).map { spec.price(ticks: $0.priceTicks) },
                                    asks: book.levels(.sell, count: Self.levels).map { spec.price(ticks: $0.priceTicks) }))
                nextSample = event.time + sampleEvery
            }
        }
        let window = dataset.trades.filter { $0.market == market && $0.time >= low && $0.time <= high }
        trades = Self.thinned(window.map { Point(time: $0.time, price: spec.price(ticks: $0.priceTicks)) })
        flaggedTrades = Self.thinned(window.filter { flaggedIDs.contains($0.id) || orders.contains($0.buyOrder) || orders.contains($0.sellOrder) }.map { Point(time: $0.time, price: spec.price(ticks: $0.priceTicks)) })
        touch = Self.thinned(touches)
        depth = depths
        flagged = placed.values.map { event, ended, endedAt in
            FlaggedOrder(order: event.order, account: dataset.accounts.name(event.account), side: event.side,
                         price: event.type == .limit ? spec.price(ticks: event.priceTicks) : nil, quantity: spec.quantity(lots: event.lots),
                         placedAt: event.time, endedAt: endedAt, ended: ended)
        }.sorted { ($0.placedAt, $0.order) < ($1.placedAt, $1.order) }
    }

    static func thinned<T>(_ points: [T]) -> [T] {
        guard points.count > pointsMax else { return points }
        let step = Double(points.count) / Double(pointsMax)
        return (0..<pointsMax).map { points[Int(Double($0) * step)] }
    }
}

extension Surveillance {
    /// The replay around a kept alert, rebuilt from the kept stream.
    public func replay(_ id: String, by caller: Caller) async throws -> (StoredSurveillanceAlert, MarketReplay) {
        let alert = try await alert(id, by: caller)
        let dataset = try MarketDataset(lines: try await batches.all().flatMap(\.value.lines))
        return (alert, MarketReplay(dataset: dataset, market: alert.market, start: alert.start, end: alert.end, orders: Set(alert.orders), trades: Set(alert.trades)))
    }
}

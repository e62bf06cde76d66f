/// One market's book rebuilt from the order stream: the limit orders resting and the quantity at
/// each price level, with the touch (best bid and ask) kept current. A limit order rests from its
/// `new` event until a fill, cancel or expiry; a partial fill leaves the rest.
public struct OrderBook: Sendable {
    public struct Resting: Sendable, Equatable {
        public let account: Int32
        public let side: OrderSide
        public let priceTicks: Int64
        public var remaining: Int64
        public let placedAt: Milliseconds
    }

    public private(set) var resting: [Int64: Resting] = [:]
    private var bids: [Int64: Int64] = [:]
    private var asks: [Int64: Int64] = [:]
    public private(set) var bestBid: Int64?
    public private(set) var bestAsk: Int64?

    public init() {}

    /// The best price on `side` (the highest bid, the lowest ask).
    public func best(_ side: OrderSide) -> Int64? { side == .buy ? bestBid : bestAsk }

    /// How many ticks `price` stands behind the touch on `side` (0 at or inside it); nil when that
    /// side is empty.
    public func ticksBehindTouch(_ price: Int64, side: OrderSide) -> Int64? {
        guard let best = best(side) else { return nil }
        return max(0, side == .buy ? best - price : price - best)
    }

    /// The quantity resting at the `levels` best prices of `side`, best first.
    public func levels(_ side: OrderSide, count: Int) -> [(priceTicks: Int64, lots: Int64)] {
        let book = side == .buy ? bids : asks
        let prices = side == .buy ? book.keys.sorted(by: >) : book.keys.sorted()
        return prices.prefix(count).map { ($0, book[$0] ?? 0) }
    }

    public mutating func apply(_ event: OrderEvent) {
        switch event.kind {
        case .new:
            guard event.type == .limit, event.filledLots < event.lots else { return }
            resting[event.order] = Resting(account: event.account, side: event.side, priceTicks: event.priceTicks,
                                           remaining: event.lots - event.filledLots, placedAt: event.time)
            add(event.lots - event.filledLots, at: event.priceTicks, side: event.side)
        case .partialFill:
            guard var order = resting[event.order] else { return }
            let remaining = event.lots - event.filledLots
            add(remaining - order.remaining, at: order.priceTicks, side: order.side)
            order.remaining = remaining
            resting[event.order] = order
        case .fill, .cancel, .expire:
            guard let order = resting.removeValue(forKey: event.order) else { return }
            add(-order.remaining, at: order.priceTicks, side: order.side)
        }
    }

    private mutating func add(_ lots: Int64, at price: Int64, side: OrderSide) {
        guard lots != 0 else { return }
        if side == .buy {
            let level = (bids[price] ?? 0) + lots
            if level > 0 {
                bids[price] = level
                if bestBid.map({ price > $0 }) ?? true { bestBid = price }
            } else {
                bids[price] = nil
                if bestBid == price { bestBid = bids.keys.max() }
            }
        } else {
            let level = (asks[price] ?? 0) + lots
            if level > 0 {
                asks[price] = level
                if bestAsk.map({ price < $0 }) ?? true { bestAsk = price }
            } else {
                asks[price] = nil
                if bestAsk == price { bestAsk = asks.keys.min() }
            }
        }
    }
}

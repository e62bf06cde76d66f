/// The recent past of each market that the scans over windows read (insider trading around an
/// announcement, pump-and-dump around a burst): new orders and trades of the last
/// `history_ms`, in time order, found by binary search. Older entries are dropped, so memory is
/// bounded by the market's activity over that window.
struct MarketHistory: Sendable {
    struct Placed: Sendable {
        let time: Milliseconds
        let order: Int64
        let account: Int32
        let side: OrderSide
        let notional: Double
    }

    struct Fill: Sendable {
        let time: Milliseconds
        let id: Int64
        let price: Double
        let quantity: Double
        let notional: Double
        /// nil for an account the detectors leave out (a market maker).
        let buyer: Int32?
        let seller: Int32?
    }

    private(set) var placed: [[Placed]]
    private(set) var fills: [[Fill]]
    let retention: Milliseconds

    init(markets: Int, retention: Milliseconds) {
        placed = Array(repeating: [], count: markets)
        fills = Array(repeating: [], count: markets)
        self.retention = retention
    }

    mutating func placed(_ event: OrderEvent, notional: Double) {
        placed[event.market].append(Placed(time: event.time, order: event.order, account: event.account, side: event.side, notional: notional))
    }

    mutating func traded(_ trade: Trade, notional: Double, price: Double, buyerWatched: Bool, sellerWatched: Bool) {
        fills[trade.market].append(Fill(time: trade.time, id: trade.id, price: price, quantity: notional / price, notional: notional,
                                        buyer: buyerWatched ? trade.buyer : nil, seller: sellerWatched ? trade.seller : nil))
    }

    /// Drops what is older than the retention; called at each sweep, it compacts once a tenth of
    /// a market's entries are stale.
    mutating func trim(before time: Milliseconds) {
        let horizon = time - retention
        for market in placed.indices {
            let stalePlaced = Self.firstIndex(in: placed[market], atOrAfter: horizon)
            if stalePlaced > 0, stalePlaced * 10 >= placed[market].count { placed[market].removeFirst(stalePlaced) }
            let staleFills = Self.firstIndex(in: fills[market], atOrAfter: horizon)
            if staleFills > 0, staleFills * 10 >= fills[market].count { fills[market].removeFirst(staleFills) }
        }
    }

    /// The trades of `market` with `from <= time < to`.
    func fills(_ market: Int, from: Milliseconds, to: Milliseconds) -> ArraySlice<Fill> {
        let list = fills[market]
        let low = Self.firstIndex(in: list, atOrAfter: from), high = Self.firstIndex(in: list, atOrAfter: to)
        return low < high ? list[low..<high] : []
    }

    /// The new orders of `market` with `from <= time < to`.
    func placed(_ market: Int, from: Milliseconds, to: Milliseconds) -> ArraySlice<Placed> {
        let list = placed[market]
        let low = Self.firstIndex(in: list, atOrAfter: from), high = Self.firstIndex(in: list, atOrAfter: to)
        return low < high ? list[low..<high] : []
    }

    /// The last trade price of `market` strictly before `time`.
    func lastPrice(_ market: Int, before time: Milliseconds) -> Double? {
        let index = Self.firstIndex(in: fills[market], atOrAfter: time)
        return index > 0 ? fills[market][index - 1].price : nil
    }

    /// The position of the first entry at or after `time` (the count when there is none).
    static func firstIndex<Entry: Timed>(in list: [Entry], atOrAfter time: Milliseconds) -> Int {
        var low = 0, high = list.count
        while low < high {
            let middle = (low + high) / 2
            if list[middle].time < time { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

protocol Timed {
    var time: Milliseconds { get }
}

extension MarketHistory.Placed: Timed {}
extension MarketHistory.Fill: Timed {}

/// Accounts that share a link value (any kind) held by at most `limit` accounts: the households
/// and controllers a link reveals, without the offices and carrier NAT everyone shares.
func linkNeighbours(_ dataset: MarketDataset, limit: Int) -> [Int32: Set<Int32>] {
    var holders: [String: Set<Int32>] = [:]
    for link in dataset.links { holders["\(link.kind.rawValue)\u{0}\(link.value)", default: []].formUnion([link.a, link.b]) }
    var neighbours: [Int32: Set<Int32>] = [:]
    for group in holders.values where group.count <= limit {
        for account in group { neighbours[account, default: []].formUnion(group.subtracting([account])) }
    }
    return neighbours
}

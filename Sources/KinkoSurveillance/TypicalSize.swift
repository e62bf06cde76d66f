/// A market's typical order notional, the unit every size threshold is a multiple of: the median,
/// over the accounts that ordered in the market recently, of each account's own median order.
/// One vote per account: the busiest algorithms and market makers submit most orders, and a plain
/// median over orders moved two- to fourfold from day to day with their activity; this one stays
/// within about ±20%.
struct TypicalSize: Sendable {
    struct Account: Sendable {
        var values: [Double] = []
        var next = 0
        var lastTime: Milliseconds = 0

        mutating func add(_ value: Double, keep: Int) {
            if values.count < keep { values.append(value) } else { values[next] = value }
            next = (next + 1) % keep
        }

        var median: Double? {
            guard !values.isEmpty else { return nil }
            let sorted = values.sorted()
            return sorted[sorted.count / 2]
        }
    }

    private(set) var accounts: [Int32: Account] = [:]
    private var orders = 0
    /// nil until the market's first order.
    private(set) var value: Double?

    mutating func add(time: Milliseconds, account: Int32, notional: Double, settings: SurveillanceRules.Typical) {
        accounts[account, default: Account()].add(notional, keep: settings.ordersPerAccount)
        accounts[account]?.lastTime = time
        orders += 1
        guard value == nil || orders <= settings.warmUpOrders || orders % settings.recomputeEvery == 0 else { return }
        let horizon = time - settings.activeMilliseconds
        accounts = accounts.filter { $0.value.lastTime >= horizon }
        let medians = accounts.values.compactMap(\.median).sorted()
        value = medians.isEmpty ? nil : medians[medians.count / 2]
    }

    /// The account's own median order in this market, over its last orders.
    func median(of account: Int32) -> Double? { accounts[account]?.median }
}

import Foundation
import KinkoCore
import KinkoSurveillance
import Testing

/// A market written order by order: tick and lot of 1, so a price of 100 and 10 lots is ¥1,000.
/// A market maker quotes 99 / 101 deep enough never to run out; background customers place
/// ¥950 bids far from the touch, which sets the market's typical order at ¥950.
struct MarketScript {
    var data = MarketDataset()
    private var nextOrder: Int64 = 1
    private var nextTrade: Int64 = 1
    private var resting: [Int64: (account: Int32, side: OrderSide, price: Int64, lots: Int64, filled: Int64)] = [:]
    let maker: Int32
    private(set) var bid: Int64 = 0
    private(set) var ask: Int64 = 0
    static let minute: Milliseconds = 60_000
    static let hour: Milliseconds = 3_600_000

    init() {
        data.markets = [MarketSpec(symbol: "XYZ/JPY", base: "XYZ", quote: "JPY", tickSize: 1, lotSize: 1)]
        maker = data.accounts.intern("MM")
        data.info[maker] = AccountInfo(account: maker, customer: "CMM", kind: .marketMaker, openedAt: 0)
        bid = limit(maker, .buy, price: 99, lots: 1_000_000, at: 0)
        ask = limit(maker, .sell, price: 101, lots: 1_000_000, at: 0)
        for index in 0..<5 {
            let customer = account("B\(index)")
            _ = limit(customer, .buy, price: 95, lots: 10, at: 1_000 + Int64(index))
        }
        // A first trade, so market orders have a price.
        marketOrder(account("B9"), .buy, lots: 1, against: ask, at: 2_000)
    }

    mutating func account(_ name: String, kind: AccountKind = .customer, customer: String? = nil) -> Int32 {
        let number = data.accounts.intern(name)
        data.info[number] = AccountInfo(account: number, customer: customer ?? "C-\(name)", kind: kind, openedAt: 0)
        return number
    }

    mutating func link(_ a: Int32, _ b: Int32, _ kind: LinkKind, _ value: String) {
        data.links.append(AccountLink(a: min(a, b), b: max(a, b), kind: kind, value: value))
    }

    @discardableResult
    mutating func limit(_ account: Int32, _ side: OrderSide, price: Int64, lots: Int64, at time: Milliseconds) -> Int64 {
        let order = nextOrder
        nextOrder += 1
        data.orders.append(OrderEvent(time: time, order: order, account: account, market: 0, side: side, type: .limit, priceTicks: price, lots: lots, kind: .new, filledLots: 0))
        resting[order] = (account, side, price, lots, 0)
        return order
    }

    mutating func cancel(_ order: Int64, at time: Milliseconds) {
        guard let rest = resting.removeValue(forKey: order) else { return }
        data.orders.append(OrderEvent(time: time, order: order, account: rest.account, market: 0, side: rest.side, type: .limit, priceTicks: rest.price,
                                      lots: rest.lots, kind: .cancel, filledLots: rest.filled))
    }

    /// A market order of `account` filled in full against the resting order `against`.
    @discardableResult
    mutating func marketOrder(_ account: Int32, _ side: OrderSide, lots: Int64, against passive: Int64, at time: Milliseconds) -> Int64 {
        let order = nextOrder
        nextOrder += 1
        data.orders.append(OrderEvent(time: time, order: order, account: account, market: 0, side: side, type: .market, priceTicks: 0, lots: lots, kind: .new, filledLots: 0))
        data.orders.append(OrderEvent(time: time, order: order, account: account, market: 0, side: side, type: .market, priceTicks: 0, lots: lots, kind: .fill, filledLots: lots))
        guard var rest = resting[passive] else { return order }
        rest.filled += lots
        data.orders.append(OrderEvent(time: time, order: passive, account: rest.account, market: 0, side: rest.side, type: .limit, priceTicks: rest.price,
                                      lots: rest.lots, kind: rest.filled == rest.lots ? .fill : .partialFill, filledLots: rest.filled))
        resting[passive] = rest.filled == rest.lots ? nil : rest
        data.trades.append(Trade(time: time, id: nextTrade, market: 0, priceTicks: rest.price, lots: lots,
                                 buyOrder: side == .buy ? order : passive, sellOrder: side == .buy ? passive : order,
                                 buyer: side == .buy ? account : rest.account, seller: side == .buy ? rest.account : account, aggressor: side))
        nextTrade += 1
        return order
    }

    /// `seller` rests an order at the ask and `buyer` takes it at once.
    mutating func cross(buyer: Int32, seller: Int32, lots: Int64, price: Int64 = 100, at time: Milliseconds) {
        let passive = limit(seller, .sell, price: price, lots: lots, at: time)
        marketOrder(buyer, .buy, lots: lots, against: passive, at: time + 100)
    }

    func alerts(_ rules: SurveillanceRules? = nil) throws -> [SurveillanceAlert] {
        SurveillanceEngine.run(data, rules: try rules ?? SurveillanceRules(yaml: SurveillanceRules.defaultYAML))
    }

    func figure(_ alert: SurveillanceAlert, _ name: String) -> Double? { alert.figures.first { $0.name == name }?.value }
}

@Suite("Spoofing and layering")
struct SpoofingTests {
    /// `repetitions` times, ten minutes apart: 100 lots offered at 103 (two ticks behind the
    /// 101 ask, ¥10,300: 10.8 × the typical order), a 5-lot market buy a second later, the offer
    /// cancelled two seconds after the fill.
    func script(repetitions: Int, quoteBothSides: Bool = false) -> (MarketScript, Int32, [Milliseconds]) {
        var script = MarketScript()
        let spoofer = script.account("S")
        var times: [Milliseconds] = []
        for repetition in 0..<repetitions {
            let start = 10 * MarketScript.minute * Int64(repetition + 1)
            if quoteBothSides { script.limit(spoofer, .buy, price: 97, lots: 100, at: start - 50) }
            let large = script.limit(spoofer, .sell, price: 103, lots: 100, at: start)
            script.marketOrder(spoofer, .buy, lots: 5, against: script.ask, at: start + 1_000)
            script.cancel(large, at: start + 3_000)
            times += [start, start + 3_000]
        }
        return (script, spoofer, times)
    }

    @Test("three repetitions of a large order behind the touch, an execution on the other side and a cancel are one spoofing alert")
    func spoofingAlert() throws {
        let (script, spoofer, times) = script(repetitions: 3)
        let alerts = try script.alerts()
        #expect(alerts.count == 1)
        let alert = try #require(alerts.first)
        #expect(alert.typology == .spoofing)
        #expect(alert.accounts == [spoofer])
        #expect(alert.start == times[0])
        #expect(alert.end == times[5])
        #expect(script.figure(alert, "repetitions") == 3)
        // ¥10,300 against the ¥505 market buy.
        #expect(script.figure(alert, "large_to_genuine") == 10_300.0 / 505.0)
        #expect(alert.orders.count == 6)
    }

    @Test("two repetitions are one short of the rule set's minimum")
    func twoRepetitionsAreNotEnough() throws {
        #expect(try script(repetitions: 2).0.alerts().isEmpty)
    }

    @Test("a large order placed with a bid of the same account is a two-sided quote, not a lure")
    func twoSidedQuote() throws {
        #expect(try script(repetitions: 3, quoteBothSides: true).0.alerts().isEmpty)
    }

    @Test("large orders on several prices at once are layering")
    func layering() throws {
        var script = MarketScript()
        let layerer = script.account("L")
        for repetition in 0..<3 {
            let start = 10 * MarketScript.minute * Int64(repetition + 1)
            let orders = (0..<3).map { level in script.limit(layerer, .sell, price: 103 + Int64(level), lots: 60, at: start + Int64(level) * 10) }
            script.marketOrder(layerer, .buy, lots: 5, against: script.ask, at: start + 1_000)
            for order in orders { script.cancel(order, at: start + 2_500) }
        }
        let alerts = try script.alerts()
        #expect(alerts.map(\.typology) == [.layering])
        #expect(script.figure(try #require(alerts.first), "layered_repetitions") == 3)
    }
}

@Suite("Wash trading")
struct WashTradingTests {
    func script(trades: Int, link: (LinkKind, sharers: Int)? = (.device, 2)) -> (MarketScript, [Int32]) {
        var script = MarketScript()
        let a = script.account("W1"), b = script.account("W2")
        if let (kind, sharers) = link {
            script.link(a, b, kind, "shared-1")
            // Others behind the same value (an office or a carrier's NAT when there are many).
            for index in 0..<max(0, sharers - 2) { script.link(a, script.account("N\(index)"), kind, "shared-1") }
        }
        for index in 0..<trades {
            let time = 10 * MarketScript.minute * Int64(index + 1)
            if index.isMultiple(of: 2) { script.cross(buyer: a, seller: b, lots: 10, at: time) } else { script.cross(buyer: b, seller: a, lots: 10, at: time) }
        }
        return (script, [a, b].sorted())
    }

    @Test("four alternating trades of equal size between two linked accounts are wash trading")
    func washAlert() throws {
        let (script, accounts) = script(trades: 4)
        let alerts = try script.alerts()
        #expect(alerts.count == 1)
        let alert = try #require(alerts.first)
        #expect(alert.typology == .washTrade)
        #expect(alert.accounts == accounts)
        #expect(alert.start == 10 * MarketScript.minute + 100)
        #expect(alert.end == 40 * MarketScript.minute + 100)
        #expect(script.figure(alert, "trades") == 4)
        #expect(script.figure(alert, "net_share") == 0)
        #expect(alert.trades.count == 4)
    }

    @Test("three trades are one short of the minimum")
    func threeTrades() throws {
        #expect(try script(trades: 3).0.alerts().isEmpty)
    }

    @Test("accounts with nothing in common trade with each other freely")
    func unlinked() throws {
        #expect(try script(trades: 6, link: nil).0.alerts().isEmpty)
    }

    @Test("an IP ties two accounts when at most 25 accounts share it, and not when 26 do")
    func sharedIP() throws {
        #expect(try script(trades: 4, link: (.ip, 25)).0.alerts().count == 1)
        #expect(try script(trades: 4, link: (.ip, 26)).0.alerts().isEmpty)
    }
}

@Suite("Multi-account and insider trading")
struct GroupTests {
    @Test("linked accounts placing the same order within minutes, in three sessions, are one person's")
    func multiAccount() throws {
        var script = MarketScript()
        let group = (1...3).map { script.account("G\($0)") }
        script.link(group[0], group[1], .device, "dev-g")
        script.link(group[0], group[2], .device, "dev-g")
        script.link(group[1], group[2], .device, "dev-g")
        for session in 0..<3 {
            let start = MarketScript.hour * 24 * Int64(session + 1)
            for (index, account) in group.enumerated() { script.limit(account, .buy, price: 96, lots: 10, at: start + Int64(index) * MarketScript.minute) }
        }
        let alerts = try script.alerts()
        let alert = try #require(alerts.first { $0.typology == .multiAccount })
        #expect(alert.accounts == group.sorted())
        #expect(script.figure(alert, "sessions") == 3)
        #expect(alert.start == MarketScript.hour * 24)
        #expect(alert.end == MarketScript.hour * 72 + 2 * MarketScript.minute)
    }

    @Test("two sessions are one short, and orders of unlike size do not match")
    func multiAccountBelowThresholds() throws {
        for (sessions, sizes) in [(2, [10, 10, 10] as [Int64]), (3, [10, 20, 40])] {
            var script = MarketScript()
            let group = (1...3).map { script.account("G\($0)") }
            script.link(group[0], group[1], .device, "dev-g")
            script.link(group[1], group[2], .device, "dev-g")
            for session in 0..<sessions {
                let start = MarketScript.hour * 24 * Int64(session + 1)
                for (index, account) in group.enumerated() { script.limit(account, .buy, price: 96, lots: sizes[index], at: start + Int64(index) * MarketScript.minute) }
            }
            #expect(try script.alerts().filter { $0.typology == .multiAccount }.isEmpty)
        }
    }

    /// Good news known at day 1, public at day 2 (the price goes from 101 to 120); the account
    /// buys 5 × 10 lots at 101 in between and sells it all the day after.
    func insiderScript(priorPosition: Bool) -> (MarketScript, Int32) {
        var script = MarketScript()
        let insider = script.account("I")
        let day = MarketScript.hour * 24
        script.data.announcements = [Announcement(id: "AN1", market: 0, kind: .partnership, knownFrom: day, publishedAt: 2 * day, description: "partnership")]
        if priorPosition {
            for index in 0..<5 { script.marketOrder(insider, .buy, lots: 10, against: script.ask, at: day / 2 + Int64(index) * MarketScript.minute) }
        }
        for index in 0..<5 { script.marketOrder(insider, .buy, lots: 10, against: script.ask, at: day + MarketScript.hour + Int64(index) * MarketScript.minute) }
        let after = script.limit(script.maker, .sell, price: 120, lots: 1_000, at: 2 * day)
        script.marketOrder(script.account("R"), .buy, lots: 1, against: after, at: 2 * day + 60_000)
        let bid = script.limit(script.maker, .buy, price: 119, lots: 1_000, at: 3 * day)
        script.marketOrder(insider, .sell, lots: 50, against: bid, at: 3 * day + 60_000)
        return (script, insider)
    }

    @Test("a position built between known_from and publication and sold after is insider trading")
    func insider() throws {
        let (script, insider) = insiderScript(priorPosition: false)
        let alert = try #require(try script.alerts().first { $0.typology == .insiderTrading })
        #expect(alert.accounts == [insider])
        #expect(alert.start == MarketScript.hour * 25)
        #expect(alert.end == MarketScript.hour * 72 + 60_000)
        // ¥5,050 bought against a typical order of ¥950.
        #expect(script.figure(alert, "position_to_typical") == 5_050.0 / 950.0)
        #expect(script.figure(alert, "unwound_share") == 5_950.0 / 5_050.0)
    }

    @Test("a position that was already building before the news existed is a swing trader's")
    func swingTrader() throws {
        #expect(try insiderScript(priorPosition: true).0.alerts().filter { $0.typology == .insiderTrading }.isEmpty)
    }
}

@Suite("Surveillance rule sets")
struct SurveillanceRulesTests {
    func replacing(_ line: String, with replacement: String) -> String {
        SurveillanceRules.defaultYAML.replacingOccurrences(of: line, with: replacement)
    }

    @Test("the default rule set reads")
    func defaultReads() throws {
        let rules = try SurveillanceRules(yaml: SurveillanceRules.defaultYAML)
        #expect(rules.version == "surveil-2026-12-03")
        #expect(rules.wash.minimumTrades == 4)
        #expect(rules.spoof.standoutMinimum == 1.5)
        #expect(rules.excludedKinds == [.marketMaker])
    }

    @Test("a value at its limit reads; one past it is refused, naming the field")
    func limits() throws {
        #expect(try SurveillanceRules(yaml: replacing("  minimum_trades: 4", with: "  minimum_trades: 2")).wash.minimumTrades == 2)
        #expect(throws: KinkoError(.invalidInput, "must be a whole number 2–10000", field: "wash_trade.minimum_trades")) {
            try SurveillanceRules(yaml: replacing("  minimum_trades: 4", with: "  minimum_trades: 1"))
        }
        #expect(try SurveillanceRules(yaml: replacing("  accounts_max: 10\n", with: "  accounts_max: 100\n")).insider.accountsMax == 100)
        #expect(throws: KinkoError(.invalidInput, "must be a whole number 1–100", field: "insider_trading.accounts_max")) {
            try SurveillanceRules(yaml: replacing("  accounts_max: 10\n", with: "  accounts_max: 101\n"))
        }
        #expect(throws: KinkoError(.invalidInput, "must be 0.0–1.0", field: "wash_trade.net_share_max")) {
            try SurveillanceRules(yaml: replacing("net_share_max: 0.35", with: "net_share_max: 1.01"))
        }
    }

    @Test("a missing parameter, a word for a number and an unknown account kind are refused")
    func malformed() {
        #expect(throws: KinkoError(.invalidInput, "is required", field: "spoofing.minimum_repetitions")) {
            try SurveillanceRules(yaml: replacing("  minimum_repetitions: 3\n", with: ""))
        }
        #expect(throws: KinkoError(.invalidInput, "must be a number", field: "spoofing.minimum_repetitions")) {
            try SurveillanceRules(yaml: replacing("minimum_repetitions: 3", with: "minimum_repetitions: three"))
        }
        #expect(throws: KinkoError(.invalidInput, "\"broker\" is not an account kind", field: "engine.excluded_kinds")) {
            try SurveillanceRules(yaml: replacing("[market_maker]", with: "[broker]"))
        }
    }
}

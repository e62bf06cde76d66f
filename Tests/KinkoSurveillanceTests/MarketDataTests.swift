import KinkoCore
import KinkoSurveillance
import Testing

/// A tiny data set in marketsim's layout: one market, a few accounts and orders.
enum Tiny {
    static let markets = "market,base,quote,tick_size,lot_size\nXYZ/JPY,XYZ,JPY,0.01,0.0001\n"
    static let accounts = """
        account_id,customer_id,kind,opened_at
        A0000001,C0000001,employee,1000
        A0000002,C0000002,customer,1000
        A0000003,C0000003,customer,1000
        A0000004,C0000004,customer,1000
        A0000005,C0000005,customer,1000

        """
    static func files(orders: String = header, links: String = "account_a,account_b,link_kind,value\n",
                      restricted: String = "account_id,market,from,to,reason\n") -> [String: String] {
        ["markets": markets, "accounts": accounts, "orders": orders, "links": links, "restricted": restricted]
    }
    static let header = "time,order_id,account_id,market,side,type,price,quantity,event,filled_quantity\n"
}

@Suite("Market data")
struct MarketDataTests {
    @Test("prices and quantities are read as whole ticks and lots; notional is in yen")
    func pricesInTicks() throws {
        let data = try MarketDataset(files: Tiny.files(orders: Tiny.header + "10,1,A0000002,XYZ/JPY,buy,limit,12.34,1.5000,new,0.0000\n"))
        let order = try #require(data.orders.first)
        #expect(order.priceTicks == 1234)
        #expect(order.lots == 15_000)
        #expect(abs(data.markets[0].notional(priceTicks: order.priceTicks, lots: order.lots) - 18.51) < 1e-9)
        #expect(data.accounts.name(order.account) == "A0000002")
    }

    @Test("a price off the tick grid is refused, naming the file, line and column")
    func offTickRefused() {
        #expect(throws: KinkoError(.invalidInput, "orders line 2: a limit order's price must be a positive multiple of the tick size 0.01", field: "orders.price")) {
            try MarketDataset(files: Tiny.files(orders: Tiny.header + "10,1,A0000002,XYZ/JPY,buy,limit,12.345,1.0000,new,0.0000\n"))
        }
    }

    @Test("orders out of time order, an unknown market and an unknown event are refused")
    func badOrdersRefused() {
        #expect(throws: KinkoError(.invalidInput, "orders line 3: events must be in time order (9 after 10)", field: "orders.time")) {
            try MarketDataset(files: Tiny.files(orders: Tiny.header + "10,1,A0000002,XYZ/JPY,buy,limit,1,1,new,0\n9,2,A0000002,XYZ/JPY,buy,limit,1,1,new,0\n"))
        }
        #expect(throws: KinkoError(.invalidInput, "orders line 2: market \"ABC/JPY\" is not in markets", field: "orders.market")) {
            try MarketDataset(files: Tiny.files(orders: Tiny.header + "10,1,A0000002,ABC/JPY,buy,limit,1,1,new,0\n"))
        }
        #expect(throws: KinkoError(.invalidInput, "orders line 2: \"amend\" is not a known value", field: "orders.event")) {
            try MarketDataset(files: Tiny.files(orders: Tiny.header + "10,1,A0000002,XYZ/JPY,buy,limit,1,1,amend,0\n"))
        }
        #expect(throws: KinkoError(.invalidInput, "orders line 2: the filled quantity must be a multiple of the lot size, at most the quantity", field: "orders.filled_quantity")) {
            try MarketDataset(files: Tiny.files(orders: Tiny.header + "10,1,A0000002,XYZ/JPY,buy,limit,1,1,fill,2\n"))
        }
    }

    @Test("times run from 0 to the end of 9999; one millisecond past either end is refused")
    func timeLimits() throws {
        let max = MarketDataset.timeMax
        #expect(try MarketDataset(files: Tiny.files(orders: Tiny.header + "0,1,A0000002,XYZ/JPY,buy,limit,1,1,new,0\n\(max),2,A0000002,XYZ/JPY,buy,limit,1,1,new,0\n")).orders.count == 2)
        #expect(throws: KinkoError(.invalidInput, "orders line 2: \(max + 1) is not a time: ms since the epoch, 0–\(max)", field: "orders.time")) {
            try MarketDataset(files: Tiny.files(orders: Tiny.header + "\(max + 1),1,A0000002,XYZ/JPY,buy,limit,1,1,new,0\n"))
        }
        #expect(throws: KinkoError(.invalidInput, "orders line 2: -1 is not a time: ms since the epoch, 0–\(max)", field: "orders.time")) {
            try MarketDataset(files: Tiny.files(orders: Tiny.header + "-1,1,A0000002,XYZ/JPY,buy,limit,1,1,new,0\n"))
        }
    }

    @Test("the book keeps the touch: new orders rest, partial fills shrink, fills and cancels remove")
    func bookKeepsTouch() {
        var book = OrderBook()
        func event(_ order: Int64, _ side: OrderSide, _ price: Int64, _ lots: Int64, _ kind: OrderEventKind, filled: Int64 = 0) -> OrderEvent {
            OrderEvent(time: 1, order: order, account: 0, market: 0, side: side, type: .limit, priceTicks: price, lots: lots, kind: kind, filledLots: filled)
        }
        book.apply(event(1, .buy, 100, 5, .new))
        book.apply(event(2, .buy, 101, 3, .new))
        book.apply(event(3, .sell, 105, 2, .new))
        #expect(book.bestBid == 101)
        #expect(book.bestAsk == 105)
        #expect(book.ticksBehindTouch(98, side: .buy) == 3)
        #expect(book.ticksBehindTouch(102, side: .buy) == 0)
        book.apply(event(2, .buy, 101, 3, .partialFill, filled: 1))
        #expect(book.levels(.buy, count: 2).map(\.lots) == [2, 5])
        book.apply(event(2, .buy, 101, 3, .fill, filled: 3))
        #expect(book.bestBid == 100)
        book.apply(event(3, .sell, 105, 2, .cancel))
        #expect(book.bestAsk == nil)
        #expect(book.resting.count == 1)
        // A market order never rests.
        book.apply(OrderEvent(time: 2, order: 4, account: 0, market: 0, side: .sell, type: .market, priceTicks: 0, lots: 1, kind: .new, filledLots: 0))
        #expect(book.resting.count == 1)
    }
}

@Suite("Scoring alerts against labels")
struct SurveillanceScoreTests {
    let instances = [
        LabelledInstance(id: "I1", typology: .spoofing, market: "XYZ/JPY", accounts: ["A1"], start: 10_000_000, end: 11_000_000),
        LabelledInstance(id: "I2", typology: .multiAccount, market: "BTC/JPY", accounts: ["B1", "B2", "B3", "B4"], start: 0, end: 100),
    ]

    @Test("an alert finds an instance within the hour's padding, on its market, naming half its accounts")
    func findsWithinPadding() {
        let padding = SurveillanceScore.paddingMilliseconds
        let score = SurveillanceScore(instances: instances, alerts: [
            // Layering is spoofing's family; it ends exactly an hour before the instance starts.
            .init(typology: .layering, market: "XYZ/JPY", accounts: ["A1"], start: 0, end: 10_000_000 - padding),
            // Multi-account ignores the market; two of four accounts is half.
            .init(typology: .multiAccount, market: "ETH/JPY", accounts: ["B1", "B2"], start: 50, end: 60),
        ])
        #expect(score.all.found == 2)
        #expect(score.all.precision == 1)
        #expect(score.perFamily[.spoofing]?.recall == 1)
        #expect(score.perTypology[.layering]?.alerts == 1)
        #expect(score.perTypology[.spoofing]?.found == 1)
    }

    @Test("one millisecond past the padding, another market or too few accounts find nothing")
    func missesPastTheLimits() {
        let padding = SurveillanceScore.paddingMilliseconds
        let score = SurveillanceScore(instances: instances, alerts: [
            .init(typology: .spoofing, market: "XYZ/JPY", accounts: ["A1"], start: 0, end: 10_000_000 - padding - 1),
            .init(typology: .spoofing, market: "KBT/JPY", accounts: ["A1"], start: 10_000_000, end: 10_000_001),
            .init(typology: .multiAccount, market: "BTC/JPY", accounts: ["B1"], start: 0, end: 1),
        ])
        #expect(score.all.found == 0)
        // The one-account multi-account alert overlaps and names one account: correct, finds nothing.
        #expect(score.all.correctAlerts == 1)
        #expect(score.all.precision == 0.3333)
        #expect(score.missed == ["I1", "I2"])
    }

    @Test("an alert naming more than 100 accounts is wrong; 100 is allowed")
    func accountLimit() {
        let many = Set((0..<SurveillanceScore.accountsPerAlertMax).map { "X\($0)" }).union(["B1", "B2"])
        let atLimit = Set((0..<(SurveillanceScore.accountsPerAlertMax - 2)).map { "X\($0)" }).union(["B1", "B2"])
        let over = SurveillanceScore(instances: instances, alerts: [.init(typology: .multiAccount, market: "", accounts: many, start: 0, end: 1)])
        let at = SurveillanceScore(instances: instances, alerts: [.init(typology: .multiAccount, market: "", accounts: atLimit, start: 0, end: 1)])
        #expect(over.all.found == 0)
        #expect(over.all.correctAlerts == 0)
        #expect(at.all.found == 1)
    }
}

@Suite("Insider controls at the pre-trade check")
struct InsiderControlsTests {
    static let links = """
        account_a,account_b,link_kind,value
        A0000001,A0000002,device,dev-1
        A0000003,A0000004,ip,10.0.0.9

        """

    func controls(preClearanceRequired: Bool = false, clearances: [PreClearance] = []) throws -> InsiderControls {
        let data = try MarketDataset(files: Tiny.files(links: Self.links, restricted: "account_id,market,from,to,reason\nA0000003,XYZ/JPY,100,200,deal team\n"))
        var list = InsiderList.derive(from: data, version: "test", preClearanceRequired: preClearanceRequired)
        list.blackouts = [Blackout(market: "XYZ/JPY", from: 1_000, to: 2_000, reason: "AN1")]
        list.preClearances = clearances
        // The list survives its YAML text, as proposed and adopted.
        #expect(try InsiderList(yaml: list.yaml) == list)
        return InsiderControls(list: list)
    }

    @Test("a restricted account is refused inside its window, at both ends, and allowed one millisecond outside")
    func restrictedWindow() throws {
        let controls = try controls()
        for time: Int64 in [100, 200] {
            #expect(controls.check(PreTradeRequest(account: "A0000003", market: "XYZ/JPY", side: .buy, time: time)).reason == .restrictedList)
        }
        for time: Int64 in [99, 201] {
            #expect(controls.check(PreTradeRequest(account: "A0000003", market: "XYZ/JPY", side: .buy, time: time)).allowed)
        }
    }

    @Test("a restricted account's household (a shared home IP) is refused too")
    func householdOfRestricted() throws {
        let decision = try controls().check(PreTradeRequest(account: "A0000004", market: "XYZ/JPY", side: .sell, time: 150))
        #expect(decision.reason == .linkedToRestricted)
        #expect(decision.detail == "A0000004 shares a household with A0000003, restricted in XYZ/JPY: deal team")
    }

    @Test("staff and their households are refused in a blackout; others are not")
    func blackout() throws {
        let controls = try controls()
        #expect(controls.check(PreTradeRequest(account: "A0000001", market: "XYZ/JPY", side: .buy, time: 1_500)).reason == .blackout)
        #expect(controls.check(PreTradeRequest(account: "A0000002", market: "XYZ/JPY", side: .buy, time: 1_500)).reason == .linkedToEmployeeInBlackout)
        #expect(controls.check(PreTradeRequest(account: "A0000005", market: "XYZ/JPY", side: .buy, time: 1_500)).allowed)
        #expect(controls.check(PreTradeRequest(account: "A0000001", market: "XYZ/JPY", side: .buy, time: 2_001)).allowed)
    }

    @Test("with pre-clearance required, staff trade only what compliance cleared")
    func preClearance() throws {
        let clearance = PreClearance(account: "A0000001", market: "XYZ/JPY", side: .buy, from: 5_000, to: 6_000, approvedBy: "compliance-1")
        let controls = try controls(preClearanceRequired: true, clearances: [clearance])
        #expect(controls.check(PreTradeRequest(account: "A0000001", market: "XYZ/JPY", side: .buy, time: 5_500)).allowed)
        #expect(controls.check(PreTradeRequest(account: "A0000001", market: "XYZ/JPY", side: .sell, time: 5_500)).reason == .noPreClearance)
        #expect(controls.check(PreTradeRequest(account: "A0000001", market: "XYZ/JPY", side: .buy, time: 6_001)).reason == .noPreClearance)
        // A customer needs none.
        #expect(controls.check(PreTradeRequest(account: "A0000005", market: "XYZ/JPY", side: .buy, time: 5_500)).allowed)
    }
}

import KinkoCore
import KinkoMonitoring
import Testing

@Suite("Graph typologies on hand-built graphs")
struct TypologyTests {
    let t0 = Stream.start
    let day = Stream.day

    /// An engine whose customers 1…99 have been known for 100 days (past `minimum_history_days`).
    func seasoned(_ customers: [UInt64]) throws -> (MonitoringEngine, Stream) {
        let engine = MonitoringEngine(rules: try defaultRules())
        var s = Stream()
        for customer in customers { _ = try engine.evaluate(s.deposit(customer, 1_000, at: t0)) }
        return (engine, s)
    }

    @Test func fanInNeedsFourOneOffSenders() throws {
        var (engine, s) = try seasoned([100, 1, 2, 3, 4, 5])
        let start = t0 + 100 * day
        for (index, sender) in [UInt64(1), 2, 3].enumerated() {
            #expect(rules(of: try engine.evaluate(s.transfer(sender, 100, at: start + UInt64(index) * 30 * day))) == [])
        }
        let fourth = try engine.evaluate(s.transfer(4, 100, at: start + 120 * day))
        #expect(rules(of: fourth) == ["fan_in"])
        #expect(fourth.hits[0].subject == 100 && fourth.hits[0].customers == [100, 1, 2, 3, 4] && fourth.hits[0].values["customers"] == "4")
        #expect(fourth.outcome == .review)
    }

    @Test func repeatingSendersAreNotFanIn() throws {
        var (engine, s) = try seasoned([100, 1, 2, 3, 4])
        let start = t0 + 100 * day
        for sender in [UInt64(1), 2, 3] {
            _ = try engine.evaluate(s.transfer(sender, 100, at: start))
            _ = try engine.evaluate(s.transfer(sender, 100, at: start + 7 * day))  // a weekly payment, not a one-off
        }
        #expect(rules(of: try engine.evaluate(s.transfer(4, 100, at: start + 60 * day))) == [])
    }

    @Test func fanInWaitsForRelationshipsToSettleAndForHistory() throws {
        var (engine, s) = try seasoned([100, 1, 2, 3, 4])
        let start = t0 + 100 * day
        for sender in [UInt64(1), 2, 3] { _ = try engine.evaluate(s.transfer(sender, 100, at: start)) }
        // 27 days later the first three may still repeat (not settled): no alert.
        #expect(rules(of: try engine.evaluate(s.transfer(4, 100, at: start + 27 * day))) == [])
        let fresh = MonitoringEngine(rules: try defaultRules())
        var t = Stream()
        for sender in [UInt64(1), 2, 3] { _ = try fresh.evaluate(t.transfer(sender, 100, at: t0)) }
        // A hub Kinko has watched for 40 days only: every relationship still looks new.
        #expect(rules(of: try fresh.evaluate(t.transfer(4, 100, at: t0 + 40 * day))) == [])
    }

    @Test func fanOutToTwelveExternalAddresses() throws {
        var (engine, s) = try seasoned([50])
        let start = t0 + 100 * day
        for index in 0..<11 {
            #expect(!rules(of: try engine.evaluate(s.withdrawal(50, 10_000, at: start + UInt64(index) * 30 * day / 11, address: "bc1q-\(index)"))).contains("fan_out"))
        }
        let twelfth = try engine.evaluate(s.withdrawal(50, 10_000, at: start + 60 * day, address: "bc1q-11"))
        #expect(rules(of: twelfth) == ["fan_out"] && twelfth.hits[0].values["external_addresses"] == "12" && twelfth.hits[0].values["customers"] == "0")
        #expect(twelfth.hits[0].customers == [50] && twelfth.hits[0].events.count == 12)
    }

    @Test func externalAddressesAreNotGatherScatter() throws {
        var (engine, s) = try seasoned([60])
        let start = t0 + 100 * day
        for index in 0..<3 { _ = try engine.evaluate(s.deposit(60, 10_000, at: start + UInt64(index) * Stream.hour, address: "src-\(index)")) }
        for index in 0..<3 {
            #expect(rules(of: try engine.evaluate(s.withdrawal(60, 1_000, at: start + 3 * day + UInt64(index) * Stream.hour, address: "dst-\(index)"))) == [])
        }
    }

    /// Stored state as a test wants it: some customers' state, some reads failing.
    struct Source: MonitoringStateSource {
        let stored: [UInt64: [UInt8]]
        let failing: Set<UInt64>
        func customerState(_ customer: UInt64) throws -> [UInt8]? {
            if failing.contains(customer) { throw KinkoError(.storageUnavailable, "the database went away") }
            return stored[customer]
        }
        func ipState(_ ip: String) throws -> [UInt8]? { nil }
        func profile(_ customer: UInt64) throws -> CustomerProfile? { nil }
    }

    // Goal (issue 15): a graph search that cannot read a neighbour's state fails the event; it
    // does not judge as if the neighbour had no history.
    @Test func aStateReadThatFailsIsAnErrorNotAnAbsence() throws {
        let before = MonitoringEngine(rules: try defaultRules())
        var s = Stream()
        _ = try before.evaluate(s.transfer(2, 3, at: t0))
        let stored = Dictionary(uniqueKeysWithValues: before.takeChanges().customers)
        #expect(stored.keys.sorted() == [2, 3])
        let failing = MonitoringEngine(rules: try defaultRules(), source: Source(stored: stored, failing: [3]))
        #expect(throws: KinkoError.self) { try failing.evaluate(s.transfer(1, 2, at: t0 + Stream.hour)) }
        let healthy = MonitoringEngine(rules: try defaultRules(), source: Source(stored: stored, failing: []))
        #expect(try healthy.evaluate(s.transfer(1, 2, at: t0 + Stream.hour)).outcome == .clear)
        // Preloaded state needs no read at all, and a customer preloaded as absent is not read.
        let preloaded = MonitoringEngine(rules: try defaultRules(), source: Source(stored: [:], failing: [1, 2, 3]))
        try preloaded.preload(customers: [1, 2, 3], states: stored, ips: [], ipStates: [:], profiled: [1, 2, 3], profiles: [])
        #expect(try preloaded.evaluate(s.transfer(1, 2, at: t0 + 2 * Stream.hour)).outcome == .clear)
    }

    @Test func cycleOfThreeClosesInAnyOrder() throws {
        let engine = MonitoringEngine(rules: try defaultRules())
        var s = Stream()
        #expect(rules(of: try engine.evaluate(s.transfer(2, 3, at: t0))) == [])  // B → C first
        #expect(rules(of: try engine.evaluate(s.transfer(3, 1, at: t0 + 5 * day))) == [])  // C → A
        let closing = try engine.evaluate(s.transfer(1, 2, at: t0 + 20 * day))  // A → B closes the ring
        #expect(rules(of: closing) == ["cycle"])
        #expect(closing.hits[0].customers == [2, 3, 1] && closing.hits[0].events == ["e3", "e1", "e2"] && closing.hits[0].values["length"] == "3")
    }

    @Test func aRoundTripIsNotACycleAndAnOldHopIsOutsideTheWindow() throws {
        let engine = MonitoringEngine(rules: try defaultRules())
        var s = Stream()
        _ = try engine.evaluate(s.transfer(1, 2, at: t0))
        #expect(rules(of: try engine.evaluate(s.transfer(2, 1, at: t0 + day))) == [], "two hops are below the minimum of three")
        _ = try engine.evaluate(s.transfer(5, 6, at: t0))
        _ = try engine.evaluate(s.transfer(6, 7, at: t0 + 20 * day))
        #expect(rules(of: try engine.evaluate(s.transfer(7, 5, at: t0 + 31 * day))) == [], "the first hop left the 30-day window")
    }

    @Test func cycleOfEightButNotNine() throws {
        for (length, fires) in [(8, true), (9, false)] {
            let engine = MonitoringEngine(rules: try defaultRules())
            var s = Stream()
            let members = (1...UInt64(length)).map { $0 }
            var last: Evaluation?
            for (index, member) in members.enumerated() {
                last = try engine.evaluate(s.transfer(member, members[(index + 1) % length], at: t0 + UInt64(index) * day))
            }
            #expect((last.map(rules(of:)) ?? []) == (fires ? ["cycle"] : []))
        }
    }

    @Test func scatterGatherThroughThreeIntermediaries() throws {
        let engine = MonitoringEngine(rules: try defaultRules())
        var s = Stream()
        for middle in [UInt64(11), 12, 13] { _ = try engine.evaluate(s.transfer(10, middle, at: t0)) }
        #expect(rules(of: try engine.evaluate(s.transfer(11, 20, at: t0 + 2 * day))) == [])
        #expect(rules(of: try engine.evaluate(s.transfer(12, 20, at: t0 + 3 * day))) == [])
        let third = try engine.evaluate(s.transfer(13, 20, at: t0 + 4 * day))
        #expect(rules(of: third) == ["scatter_gather"])
        #expect(third.hits[0].customers == [10, 11, 12, 13, 20] && third.hits[0].subject == 20 && third.hits[0].values["intermediaries"] == "3")
    }

    @Test func twoIntermediariesAreNotScatterGather() throws {
        let engine = MonitoringEngine(rules: try defaultRules())
        var s = Stream()
        for middle in [UInt64(11), 12] { _ = try engine.evaluate(s.transfer(10, middle, at: t0)) }
        _ = try engine.evaluate(s.transfer(11, 20, at: t0 + day))
        #expect(rules(of: try engine.evaluate(s.transfer(12, 20, at: t0 + day))) == [])
    }

    @Test func gatherScatterThroughOneHub() throws {
        let engine = MonitoringEngine(rules: try defaultRules())
        var s = Stream()
        for source in [UInt64(31), 32, 33] { _ = try engine.evaluate(s.transfer(source, 40, at: t0)) }
        _ = try engine.evaluate(s.transfer(40, 51, at: t0 + day))
        #expect(rules(of: try engine.evaluate(s.transfer(40, 52, at: t0 + day))) == [])
        let third = try engine.evaluate(s.transfer(40, 53, at: t0 + 2 * day))
        #expect(rules(of: third) == ["gather_scatter"])
        #expect(third.hits[0].customers == [40, 31, 32, 33, 51, 52, 53] && third.hits[0].values["sources"] == "3")
    }
}

@Suite("Monitoring state")
struct StateTests {
    let t0 = Stream.start

    /// Keeps what an engine saves, like the database does, so a new engine resumes from it.
    final class SavedState: MonitoringStateSource, @unchecked Sendable {
        var customers: [UInt64: [UInt8]] = [:]
        var ips: [String: [UInt8]] = [:]
        func customerState(_ customer: UInt64) throws -> [UInt8]? { customers[customer] }
        func ipState(_ ip: String) throws -> [UInt8]? { ips[ip] }
        func profile(_ customer: UInt64) throws -> CustomerProfile? { nil }
        func save(_ engine: MonitoringEngine) {
            let changes = engine.takeChanges()
            for (id, bytes) in changes.customers { customers[id] = bytes }
            for (ip, bytes) in changes.ips { ips[ip] = bytes }
        }
    }

    func randomStream(seed: UInt64, count: Int) -> [MonitoringEvent] {
        var random = SplitMix64(seed: seed)
        var s = Stream()
        var time = t0
        return (0..<count).map { _ in
            time += random.next() % (6 * Stream.hour)
            let customer = random.next() % 12
            switch random.next() % 5 {
            case 0: return s.deposit(customer, 1_700_000 + random.next() % 400_000, at: time)
            case 1: return s.withdrawal(customer, random.next() % 3_000_000, at: time, address: "a\(random.next() % 20)", risk: random.next() % 4 == 0 ? nil : "low")
            case 2: return s.login(customer, ip: "10.0.0.\(random.next() % 4)", country: random.next() % 3 == 0 ? "US" : "JP", at: time)
            default: return s.transfer(customer, (customer + 1 + random.next() % 11) % 12, random.next() % 500_000, at: time)
            }
        }
    }

    // Goal: stopping and restarting between any two batches changes no verdict.
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func restartingChangesNoVerdict(seed: UInt64) throws {
        let events = randomStream(seed: seed, count: 400)
        let rules = try defaultRules()
        let uninterrupted = MonitoringEngine(rules: rules)
        let expected = try events.map { try uninterrupted.evaluate($0) }
        let saved = SavedState()
        var resumed: [Evaluation] = []
        var random = SplitMix64(seed: seed &* 7)
        var index = 0
        while index < events.count {
            let engine = MonitoringEngine(rules: rules, source: saved)
            let batch = 1 + Int(random.next() % 60)
            for event in events[index..<min(events.count, index + batch)] { resumed.append(try engine.evaluate(event)) }
            saved.save(engine)
            index += batch
        }
        #expect(resumed == expected)
        #expect(expected.contains { !$0.hits.isEmpty }, "the stream exercises some rules")
    }

    @Test func stateRoundTripsThroughItsEncoding() throws {
        let engine = MonitoringEngine(rules: try defaultRules())
        for event in randomStream(seed: 9, count: 300) { _ = try engine.evaluate(event) }
        for customer in UInt64(0)..<12 {
            guard let state = engine.state(of: customer) else { continue }
            #expect(try CustomerState(decoding: state.encoded()) == state)
        }
        #expect(throws: KinkoError.self) { try CustomerState(decoding: [1, 0, 0]) }
    }

    @Test func counterpartiesAndRecentEventsStayBounded() throws {
        let engine = MonitoringEngine(rules: try defaultRules())
        var s = Stream()
        for index in 0..<(CustomerState.counterpartiesMax + 1) {
            _ = try engine.evaluate(s.withdrawal(1, 100, at: t0 + UInt64(index) * 1_000_000, address: "addr-\(index)"))
        }
        let state = try #require(engine.state(of: 1))
        let decoded = try CustomerState(decoding: state.encoded())
        #expect(decoded == state)
        #expect(state.approximateBytes < 200_000)
        let bytes = state.encoded()
        // recent events keep at most recentMax; counterparties at most counterpartiesMax
        #expect(bytes.count < (CustomerState.recentMax + CustomerState.counterpartiesMax) * 64)
    }
}

@Suite("Event input")
struct EventInputTests {
    @Test func eventIDsAreAtMost128Characters() {
        func line(_ id: String) -> String { #"{"id":"\#(id)","kind":"trade","customer":1,"time":"2026-01-01T00:00:00Z","amount_jpy":1}"# }
        let atLimit = String(repeating: "x", count: MonitoringEvent.idLengthMax)
        #expect(EventInput.parse(line(atLimit)).events.count == 1)
        #expect(EventInput.parse(line(atLimit + "x")).rejected.map(\.field) == ["id"])
        #expect(EventInput.parse(#"{"id":"a","kind":"trade","customer":9223372036854775807,"time":"2026-01-01T00:00:00Z","amount_jpy":1}"#).events.count == 1)
    }

    @Test func aRuleSetIsAtMost64KiB() throws {
        let padded = MonitoringRules.defaultYAML + "#" + String(repeating: "x", count: 64 * 1024 - MonitoringRules.defaultYAML.utf8.count - 1)
        #expect(padded.utf8.count == 64 * 1024)
        #expect(try MonitoringRules(yaml: padded).version == "2026.3-default")
        let error = #expect(throws: KinkoError.self) { try MonitoringRules(yaml: padded + "x") }
        #expect(error?.code == .limitExceeded && error?.field == "rules")
    }

    @Test func badLinesAreRejectedWithLineAndFieldAndTheRestKept() {
        let text = """
            {"id":"d1","kind":"deposit","customer":1,"time":"2026-01-01T00:00:00Z","asset":"BTC","amount":"0.5","amount_jpy":7500000}
            {"id":"w1","kind":"withdrawal","customer":1,"time":"2026-01-01T00:00:00Z","amount_jpy":100}
            not json

            {"id":"l1","kind":"login","customer":2,"time":"2026-01-01T00:00:00Z","ip":"192.0.2.1"}
            {"id":"x","kind":"teleport","customer":2,"time":"2026-01-01T00:00:00Z"}
            {"id":"t1","kind":"internal_transfer","customer":1,"counterparty_customer":2,"time":"2026-01-01T00:00:00Z","amount_jpy":-5}
            {"id":"t2","kind":"internal_transfer","customer":9223372036854775808,"counterparty_customer":2,"time":"2026-01-01T00:00:00Z","amount_jpy":5}
            {"id":"t3","kind":"trade","customer":3,"time":"2026-01-01T00:00:00Z","amount_jpy":5,"colour":"red"}
            {"id":"w2","kind":"withdrawal","customer":1,"time":"2026-01-01T00:00:00Z","amount_jpy":100,"address":"a","unhosted":true,"counterparty_risk":"none"}
            """
        let (events, rejected) = EventInput.parse(text)
        #expect(events.map(\.line) == [1])
        #expect(events.first?.event.amount == Amount(units: 5_000_000_000_000_000_000))
        #expect(rejected.map(\.line) == [2, 3, 5, 6, 7, 8, 9, 10])
        #expect(rejected.map(\.field) == ["address", nil, "country", "kind", "amount_jpy", "customer", "colour", "counterparty_risk"])
    }
}

import Foundation
import KinkoCore
import KinkoGovernance
import KinkoMonitoring
import Testing

/// Builds events on a clock that starts 2026-01-01 00:00 UTC.
struct Stream {
    static let start: TimestampNanoseconds = 1_767_225_600_000_000_000
    static let hour: UInt64 = 3_600_000_000_000
    static let day: UInt64 = 86_400_000_000_000
    var next = 0

    mutating func id() -> String {
        next += 1
        return "e\(next)"
    }

    mutating func deposit(_ customer: UInt64, _ jpy: UInt64, at time: TimestampNanoseconds, address: String? = nil, asset: String = "JPY") -> MonitoringEvent {
        MonitoringEvent(id: id(), kind: .deposit, customer: customer, time: time, asset: asset, amountJPY: jpy, address: address)
    }

    mutating func withdrawal(_ customer: UInt64, _ jpy: UInt64, at time: TimestampNanoseconds, address: String = "addr-out", asset: String = "BTC",
                             vasp: String? = nil, country: String? = nil, unhosted: Bool = true, risk: String? = "low",
                             originator: TravelRuleParty? = nil, beneficiary: TravelRuleParty? = nil) -> MonitoringEvent {
        MonitoringEvent(id: id(), kind: .withdrawal, customer: customer, time: time, asset: asset, amountJPY: jpy, address: address, vasp: vasp,
                        vaspCountry: country, unhosted: unhosted, originator: originator, beneficiary: beneficiary, counterpartyRisk: risk)
    }

    mutating func transfer(_ from: UInt64, _ to: UInt64, _ jpy: UInt64 = 10_000, at time: TimestampNanoseconds) -> MonitoringEvent {
        MonitoringEvent(id: id(), kind: .internalTransfer, customer: from, time: time, asset: "JPY", amountJPY: jpy, counterpartyCustomer: to)
    }

    mutating func login(_ customer: UInt64, ip: String, country: String, at time: TimestampNanoseconds) -> MonitoringEvent {
        MonitoringEvent(id: id(), kind: .login, customer: customer, time: time, ip: ip, country: country)
    }
}

func defaultRules(_ edit: (inout String) -> Void = { _ in }) throws -> MonitoringRules {
    var yaml = MonitoringRules.defaultYAML
    edit(&yaml)
    return try MonitoringRules(yaml: yaml)
}

func rules(of evaluation: Evaluation) -> [String] { evaluation.hits.map(\.rule) }

@Suite("Monitoring rule sets")
struct RuleSetTests {
    @Test func defaultRuleSetParses() throws {
        let rules = try defaultRules()
        #expect(rules.version == "2026.3-default")
        #expect(rules.structuring.thresholdJPY == 2_000_000 && rules.structuring.count == 3)
        #expect(rules.fanIn.windowDays == 365 && rules.fanIn.minimumCounterparties == 4 && rules.fanIn.settleDays == 28)
        #expect(rules.cycle.minimumLength == 3 && rules.cycle.maximumLength == 8)
        #expect(rules.scenarios.map(\.name) == ["sanctions_and_travel_rule", "behaviour", "typologies"])
        #expect(rules.horizonNanoseconds == 365 * Int64(Stream.day))
    }

    // Goal: a bad rule set names the field at fault; every limit holds at the limit and fails one past it.
    @Test(arguments: [
        ("count: 50, amount_jpy", "count: 257, amount_jpy", "rules.velocity.count"),
        ("cycle: {window_days: 30, minimum_length: 3, maximum_length: 8", "cycle: {window_days: 30, minimum_length: 3, maximum_length: 13",
         "typologies.cycle.maximum_length"),
        ("cycle: {window_days: 30, minimum_length: 3", "cycle: {window_days: 30, minimum_length: 2", "typologies.cycle.maximum_length"),
        ("cycle: {window_days: 30,", "cycle: {window_days: 401,", "typologies.cycle.window_days"),
        ("minimum_addresses: 12, settle_days: 28", "minimum_addresses: 12, settle_days: 401",
         "typologies.fan_in.settle_days"),
        ("band_percent: 10", "band_percent: 101", "rules.structuring.band_percent"),
        ("minimum_addresses: 12, settle", "minimum_addresses: 257, settle", "typologies.fan_in.minimum_addresses"),
        ("rules: [fan_in, fan_out,", "rules: [fan_in, fan_up,", "scenarios[2].rules"),
        ("version: \"2026.3-default\"", "version: \"\"", "version"),
        ("  login_abroad: {score: 20}\n", "", "rules.login_abroad"),
    ])
    func invalidRuleSets(find: String, replace: String, field: String) throws {
        #expect(MonitoringRules.defaultYAML.contains(find))
        let error = #expect(throws: KinkoError.self) { try defaultRules { $0 = $0.replacingOccurrences(of: find, with: replace) } }
        #expect(error?.field == field)
    }

    @Test func limitsHoldAtTheLimit() throws {
        let rules = try defaultRules {
            $0 = $0.replacingOccurrences(of: "count: 50, amount_jpy", with: "count: 256, amount_jpy")
                .replacingOccurrences(of: "cycle: {window_days: 30, minimum_length: 3, maximum_length: 8", with: "cycle: {window_days: 400, minimum_length: 3, maximum_length: 12")
        }
        #expect(rules.velocity.count == MonitoringRules.countMax && rules.cycle.maximumLength == MonitoringRules.cycleLengthMax)
        #expect(rules.cycle.windowDays == MonitoringRules.windowDaysMax)
    }
}

@Suite("Behaviour rules at their thresholds")
struct BehaviourRuleTests {
    let t0 = Stream.start

    @Test func structuringFiresOnTheThirdSplitWithinADay() throws {
        let engine = MonitoringEngine(rules: try defaultRules())
        var s = Stream()
        #expect(rules(of: try engine.evaluate(s.deposit(1, 1_999_999, at: t0))) == [])
        #expect(rules(of: try engine.evaluate(s.deposit(1, 1_800_000, at: t0 + Stream.hour))) == [])
        let third = try engine.evaluate(s.deposit(1, 1_900_000, at: t0 + 23 * Stream.hour))
        #expect(rules(of: third) == ["structuring"])
        #expect(third.hits[0].events == ["e1", "e2", "e3"] && third.hits[0].values["count"] == "3" && third.hits[0].values["band_floor_jpy"] == "1800000")
        #expect(third.outcome == .review)
    }

    // Goal (issue 21): split purchases count as much as split deposits: two trades and a
    // deposit just below the spot threshold within a day are structuring.
    @Test func structuringCountsSplitPurchases() throws {
        let engine = MonitoringEngine(rules: try defaultRules())
        var s = Stream()
        func trade(_ jpy: UInt64, at time: TimestampNanoseconds) -> MonitoringEvent {
            MonitoringEvent(id: s.id(), kind: .trade, customer: 1, time: time, asset: "BTC", amountJPY: jpy)
        }
        #expect(rules(of: try engine.evaluate(trade(1_950_000, at: t0))) == [])
        #expect(rules(of: try engine.evaluate(trade(1_800_000, at: t0 + Stream.hour))) == [])
        let third = try engine.evaluate(s.deposit(1, 1_999_999, at: t0 + 2 * Stream.hour))
        #expect(rules(of: third) == ["structuring"] && third.hits[0].events == ["e1", "e2", "e3"])
        #expect(rules(of: try engine.evaluate(trade(1_799_999, at: t0 + 3 * Stream.hour))) == [])  // one yen below the band
    }

    @Test func structuringIgnoresAmountsOutsideTheBandAndOldSplits() throws {
        let engine = MonitoringEngine(rules: try defaultRules())
        var s = Stream()
        _ = try engine.evaluate(s.deposit(1, 1_799_999, at: t0))  // one yen below the band
        _ = try engine.evaluate(s.deposit(1, 2_000_000, at: t0))  // at the threshold: reported anyway, not split
        _ = try engine.evaluate(s.deposit(1, 1_900_000, at: t0))
        _ = try engine.evaluate(s.deposit(1, 1_900_000, at: t0 + Stream.hour))
        #expect(rules(of: try engine.evaluate(s.deposit(1, 1_900_000, at: t0 + 24 * Stream.hour + 1))) == [])  // the first split left the window
        #expect(rules(of: try engine.evaluate(s.deposit(1, 1_900_000, at: t0 + 24 * Stream.hour + 2))) == ["structuring"])
    }

    @Test func velocityFiresAtTheFiftiethEventNotTheFortyNinth() throws {
        let engine = MonitoringEngine(rules: try defaultRules())
        var s = Stream()
        for index in 0..<49 { #expect(rules(of: try engine.evaluate(s.deposit(7, 1_000, at: t0 + UInt64(index) * 60_000_000_000))) == []) }
        let fiftieth = try engine.evaluate(s.deposit(7, 1_000, at: t0 + 49 * 60_000_000_000))
        #expect(rules(of: fiftieth) == ["velocity"] && fiftieth.hits[0].values["count"] == "50")
        #expect(rules(of: try engine.evaluate(s.deposit(7, 1_000, at: t0 + 50 * 60_000_000_000))) == [], "fires when crossing, not again")
    }

    @Test func velocityFiresWhenTheAmountReachesFiftyMillion() throws {
        let engine = MonitoringEngine(rules: try defaultRules())
        var s = Stream()
        #expect(rules(of: try engine.evaluate(s.deposit(7, 49_999_999, at: t0))) == [])
        let crossing = try engine.evaluate(s.deposit(7, 1, at: t0 + 1))
        #expect(rules(of: crossing) == ["velocity"] && crossing.hits[0].values["amount_jpy"] == "50000000")
    }

    // Yen sums stop at UInt64.max instead of wrapping: two deposits of more than half of it
    // used to wrap the inflow to 0, and the withdrawal of 80% of it that follows slipped past
    // rapid in-out.
    @Test func yenSumsSaturateInsteadOfWrapping() throws {
        let engine = MonitoringEngine(rules: try defaultRules())
        var s = Stream()
        let half = UInt64.max / 2 + 1
        _ = try engine.evaluate(s.deposit(9, half, at: t0))
        _ = try engine.evaluate(s.deposit(9, half, at: t0 + 1))
        let out = UInt64.max / 5 * 4 + 1
        let withdrawal = try engine.evaluate(s.withdrawal(9, out, at: t0 + Stream.hour))
        let hit = try #require(withdrawal.hits.first { $0.rule == "rapid_in_out" })
        #expect(hit.values["inflow_jpy"] == String(UInt64.max) && hit.values["outflow_jpy"] == String(out))
    }

    @Test func rapidInOutAtEightyPercent() throws {
        for (out, fires) in [(UInt64(799_999), false), (800_000, true)] {
            let engine = MonitoringEngine(rules: try defaultRules())
            var s = Stream()
            _ = try engine.evaluate(s.deposit(3, 1_000_000, at: t0))
            let withdrawal = try engine.evaluate(s.withdrawal(3, out, at: t0 + 47 * Stream.hour))
            #expect(rules(of: withdrawal) == (fires ? ["rapid_in_out"] : []))
            if fires { #expect(withdrawal.hits[0].values == ["inflow_jpy": "1000000", "outflow_jpy": "800000", "share_percent": "80", "window_hours": "48"]) }
        }
    }

    @Test func rapidInOutNeedsAMillionIn() throws {
        let engine = MonitoringEngine(rules: try defaultRules())
        var s = Stream()
        _ = try engine.evaluate(s.deposit(3, 999_999, at: t0))
        #expect(rules(of: try engine.evaluate(s.withdrawal(3, 999_999, at: t0 + Stream.hour))) == [])
    }

    @Test func sharedIPNeedsDifferentNames() throws {
        let profiles = [CustomerProfile(customer: 1, name: "Sato Hanako", country: "JP", declaredIncomeJPY: 0, declaredAssetsJPY: 0),
                        CustomerProfile(customer: 2, name: "sato  hanako", country: "JP", declaredIncomeJPY: 0, declaredAssetsJPY: 0),
                        CustomerProfile(customer: 3, name: "Ito Ken", country: "JP", declaredIncomeJPY: 0, declaredAssetsJPY: 0)]
        let engine = MonitoringEngine(rules: try defaultRules(), profiles: profiles)
        var s = Stream()
        #expect(rules(of: try engine.evaluate(s.login(1, ip: "203.0.113.9", country: "JP", at: t0))) == [])
        #expect(rules(of: try engine.evaluate(s.login(2, ip: "203.0.113.9", country: "JP", at: t0 + 1))) == [], "the same name twice is one person")
        let third = try engine.evaluate(s.login(3, ip: "203.0.113.9", country: "JP", at: t0 + 29 * Stream.day))
        #expect(rules(of: third) == ["shared_ip"] && third.hits[0].customers == [1, 2, 3] && third.hits[0].values["distinct_names"] == "2")
    }

    @Test func sharedIPForgetsLoginsOutsideTheWindow() throws {
        let profiles = [CustomerProfile(customer: 1, name: "A", country: "JP", declaredIncomeJPY: 0, declaredAssetsJPY: 0),
                        CustomerProfile(customer: 2, name: "B", country: "JP", declaredIncomeJPY: 0, declaredAssetsJPY: 0)]
        let engine = MonitoringEngine(rules: try defaultRules(), profiles: profiles)
        var s = Stream()
        _ = try engine.evaluate(s.login(1, ip: "198.51.100.1", country: "JP", at: t0))
        #expect(rules(of: try engine.evaluate(s.login(2, ip: "198.51.100.1", country: "JP", at: t0 + 30 * Stream.day + 1))) == [])
    }

    @Test func loginAbroadOnlyForCustomersLivingInJapan() throws {
        let profiles = [CustomerProfile(customer: 1, name: "A", country: "JP", declaredIncomeJPY: 0, declaredAssetsJPY: 0),
                        CustomerProfile(customer: 2, name: "B", country: "US", declaredIncomeJPY: 0, declaredAssetsJPY: 0)]
        let engine = MonitoringEngine(rules: try defaultRules(), profiles: profiles)
        var s = Stream()
        #expect(rules(of: try engine.evaluate(s.login(1, ip: "192.0.2.1", country: "JP", at: t0))) == [])
        let abroad = try engine.evaluate(s.login(1, ip: "192.0.2.2", country: "vn", at: t0 + 1))
        #expect(rules(of: abroad) == ["login_abroad"] && abroad.hits[0].values["login_country"] == "VN" && abroad.outcome == .clear,
                "20 points alone stay below the review score of 30")
        #expect(rules(of: try engine.evaluate(s.login(2, ip: "192.0.2.3", country: "VN", at: t0 + 2))) == [])
    }

    @Test func incomeMismatchAtTheDeclaredFigure() throws {
        let profile = CustomerProfile(customer: 5, name: "A", country: "JP", declaredIncomeJPY: 5_000_000, declaredAssetsJPY: 3_000_000)
        let engine = MonitoringEngine(rules: try defaultRules(), profiles: [profile])
        var s = Stream()
        #expect(rules(of: try engine.evaluate(s.deposit(5, 4_999_999, at: t0))) == [])
        let crossing = try engine.evaluate(s.deposit(5, 1, at: t0 + 29 * Stream.day))
        #expect(rules(of: crossing) == ["income_mismatch"] && crossing.hits[0].values["inflow_jpy"] == "5000000")
    }

    @Test func incomeMismatchCountsOnlyTheWindow() throws {
        let profile = CustomerProfile(customer: 5, name: "A", country: "JP", declaredIncomeJPY: 5_000_000, declaredAssetsJPY: 0)
        let engine = MonitoringEngine(rules: try defaultRules(), profiles: [profile])
        var s = Stream()
        _ = try engine.evaluate(s.deposit(5, 4_999_999, at: t0))
        #expect(rules(of: try engine.evaluate(s.deposit(5, 1, at: t0 + 30 * Stream.day))) == [])
    }

    @Test func outcomeAddsScoresWithinAScenario() throws {
        let profile = CustomerProfile(customer: 9, name: "A", country: "JP", declaredIncomeJPY: 1_000_000, declaredAssetsJPY: 0)
        let engine = MonitoringEngine(rules: try defaultRules(), profiles: [profile])
        var s = Stream()
        _ = try engine.evaluate(s.deposit(9, 1_000_000, at: t0))
        let both = try engine.evaluate(s.withdrawal(9, 1_000_000, at: t0 + 1, risk: nil))
        #expect(Set(rules(of: both)) == ["rapid_in_out", "unhosted_risk"])
        #expect(both.scenarios == [ScenarioScore(name: "behaviour", score: 80, outcome: .review)])
    }
}

@Suite("Sanctions and the travel rule")
struct SanctionsAndTravelRuleTests {
    let t0 = Stream.start
    let complete = TravelRuleParty(name: "Sato Hanako", account: "acct-1", geographicAddress: "1-1 Chiyoda, Tokyo")

    @Test func sanctionedAddressMatchesIgnoringCaseAndRecordsTheVersion() throws {
        let list = try AddressList(kind: .sanctioned, asset: "eth", version: "2026-11-01",
                                   text: "# OFAC SDN ETH\n0x8589427373D6D84E98730D7795D8f6f8731FDA16\n\n0x722122dF12D4e14e13Ac3b6895a86e84145b6967\n")
        #expect(list.addresses.count == 2 && list.asset == "ETH")
        let engine = MonitoringEngine(rules: try defaultRules(), watchlists: Watchlists([list]))
        var s = Stream()
        let hit = try engine.evaluate(s.withdrawal(1, 10_000, at: t0, address: "0x8589427373d6d84e98730d7795d8f6f8731fda16", asset: "ETH"))
        #expect(rules(of: hit) == ["sanctioned_address"] && hit.outcome == .block)
        #expect(hit.hits[0].values == ["address": "0x8589427373d6d84e98730d7795d8f6f8731fda16", "asset": "ETH", "list": "sanctioned", "list_version": "2026-11-01"])
        let deposit = try engine.evaluate(s.deposit(2, 10_000, at: t0, address: "0X722122DF12D4E14E13AC3B6895A86E84145B6967", asset: "eth"))
        #expect(rules(of: deposit) == ["sanctioned_address"])
        #expect(rules(of: try engine.evaluate(s.withdrawal(1, 10_000, at: t0, address: "0x8589427373d6d84e98730d7795d8f6f8731fda16", asset: "BTC"))) == [],
                "a list is per asset")
        #expect(rules(of: try engine.evaluate(s.withdrawal(1, 10_000, at: t0, address: "0x8589427373d6d84e98730d7795d8f6f8731fda17", asset: "ETH"))) == [])
    }

    @Test func stolenAddressIsItsOwnList() throws {
        let list = try AddressList(kind: .stolen, asset: "XEM", version: "coincheck-2018", text: "NC4C6PSUW5CLTDT5SXAGJDQJGZNESKFK5MCN77OG\n")
        let engine = MonitoringEngine(rules: try defaultRules(), watchlists: Watchlists([list]))
        var s = Stream()
        let hit = try engine.evaluate(s.deposit(4, 50_000, at: t0, address: "nc4c6psuw5cltdt5sxagjdqjgzneskfk5mcn77og", asset: "XEM"))
        #expect(rules(of: hit) == ["stolen_address"] && hit.hits[0].values["list_version"] == "coincheck-2018")
    }

    @Test func aBadListLineRefusesTheFileWithItsLineNumber() {
        let error = #expect(throws: KinkoError.self) { try AddressList(kind: .sanctioned, asset: "BTC", version: "v", text: "bc1qok\nnot an address\n") }
        #expect(error?.message.hasPrefix("line 2") == true && error?.field == "file")
        let long = String(repeating: "a", count: AddressList.addressLengthMax)
        #expect((try? AddressList(kind: .sanctioned, asset: "BTC", version: "v", text: long))?.addresses.count == 1)
        #expect(throws: KinkoError.self) { try AddressList(kind: .sanctioned, asset: "BTC", version: "v", text: long + "a") }
    }

    @Test(arguments: [
        (TravelRuleParty(name: "A", account: "1", geographicAddress: "Tokyo"), [String]()),
        (TravelRuleParty(name: "A", account: "1", nationalID: "JP-123"), []),
        (TravelRuleParty(name: "A", account: "1", dateOfBirth: "1980-01-01", placeOfBirth: "Osaka"), []),
        (TravelRuleParty(name: "A", account: "1", dateOfBirth: "1980-01-01"), ["beneficiary.geographic_address|national_id|date_and_place_of_birth"]),
        (TravelRuleParty(name: " ", account: "1", nationalID: "X"), ["beneficiary.name"]),
        (TravelRuleParty(name: "A", nationalID: "X"), ["beneficiary.account"]),
    ])
    func ivms101Completeness(beneficiary: TravelRuleParty, missing: [String]) throws {
        #expect(TravelRule.missingFields(beneficiary, role: "beneficiary") == missing)
        let engine = MonitoringEngine(rules: try defaultRules())
        var s = Stream()
        let withdrawal = try engine.evaluate(s.withdrawal(1, 100, at: t0, vasp: "bitflyer", country: "JP", unhosted: false, risk: nil,
                                                         originator: complete, beneficiary: beneficiary))
        #expect(rules(of: withdrawal) == (missing.isEmpty ? [] : ["travel_rule"]))
        #expect(withdrawal.outcome == (missing.isEmpty ? .clear : .block), "missing travel-rule data blocks release")
        if !missing.isEmpty { #expect(withdrawal.hits[0].values["missing"] == missing.joined(separator: ",")) }
    }

    // Goal: the explanation names missing travel-rule data in words, not field paths.
    @Test func travelRuleExplanationsAreWords() throws {
        #expect(TravelRule.describe("originator.geographic_address|national_id|date_and_place_of_birth")
            == "the originator's address, national ID, or date and place of birth (one of them)")
        #expect(TravelRule.describe("beneficiary.name") == "the beneficiary's name")
        #expect(TravelRule.describe("beneficiary.account") == "the beneficiary's account number or wallet address")
        #expect(TravelRule.describe("beneficiary") == "every detail of the beneficiary")
        #expect(TravelRule.describe("vasp") == "the receiving VASP's name" && TravelRule.describe("vasp_country") == "the receiving VASP's country")
        let engine = MonitoringEngine(rules: try defaultRules())
        var s = Stream()
        let withdrawal = try engine.evaluate(s.withdrawal(1, 100, at: t0, vasp: "bitflyer", country: "JP", unhosted: false, risk: nil,
                                                         originator: complete, beneficiary: TravelRuleParty(name: "A", account: "1")))
        #expect(withdrawal.hits[0].explanation == "withdrawal to bitflyer in JP lacks travel-rule data: the beneficiary's address, national ID, or date and place of birth (one of them); release is blocked until it is supplied")
    }

    @Test func travelRuleAppliesOnlyToDesignatedJurisdictions() throws {
        let jurisdictions = try TravelRuleJurisdictions(version: "v2", countries: ["JP", "SG"])
        let engine = MonitoringEngine(rules: try defaultRules(), jurisdictions: jurisdictions)
        var s = Stream()
        #expect(rules(of: try engine.evaluate(s.withdrawal(1, 100, at: t0, vasp: "x", country: "SG", unhosted: false, originator: complete))) == ["travel_rule"])
        #expect(rules(of: try engine.evaluate(s.withdrawal(1, 100, at: t0, vasp: "x", country: "BR", unhosted: false))) == [])
        let unknown = try engine.evaluate(s.withdrawal(1, 100, at: t0, vasp: nil, country: nil, unhosted: false))
        #expect(unknown.hits.first?.values["missing"] == "vasp,vasp_country")
        #expect(throws: KinkoError.self) { try TravelRuleJurisdictions(version: "v", countries: ["SG"]) }
        #expect(throws: KinkoError.self) { try TravelRuleJurisdictions(version: "v", countries: ["JP", "JPN"]) }
    }

    // Goal (issue 21): the travel rule applies from the threshold in force at the transfer's
    // time — a dated regulatory setting — at the threshold and not one yen below, and before a
    // threshold's day the earlier figure (every transfer) applies.
    @Test func theTravelRuleThresholdIsADatedSetting() throws {
        let day = CalendarDay.text(daysSinceEpoch: Int64(t0 / 86_400_000_000_000) + 10)
        let from = try TimestampNanoseconds.startOfDayJST(day, field: "t")
        let yaml = RegulatorySettings.defaultYAML.replacingOccurrences(
            of: "so every transfer carries the data until a threshold is adopted\"",
            with: "so every transfer carries the data until a threshold is adopted\"\n    - {value: 100000, effective_from: \"\(day)\", status: open, source: \"a notice\"}")
        let regulatory = try RegulatorySettings(yaml: yaml)
        let engine = MonitoringEngine(rules: try defaultRules(), regulatory: regulatory)
        var s = Stream()
        func hits(_ jpy: UInt64, at time: TimestampNanoseconds) throws -> [String] {
            rules(of: try engine.evaluate(s.withdrawal(1, jpy, at: time, vasp: "x", country: "SG", unhosted: false)))
        }
        #expect(try hits(1, at: from - 1) == ["travel_rule"])  // before the day: every transfer
        #expect(try hits(99_999, at: from) == [])
        let at = try engine.evaluate(s.withdrawal(1, 100_000, at: from, vasp: "x", country: "SG", unhosted: false))
        #expect(rules(of: at) == ["travel_rule"] && at.hits.first?.values["threshold_jpy"] == "100000" && at.hits.first?.values["direction"] == "outgoing")
        #expect(engine.travelRuleThresholdJPY(at: from - 1) == 0 && engine.travelRuleThresholdJPY(at: from) == 100_000)
    }

    // Goal (issue 21): a deposit from another exchange in a travel-rule jurisdiction must carry
    // the originator's data; without it the credit is held (travel_rule, blocking), with it it is
    // clear; a deposit from outside the list, or from no exchange at all, is not checked.
    @Test func incomingTransfersAreCheckedForOriginatorData() throws {
        let engine = MonitoringEngine(rules: try defaultRules(), jurisdictions: try TravelRuleJurisdictions(version: "v2", countries: ["JP", "SG"]))
        var s = Stream()
        func deposit(vasp: String?, country: String?, originator: TravelRuleParty?) -> MonitoringEvent {
            var event = s.deposit(1, 50_000, at: t0, address: "addr-in", asset: "BTC")
            (event.vasp, event.vaspCountry, event.originator, event.beneficiary) = (vasp, country, originator, complete)
            return event
        }
        let lacking = try engine.evaluate(deposit(vasp: "bitFlyer", country: "JP", originator: TravelRuleParty(name: "Sato Hanako")))
        #expect(rules(of: lacking) == ["travel_rule"] && lacking.outcome == .block)
        let hit = try #require(lacking.hits.first)
        #expect(hit.values["direction"] == "incoming" && hit.values["missing"] == "originator.account,originator.geographic_address|national_id|date_and_place_of_birth")
        #expect(hit.explanation == "deposit from bitFlyer in JP lacks travel-rule data: the originator's account number or wallet address; the originator's address, national ID, or date and place of birth (one of them); the credit is held until it is supplied")
        #expect(rules(of: try engine.evaluate(deposit(vasp: "bitFlyer", country: "JP", originator: complete))) == [])
        #expect(rules(of: try engine.evaluate(deposit(vasp: "x", country: "BR", originator: nil))) == [])
        #expect(rules(of: try engine.evaluate(deposit(vasp: nil, country: nil, originator: nil))) == [])
        #expect(try engine.evaluate(deposit(vasp: "x", country: nil, originator: complete)).hits.first?.values["missing"] == "vasp_country")
    }

    // Goal (issue 21): the shipped list is the FSA's, dated: Japan always, 20 jurisdictions from
    // 00:00 JST on 1 June 2023 and 8 more from 1 May 2024 — JP and 28 others today — and it
    // reads back from its own text form unchanged.
    @Test func theFSAsDesignationsAreADatedList() throws {
        let fsa = TravelRuleJurisdictions.designatedByFSA
        #expect(try TravelRuleJurisdictions(version: fsa.version, text: fsa.text) == fsa)
        let june2023 = try TimestampNanoseconds.startOfDayJST("2023-06-01", field: "t")
        let may2024 = try TimestampNanoseconds.startOfDayJST("2024-05-01", field: "t")
        #expect(fsa.countries(at: june2023 - 1) == ["JP"])
        #expect(fsa.countries(at: june2023).count == 21)
        #expect(fsa.countries(at: may2024 - 1) == fsa.countries(at: june2023))
        #expect(fsa.countries(at: may2024).subtracting(fsa.countries(at: may2024 - 1)) == ["AE", "BH", "EE", "GB", "ID", "IN", "NG", "PT"])
        #expect(fsa.countries(at: may2024).count == 29 && fsa.countries(at: .max - 1).subtracting(["JP"]).count == 28)
        #expect(fsa.lastChange(atOrBefore: may2024) == "2024-05-01" && fsa.lastChange(atOrBefore: may2024 - 1) == "2023-06-01")
        #expect(fsa.lastChange(atOrBefore: june2023 - 1) == nil)
        // The engine judges each transfer by the designations at its own time.
        let engine = MonitoringEngine(rules: try defaultRules(), jurisdictions: fsa)
        var s = Stream()
        #expect(rules(of: try engine.evaluate(s.withdrawal(1, 100, at: may2024 - 1, vasp: "x", country: "GB", unhosted: false))) == [])
        let gb = try engine.evaluate(s.withdrawal(1, 100, at: may2024, vasp: "x", country: "GB", unhosted: false))
        #expect(rules(of: gb) == ["travel_rule"] && gb.hits.first?.values["jurisdictions_version"] == "fsa-2024-05-01")
        #expect(rules(of: try engine.evaluate(s.withdrawal(1, 100, at: june2023 - 1, vasp: "x", country: "US", unhosted: false))) == [])
        #expect(rules(of: try engine.evaluate(s.withdrawal(1, 100, at: june2023, vasp: "x", country: "US", unhosted: false))) == ["travel_rule"])
    }

    // Goal (issue 21): a dated list's text form, its limits and its refusals, each naming the
    // field and the token.
    @Test func jurisdictionDesignationsAreValidated() throws {
        let ended = try TravelRuleJurisdictions(version: "v", text: "JP, XX@2023-06-01..2025-01-01,XX@2026-01-01")
        #expect(ended.tokens == ["JP", "XX@2023-06-01..2025-01-01", "XX@2026-01-01"])
        let end = try TimestampNanoseconds.startOfDayJST("2025-01-01", field: "t")
        #expect(ended.applies(to: "XX", at: end - 1) && !ended.applies(to: "XX", at: end))
        #expect(ended.lastChange(atOrBefore: end) == "2025-01-01")
        #expect(try TravelRuleJurisdictions(version: "v", text: "jp,sg@..2024-01-01").tokens == ["JP", "SG@..2024-01-01"])
        func refusal(_ text: String) -> String? {
            do { _ = try TravelRuleJurisdictions(version: "v", text: text); return nil } catch { return "\(error.field ?? ""): \(error.message)" }
        }
        #expect(refusal("JP@2023-06-01..2024-01-01") == "countries: Japan (JP) is always a travel-rule jurisdiction: list JP without an end")
        #expect(refusal("JP,SG@2024-01-01..2023-01-01") == "countries: \"SG@2024-01-01..2023-01-01\" ends on or before it begins")
        #expect(refusal("JP,SG@2023-01-01,SG@2024-01-01") == "countries: SG@2023-01-01 and SG@2024-01-01 overlap; a country's designations follow one another")
        #expect(refusal("JP,SG@") == "countries: \"SG@\" is CC, CC@FROM, CC@FROM..UNTIL or CC@..UNTIL (days YYYY-MM-DD)")
        #expect(refusal("JP,SGP") == "countries: \"SGP\" is not an ISO 3166-1 alpha-2 code (in \"SGP\")")
        #expect(refusal("JP,SG@2023-13-01")?.hasPrefix("countries: ") == true)
        // designationsMax: at the limit, and one past it.
        let days = (0..<Int64(TravelRuleJurisdictions.designationsMax)).map { CalendarDay.text(daysSinceEpoch: 11_323 + $0) }  // from 2001-01-01
        let many = ["JP"] + zip(days, days.dropFirst()).map { "SG@\($0)..\($1)" }  // one after another, never overlapping
        #expect(try TravelRuleJurisdictions(version: "v", tokens: many).designations.count == TravelRuleJurisdictions.designationsMax)
        #expect(refusal((many + ["US"]).joined(separator: ",")) == "countries: a list holds at most 300 designations; got 301")
    }

    @Test func unhostedWalletsNeedARiskAssessment() throws {
        let engine = MonitoringEngine(rules: try defaultRules())
        var s = Stream()
        #expect(rules(of: try engine.evaluate(s.withdrawal(1, 100, at: t0, risk: "low"))) == [])
        #expect(rules(of: try engine.evaluate(s.withdrawal(1, 100, at: t0, risk: "medium"))) == [])
        let missing = try engine.evaluate(s.withdrawal(1, 100, at: t0, risk: nil))
        #expect(rules(of: missing) == ["unhosted_risk"] && missing.hits[0].values["counterparty_risk"] == "missing")
        #expect(rules(of: try engine.evaluate(s.withdrawal(1, 100, at: t0, risk: "high"))) == ["unhosted_risk"])
    }

    @Test func highRiskJurisdictionsAndPrivacyCoins() throws {
        let engine = MonitoringEngine(rules: try defaultRules())
        var s = Stream()
        let northKorea = try engine.evaluate(s.withdrawal(1, 100, at: t0, vasp: "x", country: "KP", unhosted: false, originator: complete, beneficiary: complete))
        #expect(rules(of: northKorea) == ["high_risk_jurisdiction"])
        #expect(rules(of: try engine.evaluate(s.deposit(2, 100, at: t0, asset: "XMR"))) == ["privacy_coin"])
    }
}

import Foundation
import KinkoCore
import KinkoCustody
import KinkoGovernance
import Testing

/// A regulatory-settings document with the shipped figures, `hot` as the hot-share figures
/// (value, day) and the other parameters as shipped.
private func document(version: String = "t1", hot: [(UInt64, String)] = [(500, "2020-05-01")], guarantee: UInt64 = 100,
                      cutoff: UInt64 = 17, wait: UInt64 = 48, threshold: UInt64 = 0, source: String = "a law") -> String {
    func figures(_ list: [(UInt64, String)]) -> String {
        list.map { "\n    - {value: \($0.0), effective_from: \"\($0.1)\", status: law, source: \"\(source)\"}" }.joined()
    }
    return """
        version: "\(version)"
        parameters:
          custody.hot_share_limit_basis_points:\(figures(hot))
          custody.guarantee_percent_of_hot:\(figures([(guarantee, "2020-05-01")]))
          custody.reconciliation_cutoff_hour_jst:\(figures([(cutoff, "2020-05-01")]))
          custody.whitelist_wait_hours:\(figures([(wait, "2024-09-26")]))
          aml.travel_rule_threshold_jpy:\(figures([(threshold, "2023-06-01")]))

        """
}

private func refusal(_ yaml: String) -> KinkoError? {
    #expect(throws: KinkoError.self) { try RegulatorySettings(yaml: yaml) }
}

@Suite("Regulatory settings: law-dated figures")
struct RegulatorySettingsTests {
    static let may2020 = try! TimestampNanoseconds.startOfDayJST("2020-05-01", field: "t")

    // Goal: the shipped document reads, sets every parameter, names a source for each, and its
    // figures are the ones custody enforces without it (5%, 100%, 17:00 JST, 48 h).
    @Test func theShippedDocumentIsTheLawAndMatchesTheDefaults() throws {
        let standard = RegulatorySettings.standard
        #expect(standard.version == "2026.1")
        #expect(Set(standard.parameters.keys) == Set(RegulatorySettings.catalogue.map(\.key)))
        let now: TimestampNanoseconds = 1_800_000_000_000_000_000
        let applied = CustodySettings().applying(standard, at: now)
        #expect(applied == CustodySettings())
        #expect(standard.entry(RegulatorySettings.hotShareLimit, at: now)?.source.contains("Art. 27(2)") == true)
        #expect(standard.entry(RegulatorySettings.hotShareLimit, at: now)?.status == .law)
        #expect(standard.entry(RegulatorySettings.guaranteeShare, at: now)?.source.contains("63-11-2") == true)
        #expect(standard.entry(RegulatorySettings.whitelistWait, at: now)?.status == .practice)
    }

    // Goal: a figure applies from 00:00 JST of its day; one nanosecond earlier the one before it
    // applies, and before the first nothing does (custody keeps its own figure).
    @Test func aFigureAppliesFromMidnightJSTOfItsDay() throws {
        let settings = try RegulatorySettings(yaml: document(hot: [(500, "2020-05-01"), (1_000, "2027-04-01")]))
        let april2027 = try TimestampNanoseconds.startOfDayJST("2027-04-01", field: "t")
        #expect(april2027 == 1_806_505_200_000_000_000)  // 2027-03-31T15:00:00Z
        #expect(settings.entry(RegulatorySettings.hotShareLimit, at: april2027)?.value == 1_000)
        #expect(settings.entry(RegulatorySettings.hotShareLimit, at: april2027 - 1)?.value == 500)
        #expect(settings.entry(RegulatorySettings.hotShareLimit, at: Self.may2020)?.value == 500)
        #expect(settings.entry(RegulatorySettings.hotShareLimit, at: Self.may2020 - 1) == nil)
        var base = CustodySettings()
        base.hotShareLimitBasisPoints = 42
        #expect(base.applying(settings, at: Self.may2020 - 1).hotShareLimitBasisPoints == 42)
        #expect(base.applying(settings, at: april2027).hotShareLimitBasisPoints == 1_000)
        #expect(base.applying(nil, at: april2027).hotShareLimitBasisPoints == 42)
    }

    // Goal: every figure has its range, tested at the limit and one past it, and the error names
    // the field.
    @Test func figuresAtTheirLimitsAndOnePast() throws {
        #expect(try RegulatorySettings(yaml: document(hot: [(10_000, "2020-05-01")])).parameters["custody.hot_share_limit_basis_points"]?.first?.value == 10_000)
        let hot = refusal(document(hot: [(10_001, "2020-05-01")]))
        #expect(hot?.code == .invalidInput && hot?.field == "parameters.custody.hot_share_limit_basis_points[0].value")
        #expect(hot?.message.contains("0–10000") == true)
        _ = try RegulatorySettings(yaml: document(guarantee: 100))
        let guarantee = refusal(document(guarantee: 99))  // below the law: the same quantity
        #expect(guarantee?.field == "parameters.custody.guarantee_percent_of_hot[0].value")
        _ = try RegulatorySettings(yaml: document(cutoff: 23))
        #expect(refusal(document(cutoff: 24))?.field == "parameters.custody.reconciliation_cutoff_hour_jst[0].value")
        _ = try RegulatorySettings(yaml: document(wait: 720))
        #expect(refusal(document(wait: 721))?.field == "parameters.custody.whitelist_wait_hours[0].value")
        _ = try RegulatorySettings(yaml: document(threshold: 1_000_000_000_000))
        #expect(refusal(document(threshold: 1_000_000_000_001))?.field == "parameters.aml.travel_rule_threshold_jpy[0].value")
        _ = try RegulatorySettings(yaml: document(source: String(repeating: "s", count: RegulatorySettings.sourceLengthMax)))
        // Keys are checked in alphabetical order, so the travel-rule threshold is the first to fail.
        #expect(refusal(document(source: String(repeating: "s", count: RegulatorySettings.sourceLengthMax + 1)))?.field == "parameters.aml.travel_rule_threshold_jpy[0].source")
        #expect(refusal(document(source: " "))?.field == "parameters.aml.travel_rule_threshold_jpy[0].source")
        let days = (0..<RegulatorySettings.entriesPerParameterMax).map { (UInt64(500), CalendarDay.text(daysSinceEpoch: 18_400 + Int64($0))) }
        #expect(try RegulatorySettings(yaml: document(hot: days)).parameters["custody.hot_share_limit_basis_points"]?.count == 100)
        let tooMany = refusal(document(hot: days + [(500, "2099-01-01")]))
        #expect(tooMany?.field == "parameters.custody.hot_share_limit_basis_points" && tooMany?.message.contains("1–100") == true)
    }

    // Goal: a document is complete, in order and names only known parameters; the errors say
    // which and why.
    @Test func malformedDocumentsAreRefusedByField() throws {
        let outOfOrder = refusal(document(hot: [(500, "2027-04-01"), (600, "2027-04-01")]))
        #expect(outOfOrder?.field == "parameters.custody.hot_share_limit_basis_points[1].effective_from")
        #expect(refusal(document(hot: [(500, "2027-02-30")]))?.field == "parameters.custody.hot_share_limit_basis_points[0].effective_from")
        let missing = refusal(document().replacingOccurrences(of: "  custody.whitelist_wait_hours:\n    - {value: 48, effective_from: \"2024-09-26\", status: law, source: \"a law\"}\n", with: ""))
        #expect(missing?.field == "parameters.custody.whitelist_wait_hours" && missing?.message.contains("is required") == true)
        let unknown = refusal(document() + "  custody.cold_share: []\n")
        #expect(unknown?.field == "parameters.custody.cold_share")
        #expect(refusal(document().replacingOccurrences(of: "status: law", with: "status: rumour"))?.field == "parameters.aml.travel_rule_threshold_jpy[0].status")
        #expect(refusal(String(repeating: "#", count: RegulatorySettings.documentBytesMax + 1))?.code == .limitExceeded)
        #expect(refusal("version: [")?.field == "document")
    }

    // Goal: a new version may add a later figure but not change, drop or backdate one in effect.
    @Test func aNewVersionKeepsWhatWasInForce() throws {
        let now = try TimestampNanoseconds.startOfDayJST("2026-12-03", field: "t")
        let current = RegulatorySettings.standard
        // Tomorrow's figure is added: allowed.
        try RegulatorySettings(yaml: document(hot: [(500, "2020-05-01"), (1_000, "2026-12-04")], source: "x"))
            .checkKeepsHistory(of: try RegulatorySettings(yaml: document(source: "x")), at: now)
        let changed = #expect(throws: KinkoError.self) {
            try RegulatorySettings(yaml: document(hot: [(600, "2020-05-01")])).checkKeepsHistory(of: current, at: now)
        }
        #expect(changed?.code == .conflict && changed?.field == "parameters.custody.hot_share_limit_basis_points")
        #expect(changed?.message.contains("2020-05-01 is already in effect") == true)
        // Dated today: it would rewrite a day that has begun.
        let today = #expect(throws: KinkoError.self) {
            try RegulatorySettings(yaml: document(hot: [(500, "2020-05-01"), (1_000, "2026-12-03")], source: "x"))
                .checkKeepsHistory(of: try RegulatorySettings(yaml: document(source: "x")), at: now)
        }
        #expect(today?.message.contains("2026-12-03") == true)
    }

    // Goal: the guarantee required is ⌈hot × percent / 100⌉ and the check and the rebalancing
    // proposal both use it.
    @Test func theGuaranteeShareIsASetting() throws {
        var book = Book()
        book.settings.guaranteePercentOfHot = 150
        #expect(book.settings.guaranteeRequired(hot: 500) == 750)
        #expect(book.settings.guaranteeRequired(hot: 3) == 5)  // 4.5 rounds up
        #expect(book.settings.guaranteeRequired(hot: .max) == .max)
        book.balances["btc-guarantee"] = 749
        let short = try #require(CustodyCheck.evaluate(book.facts).assets.first)
        #expect(!short.guaranteeSufficient && short.guaranteeRequired == Amount(units: 750))
        let topUp = CustodyCheck.rebalance(book.facts).filter { $0.kind == .guaranteeTopUp }
        #expect(topUp.map(\.amount) == [Amount(units: 1)] && topUp.first?.reason.contains("150%") == true)
        book.balances["btc-guarantee"] = 750
        #expect(try #require(CustodyCheck.evaluate(book.facts).assets.first).guaranteeSufficient)
    }
}

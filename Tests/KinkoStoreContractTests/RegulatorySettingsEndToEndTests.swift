import Foundation
import KinkoControls
import KinkoCore
import KinkoCustody
import KinkoGovernance
import KinkoPlaybook
import KinkoStores
import Testing

@Suite("Regulatory settings: dated, approved, in force on their day, on every database", .serialized)
struct RegulatorySettingsEndToEndTests {
    /// The shipped document with the hot-share limit given as dated figures.
    static func yaml(version: String, hot: [(UInt64, String)]) -> String {
        var text = RegulatorySettings.defaultYAML.replacingOccurrences(of: "version: \"2026.1\"", with: "version: \"\(version)\"")
        let shipped = """
                - value: 500
                  effective_from: "2020-05-01"
            """
        let later = hot.dropFirst().map { "\n    - {value: \($0.0), effective_from: \"\($0.1)\", status: plan, source: \"a later notice\"}" }.joined()
        let first = hot[0]
        text = text.replacingOccurrences(of: shipped, with: "    - value: \(first.0)\n      effective_from: \"\(first.1)\"")
        return text.replacingOccurrences(of: "(in force with the 2019 PSA amendment, 1 May 2020)\"", with: "(in force with the 2019 PSA amendment, 1 May 2020)\"" + later)
    }

    static func day(_ day: String, plus days: Int64) throws -> String {
        CalendarDay.text(daysSinceEpoch: try CalendarDay.epochSeconds(day, field: "day") / 86_400 + days)
    }

    // Goal (issue 21, item 1): the hot-share limit is a dated setting. A change filed for a later
    // day goes through a second person, takes effect at 00:00 JST of its day and not a nanosecond
    // before, custody's check and `settings show`'s view both use the figure of the time asked
    // about, and no version may rewrite a figure already in effect — checked again at adoption.
    @Test(arguments: Backend.configured) func aChangeTakesEffectOnItsDayAndHistoryStays(_ backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let w = try await ControlWorld.build(harness)
            let book = w.x.custody.regulatory
            let today = w.x.clock.now().jstDay
            let effective = try Self.day(today, plus: 10)
            let effectiveTime = try TimestampNanoseconds.startOfDayJST(effective, field: "day")

            // Before any version is adopted, the shipped figures apply and say so.
            let shipped = try await w.x.regulatoryParameters(by: w.ops.caller)
            let hotRow = try #require(shipped.first { $0.key == RegulatorySettings.hotShareLimit.key })
            #expect(hotRow.value == "500" && hotRow.effectiveFrom == "2020-05-01" && hotRow.status == "law")
            #expect(hotRow.document == "regulatory.settings 2026.1 (shipped, not adopted)" && hotRow.source.contains("Art. 27(2)"))
            #expect(shipped.map(\.key) == RegulatorySettings.catalogue.map(\.key) + [
                "aml.structuring_threshold_jpy", "reserve.lookback_completed_fiscal_years", "reserve.covered_loss_types", "records.retention_years.books",
                "records.retention_years.transactions", "records.retention_years.verification", "records.retention_years.others",
                "aml.travel_rule_jurisdictions",
            ])
            #expect(shipped.first { $0.key == "aml.structuring_threshold_jpy" }?.value == "2000000")
            #expect(shipped.first { $0.key == "records.retention_years.books" }?.value == "10")
            #expect(shipped.first { $0.key == "aml.travel_rule_jurisdictions" }?.value.split(separator: ",").contains("JP") == true)

            // Proposing needs the permission; adopting needs a second person.
            let operatorTry = await #expect(throws: KinkoError.self) {
                try await book.propose(yaml: Self.yaml(version: "t2", hot: [(500, "2020-05-01"), (1_000, effective)]), by: w.ops.caller)
            }
            #expect(operatorTry?.code == .forbidden)
            let (proposed, request) = try await book.propose(yaml: Self.yaml(version: "t2", hot: [(500, "2020-05-01"), (1_000, effective)]), by: w.compliance.caller)
            #expect(proposed.entry(RegulatorySettings.hotShareLimit, at: effectiveTime)?.value == 1_000)
            let alone = await #expect(throws: KinkoError.self) { try await book.adopt(version: "t2", by: w.compliance.caller) }
            #expect(alone?.code == .approvalRequired)
            #expect(try await w.x.custody.settingsInForce(at: effectiveTime).hotShareLimitBasisPoints == 500)
            _ = try await w.compliance2.approve(request.id, in: w.governance)
            _ = try await book.adopt(version: "t2", by: w.compliance.caller)

            // In force on its day, not a nanosecond before; custody's check follows.
            #expect(try await w.x.custody.settingsInForce(at: w.x.clock.now()).hotShareLimitBasisPoints == 500)
            #expect(try await w.x.custody.settingsInForce(at: effectiveTime - 1).hotShareLimitBasisPoints == 500)
            #expect(try await w.x.custody.settingsInForce(at: effectiveTime).hotShareLimitBasisPoints == 1_000)
            #expect(try await w.x.custody.facts(at: effectiveTime).settings.hotShareLimitBasisPoints == 1_000)
            #expect(CustodyCheck.evaluate(try await w.x.custody.facts(at: effectiveTime)).limitBasisPoints == 1_000)
            let later = try await w.x.regulatoryParameters(at: effectiveTime, by: w.ops.caller)
            let laterRow = try #require(later.first { $0.key == RegulatorySettings.hotShareLimit.key })
            #expect(laterRow.value == "1000" && laterRow.effectiveFrom == effective && laterRow.status == "plan" && laterRow.source == "a later notice")
            #expect(laterRow.document == "regulatory.settings t2")
            let now = try await w.x.regulatoryParameters(by: w.ops.caller)
            #expect(now.first { $0.key == RegulatorySettings.hotShareLimit.key }?.value == "500")
            // Before the first figure's day there is none in force, and the view says so.
            let before = try await w.x.regulatoryParameters(at: try TimestampNanoseconds.startOfDayJST("2020-05-01", field: "t") - 1, by: w.ops.caller)
            let beforeRow = try #require(before.first { $0.key == RegulatorySettings.hotShareLimit.key })
            #expect(beforeRow.value == "-" && beforeRow.effectiveFrom == nil && beforeRow.source.contains("the first is dated 2020-05-01"))

            // A version that changes a figure in effect is refused when proposed.
            let rewrite = await #expect(throws: KinkoError.self) {
                try await book.propose(yaml: Self.yaml(version: "t3", hot: [(600, "2020-05-01"), (1_000, effective)]), by: w.compliance.caller)
            }
            #expect(rewrite?.code == .conflict && rewrite?.field == "parameters.custody.hot_share_limit_basis_points")
            // One filed before the day but adopted after it, changing that day's figure, is
            // refused at adoption.
            let (_, lateRequest) = try await book.propose(yaml: Self.yaml(version: "t4", hot: [(500, "2020-05-01"), (900, effective)]), by: w.compliance.caller)
            _ = try await w.compliance2.approve(lateRequest.id, in: w.governance)
            w.f.clock.advance(seconds: 11 * 86_400)
            let late = await #expect(throws: KinkoError.self) { try await book.adopt(version: "t4", by: w.compliance.caller) }
            #expect(late?.code == .conflict && late?.message.contains("\(effective) is already in effect") == true)
            #expect(try await w.x.custody.settingsInForce(at: w.x.clock.now()).hotShareLimitBasisPoints == 1_000)
            #expect(try await book.versions(by: w.ops.caller).map { "\($0.version):\($0.status.rawValue)" } == ["t2:adopted", "t4:proposed"])
        }
    }
}

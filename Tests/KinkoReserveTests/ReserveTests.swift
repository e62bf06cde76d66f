import Foundation
import KinkoCore
import KinkoGovernance
import KinkoLedger
import KinkoReserve
import Testing

@Suite("Reserve rule sets and the requirement")
struct RequirementTests {
    static let now: TimestampNanoseconds = 1_795_305_600_000_000_000  // 2026-11-22 09:00 JST

    func rules(_ edit: (inout String) -> Void = { _ in }) throws -> RuleSet {
        var yaml = RuleSet.defaultYAML
        edit(&yaml)
        return try RuleSet(yaml: yaml)
    }

    func inputs(volume: UInt128 = 0, cold: UInt128 = 0, hot: UInt128 = 0, losses: [PastLoss] = [], policies: [InsurancePolicy] = []) -> RequirementInputs {
        let days = JST.days(endingBefore: JST.day(of: Self.now), count: 90)
        return RequirementInputs(
            volumes: ["spot": Dictionary(uniqueKeysWithValues: days.map { ($0, Amount(units: volume)) })],
            coldJPY: Amount(units: cold), hotJPY: Amount(units: hot), losses: losses, policies: policies, now: Self.now)
    }

    @Test func defaultRuleSetParses() throws {
        let rules = try rules()
        #expect(rules.version == "2026.1-default" && rules.trailingDays == 90 && rules.floor == Amount(units: 2_000_000_000))
        #expect(rules.volumeRates["spot"]?.description == "0.0005" && rules.insuredLossTypes == ["hack", "insider_fraud"])
        #expect(rules.coveredLossTypes == ["hack", "insider_fraud", "unauthorised_outflow"])
    }

    // Goal (issue 21): the reserve's covered loss types: 16 names at the limit, a 32-character
    // name at the limit; a rule set adopted before the key existed covers the default list.
    @Test func coveredLossTypesAtTheirLimits() throws {
        let key = "covered_loss_types: [hack, insider_fraud, unauthorised_outflow]"
        let sixteen = try rules { $0 = $0.replacingOccurrences(of: key, with: "covered_loss_types: [\((1...16).map { "t\($0)" }.joined(separator: ", "))]") }
        #expect(sixteen.coveredLossTypes.count == 16)
        let long = String(repeating: "a", count: 32)
        #expect(try rules { $0 = $0.replacingOccurrences(of: key, with: "covered_loss_types: [\(long)]") }.coveredLossTypes == [long])
        let legacy = try rules { $0 = $0.replacingOccurrences(of: "  " + key + "\n", with: "") }
        #expect(legacy.coveredLossTypes == RuleSet.coveredLossTypesDefault)
    }

    // Goal: a bad rule set names the field at fault.
    @Test(arguments: [
        ("cap_jpy: \"40000000000\"", "cap_jpy: \"1\"", "floor_jpy"),
        ("trailing_days: 90", "trailing_days: 367", "volume.trailing_days"),
        ("hot_rate: \"0.02\"", "hot_rate: \"-0.02\"", "custody.hot_rate"),
        ("max_offset_share: \"0.5\"", "max_offset_share: \"1.5\"", "insurance.max_offset_share"),
        ("lookback_completed_fiscal_years: 3", "lookback_completed_fiscal_years: 11", "incidents.lookback_completed_fiscal_years"),
        ("lookback_completed_fiscal_years: 3", "lookback_completed_fiscal_years: -1", "incidents.lookback_completed_fiscal_years"),
        ("lookback_completed_fiscal_years: 3", "lookback_fiscal_years: 12", "incidents.lookback_fiscal_years"),
        ("lookback_completed_fiscal_years: 3", "lookback_fiscal_years: 0", "incidents.lookback_fiscal_years"),
        ("lookback_completed_fiscal_years: 3", "lookback_completed_fiscal_years: 3\n  lookback_fiscal_years: 3", "incidents.lookback_completed_fiscal_years"),
        ("  lookback_completed_fiscal_years: 3\n", "", "incidents.lookback_completed_fiscal_years"),
        ("floor_jpy: \"2000000000\"\n", "", "floor_jpy"),
        ("covered_loss_types: [hack, insider_fraud, unauthorised_outflow]", "covered_loss_types: []", "incidents.covered_loss_types"),
        ("covered_loss_types: [hack, insider_fraud, unauthorised_outflow]", "covered_loss_types: [hack, Fire]", "incidents.covered_loss_types[1]"),
        ("covered_loss_types: [hack, insider_fraud, unauthorised_outflow]", "covered_loss_types: [\(String(repeating: "a", count: 33))]", "incidents.covered_loss_types[0]"),
        ("covered_loss_types: [hack, insider_fraud, unauthorised_outflow]", "covered_loss_types: [\((0...16).map { "t\($0)" }.joined(separator: ", "))]", "incidents.covered_loss_types"),
    ])
    func invalidRuleSets(find: String, replace: String, field: String) throws {
        let error = #expect(throws: KinkoError.self) { try rules { $0 = $0.replacingOccurrences(of: find, with: replace) } }
        #expect(error?.field == field)
    }

    // Goal: below the floor the floor applies; above the cap the cap; exactly at either, itself.
    @Test func floorAndCapAtTheirLimits() throws {
        let rules = try rules()
        #expect(try Requirement.compute(rules, inputs()).gross == Amount(units: 2_000_000_000))
        // hot rate 2%: ¥100bn hot → ¥2bn exactly at the floor; ¥2,000bn → ¥40bn at the cap; one yen more → still the cap.
        #expect(try Requirement.compute(rules, inputs(hot: 100_000_000_000)).gross == Amount(units: 2_000_000_000))
        #expect(try Requirement.compute(rules, inputs(hot: 100_000_000_050)).gross == Amount(units: 2_000_000_001))
        #expect(try Requirement.compute(rules, inputs(hot: 2_000_000_000_000)).gross == Amount(units: 40_000_000_000))
        #expect(try Requirement.compute(rules, inputs(hot: 2_000_000_000_050)).gross == Amount(units: 40_000_000_000))
    }

    // Goal: every line shows its inputs; volume averages over the window; losses count only
    // within the lookback fiscal years.
    @Test func linesAndInputs() throws {
        let rules = try rules()
        let old = PastLoss(incident: 1, lostAt: 1_680_000_000_000_000_000, amountJPY: Amount(units: 9_000_000_000))  // FY2022
        let recent = PastLoss(incident: 2, lostAt: 1_780_000_000_000_000_000, amountJPY: Amount(units: 1_000_000_000))  // FY2026
        let requirement = try Requirement.compute(rules, inputs(volume: 10_000_000_000, cold: 500_000_000_000, hot: 10_000_000_000, losses: [old, recent]))
        let lines = Dictionary(uniqueKeysWithValues: requirement.lines.map { ($0.name, $0.amount.units) })
        #expect(lines["volume.spot"] == 5_000_000)  // ¥10bn a day × 0.0005
        #expect(lines["custody.cold"] == 1_000_000_000 && lines["custody.hot"] == 200_000_000)
        #expect(lines["incidents"] == 1_000_000_000)
        #expect(requirement.gross == Amount(units: 2_205_000_000) && requirement.required == requirement.gross)
        #expect(requirement.lines.first { $0.name == "incidents" }?.inputs
            == "¥1000000000 lost in 1 incident since fiscal year 2023 (this one and the 3 completed before it) × 1")
    }

    // Goal (issue 21): the lookback is the current fiscal year to date and the completed fiscal
    // years (April–March, JST) before it: a loss at the first instant of FY2023 counts under the
    // default, one a nanosecond earlier does not; 0 completed years counts this year alone and
    // 10 reaches FY2016; a rule set written with the older key keeps its meaning (this year and
    // N − 1 before it).
    @Test func theLookbackIsCompletedFiscalYears() throws {
        let startOfFY2023: TimestampNanoseconds = 1_680_274_800_000_000_000  // 2023-04-01 00:00 JST
        let first = PastLoss(incident: 1, lostAt: startOfFY2023, amountJPY: Amount(units: 7))
        let before = PastLoss(incident: 2, lostAt: startOfFY2023 - 1, amountJPY: Amount(units: 1_000))
        let thisYear = PastLoss(incident: 3, lostAt: Self.now - 1, amountJPY: Amount(units: 30))
        func counted(_ edit: (inout String) -> Void) throws -> UInt128 {
            let lines = try Requirement.compute(try rules(edit), inputs(losses: [first, before, thisYear])).lines
            return lines.first { $0.name == "incidents" }?.amount.units ?? 0
        }
        #expect(try counted { _ in } == 37)
        #expect(try counted { $0 = $0.replacingOccurrences(of: "lookback_completed_fiscal_years: 3", with: "lookback_completed_fiscal_years: 0") } == 30)
        #expect(try counted { $0 = $0.replacingOccurrences(of: "lookback_completed_fiscal_years: 3", with: "lookback_completed_fiscal_years: 10") } == 1_037)
        let older = try rules { $0 = $0.replacingOccurrences(of: "lookback_completed_fiscal_years: 3", with: "lookback_fiscal_years: 3") }
        #expect(older.lookbackCompletedFiscalYears == 2)
        #expect(try counted { $0 = $0.replacingOccurrences(of: "lookback_completed_fiscal_years: 3", with: "lookback_fiscal_years: 4") } == 37)
    }

    // Goal: only policies in force covering an insured loss type count, up to their remaining
    // limit less the deductible, and at most the offset share.
    @Test func insuranceOffset() throws {
        let rules = try rules()
        let inForce = InsurancePolicy(id: 1, insurer: "Tokio", coverage: ["hack"], limit: Amount(units: 800_000_000), deductible: Amount(units: 100_000_000),
                                      starts: "2026-04-01", ends: "2027-03-31", claimed: Amount(units: 200_000_000))
        let expired = InsurancePolicy(id: 2, insurer: "Sompo", coverage: ["hack"], limit: Amount(units: 5_000_000_000), deductible: .zero,
                                      starts: "2025-04-01", ends: "2026-03-31")
        let otherCover = InsurancePolicy(id: 3, insurer: "MS&AD", coverage: ["fire"], limit: Amount(units: 5_000_000_000), deductible: .zero,
                                         starts: "2026-04-01", ends: "2027-03-31")
        let excluded = InsurancePolicy(id: 4, insurer: "AIG", coverage: ["hack"], limit: Amount(units: 5_000_000_000), deductible: .zero,
                                       exclusions: ["hack"], starts: "2026-04-01", ends: "2027-03-31")
        let requirement = try Requirement.compute(rules, inputs(policies: [inForce, expired, otherCover, excluded]))
        #expect(requirement.insuranceOffset == Amount(units: 500_000_000))
        #expect(requirement.required == Amount(units: 1_500_000_000))
        let big = InsurancePolicy(id: 5, insurer: "Tokio", coverage: ["insider_fraud"], limit: Amount(units: 3_000_000_000), deductible: .zero,
                                  starts: "2026-11-22", ends: "2026-11-22")
        #expect(try Requirement.compute(rules, inputs(policies: [big])).insuranceOffset == Amount(units: 1_000_000_000))  // capped at 50%
        var lapsed = big
        lapsed.ends = "2026-11-21"
        #expect(try Requirement.compute(rules, inputs(policies: [lapsed])).insuranceOffset == .zero)
    }

    @Test func ratesRoundUpAndDown() throws {
        let rate = try Rate(decimal: "0.0003", field: "r")
        #expect(try rate.applied(to: Amount(units: 10_001)) == Amount(units: 4))
        #expect(try rate.appliedDown(to: Amount(units: 10_001)) == Amount(units: 3))
        #expect(throws: KinkoError.self) { try Rate(decimal: "0.0000000000000000001", field: "r") }
    }

    @Test func japaneseFiscalYears() {
        #expect(JST.fiscalYear(of: 1_774_969_200_000_000_000) == 2026)  // 2026-04-01 00:00 JST
        #expect(JST.fiscalYear(of: 1_774_969_199_000_000_000) == 2025)  // one second earlier
    }
}

@Suite("Compensation plans")
struct CompensationTests {
    static let xem = try! Asset(code: "XEM", scale: 6, kind: .crypto, ledger: 9)
    static let jpy = Asset.standard[0]

    static func incident(lost: UInt128) -> Incident {
        Incident(id: 7, lossType: "hack", losses: [IncidentLoss(wallet: "xem-hot", asset: "XEM", amount: Amount(units: lost))],
                 lostAt: 1, detectedAt: 2, declaredAt: 3, declaredBy: PrincipalID(1), lossJPY: Amount(units: 1))
    }

    // Goal: property — shares add up to the loss and payments to the JPY total, to the unit,
    // whatever the holdings; each share is within one unit of pro rata.
    @Test(arguments: [1, 2, 3, 4, 5])
    func paymentsAddUpExactly(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let count = Int(rng.next() % 5_000) + 1
        let entitlements = (0..<count).map { Entitlement(account: AccountID(UInt128($0 + 1)), owner: UInt128($0 + 1), amount: Amount(units: UInt128(rng.next() % 1_000_000_000))) }
        let held = entitlements.reduce(UInt128(0)) { $0 + $1.amount.units }
        let lost = UInt128(rng.next()) % (held + 1) + 1
        let plan = try CompensationPlan.make(
            incident: Self.incident(lost: lost), asset: Self.xem, paymentAsset: Self.jpy, mode: .jpy(try JPYPrice(decimal: "88.549")),
            entitlements: entitlements, available: [CompensationSource(kind: .ownFunds, amount: Amount(units: .max / 2))])
        #expect(plan.shares.reduce(UInt128(0)) { $0 + $1.units } == min(lost, held))
        #expect(plan.payments.reduce(UInt128(0)) { $0 + $1.units } == plan.totalPayment.units)
        #expect(plan.totalPayment == (try Amount(units: min(lost, held)).jpyValue(of: Self.xem, at: try JPYPrice(decimal: "88.549"), rounding: .up)))
        let totalHeld = plan.entitlements.reduce(UInt128(0)) { $0 + $1.amount.units }
        for (entitlement, share) in zip(plan.entitlements, plan.shares) {
            let exact = plan.totalLoss.units.multipliedFullWidth(by: entitlement.amount.units)
            let floor = totalHeld.dividingFullWidth((exact.high, exact.low)).quotient
            #expect(share.units == floor || share.units == floor + 1)
        }
    }

    // Goal: sources are drawn in order, only as far as needed; what is missing is the shortfall.
    @Test func sourcesInOrderWithShortfall() throws {
        let entitlements = [Entitlement(account: AccountID(1), owner: 1, amount: Amount(units: 3_000_000)),
                            Entitlement(account: AccountID(2), owner: 2, amount: Amount(units: 1_000_000))]
        let available = [
            CompensationSource(kind: .reserveFund, amount: Amount(units: 100)),
            CompensationSource(kind: .insurance, amount: Amount(units: 150), policy: 4),
            CompensationSource(kind: .ownFunds, amount: Amount(units: 50)),
        ]
        // 4 XEM at ¥88.549 = ¥354.196 → ¥355 (rounded up for the customers).
        let plan = try CompensationPlan.make(incident: Self.incident(lost: 4_000_000), asset: Self.xem, paymentAsset: Self.jpy,
                                             mode: .jpy(try JPYPrice(decimal: "88.549")), entitlements: entitlements, available: available)
        #expect(plan.payments == [Amount(units: 266), Amount(units: 89)])  // 266.25 and 88.75: the unit left over goes to .75
        #expect(plan.sources.map(\.amount.units) == [100, 150, 50] && plan.shortfall == Amount(units: 55))
        let inKind = try CompensationPlan.make(incident: Self.incident(lost: 4_000_001), asset: Self.xem, paymentAsset: Self.xem, mode: .inKind,
                                               entitlements: entitlements, available: [CompensationSource(kind: .ownFunds, amount: Amount(units: 10_000_000))])
        #expect(inKind.shares == [Amount(units: 3_000_000), Amount(units: 1_000_000)] && inKind.totalLoss == Amount(units: 4_000_000))
        #expect(inKind.sources == [CompensationSource(kind: .ownFunds, amount: Amount(units: 4_000_000))] && inKind.shortfall == .zero)
    }

    // Goal: short of coins, the administrator's schedule is pro rata and adds up to what exists.
    @Test func insolvencyDistribution() throws {
        let claims = [Entitlement(account: AccountID(1), owner: 1, amount: Amount(units: 70)), Entitlement(account: AccountID(2), owner: 2, amount: Amount(units: 30))]
        let short = try DistributionSchedule.make(claims: [(Self.xem, claims, Amount(units: 40), Amount(units: 9))])
        #expect(short.lines.map(\.distribution.units) == [34, 15])
        #expect(short.totals.first?.distributed == Amount(units: 49) && short.totals.first?.isShort == true)
        let full = try DistributionSchedule.make(claims: [(Self.xem, claims, Amount(units: 95), Amount(units: 5))])
        #expect(full.lines.map(\.distribution.units) == [70, 30] && full.totals.first?.isShort == false)
    }
}

@Suite("Packed entitlement rows")
struct PackedRowsTests {
    // Goal: any rows of 128-bit fields come back exactly, to the last bit, in order.
    @Test(arguments: [1, 3, 5]) func roundTrip(fields: Int) throws {
        var rng = SplitMix64(seed: UInt64(fields))
        for count in [0, 1, 2, 97] {
            let rows = (0..<count).map { _ in (0..<fields).map { _ in UInt128(rng.next()) << 64 | UInt128(rng.next()) } }
            let bytes = PackedRows.pack(rows)
            #expect(bytes.count == count * fields * 16)
            #expect(try PackedRows.unpack(bytes, fields: fields) == (count == 0 ? [] : rows))
        }
        #expect(try PackedRows.unpack(PackedRows.pack([[UInt128.max, 0, 1]]), fields: 3) == [[UInt128.max, 0, 1]])
    }

    // Goal: a value that is not whole rows is refused as corrupted, not read short.
    @Test func malformedLengthIsRefused() throws {
        let refused = #expect(throws: KinkoError.self) { try PackedRows.unpack([UInt8](repeating: 0, count: 47), fields: 3) }
        #expect(refused?.code == .storageCorrupted)
        #expect(throws: KinkoError.self) { try PackedRows.unpack([UInt8](repeating: 0, count: 16), fields: 0) }
        #expect(try PackedRows.unpack([UInt8](repeating: 0, count: 48), fields: 3) == [[0, 0, 0]])
    }
}

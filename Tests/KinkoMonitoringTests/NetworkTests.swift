import Foundation
import KinkoCore
import KinkoMonitoring
import Testing

/// A small AMLSim-like world, seeded: ordinary accounts paying a few counterparties of their own
/// on a period (with jitter), and planted instances of every typology among them, each on its own
/// members, at random times. What the metamorphic tests transform.
func syntheticWorld(seed: UInt64, accounts: UInt64 = 600, days: UInt64 = 240, perTypology: Int = 4) -> AMLSimData {
    var rng = SplitMix64(seed: seed)
    func below(_ n: UInt64) -> UInt64 { rng.next() % n }
    let day = Stream.day
    var transfers: [AMLSimData.Transfer] = []
    var id: UInt64 = 0
    func add(_ from: UInt64, _ to: UInt64, _ time: TimestampNanoseconds, _ alert: Int) {
        id += 1
        transfers.append(.init(id: id, from: from, to: to, cents: 10_000 + below(200_000), time: time, alert: alert))
    }
    for account in 0..<accounts {
        let period = 4 + below(8)
        for _ in 0..<(2 + below(3)) {
            var counterparty = below(accounts)
            if counterparty == account { counterparty = (counterparty + 1) % accounts }
            var time = Stream.start + below(period) * day
            while time < Stream.start + days * day {
                add(account, counterparty, time, -1)
                time += (period + below(2)) * day
            }
        }
    }
    // Ordinary one-off payments too: a third of the accounts pay one to four strangers once.
    for account in 0..<accounts where below(3) == 0 {
        for _ in 0..<(1 + below(4)) { add(account, below(accounts), Stream.start + below(days) * day, -1) }
    }
    var instances: [Int: (typology: String, members: Set<UInt64>)] = [:]
    var used: Set<UInt64> = []
    func fresh(_ count: Int) -> [UInt64] {
        var picked: [UInt64] = []
        while picked.count < count {
            let candidate = below(accounts)
            if used.insert(candidate).inserted { picked.append(candidate) }
        }
        return picked
    }
    for typology in MonitoringRules.typologies {
        for _ in 0..<perTypology {
            let alert = instances.count
            let earliest = min(40, days / 3)
            let start = Stream.start + (earliest + below(max(1, days - earliest - 20))) * day
            let size = 5 + Int(below(4))
            let members = fresh(size)
            func at(_ step: UInt64) -> TimestampNanoseconds { start + step * day }
            switch typology {
            case "fan_in": for (n, source) in members.dropFirst().enumerated() { add(source, members[0], at(UInt64(n) * below(4)), alert) }
            case "fan_out": for (n, target) in members.dropFirst().enumerated() { add(members[0], target, at(UInt64(n) * below(4)), alert) }
            case "cycle": for (n, (a, b)) in zip(members, members.dropFirst() + [members[0]]).enumerated() { add(a, b, at(UInt64(n) * (1 + below(3))), alert) }
            case "scatter_gather":
                for (n, middle) in members.dropFirst().dropLast().enumerated() {
                    add(members[0], middle, at(UInt64(n)), alert)
                    add(middle, members[size - 1], at(UInt64(n) + 3 + below(3)), alert)
                }
            default:  // gather_scatter: sources → hub → beneficiaries
                let half = (size - 1) / 2
                for (n, source) in members[1...half].enumerated() { add(source, members[0], at(UInt64(n)), alert) }
                for (n, target) in members[(half + 1)...].enumerated() { add(members[0], target, at(UInt64(half + n) + 2), alert) }
            }
            instances[alert] = (typology, Set(members))
        }
    }
    transfers.sort { ($0.time, $0.id) < ($1.time, $1.id) }
    return AMLSimData(transfers: transfers, instances: instances)
}

@Suite("Network detectors")
struct NetworkTests {
    let day = Stream.day

    func settings(_ edit: (inout String) -> Void = { _ in }) throws -> NetworkSettings {
        try #require(try defaultRules(edit).network)
    }

    /// A background of relationships that repeat every `period` days among accounts 1000…1099.
    func background(_ scan: NetworkScan, period: UInt64, from start: UInt64 = 0, until days: UInt64) -> [NetworkCandidate] {
        var found: [NetworkCandidate] = []
        var n = Int(start) * 1_000
        for step in stride(from: start, to: days, by: Int(period)) {
            for a in UInt64(1_000)..<1_100 {
                n += 1
                found += scan.observe(from: a, to: 1_000 + (a - 1_000 + 1) % 100, time: Stream.start + UInt64(step) * day + a, event: "b\(n)")
            }
        }
        return found
    }

    // Goal: the settle window is the multiplier × the median gap before relationships repeat,
    // learnt from the stream: 4 × 5 days here, and twice that when time runs half as fast.
    @Test(arguments: [(5 as UInt64, 20.0), (10, 40.0)])
    func settleWindowFollowsTheData(period: UInt64, expected: Double) throws {
        let scan = NetworkScan(settings: try settings())
        #expect(scan.settleDays == nil)
        _ = background(scan, period: period, until: period * 3)
        // The histogram's buckets are 2^(1/20) apart: within 3.5%.
        let settle = try #require(scan.settleDays)
        #expect(abs(settle - expected) / expected < 0.035, "settle window \(settle)")
        #expect(scan.windowDays == settle * 20)
    }

    // Goal: early in a stream only short gaps can have been seen, so nothing settles until the
    // stream has warmed up. On day 0, sixty pairs pay twice within minutes (the only repeats a
    // first day can show) and hub 1_200 pays three payees it pays again every 5 days. Judged by
    // the first day's median, the three would be one-off within the hour and a fan; they are
    // not, and the settle window, once trusted, is the weekly traffic's 4 × 5 days.
    @Test func nothingSettlesBeforeTheStreamWarmsUp() throws {
        let scan = NetworkScan(settings: try settings())
        var found: [NetworkCandidate] = []
        for pair in UInt64(0)..<60 {
            found += scan.observe(from: 5_000 + pair, to: 6_000 + pair, time: Stream.start + pair * 1_000_000_000, event: "q\(pair)")
            found += scan.observe(from: 5_000 + pair, to: 6_000 + pair, time: Stream.start + pair * 1_000_000_000 + 60_000_000_000, event: "r\(pair)")
        }
        #expect(try #require(scan.settleDays) < 0.02)
        for step in UInt64(0)..<20 {
            for payee in UInt64(0)..<3 {
                found += scan.observe(from: 1_200, to: 7_000 + payee, time: Stream.start + step * 5 * day + 3_600_000_000_000 + payee, event: "p\(step).\(payee)")
            }
        }
        found += background(scan, period: 5, until: 100)
        #expect(!found.contains { $0.hub == 1_200 || $0.members.contains(7_000) })
        #expect(scan.settleDays.map { abs($0 - 20) / 20 < 0.035 } == true)
    }

    // Goal: a busy hub that pays five customers once each is a fan-out once the legs have gone
    // the settle window without repeating, naming the hub first and the five; its relationships
    // that repeat are not legs, and nothing is found before the window has passed.
    @Test func oneOffLegsOfABusyHubAreAFan() throws {
        let scan = NetworkScan(settings: try settings())
        _ = background(scan, period: 5, until: 100)
        let start = Stream.start + 100 * day
        var found: [NetworkCandidate] = []
        for (n, target) in [2_001, 2_002, 2_003, 2_004, 2_005].enumerated() {
            found += scan.observe(from: 1_007, to: UInt64(target), time: start + UInt64(n) * day, event: "f\(n)")
        }
        #expect(found.isEmpty)
        found += background(scan, period: 5, from: 105, until: 200)
        let fan = try #require(found.last { $0.typology == "fan_out" })
        #expect(fan.hub == 1_007 && fan.members == [1_007, 2_001, 2_002, 2_003, 2_004, 2_005] && fan.events == ["f0", "f1", "f2", "f3", "f4"])
        #expect(fan.features.count == NetworkFeatures.names.count && fan.features.allSatisfy(\.isFinite))
        #expect(fan.features[NetworkFeatures.names.firstIndex(of: "log_counterparties") ?? 0] == log(5))
        #expect(found.allSatisfy { $0.hub != 1_000 && $0.hub != 1_001 })
    }

    // Goal: a payer that deals with its payees in turn is judged at its own pace. Hub 1_500 pays
    // 20 payees one every 5 days, each again 100 days later — far past the population's 20-day
    // settle window — and is never a fan; hub 1_501 pays 10 strangers the same way but never
    // again, and is a fan of all ten once twice its rotation (2 × 10 × 5 days) has passed.
    @Test func aPayerInTurnIsJudgedAtItsOwnPace() throws {
        let scan = NetworkScan(settings: try settings())
        var found = background(scan, period: 5, until: 100)
        for step in UInt64(0)..<40 {
            let time = Stream.start + (100 + 5 * step) * day
            found += scan.observe(from: 1_500, to: 3_000 + step % 20, time: time, event: "r\(step)")
            if step < 10 { found += scan.observe(from: 1_501, to: 4_000 + step, time: time + 1, event: "o\(step)") }
        }
        found += background(scan, period: 5, from: 300, until: 400)
        #expect(scan.settleDays.map { abs($0 - 20) / 20 < 0.035 } == true)
        #expect(!found.contains { $0.hub == 1_500 || $0.members.contains(3_000) })
        let fan = try #require(found.last { $0.hub == 1_501 })
        #expect(fan.typology == "fan_out" && fan.members == [1_501] + (4_000..<4_010).map { UInt64($0) } && fan.events == (0..<10).map { "o\($0)" })
        // Not before the hub's own pace allows: its first payee waits until day 200, not day 120.
        #expect(try #require(found.first { $0.hub == 1_501 }).time >= Stream.start + 200 * day)
    }

    // Goal: a ring of one-off transfers is a cycle and a source paying two intermediaries who
    // each pay one beneficiary a scatter-gather, both with the structure score; a round trip is neither.
    @Test func ringsAndScatterGathersOfOneOffTransfers() throws {
        let scan = NetworkScan(settings: try settings())
        _ = background(scan, period: 5, until: 100)
        let start = Stream.start + 100 * day
        var found: [NetworkCandidate] = []
        for (n, (a, b)) in [(3_001, 3_002), (3_002, 3_003), (3_003, 3_001), (4_001, 4_002), (4_001, 4_003), (4_002, 4_009), (4_003, 4_009), (5_001, 5_002), (5_002, 5_001)].enumerated() {
            found += scan.observe(from: UInt64(a), to: UInt64(b), time: start + UInt64(n) * day, event: "s\(n)")
        }
        found += background(scan, period: 5, from: 110, until: 200)
        let ring = try #require(found.first { $0.typology == "cycle" })
        #expect(Set(ring.members) == [3_001, 3_002, 3_003] && Set(ring.events) == ["s0", "s1", "s2"] && ring.score == 10)
        let sg = try #require(found.first { $0.typology == "scatter_gather" })
        #expect(sg.members == [4_001, 4_002, 4_003, 4_009] && Set(sg.events) == ["s3", "s4", "s5", "s6"] && sg.score == 10)
        #expect(!found.contains { $0.members.contains(5_001) && $0.typology == "cycle" })
    }

    // Goal: the budget allows budget × active accounts / 1,000 × months alerts; a later
    // candidate of an alerted hub updates that alert instead of taking a place.
    @Test func budgetCountsAlertsNotUpdates() {
        func candidate(_ hub: UInt64, _ members: [UInt64], _ score: Double) -> NetworkCandidate {
            NetworkCandidate(typology: "fan_in", hub: hub, members: [hub] + members, events: members.map { "e\($0)" }, time: 1, features: [1], score: score)
        }
        let candidates = [candidate(1, [10, 11], 5), candidate(1, [10, 11, 12], 4), candidate(2, [20, 21], 3), candidate(3, [30, 31], 2), candidate(4, [40, 41], 1)]
        // 1.5 alerts per 1,000 accounts per month, 1,000 accounts, 2 months: 3 alerts.
        let chosen = NetworkBudget.select(candidates, budget: 1.5, activeAccounts: 1_000, months: 2)
        #expect(chosen.map(\.hub) == [1, 2, 3] && chosen[0].members == [1, 10, 11, 12] && chosen[0].events == ["e10", "e11", "e12"])
        #expect(NetworkBudget.select(candidates, budget: 0.4, activeAccounts: 1_000, months: 2).isEmpty)
    }

    // Goal: the rule set's network section is checked field by field, at each limit and one past it.
    @Test(arguments: [
        ("alert_budget: 2.0", "alert_budget: 1000.0", nil),
        ("alert_budget: 2.0", "alert_budget: 1000.1", "network.alert_budget"),
        ("alert_budget: 2.0", "alert_budget: 0.1", nil),
        ("alert_budget: 2.0", "alert_budget: 0.09", "network.alert_budget"),
        ("settle_multiplier: 4.0", "settle_multiplier: 20.0", nil),
        ("settle_multiplier: 4.0", "settle_multiplier: 20.5", "network.settle_multiplier"),
        ("window_multiplier: 20.0", "window_multiplier: 1.5", "network.window_multiplier"),
        ("rotation_multiplier: 2.0", "rotation_multiplier: 20.0", nil),
        ("rotation_multiplier: 2.0", "rotation_multiplier: 20.5", "network.rotation_multiplier"),
        ("rotation_multiplier: 2.0", "rotation_multiplier: 1.0", nil),
        ("rotation_multiplier: 2.0", "rotation_multiplier: 0.9", "network.rotation_multiplier"),
        ("      inbound: 0.023383\n", "", "network.model.weights.inbound"),
        ("      inbound: 0.023383", "      inbound: 0.023383\n      shoe_size: 1", "network.model.weights"),
        ("    bias: 0.125539", "    bias: 1001", "network.model.bias"),
        ("    bias: 0.125539", "    bias: .nan", "network.model.bias"),
    ] as [(String, String, String?)])
    func networkSectionIsChecked(_ from: String, _ to: String, _ field: String?) throws {
        let yaml = MonitoringRules.defaultYAML.replacingOccurrences(of: from, with: to)
        #expect(yaml != MonitoringRules.defaultYAML)
        if let field {
            #expect { try MonitoringRules(yaml: yaml) } throws: { ($0 as? KinkoError)?.field == field }
        } else {
            #expect(try MonitoringRules(yaml: yaml).network != nil)
        }
    }

    // Goal: a rule set without a network section still reads (rule sets adopted before it), and
    // the section's YAML reads back to the same settings.
    @Test func networkSectionIsOptionalAndRoundTrips() throws {
        let defaults = try settings()
        let without = MonitoringRules.defaultYAML.replacingOccurrences(of: MonitoringRules.defaultNetworkYAML, with: "")
        #expect(try MonitoringRules(yaml: without).network == nil)
        #expect(try MonitoringRules(yaml: without + defaults.yaml).network == defaults)
    }

    // Goal: training is reproducible from its seed, and separates the planted fans of a world
    // it was given from ordinary ones better than chance.
    @Test func trainingIsReproducibleFromItsSeed() throws {
        let world = syntheticWorld(seed: 3)
        let defaults = try settings()
        let first = try NetworkTraining.train(world, settings: defaults, seed: 7, version: "t", trainedOn: "synthetic")
        let again = try NetworkTraining.train(world, settings: defaults, seed: 7, version: "t", trainedOn: "synthetic")
        #expect(first == again && first.weights.count == NetworkFeatures.names.count)
        let rows = NetworkTraining.rows(world, settings: defaults).rows
        let positive = rows.filter(\.positive).map { first.score($0.features) }, negative = rows.filter { !$0.positive }.map { first.score($0.features) }
        #expect(!positive.isEmpty && !negative.isEmpty)
        let positiveMean: Double = positive.reduce(0, +) / Double(positive.count)
        let negativeMean: Double = negative.reduce(0, +) / Double(negative.count)
        #expect(positiveMean > negativeMean)
        #expect {
            try NetworkModel.train(rows.filter { !$0.positive }, seed: 1, version: "t", trainedOn: "x")
        } throws: { ($0 as? KinkoError)?.field == "amlsim" }
    }

    // Goal: training can learn the ordinary side even where the warm-up hides every ordinary
    // fan (`kinko monitor train --cold-start`, the shipped model's recipe: amlsim-dev with the
    // warm-up has no ordinary fan left). A cold stream settles from its first gaps and raises
    // the ordinary fans of its first weeks too; the model trained on them is reproducible.
    @Test func aColdStartGivesTrainingTheOrdinaryFansTheWarmUpHides() throws {
        var world = syntheticWorld(seed: 3)
        // Its first hour: 60 pairs of new accounts that pay each other twice, minutes apart, so a
        // cold stream's first median gap is minutes and it settles the first days' weekly payers.
        var next = world.transfers.map(\.id).max()! + 1
        for pair in UInt64(0)..<60 {
            for minute in UInt64(0)...1 {
                world.transfers.append(.init(id: next, from: 10_000 + 2 * pair, to: 10_001 + 2 * pair, cents: 5_000, time: Stream.start + minute * 120_000_000_000, alert: -1))
                next += 1
            }
        }
        let defaults = try settings()
        let warm = NetworkTraining.rows(world, settings: defaults).rows, cold = NetworkTraining.rows(world, settings: defaults, warmUp: false).rows
        #expect([warm.count(where: { !$0.positive }), warm.count(where: \.positive), cold.count(where: { !$0.positive }), cold.count(where: \.positive)] == [214, 190, 322, 217] as [Int])
        let first = try NetworkTraining.train(world, settings: defaults, seed: 1, version: "t", trainedOn: "synthetic", shrinkage: 0.1, warmUp: false)
        let again = try NetworkTraining.train(world, settings: defaults, seed: 1, version: "t", trainedOn: "synthetic", shrinkage: 0.1, warmUp: false)
        #expect(first == again)
        #expect(first != (try NetworkTraining.train(world, settings: defaults, seed: 1, version: "t", trainedOn: "synthetic", shrinkage: 0.1)))
    }

    // Goal: transformations that do not change what is laundering move instance recall by at
    // most 0.05 (time ×0.5 and ×2, amounts ×0.2 and ×5, twice the background, new account ids,
    // 10% of ordinary transfers dropped).
    @Test func recallHoldsUnderMetamorphicTransforms() throws {
        let world = syntheticWorld(seed: 11)
        // A budget for this small, laundering-dense world (20 instances among 600 accounts).
        let defaults = try settings { $0 = $0.replacingOccurrences(of: "alert_budget: 2.0", with: "alert_budget: 10.0") }
        let base = NetworkReport.run(world, settings: defaults)
        #expect(base.atBudget.instanceRecall >= 0.9, "recall \(base.atBudget.instanceRecall)")
        for perturbation in AMLSimPerturbation.standard {
            let changed = NetworkReport.run(world.perturbed(perturbation, seed: 5), settings: defaults, timeScale: perturbation.timeScale)
            #expect(abs(changed.atBudget.instanceRecall - base.atBudget.instanceRecall) <= 0.05 + 1e-9,
                    "\(perturbation): \(changed.atBudget.instanceRecall) against \(base.atBudget.instanceRecall)")
        }
    }

    // Goal: the precision a perturbation should leave: the base's, except under more background,
    // whose copies of ordinary accounts raise as many false alerts again (0.858 → 0.7513 at ×2;
    // a perfect base stays perfect).
    @Test func backgroundLowersTheExpectedPrecisionByItsFalseAlerts() {
        #expect(AMLSimPerturbation.background(2).expectedPrecision(0.858) == 0.7513)
        #expect(AMLSimPerturbation.background(2).expectedPrecision(1) == 1)
        #expect(AMLSimPerturbation.background(3).expectedPrecision(0.5) == 0.25)
        #expect(AMLSimPerturbation.background(1).expectedPrecision(0.6) == 0.6)
        for other in [AMLSimPerturbation.time(0.5), .amount(5), .renumber, .drop(0.1)] { #expect(other.expectedPrecision(0.858) == 0.858) }
    }

    // Goal: perturbations do what they say: amounts scale, times stretch, renumbering keeps the
    // planted structure, dropping keeps every planted transfer, background adds accounts.
    @Test func perturbationsTransformAsNamed() throws {
        let world = syntheticWorld(seed: 2, accounts: 50, days: 60, perTypology: 1)
        let origin = try #require(world.transfers.map(\.time).min())
        let stretched = world.perturbed(.time(2))
        #expect(zip(world.transfers, stretched.transfers).allSatisfy { $1.time - origin == ($0.time - origin) * 2 })
        #expect(zip(world.transfers, world.perturbed(.amount(5)).transfers).allSatisfy { $1.cents == $0.cents * 5 })
        let renumbered = world.perturbed(.renumber, seed: 9)
        #expect(renumbered.transfers.map(\.alert) == world.transfers.map(\.alert) && renumbered.instances.mapValues(\.members.count) == world.instances.mapValues(\.members.count))
        let dropped = world.perturbed(.drop(0.1))
        #expect(dropped.transfers.count { $0.alert >= 0 } == world.transfers.count { $0.alert >= 0 } && dropped.transfers.count < world.transfers.count)
        let doubled = world.perturbed(.background(2))
        let ordinary = world.transfers.count { $0.alert < 0 }
        #expect(doubled.transfers.count == world.transfers.count + ordinary)
        #expect(Set(doubled.transfers.flatMap { [$0.from, $0.to] }).count > Set(world.transfers.flatMap { [$0.from, $0.to] }).count)
        for (text, expected) in [("time:0.5", AMLSimPerturbation.time(0.5)), ("renumber", .renumber), ("drop:0.1", .drop(0.1)), ("background:2", .background(2))] {
            #expect(try AMLSimPerturbation(parsing: text) == expected)
        }
        for bad in ["time", "time:0", "drop:0.95", "background:5", "shuffle", "renumber:2"] {
            #expect { try AMLSimPerturbation(parsing: bad) } throws: { ($0 as? KinkoError)?.field == "perturb" }
        }
    }
}

import Foundation
public import KinkoCore

/// What the network detectors raised over a stream, before any budget.
public struct NetworkRun: Sendable {
    public var candidates: [NetworkCandidate]
    public var activeAccounts: Int
    public var months: Double
    public var settleDays: Double
    public var windowDays: Double

    /// Runs a fresh scan over `transfers` (sorted by time here).
    public static func scan(_ transfers: [AMLSimData.Transfer], settings: NetworkSettings, warmUp: Bool = true) -> NetworkRun {
        let scan = NetworkScan(settings: settings, warmUp: warmUp)
        var candidates: [NetworkCandidate] = []
        for transfer in transfers.sorted(by: { ($0.time, $0.id) < ($1.time, $1.id) }) {
            candidates += scan.observe(from: transfer.from, to: transfer.to, time: transfer.time, event: String(transfer.id))
        }
        candidates += scan.finish()
        return NetworkRun(candidates: candidates, activeAccounts: scan.activeAccounts, months: scan.months(through: scan.latestTime),
                          settleDays: scan.settleDays ?? 0, windowDays: scan.windowDays ?? 0)
    }
}

/// How many alerts a budget allows, and which.
public enum NetworkBudget {
    public static let daysPerMonth = 30.436875

    /// The alerts a team working `budget` alerts per 1,000 active accounts per month would see:
    /// candidates by score (then time), down to the score at which the budget is spent. A
    /// candidate of a motif already alerted (the same hub, the same source and beneficiary, the
    /// same ring) updates that alert — its accounts and transfers join it — rather than taking a
    /// place of its own, and one that names nobody an alert did not already name is dropped.
    public static func select(_ candidates: [NetworkCandidate], budget: Double, activeAccounts: Int, months: Double) -> [NetworkCandidate] {
        let allowed = Int((budget * Double(activeAccounts) / 1_000 * months).rounded(.down))
        var chosen: [NetworkCandidate] = []
        var memberSets: [Set<UInt64>] = []  // each chosen alert's accounts
        var byKey: [String: Int] = [:]
        var named: [UInt64: [Int]] = [:]  // account → chosen alerts naming it
        for candidate in candidates.sorted(by: { ($0.score, $1.time, $1.members.count) > ($1.score, $0.time, $0.members.count) }) {
            guard chosen.count < allowed else { break }
            if let index = byKey[candidate.key] {
                for member in candidate.members where memberSets[index].insert(member).inserted {
                    chosen[index].members.append(member)
                    named[member, default: []].append(index)
                }
                let known = Set(chosen[index].events)
                chosen[index].events += candidate.events.filter { !known.contains($0) }
                chosen[index].time = min(chosen[index].time, candidate.time)
                continue
            }
            let members = Set(candidate.members)
            guard !(named[candidate.members[0]] ?? []).contains(where: { members.isSubset(of: memberSets[$0]) }) else { continue }
            for member in candidate.members { named[member, default: []].append(chosen.count) }
            byKey[candidate.key] = chosen.count
            chosen.append(candidate)
            memberSets.append(members)
        }
        return chosen
    }
}

extension NetworkCandidate {
    /// What makes two candidates the same motif growing: the hub; a scatter-gather's source and
    /// beneficiary; a ring's members.
    public var key: String {
        if let hub { return "hub:\(hub)" }
        if typology == "scatter_gather", let source = members.first, let beneficiary = members.last { return "sg:\(source):\(beneficiary)" }
        return "\(typology):" + members.sorted().map(String.init).joined(separator: ",")
    }
}

/// The network detectors against AMLSim's planted instances, at the rule set's budget and at
/// others (the precision–recall curve).
public struct NetworkReport: Sendable, Codable, Equatable {
    public struct Point: Sendable, Codable, Equatable {
        public var budget: Double
        public var alerts: Int
        public var alertsPerThousandPerMonth: Double
        public var threshold: Double?
        public var instanceRecall: Double
        public var accountPrecision: Double
        public var transactionPrecision: Double

        enum CodingKeys: String, CodingKey {
            case budget, alerts, alertsPerThousandPerMonth = "alerts_per_1000_accounts_per_month", threshold, instanceRecall = "instance_recall"
            case accountPrecision = "account_precision", transactionPrecision = "transaction_precision"
        }
    }

    public struct Typology: Sendable, Codable, Equatable {
        public var instances: Int
        public var instancesFound: Int
        public var instanceRecall: Double
        public var alerts: Int
        public var accountPrecision: Double

        enum CodingKeys: String, CodingKey {
            case instances, instancesFound = "instances_found", instanceRecall = "instance_recall", alerts, accountPrecision = "account_precision"
        }
    }

    public struct Delay: Sendable, Codable, Equatable {
        public var instances: Int
        public var medianDays: Double
        public var p90Days: Double
        public var maxDays: Double

        enum CodingKeys: String, CodingKey { case instances, medianDays = "median_days", p90Days = "p90_days", maxDays = "max_days" }
    }

    public var modelVersion: String
    public var settleDays: Double
    public var windowDays: Double
    public var activeAccounts: Int
    public var months: Double
    public var candidates: Int
    public var budget: Double
    public var atBudget: Point
    public var perTypology: [String: Typology]
    /// From an instance's first transfer to the first alert that finds it.
    public var timeToFirstAlert: Delay
    public var curve: [Point]
    /// The alerts at the budget, best first (at most `alertsListedMax`), each with its score and
    /// features, and the planted instance it found if any.
    public var alerts: [Alert]

    public struct Alert: Sendable, Codable, Equatable {
        public var typology: String
        public var hub: UInt64?
        public var members: Int
        public var planted: Int
        public var score: Double
        public var features: [String: Double]
        public var found: Int?
    }

    public static let alertsListedMax = 500

    enum CodingKeys: String, CodingKey {
        case modelVersion = "model_version", settleDays = "settle_days", windowDays = "window_days", activeAccounts = "active_accounts", months
        case candidates, budget, atBudget = "at_budget", perTypology = "per_typology", timeToFirstAlert = "time_to_first_alert", curve, alerts
    }

    public static let curveBudgets: [Double] = [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20]

    /// An instance counts as found when one alert names at least half of its member accounts.
    static func finds(_ alert: NetworkCandidate, _ members: Set<UInt64>) -> Bool {
        alert.members.reduce(0) { $0 + (members.contains($1) ? 1 : 0) } * 2 >= members.count
    }

    /// `timeScale`: how much the data's clock was stretched (a `time:F` perturbation); the
    /// budget is per month of the original clock, so the same history gets as many alerts.
    public static func run(_ data: AMLSimData, settings: NetworkSettings, timeScale: Double = 1) -> NetworkReport {
        var run = NetworkRun.scan(data.transfers, settings: settings)
        run.months /= timeScale
        let sarEvents = Set(data.transfers.filter { $0.alert >= 0 }.map { String($0.id) })
        let members = data.instances.values.reduce(into: Set<UInt64>()) { $0.formUnion($1.members) }
        var started: [Int: TimestampNanoseconds] = [:]
        for transfer in data.transfers where transfer.alert >= 0 { started[transfer.alert] = min(started[transfer.alert] ?? .max, transfer.time) }
        func point(_ budget: Double) -> (Point, [NetworkCandidate]) {
            let alerts = NetworkBudget.select(run.candidates, budget: budget, activeAccounts: run.activeAccounts, months: run.months)
            let found = data.instances.values.count { instance in alerts.contains { finds($0, instance.members) } }
            let accounts = Set(alerts.flatMap(\.members))
            let events = Set(alerts.flatMap(\.events))
            return (Point(budget: budget, alerts: alerts.count,
                          alertsPerThousandPerMonth: (Double(alerts.count) * 1_000 / Double(max(1, run.activeAccounts)) / run.months * 100).rounded() / 100,
                          threshold: alerts.last.map { NetworkModel.rounded($0.score) },
                          instanceRecall: AMLSimReport.ratio(found, data.instances.count), accountPrecision: AMLSimReport.ratio(accounts.count { members.contains($0) }, accounts.count),
                          transactionPrecision: AMLSimReport.ratio(events.count { sarEvents.contains($0) }, events.count)), alerts)
        }
        let (atBudget, alerts) = point(settings.alertBudget)
        var perTypology: [String: Typology] = [:]
        for typology in MonitoringRules.typologies {
            let instances = data.instances.filter { $0.value.typology == typology }
            let own = alerts.filter { $0.typology == typology }
            let accounts = Set(own.flatMap(\.members))
            let found = instances.values.count { instance in alerts.contains { finds($0, instance.members) } }
            perTypology[typology] = Typology(instances: instances.count, instancesFound: found, instanceRecall: AMLSimReport.ratio(found, instances.count),
                                             alerts: own.count, accountPrecision: AMLSimReport.ratio(accounts.count { members.contains($0) }, accounts.count))
        }
        var delays: [Double] = []
        for (id, instance) in data.instances {
            guard let first = alerts.filter({ finds($0, instance.members) }).map(\.time).min(), let start = started[id] else { continue }
            delays.append(Double(first >= start ? first - start : 0) / 86_400_000_000_000)
        }
        delays.sort()
        func quantile(_ q: Double) -> Double {
            guard !delays.isEmpty else { return 0 }
            let index = max(0, min(delays.count - 1, Int((q * Double(delays.count)).rounded(.up)) - 1))
            return (delays[index] * 10).rounded() / 10
        }
        return NetworkReport(
            modelVersion: settings.model.version, settleDays: (run.settleDays * 100).rounded() / 100, windowDays: (run.windowDays * 100).rounded() / 100,
            activeAccounts: run.activeAccounts, months: (run.months * 100).rounded() / 100, candidates: run.candidates.count, budget: settings.alertBudget,
            atBudget: atBudget, perTypology: perTypology,
            timeToFirstAlert: Delay(instances: delays.count, medianDays: quantile(0.5), p90Days: quantile(0.9), maxDays: quantile(1)),
            curve: (Self.curveBudgets + [settings.alertBudget]).sorted().reduce(into: [Double]()) { if $0.last != $1 { $0.append($1) } }.map { point($0).0 },
            alerts: alerts.prefix(Self.alertsListedMax).map { alert in
                Alert(typology: alert.typology, hub: alert.hub, members: alert.members.count, planted: alert.members.count { members.contains($0) },
                      score: NetworkModel.rounded(alert.score),
                      features: Dictionary(uniqueKeysWithValues: zip(NetworkFeatures.names, alert.features.map(NetworkModel.rounded))),
                      found: data.instances.first { finds(alert, $0.value.members) }?.key)
            })
    }

    public var text: String {
        func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
        var lines = [
            "network detectors — model \(modelVersion): settle window \(settleDays) days, motif window \(windowDays) days (derived from the data)",
            "budget \(budget) alerts per 1,000 active accounts per month (\(activeAccounts) accounts, \(months) months): \(atBudget.alerts) alerts, "
                + "instance recall \(percent(atBudget.instanceRecall)), account precision \(percent(atBudget.accountPrecision)), "
                + "transaction precision \(percent(atBudget.transactionPrecision))",
            "first alert after an instance's first transfer: median \(timeToFirstAlert.medianDays) days, p90 \(timeToFirstAlert.p90Days), max \(timeToFirstAlert.maxDays) (\(timeToFirstAlert.instances) instances)",
            "",
            "typology         instances  found  recall  alerts  account precision",
        ]
        for (name, t) in perTypology.sorted(by: { $0.key < $1.key }) {
            lines.append(name.padding(toLength: 17, withPad: " ", startingAt: 0) + String(t.instances).leftPadded(9) + String(t.instancesFound).leftPadded(7)
                + percent(t.instanceRecall).leftPadded(8) + String(t.alerts).leftPadded(8) + percent(t.accountPrecision).leftPadded(19))
        }
        lines.append("")
        lines.append("budget  alerts  per 1,000/month  recall  account precision  transaction precision")
        for point in curve {
            lines.append(String(point.budget).leftPadded(6) + String(point.alerts).leftPadded(8) + String(format: "%.2f", point.alertsPerThousandPerMonth).leftPadded(17)
                + percent(point.instanceRecall).leftPadded(8) + percent(point.accountPrecision).leftPadded(19) + percent(point.transactionPrecision).leftPadded(23))
        }
        return lines.joined(separator: "\n")
    }
}

/// Transformations of a data set that must not change what is laundering (metamorphic tests):
/// `kinko monitor backtest --perturb time:0.5,time:2,amount:0.2,amount:5,background:2,renumber,drop:0.1`.
public enum AMLSimPerturbation: Sendable, Equatable, CustomStringConvertible {
    /// Stretch or compress time around the first transfer.
    case time(Double)
    /// Scale every amount.
    case amount(Double)
    /// Add unrelated accounts whose traffic copies the ordinary traffic, shifted in time, until
    /// there is `factor` times as much.
    case background(Double)
    /// Give every account a new id (a seeded permutation).
    case renumber
    /// Drop a share of the ordinary transfers (seeded).
    case drop(Double)

    public static let factorRange = 0.01...100.0

    /// How much the perturbation stretches the clock.
    public var timeScale: Double {
        if case .time(let factor) = self { return factor }
        return 1
    }
    public static let backgroundRange = 1.0...4.0

    /// The account precision this perturbation should leave, from the precision `base` on the
    /// data as it is. Only the background changes it: its copies of ordinary accounts should
    /// raise the same false alerts as the originals, no more, so with planted accounts T and
    /// falsely alerted ones F, precision T / (T + F) = p becomes T / (T + factor × F) =
    /// p / (p + factor × (1 − p)). A detector that held precision flat under twice the
    /// background would be alerting less on ordinary accounts the more of them there are.
    public func expectedPrecision(_ base: Double) -> Double {
        guard case .background(let factor) = self, base > 0 else { return base }
        return AMLSimReport.fourPlaces(base / (base + factor * (1 - base)))
    }
    public static let standard: [AMLSimPerturbation] = [.time(0.5), .time(2), .amount(0.2), .amount(5), .background(2), .renumber, .drop(0.1)]

    public var description: String {
        switch self {
        case .time(let f): "time:\(f)"
        case .amount(let f): "amount:\(f)"
        case .background(let f): "background:\(f)"
        case .renumber: "renumber"
        case .drop(let share): "drop:\(share)"
        }
    }

    public init(parsing text: String) throws(KinkoError) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let value = parts.count > 1 ? Double(parts[1]) : nil
        func need(_ range: ClosedRange<Double>) throws(KinkoError) -> Double {
            guard let value, range.contains(value) else {
                throw KinkoError(.invalidInput, "\(parts[0]) takes a number \(range.lowerBound)–\(range.upperBound), as \(parts[0]):2; got \"\(text.prefix(40))\"", field: "perturb")
            }
            return value
        }
        switch parts.first ?? "" {
        case "time": self = .time(try need(Self.factorRange))
        case "amount": self = .amount(try need(Self.factorRange))
        case "background": self = .background(try need(Self.backgroundRange))
        case "renumber" where parts.count == 1: self = .renumber
        case "drop": self = .drop(try need(0.0...0.9))
        default:
            throw KinkoError(.invalidInput, "unknown perturbation \"\(text.prefix(40))\"; one of time:F, amount:F, background:F, renumber, drop:SHARE", field: "perturb")
        }
    }
}

extension AMLSimData {
    /// The same data transformed; `seed` makes the random parts reproducible.
    public func perturbed(_ perturbation: AMLSimPerturbation, seed: UInt64 = 1) -> AMLSimData {
        var copy = self
        var rng = SplitMix64(seed: seed)
        switch perturbation {
        case .time(let factor):
            let origin = transfers.map(\.time).min() ?? 0
            for index in copy.transfers.indices {
                copy.transfers[index].time = origin + TimestampNanoseconds((Double(copy.transfers[index].time - origin) * factor).rounded())
            }
        case .amount(let factor):
            for index in copy.transfers.indices { copy.transfers[index].cents = max(1, UInt64((Double(copy.transfers[index].cents) * factor).rounded())) }
        case .background(let factor):
            let ordinary = transfers.filter { $0.alert < 0 }
            guard let first = transfers.map(\.time).min(), let last = transfers.map(\.time).max(), last > first else { return copy }
            let offset = (transfers.flatMap { [$0.from, $0.to] }.max() ?? 0) + 1
            var nextID = (transfers.map(\.id).max() ?? 0) + 1
            let copies = Int((factor - 1).rounded(.up))
            let span = last - first + 1
            for round in 0..<copies {
                // A copy among fresh accounts, shifted by up to a tenth of the span and wrapped round.
                let shift = rng.next() % max(1, span / 10)
                let share = min(1, factor - 1 - Double(round))
                for transfer in ordinary where Double(rng.next() % 1_000_000) / 1_000_000 < share {
                    copy.transfers.append(Transfer(id: nextID, from: transfer.from + offset * UInt64(round + 1), to: transfer.to + offset * UInt64(round + 1),
                                                   cents: transfer.cents, time: first + (transfer.time - first + shift) % span, alert: -1))
                    nextID += 1
                }
            }
            copy.transfers.sort { ($0.time, $0.id) < ($1.time, $1.id) }
        case .renumber:
            let ids = Set(transfers.flatMap { [$0.from, $0.to] }).union(instances.values.flatMap(\.members)).union(profiles.map(\.customer)).sorted()
            var shuffled = ids
            for index in shuffled.indices.dropLast() { shuffled.swapAt(index, index + Int(rng.next() % UInt64(shuffled.count - index))) }
            let map = Dictionary(uniqueKeysWithValues: zip(ids, shuffled))
            for index in copy.transfers.indices {
                copy.transfers[index].from = map[copy.transfers[index].from] ?? copy.transfers[index].from
                copy.transfers[index].to = map[copy.transfers[index].to] ?? copy.transfers[index].to
            }
            for index in copy.profiles.indices { copy.profiles[index].customer = map[copy.profiles[index].customer] ?? copy.profiles[index].customer }
            copy.instances = copy.instances.mapValues { ($0.typology, Set($0.members.map { map[$0] ?? $0 })) }
        case .drop(let share):
            copy.transfers = transfers.filter { $0.alert >= 0 || Double(rng.next() % 1_000_000) / 1_000_000 >= share }
        }
        return copy
    }
}

extension NetworkReport {
    /// The network detectors rerun on each perturbed copy of `data`, against `base` (the run on
    /// `data` as it is); a time perturbation keeps the budget per month of the original clock.
    public static func perturbations(_ list: [AMLSimPerturbation], of data: AMLSimData, base: NetworkReport, settings: NetworkSettings,
                                     seed: UInt64) -> [AMLSimReport.Perturbation] {
        list.map { perturbation in
            let changed = run(data.perturbed(perturbation, seed: seed), settings: settings, timeScale: perturbation.timeScale).atBudget
            return AMLSimReport.Perturbation(name: perturbation.description, instanceRecall: changed.instanceRecall,
                                             change: AMLSimReport.fourPlaces(changed.instanceRecall - base.atBudget.instanceRecall),
                                             accountPrecision: changed.accountPrecision,
                                             expectedAccountPrecision: perturbation.expectedPrecision(base.atBudget.accountPrecision), alerts: changed.alerts)
        }
    }
}

/// Training the fan model on labelled data.
public enum NetworkTraining {
    /// The fans the detectors find in `data`, each labelled by whether at least half of the
    /// accounts it names are members of a planted instance.
    /// `warmUp: false` takes the candidates of a cold stream (settling from its first gaps), which
    /// include ordinary fans the warm-up hides.
    public static func rows(_ data: AMLSimData, settings: NetworkSettings, warmUp: Bool = true) -> (rows: [(features: [Double], positive: Bool)], run: NetworkRun) {
        let run = NetworkRun.scan(data.transfers, settings: settings, warmUp: warmUp)
        let members = data.instances.values.reduce(into: Set<UInt64>()) { $0.formUnion($1.members) }
        let rows = run.candidates.filter { !$0.features.isEmpty }.map { candidate in
            (candidate.features, candidate.members.count { members.contains($0) } * 2 >= candidate.members.count)
        }
        return (rows, run)
    }

    /// A model trained on `data` from `seed`, its recorded threshold (for reference) the score at the settings'
    /// budget on the same data.
    public static func train(_ data: AMLSimData, settings: NetworkSettings, seed: UInt64, version: String, trainedOn: String,
                             using features: Set<String> = Set(NetworkFeatures.names), negativesPerPositive: Int = 8, shrinkage: Double = 0.01,
                             warmUp: Bool = true) throws(KinkoError) -> NetworkModel {
        let (rows, run) = Self.rows(data, settings: settings, warmUp: warmUp)
        var model = try NetworkModel.train(rows, seed: seed, version: version, trainedOn: trainedOn, using: features, negativesPerPositive: negativesPerPositive,
                                           shrinkage: shrinkage)
        let candidates = run.candidates.map { candidate in
            var copy = candidate
            if !copy.features.isEmpty { copy.score = model.score(copy.features) }
            return copy
        }
        let chosen = NetworkBudget.select(candidates, budget: settings.alertBudget, activeAccounts: run.activeAccounts, months: run.months)
        model.threshold = NetworkModel.rounded(chosen.filter { !$0.features.isEmpty }.map(\.score).min() ?? 0)
        return model
    }
}

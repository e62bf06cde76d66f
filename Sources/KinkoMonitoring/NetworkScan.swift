import Foundation
public import KinkoCore

/// The adaptive network detectors: laundering typologies found in the graph of one-off
/// relationships, judged against each account's own history and the population's, scored by an
/// explainable model and thresholded by an alert budget.
///
/// Nothing here is a constant fitted to one data set:
/// - **One-off relationships.** A transfer between two customers who never dealt before opens a
///   relationship. It becomes *one-off* when it has gone `settleMultiplier` × the population's
///   median first-repeat gap without a second transfer (ordinary relationships — salaries, rent,
///   a regular counterparty — repeat). The median is learnt from the stream itself, so
///   stretching time stretches the settle window with it. A relationship whose parties deal
///   with many counterparties in turn waits longer: `rotationMultiplier` × the time either takes
///   to come back to a counterparty (its counterparties × its mean gap, that way), re-estimated
///   when that time comes and at most one motif window — the account's own pace, not the
///   population's.
/// - **Warm-up.** Early in a stream only gaps shorter than the stream can have been seen, so
///   nothing settles until the share of relationships that repeated has levelled off and the
///   stream spans `settleMultiplier` × the median gap (`warmedUp(at:)`).
/// - **Motifs.** When a relationship becomes one-off, Kinko looks at both parties: a hub with two
///   or more one-off counterparties in one direction (a fan, or a gather-scatter when the other
///   direction has them too), a ring of one-off transfers (a cycle), a source paying several
///   intermediaries who each pay one beneficiary (scatter-gather). Motifs look back
///   `windowMultiplier` × the settle window from the relationship's opening (from at most half
///   a window after it, however long it waited).
/// - **Scores.** A fan is scored by a logistic model over features relative to the hub's own
///   history (its cadence, its earlier novelty, how many of its relationships repeat) and to its
///   counterparties; every feature is a ratio or a share, so amounts and the time unit do not
///   enter. Rings and scatter-gathers of one-off transfers are rare in ordinary traffic and carry
///   a fixed `structureScore`.
/// - **Budget.** Alerts are ranked by score; the threshold is the score at which the alerts per
///   1,000 active accounts per month equal the budget.
public struct NetworkSettings: Sendable, Equatable {
    public var settleMultiplier: Double
    /// A relationship also waits this many times its parties' own rotation (the time each takes
    /// to come back to a counterparty in turn) before it is one-off.
    public var rotationMultiplier: Double
    public var windowMultiplier: Double
    /// Alerts per 1,000 active accounts per month.
    public var alertBudget: Double
    /// The logit given to a ring or a scatter-gather of one-off transfers.
    public var structureScore: Double
    public var model: NetworkModel

    public static let settleMultiplierRange = 1.0...20.0
    public static let rotationMultiplierRange = 1.0...20.0
    /// The rotation multiplier of a rule set written before it existed: the shipped value.
    public static let rotationMultiplierDefault = 2.0
    public static let windowMultiplierRange = 2.0...100.0
    public static let alertBudgetRange = 0.1...1_000.0
    /// First-repeat gaps the stream must show before the settle window is derived from it (no
    /// relationship settles before).
    public static let gapsBeforeSettling = 50
    /// The most the share of relationships that repeated may grow over the last half of the
    /// stream for the stream to count as warmed up (nothing settles before).
    public static let warmUpGrowthMax = 0.1
    /// The most nodes one ring search visits (rings are at most `MonitoringRules.cycleLengthMax`).
    public static let cycleSearchNodesMax = 2_000

    public init(settleMultiplier: Double, rotationMultiplier: Double = Self.rotationMultiplierDefault, windowMultiplier: Double, alertBudget: Double,
                structureScore: Double, model: NetworkModel) throws(KinkoError) {
        guard Self.settleMultiplierRange.contains(settleMultiplier) else {
            throw KinkoError(.invalidInput, "must be \(Self.settleMultiplierRange.lowerBound)–\(Self.settleMultiplierRange.upperBound)", field: "network.settle_multiplier")
        }
        guard Self.rotationMultiplierRange.contains(rotationMultiplier) else {
            throw KinkoError(.invalidInput, "must be \(Self.rotationMultiplierRange.lowerBound)–\(Self.rotationMultiplierRange.upperBound)",
                             field: "network.rotation_multiplier")
        }
        guard Self.windowMultiplierRange.contains(windowMultiplier) else {
            throw KinkoError(.invalidInput, "must be \(Self.windowMultiplierRange.lowerBound)–\(Self.windowMultiplierRange.upperBound)", field: "network.window_multiplier")
        }
        guard Self.alertBudgetRange.contains(alertBudget) else {
            throw KinkoError(.invalidInput, "alerts per 1,000 active accounts per month must be \(Self.alertBudgetRange.lowerBound)–\(Self.alertBudgetRange.upperBound)",
                             field: "network.alert_budget")
        }
        guard structureScore.isFinite, abs(structureScore) <= NetworkModel.weightMax else {
            throw KinkoError(.invalidInput, "must be a number within ±\(NetworkModel.weightMax)", field: "network.structure_score")
        }
        self.settleMultiplier = settleMultiplier
        self.rotationMultiplier = rotationMultiplier
        self.windowMultiplier = windowMultiplier
        self.alertBudget = alertBudget
        self.structureScore = structureScore
        self.model = model
    }
}

extension NetworkSettings {
    /// What the section's settings mean, as the comment every written section carries.
    public static let yamlComment = """
          # A new relationship between customers becomes one-off after settle_multiplier x the
          # median gap before relationships repeat (learnt from the stream), or longer when its
          # parties deal with their counterparties in turn: rotation_multiplier x the time each
          # takes to come back to a counterparty (at most one motif window); motifs look back
          # window_multiplier x the settle window. Rings and scatter-gathers of one-off transfers score
          # structure_score; fans are scored by the model below (kinko monitor train).
          # alert_budget: alerts per 1,000 active accounts per month.
        """

    /// The `network:` section of a rule set's YAML.
    public var yaml: String {
        let weights = zip(NetworkFeatures.names, model.weights).map { "      \($0): \($1)" }.joined(separator: "\n")
        return """
            network:
            \(Self.yamlComment)
              settle_multiplier: \(settleMultiplier)
              rotation_multiplier: \(rotationMultiplier)
              window_multiplier: \(windowMultiplier)
              alert_budget: \(alertBudget)
              structure_score: \(structureScore)
              model:
                version: "\(model.version)"
                seed: \(model.seed)
                trained_on: "\(model.trainedOn)"
                threshold: \(model.threshold)
                bias: \(model.bias)
                weights:
            \(weights)

            """
    }
}

/// A logistic model over the fan features: versioned, trained by `kinko monitor train` from a
/// seed, adopted with its rule set under approval. Every alert lists its features and their
/// contributions.
public struct NetworkModel: Sendable, Equatable {
    public var version: String
    public var seed: UInt64
    public var trainedOn: String
    /// The training set's score at the budget it was trained for, kept for reference: neither
    /// a backtest nor the live scan (`Monitoring.scanNetwork`) uses it — both rank by score and
    /// stop where the rule set's budget is spent on the data in front of them.
    public var threshold: Double
    public var bias: Double
    /// One weight per feature, in `NetworkFeatures.names` order.
    public var weights: [Double]

    public static let weightMax = 1_000.0

    public init(version: String, seed: UInt64, trainedOn: String, threshold: Double, bias: Double, weights: [Double]) throws(KinkoError) {
        guard (1...64).contains(version.utf8.count) else { throw KinkoError(.invalidInput, "a model version is 1–64 characters", field: "network.model.version") }
        guard trainedOn.utf8.count <= 200 else { throw KinkoError(.invalidInput, "at most 200 characters", field: "network.model.trained_on") }
        guard weights.count == NetworkFeatures.names.count else {
            throw KinkoError(.invalidInput, "needs one weight per feature: \(NetworkFeatures.names.joined(separator: ", "))", field: "network.model.weights")
        }
        for (name, weight) in zip(["threshold", "bias"] + NetworkFeatures.names, [threshold, bias] + weights) where !(weight.isFinite && abs(weight) <= Self.weightMax) {
            throw KinkoError(.invalidInput, "must be a number within ±\(Self.weightMax)",
                             field: ["threshold", "bias"].contains(name) ? "network.model.\(name)" : "network.model.weights.\(name)")
        }
        self.version = version
        self.seed = seed
        self.trainedOn = trainedOn
        self.threshold = threshold
        self.bias = bias
        self.weights = weights
    }

    /// The logit of a fan.
    public func score(_ features: [Double]) -> Double {
        zip(weights, features).reduce(bias) { $0 + $1.0 * $1.1 }
    }

    /// Trains by gradient descent on the logistic loss with L2 shrinkage. The seed picks which
    /// negatives are kept when they outnumber the positives more than `negativesPerPositive`
    /// times, and orders the rows; the same rows and seed give the same weights.
    public static func train(_ rows: [(features: [Double], positive: Bool)], seed: UInt64, version: String, trainedOn: String,
                             using used: Set<String> = Set(NetworkFeatures.names), negativesPerPositive: Int = 8, iterations: Int = 2_000,
                             rate: Double = 0.2, shrinkage: Double = 0.01) throws(KinkoError) -> NetworkModel {
        if let unknown = used.sorted().first(where: { !NetworkFeatures.names.contains($0) }) {
            throw KinkoError(.invalidInput, "unknown feature \(unknown); the features are \(NetworkFeatures.names.joined(separator: ", "))", field: "features")
        }
        let mask = NetworkFeatures.names.map { used.contains($0) ? 1.0 : 0.0 }
        let positives = rows.filter(\.positive)
        guard !positives.isEmpty, positives.count < rows.count else {
            throw KinkoError(.invalidInput, "training needs both laundering and ordinary fans; of \(rows.count) fans found, \(positives.count) are laundering and \(rows.count - positives.count) ordinary", field: "amlsim")
        }
        var rng = SplitMix64(seed: seed)
        var negatives = rows.filter { !$0.positive }
        let keep = positives.count * negativesPerPositive
        if negatives.count > keep {
            for index in 0..<keep { negatives.swapAt(index, index + Int(rng.next() % UInt64(negatives.count - index))) }
            negatives.removeLast(negatives.count - keep)
        }
        var sample = positives + negatives
        for index in sample.indices.dropLast() { sample.swapAt(index, index + Int(rng.next() % UInt64(sample.count - index))) }
        let width = NetworkFeatures.names.count
        var w = [Double](repeating: 0, count: width + 1)
        let n = Double(sample.count)
        for _ in 0..<iterations {
            var gradient = [Double](repeating: 0, count: width + 1)
            for row in sample {
                var z = w[0]
                for j in 0..<width { z += w[j + 1] * row.features[j] }
                let error = 1 / (1 + exp(-min(30, max(-30, z)))) - (row.positive ? 1 : 0)
                gradient[0] += error
                for j in 0..<width { gradient[j + 1] += error * row.features[j] }
            }
            w[0] -= rate * (gradient[0] / n + shrinkage * w[0])
            for j in 0..<width { w[j + 1] = mask[j] * (w[j + 1] - rate * (gradient[j + 1] / n + shrinkage * w[j + 1])) }
        }
        return try NetworkModel(version: version, seed: seed, trainedOn: trainedOn, threshold: 0, bias: Self.rounded(w[0]), weights: w.dropFirst().map(Self.rounded))
    }

    /// Weights kept to 6 decimals, as written in the rule set's YAML.
    static func rounded(_ value: Double) -> Double { (value * 1_000_000).rounded() / 1_000_000 }
}

/// The features of a fan, each a ratio, a share or a log of one (no amounts, no time unit).
public enum NetworkFeatures {
    public static let names = [
        "log_counterparties",  // one-off counterparties of the hub in this direction, in the window
        "log_other_direction",  // one-off counterparties the other way, around the same time
        "log_span_in_own_gaps",  // how long the fan took, in the hub's own mean gap between events
        "log_age_in_own_gaps",  // how long Kinko has seen the hub, in the same unit
        "log_novelty_burst",  // new counterparties per unit of time in the fan against before it
        "cadence_variation",  // coefficient of variation of the gaps between the fan's legs
        "new_counterparty_share",  // counterparties first seen within the settle window of their leg
        "linked_counterparty_share",  // counterparties with other one-off relationships
        "repeating_share",  // the hub's relationships that repeated, of all it opened
        "inbound",  // 1 for a fan-in, 0 for a fan-out
        "log_relationships",  // relationships the hub opened in this direction, ever
        "one_off_share_of_activity",  // the fan's legs among the hub's events in that direction since
        "log_activity_burst",  // the hub's events per unit of time since the fan began against before
    ]
}

/// A motif the scan found, with everything its alert shows.
public struct NetworkCandidate: Sendable, Equatable {
    public var typology: String
    public var hub: UInt64?
    /// The hub first (when there is one), then the counterparties.
    public var members: [UInt64]
    public var events: [String]
    /// When the motif was found (the settle time of its newest leg).
    public var time: TimestampNanoseconds
    public var features: [Double]
    public var score: Double

    public init(typology: String, hub: UInt64?, members: [UInt64], events: [String], time: TimestampNanoseconds, features: [Double], score: Double) {
        self.typology = typology
        self.hub = hub
        self.members = members
        self.events = events
        self.time = time
        self.features = features
        self.score = score
    }
}

/// Runs the detectors over a stream of transfers between customers, in time order. It keeps
/// every relationship it has seen within the window, the one-off graph and each account's
/// novelty history; memory grows with the relationships in the window, not with transfers.
public final class NetworkScan {
    struct Relationship {
        var count: UInt32
        var first: Double
        var firstEvent: String
    }

    struct Account {
        var first: Double
        var events: Int = 0
        /// The first event per direction (0 out, 1 in): `eventTimes` forgets its oldest times.
        var directionFirst: [Double] = [.infinity, .infinity]
        var repeated: Int = 0
        /// Times of events and of new relationships, per direction (0 out, 1 in).
        var eventTimes: [[Double]] = [[], []]
        var newTimes: [[Double]] = [[], []]
        /// How many of the oldest times were dropped from each list (kept to `timesKept`).
        var eventsDropped = [0, 0]
        var newDropped = [0, 0]
        /// One-off relationships: counterparty → (opened at, event), per direction.
        var oneOff: [[UInt64: (time: Double, event: String)]] = [[:], [:]]
    }

    public let settings: NetworkSettings
    private var relationships: [Pair: Relationship] = [:]
    private var accounts: [UInt64: Account] = [:]
    private var pending: [(time: Double, from: UInt64, to: UInt64, ownWait: Double)] = []
    private var pendingHead = 0
    /// Relationships whose parties' own cadence asks for a longer wait than the population's:
    /// a min-heap by due time.
    private var deferred = MinHeap()
    /// First-repeat gaps, in days, as a histogram on a log scale for the median.
    private var gapHistogram = [Int](repeating: 0, count: NetworkScan.gapBuckets)
    private var gapCount = 0
    public private(set) var firstTime: TimestampNanoseconds?
    /// The share of relationships that have repeated, sampled as the stream grows (whenever either
    /// count grew by 2%): (time, relationships opened, of them repeated).
    private var repeatShares: [(time: Double, opened: Int, repeated: Int)] = []
    private var isWarm = false
    public private(set) var latestTime: TimestampNanoseconds = 0

    struct Pair: Hashable {
        var from: UInt64
        var to: UInt64
    }

    /// 1/256 day to 2^20/256 = 4,096 days.
    static let gapBuckets = 400
    /// Buckets per doubling of the gap (about 3.5% apart).
    static let bucketsPerDoubling = 20.0
    /// The smallest gap the histogram tells apart (1/256 day, under 6 minutes).
    static let gapFloorDays = 1.0 / 256

    /// `warmUp: false` settles from the first gaps seen, as the detectors did before the
    /// warm-up: training uses it for the ordinary fans a cold stream raises (the warm-up hides
    /// them, and a model cannot learn the ordinary side without them).
    public init(settings: NetworkSettings, warmUp: Bool = true) {
        self.settings = settings
        self.isWarm = !warmUp
    }

    public var activeAccounts: Int { accounts.count }

    /// The settle window now, in days: the multiplier × the median first-repeat gap seen so far;
    /// nil until `gapsBeforeSettling` gaps were seen (nothing settles before: a fixed starting
    /// window would be a constant in the data's time unit).
    public var settleDays: Double? {
        medianGap(aboveFloor: false).map { settings.settleMultiplier * $0 }
    }

    /// The median first-repeat gap in days, of all gaps or only of those longer than the
    /// histogram's resolution (`gapFloorDays`: a same-instant repeat says nothing about a
    /// cadence); nil before `gapsBeforeSettling` of them.
    func medianGap(aboveFloor: Bool) -> Double? {
        let from = aboveFloor ? 1 : 0
        let total = gapCount - (aboveFloor ? gapHistogram[0] : 0)
        guard total >= NetworkSettings.gapsBeforeSettling else { return nil }
        var seen = 0
        var bucket = from
        while bucket < Self.gapBuckets - 1 {
            seen += gapHistogram[bucket]
            if seen * 2 >= total { break }
            bucket += 1
        }
        return Self.gapFloorDays * pow(2, Double(bucket) / Self.bucketsPerDoubling)
    }

    public var windowDays: Double? { settleDays.map { $0 * settings.windowMultiplier } }

    static func days(_ time: TimestampNanoseconds) -> Double { Double(time) / 86_400_000_000_000 }
    static func time(_ days: Double) -> TimestampNanoseconds { TimestampNanoseconds(max(0, days * 86_400_000_000_000)) }

    /// Takes in one transfer from `from` to `to` (customers, not the same); returns the motifs
    /// found as relationships opened earlier became one-off by its time.
    public func observe(from: UInt64, to: UInt64, time: TimestampNanoseconds, event: String) -> [NetworkCandidate] {
        let now = Self.days(time)
        let found = settle(upTo: now)
        guard from != to else { return found }
        if firstTime == nil { firstTime = time }
        latestTime = max(latestTime, time)
        for (id, direction) in [(from, 0), (to, 1)] {
            var account = accounts.removeValue(forKey: id) ?? Account(first: now)
            account.events += 1
            account.directionFirst[direction] = min(account.directionFirst[direction], now)
            Self.append(now, to: &account.eventTimes[direction], dropped: &account.eventsDropped[direction])
            accounts[id] = account
        }
        let pair = Pair(from: from, to: to)
        if var known = relationships[pair] {
            known.count += 1
            relationships[pair] = known
            if known.count == 2 {
                accounts[from]?.oneOff[0].removeValue(forKey: to)
                accounts[to]?.oneOff[1].removeValue(forKey: from)
                accounts[from]?.repeated += 1
                accounts[to]?.repeated += 1
                recordGap(now - known.first)
                sampleRepeatShare(at: now)
            }
        } else {
            relationships[pair] = Relationship(count: 1, first: now, firstEvent: event)
            sampleRepeatShare(at: now)
            for (id, direction) in [(from, 0), (to, 1)] {
                guard var account = accounts.removeValue(forKey: id) else { continue }
                Self.append(now, to: &account.newTimes[direction], dropped: &account.newDropped[direction])
                accounts[id] = account
            }
            pending.append((now, from, to, ownWait(from: from, to: to)))
        }
        return found
    }

    /// The most times kept per account and list: a busy account's oldest are dropped (and
    /// counted), which only blurs its history further back than thousands of events.
    public static let timesKept = 4_096

    static func append(_ time: Double, to times: inout [Double], dropped: inout Int) {
        if times.count >= 2 * timesKept {
            dropped += times.count - timesKept
            times.removeFirst(times.count - timesKept)
        }
        times.append(time)
    }

    /// How long this relationship's own parties say to wait before calling it one-off:
    /// `rotationMultiplier` × the longer of their rotations — the sender's through its payees, the
    /// receiver's through its payers (`rotation`). A party that pays fifty payees in turn, one
    /// every five days, comes back to each after 250 days, whatever the population's median.
    func ownWait(from: UInt64, to: UInt64) -> Double {
        settings.rotationMultiplier * max(accounts[from].map { Self.rotation($0, direction: 0) } ?? 0, accounts[to].map { Self.rotation($0, direction: 1) } ?? 0)
    }

    /// The time an account takes to come back to a counterparty in one direction if it deals with
    /// them in turn: its counterparties that way × its mean gap between events that way (the
    /// same as its mean gap between events when it has one counterparty). 0 before two events.
    static func rotation(_ account: Account, direction: Int) -> Double {
        let times = account.eventTimes[direction]
        let events = times.count + account.eventsDropped[direction]
        guard events >= 2, let last = times.last else { return 0 }
        let counterparties = account.newTimes[direction].count + account.newDropped[direction]
        return (last - account.directionFirst[direction]) / Double(events - 1) * Double(max(1, counterparties))
    }

    /// Settles what is due by `time` without a transfer (a live scan run at `time`: relationships
    /// that have waited long enough by then are one-off, the others keep waiting).
    public func advance(to time: TimestampNanoseconds) -> [NetworkCandidate] {
        settle(upTo: Self.days(time))
    }

    /// Months from the first transfer seen to `end`, at least one: what an alert budget per
    /// month is counted over.
    public func months(through end: TimestampNanoseconds) -> Double {
        max(1, Double(end - min(end, firstTime ?? end)) / 86_400_000_000_000 / NetworkBudget.daysPerMonth)
    }

    /// Settles everything due by the end of the stream (a backtest's last day).
    public func finish() -> [NetworkCandidate] { settle(upTo: .infinity) }

    /// Whether the stream has run long enough for its first-repeat gaps to be trusted. Only gaps
    /// shorter than the stream so far can have been seen: on its first day a stream shows only
    /// the relationships that repeat within a day, and their median says nothing about the one
    /// that repeats weekly. So the share of relationships that have repeated climbs while the
    /// stream warms up (2% on AMLSim's first half day, 88% after a month) and then levels off,
    /// whatever the time unit; the stream is warm once the share grew by at most
    /// `NetworkSettings.warmUpGrowthMax` over the last half of the stream (once warm, it stays).
    func warmedUp(at now: Double) -> Bool {
        guard !isWarm else { return true }
        guard let firstTime, !relationships.isEmpty else { return false }
        let elapsed = now - Self.days(firstTime)
        let half = Self.days(firstTime) + elapsed / 2
        var low = 0, high = repeatShares.count
        while low < high {
            let middle = (low + high) / 2
            if repeatShares[middle].time < half { low = middle + 1 } else { high = middle }
        }
        guard low > 0, let median = medianGap(aboveFloor: true) else { return false }
        let then = repeatShares[low - 1]
        let shareNow = Double(gapCount) / Double(relationships.count)
        isWarm = shareNow <= Double(then.repeated) / Double(then.opened) * (1 + NetworkSettings.warmUpGrowthMax)
            && elapsed >= settings.settleMultiplier * median
        return isWarm
    }

    private func sampleRepeatShare(at now: Double) {
        let last = repeatShares.last ?? (now, 0, 0)
        guard relationships.count * 50 >= last.opened * 51 + 50 || gapCount * 50 >= last.repeated * 51 + 50 else { return }
        repeatShares.append((now, relationships.count, gapCount))
    }

    private func recordGap(_ days: Double) {
        let bucket = days <= Self.gapFloorDays ? 0 : Int((log2(days / Self.gapFloorDays) * Self.bucketsPerDoubling).rounded(.down))
        gapHistogram[min(Self.gapBuckets - 1, max(0, bucket))] += 1
        gapCount += 1
    }

    private func settle(upTo now: Double) -> [NetworkCandidate] {
        var found: [NetworkCandidate] = []
        guard let settle = settleDays, warmedUp(at: now) else { return found }
        let window = settle * settings.windowMultiplier
        while pendingHead < pending.count, pending[pendingHead].time + settle <= now {
            let (opened, from, to, ownWait) = pending[pendingHead]
            pendingHead += 1
            let due = opened + max(settle, min(max(ownWait, self.ownWait(from: from, to: to)), window))
            if due > now {
                deferred.push((due, opened, from, to))
                continue
            }
            found += becameOneOff(from, to, opened: opened, at: due, settle: settle, window: window)
        }
        while let next = deferred.peek, next.due <= now {
            deferred.pop()
            guard relationships[Pair(from: next.from, to: next.to)]?.count == 1 else { continue }
            // The parties' rotations grow while they keep meeting new counterparties: wait again
            // when they now ask for longer (never past the window).
            let due = max(next.due, next.opened + min(ownWait(from: next.from, to: next.to), window))
            if due > now {
                deferred.push((due, next.opened, next.from, next.to))
                continue
            }
            found += becameOneOff(next.from, next.to, opened: next.opened, at: due, settle: settle, window: window)
        }
        if pendingHead > 4_096, pendingHead * 2 > pending.count {
            pending.removeFirst(pendingHead)
            pendingHead = 0
        }
        return found
    }

    private func becameOneOff(_ from: UInt64, _ to: UInt64, opened: Double, at: Double, settle: Double, window: Double) -> [NetworkCandidate] {
        guard let relationship = relationships[Pair(from: from, to: to)], relationship.count == 1 else { return [] }
        accounts[from]?.oneOff[0][to] = (opened, relationship.firstEvent)
        accounts[to]?.oneOff[1][from] = (opened, relationship.firstEvent)
        // Motifs look back a window from the relationship's opening (and from no more than half a
        // window after it, however long its parties made it wait).
        let since = min(at, opened + window / 2) - window
        var found = fans(hub: from, direction: 0, at: at, since: since, settle: settle)
        found += fans(hub: to, direction: 1, at: at, since: since, settle: settle)
        found += scatterGathers(from, to, at: at, since: since)
        if let ring = cycle(from: from, to: to, at: at, since: since) { found.append(ring) }
        return found
    }

    private func fans(hub: UInt64, direction: Int, at now: Double, since: Double, settle: Double) -> [NetworkCandidate] {
        guard let account = accounts[hub] else { return [] }
        let legs = account.oneOff[direction].filter { $0.value.time >= since }.sorted { ($0.value.time, $0.key) < ($1.value.time, $1.key) }
        guard legs.count >= 2, let start = legs.first?.value.time, let end = legs.last?.value.time else { return [] }
        let other = account.oneOff[1 - direction].filter { $0.value.time >= since && $0.value.time >= start - settle && $0.value.time <= end + settle }
            .sorted { ($0.value.time, $0.key) < ($1.value.time, $1.key) }
        guard legs.count + other.count >= 3 else { return [] }
        let floor = settle / 20
        let age = max(floor, now - account.first)
        let meanGap = age / Double(max(1, account.events))
        let span = max(floor, end - start)
        let newTimes = account.newTimes[direction]
        let newBefore = account.newDropped[direction] + Self.countBefore(start, in: newTimes)
        let rateBefore = Double(newBefore + 1) / (max(0, start - account.first) + settle)
        let gaps = zip(legs.dropFirst(), legs).map { $0.value.time - $1.value.time }
        let meanLegGap = gaps.isEmpty ? 0 : gaps.reduce(0, +) / Double(gaps.count)
        let variation = gaps.count > 1 && meanLegGap > 0
            ? (gaps.reduce(0) { $0 + ($1 - meanLegGap) * ($1 - meanLegGap) } / Double(gaps.count)).squareRoot() / meanLegGap : 0
        let count = Double(legs.count)
        let fresh = Double(legs.count { leg in (accounts[leg.key]?.first).map { leg.value.time - $0 < settle } ?? true }) / count
        let linked = Double(legs.count { leg in (accounts[leg.key]).map { $0.oneOff[0].count + $0.oneOff[1].count > 1 } ?? false }) / count
        let opened = account.newTimes[0].count + account.newTimes[1].count + account.newDropped[0] + account.newDropped[1]
        let events = account.eventTimes[direction]
        let eventsSince = events.count - Self.countBefore(start, in: events)
        let eventsBefore = account.eventsDropped[direction] + events.count - eventsSince
        let activityBefore = Double(eventsBefore + 1) / (max(0, start - account.first) + settle)
        let activitySince = Double(eventsSince) / max(floor, now - start)
        let features = [
            log(count), log(1 + Double(other.count)), log(span / meanGap + 1), log(age / meanGap + 1),
            log((count / span) / rateBefore + 0.001), variation, fresh, linked, Double(account.repeated) / Double(max(1, opened)),
            Double(direction), log(1 + Double(account.newDropped[direction] + newTimes.count)), count / max(count, Double(eventsSince)), log((activitySince + 0.001) / activityBefore),
        ]
        let typology = other.count >= 2 ? "gather_scatter" : direction == 0 ? "fan_out" : "fan_in"
        return [NetworkCandidate(typology: typology, hub: hub, members: [hub] + legs.map(\.key) + other.map(\.key).filter { id in !legs.contains { $0.key == id } },
                                 events: legs.map(\.value.event) + other.map(\.value.event), time: Self.time(now),
                                 features: features, score: settings.model.score(features))]
    }

    static func countBefore(_ time: Double, in sorted: [Double]) -> Int {
        var low = 0, high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] < time { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// `from → to` as a scatter leg (source → intermediary) or a gather leg (intermediary →
    /// beneficiary): a source paying two or more intermediaries who each paid one beneficiary,
    /// every leg one-off within the window.
    private func scatterGathers(_ from: UInt64, _ to: UInt64, at now: Double, since: Double) -> [NetworkCandidate] {
        /// `a → b` when it is a one-off leg inside the window.
        func leg(_ a: UInt64, _ b: UInt64) -> (time: Double, event: String)? {
            accounts[a]?.oneOff[0][b].flatMap { $0.time >= since ? $0 : nil }
        }
        func counterparties(_ id: UInt64, _ direction: Int) -> [UInt64] {
            (accounts[id]?.oneOff[direction] ?? [:]).filter { $0.value.time >= since }.keys.sorted()
        }
        var found: [NetworkCandidate] = []
        var seen: Set<Pair> = []
        // (source, intermediary) pairs the new leg can belong to.
        let shapes = [(from, to)] + counterparties(from, 1).map { ($0, from) }
        for (source, intermediary) in shapes {
            let paid = counterparties(source, 0)
            for beneficiary in counterparties(intermediary, 0) where beneficiary != source && seen.insert(Pair(from: source, to: beneficiary)).inserted {
                let middle = paid.filter { $0 != beneficiary && leg($0, beneficiary) != nil }
                guard middle.count >= 2 else { continue }
                let legs = middle.flatMap { [leg(source, $0), leg($0, beneficiary)].compactMap { $0 } }
                found.append(NetworkCandidate(typology: "scatter_gather", hub: nil, members: [source] + middle + [beneficiary], events: legs.map(\.event),
                                              time: Self.time(now), features: [], score: settings.structureScore))
            }
        }
        return found
    }

    /// A ring of one-off transfers closed by `from → to`: a path `to → … → from`, up to
    /// `MonitoringRules.cycleLengthMax` customers.
    private func cycle(from: UInt64, to: UInt64, at now: Double, since: Double) -> NetworkCandidate? {
        var visited = 0
        var stack: [[UInt64]] = [[to]]
        while let path = stack.popLast(), visited < NetworkSettings.cycleSearchNodesMax {
            visited += 1
            guard let node = path.last, let account = accounts[node] else { continue }
            for (next, leg) in account.oneOff[0].sorted(by: { $0.key > $1.key }) where leg.time >= since {
                if next == from, path.count >= 2 {
                    let members = path + [from]
                    var legs: [(time: Double, event: String)] = []
                    for (a, b) in zip(members, members.dropFirst() + [members[0]]) {
                        if let leg = accounts[a]?.oneOff[0][b] { legs.append(leg) }
                    }
                    return NetworkCandidate(typology: "cycle", hub: nil, members: members, events: legs.map(\.event), time: Self.time(now), features: [],
                                            score: settings.structureScore)
                }
                if !path.contains(next), path.count < MonitoringRules.cycleLengthMax - 1 { stack.append(path + [next]) }
            }
        }
        return nil
    }
}

/// A binary min-heap of relationships waiting to become one-off, by due time.
struct MinHeap {
    typealias Entry = (due: Double, opened: Double, from: UInt64, to: UInt64)
    private var items: [Entry] = []

    var peek: Entry? { items.first }

    mutating func push(_ entry: Entry) {
        items.append(entry)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.before(items[child], items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() {
        guard !items.isEmpty else { return }
        items.swapAt(0, items.count - 1)
        items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count, Self.before(items[left], items[smallest]) { smallest = left }
            if right < items.count, Self.before(items[right], items[smallest]) { smallest = right }
            guard smallest != parent else { return }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }

    /// Earlier due first; ties by opening time and the pair, so the order never depends on insertion.
    static func before(_ a: Entry, _ b: Entry) -> Bool { (a.due, a.opened, a.from, a.to) < (b.due, b.opened, b.from, b.to) }
}

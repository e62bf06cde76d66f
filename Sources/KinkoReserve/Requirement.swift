import Foundation
public import KinkoCore
import KinkoGovernance

/// An insurance policy and what has been claimed under it.
public struct InsurancePolicy: Sendable, Equatable {
    public var id: UInt64
    public var insurer: String
    /// Loss types covered: `hack`, `insider_fraud`, …
    public var coverage: [String]
    public var limit: Amount
    public var deductible: Amount
    public var exclusions: [String]
    /// First and last day in force (JST, YYYY-MM-DD, inclusive).
    public var starts: String
    public var ends: String
    /// Claims recognised so far.
    public var claimed: Amount

    public init(id: UInt64, insurer: String, coverage: [String], limit: Amount, deductible: Amount, exclusions: [String] = [],
                starts: String, ends: String, claimed: Amount = .zero) {
        self.id = id
        self.insurer = insurer
        self.coverage = coverage
        self.limit = limit
        self.deductible = deductible
        self.exclusions = exclusions
        self.starts = starts
        self.ends = ends
        self.claimed = claimed
    }

    public func inForce(on day: String) -> Bool { starts <= day && day <= ends }

    public func covers(_ lossType: String) -> Bool { coverage.contains(lossType) && !exclusions.contains(lossType) }

    /// What is left of the limit after earlier claims.
    public var remaining: Amount { Amount(units: limit.units - min(limit.units, claimed.units)) }

    /// What this policy pays towards a loss of `loss` yen: above the deductible, up to the remaining limit.
    public func payable(for loss: Amount) -> Amount {
        Amount(units: min(remaining.units, loss.units - min(loss.units, deductible.units)))
    }
}

/// One line of the requirement: what it is, what went in, what came out.
public struct RequirementLine: Sendable, Equatable {
    public var name: String
    public var inputs: String
    public var amount: Amount

    public init(name: String, inputs: String, amount: Amount) {
        self.name = name
        self.inputs = inputs
        self.amount = amount
    }
}

extension RequirementLine {
    /// Lines as both stores keep them: a canonical JSON array of `{"amount", "inputs", "name"}`,
    /// the amount in decimal units.
    public static func storedJSON(_ lines: [RequirementLine]) -> String {
        CanonicalJSON.array(lines.map { ["name": .string($0.name), "inputs": .string($0.inputs), "amount": .string($0.amount.description)] }).text
    }

    /// The lines back from `storedJSON`; anything else is `storage_corrupted`.
    public static func lines(storedJSON text: String) throws -> [RequirementLine] {
        guard case .array(let items) = try CanonicalJSON(parsing: Array(text.utf8)) else {
            throw KinkoError(.storageCorrupted, "a stored requirement has malformed lines")
        }
        return try items.map { item -> RequirementLine in
            guard case .object(let fields) = item, case .string(let name)? = fields["name"], case .string(let inputs)? = fields["inputs"],
                case .string(let amount)? = fields["amount"], let units = UInt128(amount)
            else { throw KinkoError(.storageCorrupted, "a stored requirement line is malformed") }
            return RequirementLine(name: name, inputs: inputs, amount: Amount(units: units))
        }
    }
}

public struct Requirement: Sendable, Equatable {
    public var ruleVersion: String
    public var computedAt: TimestampNanoseconds
    public var lines: [RequirementLine]
    /// Before insurance, after floor and cap.
    public var gross: Amount
    public var insuranceOffset: Amount
    /// What the reserve fund must hold.
    public var required: Amount

    public init(
        ruleVersion: String,
        computedAt: TimestampNanoseconds,
        lines: [RequirementLine],
        gross: Amount,
        insuranceOffset: Amount,
        required: Amount
    ) {
        self.ruleVersion = ruleVersion
        self.computedAt = computedAt
        self.lines = lines
        self.gross = gross
        self.insuranceOffset = insuranceOffset
        self.required = required
    }
}

/// A loss counted in the incident-history term.
public struct PastLoss: Sendable, Equatable {
    public var incident: UInt64
    public var lostAt: TimestampNanoseconds
    public var amountJPY: Amount
    /// How the loss was valued at declaration (`Incident.valuation`).
    public var valuation: String

    public init(incident: UInt64, lostAt: TimestampNanoseconds, amountJPY: Amount, valuation: String = "") {
        self.incident = incident
        self.lostAt = lostAt
        self.amountJPY = amountJPY
        self.valuation = valuation
    }
}

public struct RequirementInputs: Sendable {
    /// Daily traded JPY volume per category and JST day.
    public var volumes: [String: [String: Amount]]
    public var coldJPY: Amount
    public var hotJPY: Amount
    public var losses: [PastLoss]
    public var policies: [InsurancePolicy]
    public var now: TimestampNanoseconds

    public init(
        volumes: [String: [String: Amount]],
        coldJPY: Amount,
        hotJPY: Amount,
        losses: [PastLoss],
        policies: [InsurancePolicy],
        now: TimestampNanoseconds
    ) {
        self.volumes = volumes
        self.coldJPY = coldJPY
        self.hotJPY = hotJPY
        self.losses = losses
        self.policies = policies
        self.now = now
    }
}

extension Requirement {
    /// Computes the requirement line by line; see `RuleSet` for the formula.
    public static func compute(_ rules: RuleSet, _ inputs: RequirementInputs) throws(KinkoError) -> Requirement {
        var lines: [RequirementLine] = []
        let today = JST.day(of: inputs.now)
        let window = JST.days(endingBefore: today, count: rules.trailingDays)
        var base = Amount.zero
        for (category, rate) in rules.volumeRates.sorted(by: { $0.key < $1.key }) {
            let total = try Amount.sum(window.map { inputs.volumes[category]?[$0] ?? .zero })
            let (average, remainder) = try total.divided(by: UInt128(rules.trailingDays))
            let averageUp = remainder.isZero ? average : try average.adding(Amount(units: 1))
            let amount = try rate.applied(to: averageUp)
            lines.append(RequirementLine(
                name: "volume.\(category)",
                inputs: "¥\(total) traded \(window.first ?? "")…\(window.last ?? "") ÷ \(rules.trailingDays) days = ¥\(averageUp) a day × \(rate)",
                amount: amount))
            base = try base.adding(amount)
        }
        let cold = try rules.coldRate.applied(to: inputs.coldJPY)
        let hot = try rules.hotRate.applied(to: inputs.hotJPY)
        lines.append(RequirementLine(name: "custody.cold", inputs: "¥\(inputs.coldJPY) cold customer crypto × \(rules.coldRate)", amount: cold))
        lines.append(RequirementLine(name: "custody.hot", inputs: "¥\(inputs.hotJPY) hot customer crypto × \(rules.hotRate)", amount: hot))
        base = try base.adding(cold).adding(hot)
        let firstYear = JST.fiscalYear(of: inputs.now) - rules.lookbackCompletedFiscalYears
        let counted = inputs.losses.filter { JST.fiscalYear(of: $0.lostAt) >= firstYear && $0.lostAt <= inputs.now }
        let losses = try Amount.sum(counted.map(\.amountJPY))
        let incidents = try rules.lossMultiplier.applied(to: losses)
        lines.append(RequirementLine(
            name: "incidents",
            inputs: "¥\(losses) lost in \(counted.count) incident\(counted.count == 1 ? "" : "s") since fiscal year \(firstYear) "
                + "(this one and the \(rules.lookbackCompletedFiscalYears) completed before it) × \(rules.lossMultiplier)"
                + counted.filter { !$0.valuation.isEmpty }.map { "; incident \($0.incident) valued at \($0.valuation)" }.joined(),
            amount: incidents))
        base = try base.adding(incidents)
        let gross = min(max(base, rules.floor), rules.cap)
        lines.append(RequirementLine(name: "floor_and_cap", inputs: "¥\(base) kept within ¥\(rules.floor)–¥\(rules.cap)", amount: gross))
        let eligible = inputs.policies.filter { policy in
            policy.inForce(on: today) && rules.insuredLossTypes.contains(where: policy.covers)
        }
        let insured = try Amount.sum(eligible.map { Amount(units: $0.remaining.units - min($0.remaining.units, $0.deductible.units)) })
        let offsetCap = try rules.maxOffsetShare.appliedDown(to: gross)
        let offset = min(insured, offsetCap)
        lines.append(RequirementLine(
            name: "insurance_offset",
            inputs: "¥\(insured) available under \(eligible.count) polic\(eligible.count == 1 ? "y" : "ies") in force covering \(rules.insuredLossTypes.joined(separator: "/")), at most \(rules.maxOffsetShare) × ¥\(gross) = ¥\(offsetCap)",
            amount: offset))
        let required = try gross.subtracting(offset)
        lines.append(RequirementLine(name: "required", inputs: "¥\(gross) − ¥\(offset)", amount: required))
        return Requirement(ruleVersion: rules.version, computedAt: inputs.now, lines: lines, gross: gross, insuranceOffset: offset, required: required)
    }
}

/// Japan time (UTC+9, no daylight saving): business days and fiscal years (April to March).
public enum JST {
    static let zone = TimeZone(secondsFromGMT: 9 * 3_600) ?? .gmt

    /// A moment as people in Japan read it: `2026-12-03 17:42:05`, with `.123` (exact, from
    /// the nanoseconds) when `milliseconds`.
    public static func time(of time: TimestampNanoseconds, milliseconds: Bool = false) -> String {
        let seconds = Date(timeIntervalSince1970: Double(time / 1_000_000_000))
        let text = seconds.formatted(Date.ISO8601FormatStyle(timeZone: zone).year().month().day().dateTimeSeparator(.space).time(includingFractionalSeconds: false))
        return milliseconds ? text + "." + String(String(time / 1_000_000 % 1_000 + 1_000).dropFirst()) : text
    }

    public static func day(of time: TimestampNanoseconds) -> String {
        let seconds = Double(time / 1_000_000_000) + 9 * 3_600
        return Date(timeIntervalSince1970: seconds).formatted(Date.ISO8601FormatStyle().year().month().day())
    }

    /// The `count` days before `day`, oldest first.
    public static func days(endingBefore day: String, count: Int) -> [String] {
        guard let start = try? Date.ISO8601FormatStyle().year().month().day().parse(day) else { return [] }
        return (1...max(count, 1)).reversed().map { back in
            start.addingTimeInterval(Double(-back * 86_400)).formatted(Date.ISO8601FormatStyle().year().month().day())
        }
    }

    /// The Japanese fiscal year (starting 1 April) a moment falls in, named by its starting year.
    public static func fiscalYear(of time: TimestampNanoseconds) -> Int {
        let parts = day(of: time).split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return 0 }
        return parts[1] >= 4 ? parts[0] : parts[0] - 1
    }
}

import Foundation
public import KinkoCore

public enum EventKind: String, Sendable, CaseIterable {
    case deposit, withdrawal, trade, login
    case internalTransfer = "internal_transfer"

    public var movesValue: Bool { self != .login }
}

/// IVMS101 data about one party of a transfer (the fields the travel rule asks for).
public struct TravelRuleParty: Sendable, Equatable {
    /// The longest field an ingested event may carry (and a VASP's name), as the withdrawal API
    /// allows an address: IVMS101's own limits are
    /// shorter (a name 100 characters, an address line 70), so no real message reaches it, and
    /// every stored message stays small.
    public static let fieldLengthMax = 500

    public var name: String?
    /// An account number or a wallet address.
    public var account: String?
    public var geographicAddress: String?
    public var nationalID: String?
    public var dateOfBirth: String?
    public var placeOfBirth: String?

    public init(
        name: String? = nil,
        account: String? = nil,
        geographicAddress: String? = nil,
        nationalID: String? = nil,
        dateOfBirth: String? = nil,
        placeOfBirth: String? = nil
    ) {
        self.name = name
        self.account = account
        self.geographicAddress = geographicAddress
        self.nationalID = nationalID
        self.dateOfBirth = dateOfBirth
        self.placeOfBirth = placeOfBirth
    }
}

/// One thing a customer did, as the exchange's systems report it. Amounts are in the asset's
/// units; `amountJPY` is their yen value at the time (thresholds are in yen).
public struct MonitoringEvent: Sendable, Equatable {
    public var id: String
    public var kind: EventKind
    public var customer: UInt64
    public var time: TimestampNanoseconds
    public var asset: String?
    public var amount: Amount?
    public var amountJPY: UInt64
    /// Internal transfers: the receiving customer.
    public var counterpartyCustomer: UInt64?
    /// Deposits: the source address; withdrawals: the destination.
    public var address: String?
    public var vasp: String?
    /// ISO 3166-1 alpha-2 country of the counterparty VASP.
    public var vaspCountry: String?
    /// A withdrawal to a wallet no VASP hosts.
    public var unhosted: Bool
    public var originator: TravelRuleParty?
    public var beneficiary: TravelRuleParty?
    /// For unhosted wallets: the exchange's assessment of the counterparty (`low`, `medium`, `high`).
    public var counterpartyRisk: String?
    /// Logins.
    public var ip: String?
    public var country: String?

    public init(id: String, kind: EventKind, customer: UInt64, time: TimestampNanoseconds, asset: String? = nil, amount: Amount? = nil,
                amountJPY: UInt64 = 0, counterpartyCustomer: UInt64? = nil, address: String? = nil, vasp: String? = nil,
                vaspCountry: String? = nil, unhosted: Bool = false, originator: TravelRuleParty? = nil, beneficiary: TravelRuleParty? = nil,
                counterpartyRisk: String? = nil, ip: String? = nil, country: String? = nil) {
        self.id = id
        self.kind = kind
        self.customer = customer
        self.time = time
        self.asset = asset
        self.amount = amount
        self.amountJPY = amountJPY
        self.counterpartyCustomer = counterpartyCustomer
        self.address = address
        self.vasp = vasp
        self.vaspCountry = vaspCountry
        self.unhosted = unhosted
        self.originator = originator
        self.beneficiary = beneficiary
        self.counterpartyRisk = counterpartyRisk
        self.ip = ip
        self.country = country
    }

    public static let idLengthMax = 128
    /// Customer ids share a key space with hashed external addresses (the top bit).
    public static let customerMax: UInt64 = (1 << 63) - 1
}

/// What the exchange knows about a customer (KYC): name, home country, declared income and assets.
public struct CustomerProfile: Sendable, Equatable {
    public var customer: UInt64
    public var name: String
    public var country: String
    public var declaredIncomeJPY: UInt64
    public var declaredAssetsJPY: UInt64

    public init(customer: UInt64, name: String, country: String, declaredIncomeJPY: UInt64, declaredAssetsJPY: UInt64) {
        self.customer = customer
        self.name = name
        self.country = country
        self.declaredIncomeJPY = declaredIncomeJPY
        self.declaredAssetsJPY = declaredAssetsJPY
    }
}

/// Reads NDJSON events. Each bad line is rejected with its number and field; the good lines
/// of the same batch are kept.
public enum EventInput {
    public static let linesMax = 1_000_000

    public struct Rejection: Sendable, Equatable, CustomStringConvertible {
        public let line: Int
        public let field: String?
        public let message: String
        public var description: String { "line \(line)" + (field.map { ", field \($0)" } ?? "") + ": \(message)" }
    }

    public static func parse(_ text: String) -> (events: [(line: Int, event: MonitoringEvent)], rejected: [Rejection]) {
        var events: [(line: Int, event: MonitoringEvent)] = []
        var rejected: [Rejection] = []
        for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            if events.count + rejected.count >= linesMax {
                rejected.append(Rejection(line: offset + 1, field: nil, message: "a batch holds at most \(linesMax) events"))
                break
            }
            guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any] else {
                rejected.append(Rejection(line: offset + 1, field: nil, message: "not a JSON object"))
                continue
            }
            do {
                events.append((offset + 1, try event(object)))
            } catch {
                rejected.append(Rejection(line: offset + 1, field: error.field, message: error.message))
            }
        }
        return (events, rejected)
    }

    static func event(_ o: [String: Any]) throws(KinkoError) -> MonitoringEvent {
        let known: Set<String> = ["id", "kind", "customer", "time", "asset", "amount", "amount_jpy", "counterparty_customer", "address", "vasp",
                                  "vasp_country", "unhosted", "originator", "beneficiary", "counterparty_risk", "ip", "country"]
        if let unknown = o.keys.sorted().first(where: { !known.contains($0) }) { throw KinkoError(.invalidInput, "unknown field", field: unknown) }
        guard let id = o["id"] as? String, (1...MonitoringEvent.idLengthMax).contains(id.utf8.count) else {
            throw KinkoError(.invalidInput, "is required: a string of 1–\(MonitoringEvent.idLengthMax) characters", field: "id")
        }
        guard let kindName = o["kind"] as? String, let kind = EventKind(rawValue: kindName) else {
            throw KinkoError(.invalidInput, "must be one of \(EventKind.allCases.map(\.rawValue).joined(separator: ", "))", field: "kind")
        }
        let customer = try number(o, "customer", required: true) ?? 0
        guard customer <= MonitoringEvent.customerMax else { throw KinkoError(.invalidInput, "a customer id is at most 2^63 - 1", field: "customer") }
        guard let timeText = o["time"] as? String else { throw KinkoError(.invalidInput, "is required", field: "time") }
        let time = try TimestampNanoseconds(parsing: timeText, field: "time")
        var event = MonitoringEvent(id: id, kind: kind, customer: customer, time: time)
        event.asset = o["asset"] as? String
        if let amount = o["amount"] {
            guard let text = amount as? String else { throw KinkoError(.invalidInput, "must be a decimal string", field: "amount") }
            do { event.amount = try Amount(decimal: text, scale: Amount.scaleMax / 2) } catch { throw KinkoError(error.code, error.message, field: "amount") }
        }
        event.amountJPY = try number(o, "amount_jpy", required: kind.movesValue) ?? 0
        event.counterpartyCustomer = try number(o, "counterparty_customer", required: kind == .internalTransfer)
        event.address = o["address"] as? String
        event.vasp = o["vasp"] as? String
        if let vasp = event.vasp, vasp.count > TravelRuleParty.fieldLengthMax {
            throw KinkoError(.invalidInput, "is at most \(TravelRuleParty.fieldLengthMax) characters; got \(vasp.count)", field: "vasp")
        }
        event.vaspCountry = (o["vasp_country"] as? String)?.uppercased()
        event.unhosted = o["unhosted"] as? Bool ?? false
        event.originator = try party(o, "originator")
        event.beneficiary = try party(o, "beneficiary")
        event.counterpartyRisk = o["counterparty_risk"] as? String
        if let risk = event.counterpartyRisk, !["low", "medium", "high"].contains(risk) {
            throw KinkoError(.invalidInput, "must be low, medium or high", field: "counterparty_risk")
        }
        if let other = event.counterpartyCustomer, other > MonitoringEvent.customerMax {
            throw KinkoError(.invalidInput, "a customer id is at most 2^63 - 1", field: "counterparty_customer")
        }
        event.ip = o["ip"] as? String
        event.country = (o["country"] as? String)?.uppercased()
        if kind == .withdrawal && event.address == nil { throw KinkoError(.invalidInput, "a withdrawal names its destination address", field: "address") }
        if kind == .login && (event.ip == nil || event.country == nil) { throw KinkoError(.invalidInput, "a login carries its IP and country", field: event.ip == nil ? "ip" : "country") }
        return event
    }

    private static func number(_ o: [String: Any], _ field: String, required: Bool) throws(KinkoError) -> UInt64? {
        guard let value = o[field] else {
            if required { throw KinkoError(.invalidInput, "is required", field: field) }
            return nil
        }
        if let text = value as? String, let parsed = UInt64(text) { return parsed }
        // The number's own digits (a detour through Double would round ids above 2^53).
        if let number = value as? NSNumber, let parsed = UInt64(number.stringValue) { return parsed }
        throw KinkoError(.invalidInput, "must be a whole number", field: field)
    }

    private static func party(_ o: [String: Any], _ field: String) throws(KinkoError) -> TravelRuleParty? {
        guard let value = o[field] else { return nil }
        guard let p = value as? [String: Any] else { throw KinkoError(.invalidInput, "must be an object", field: field) }
        func text(_ key: String) throws(KinkoError) -> String? {
            guard let value = p[key] else { return nil }
            guard let string = value as? String else { throw KinkoError(.invalidInput, "must be a string", field: "\(field).\(key)") }
            guard string.count <= TravelRuleParty.fieldLengthMax else {
                throw KinkoError(.invalidInput, "is at most \(TravelRuleParty.fieldLengthMax) characters; got \(string.count)", field: "\(field).\(key)")
            }
            return string
        }
        return TravelRuleParty(name: try text("name"), account: try text("account"), geographicAddress: try text("geographic_address"),
                               nationalID: try text("national_id"), dateOfBirth: try text("date_of_birth"), placeOfBirth: try text("place_of_birth"))
    }
}

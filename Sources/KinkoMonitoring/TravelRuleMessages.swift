import Foundation
public import KinkoCore

/// The travel-rule message of one transfer to or from another exchange, as the exchange sent it
/// (a withdrawal) or received it (a deposit): the originator's and beneficiary's data and both
/// exchanges, in IVMS101's JSON form (interVASP Messaging Standard 101). Kinko keeps every
/// message with the transfer it belongs to, for at least the transaction-record period (7
/// years, APTCP Art. 7 and 10-5), and never deletes one; compliance reads it back per transfer
/// (`Monitoring.travelRuleMessage`) or per customer.
///
/// A message is kept whether or not it is complete: an incomplete one is what the travel-rule
/// hit held the transfer for, and the record shows what was missing (`missing`).
public struct TravelRuleMessage: Sendable, Equatable {
    public enum Direction: String, Sendable, CaseIterable {
        /// A withdrawal: the exchange sent the message to the beneficiary's exchange.
        case sent
        /// A deposit: the originator's exchange sent the message to this exchange.
        case received
    }

    /// The monitoring event of the transfer (its id, as the exchange's systems sent it).
    public var event: String
    public var customer: UInt64
    public var time: TimestampNanoseconds
    public var direction: Direction
    /// The other exchange and its country, as the event named them.
    public var counterpartyVASP: String?
    public var counterpartyCountry: String?
    public var asset: String?
    public var amountJPY: UInt64
    /// The message, IVMS101 JSON, exactly as stored.
    public var ivms101: String
    /// When Kinko stored it (the batch's time); 0 until stored.
    public var recordedAt: TimestampNanoseconds

    /// The message of `event`, or nil when the event is not a transfer to or from another
    /// exchange (an unhosted wallet without travel-rule data, a trade, a login).
    public init?(_ event: MonitoringEvent, exchange: String) {
        guard event.kind == .withdrawal || event.kind == .deposit else { return nil }
        guard event.vasp != nil || event.vaspCountry != nil || event.originator != nil || event.beneficiary != nil else { return nil }
        let direction: Direction = event.kind == .withdrawal ? .sent : .received
        let ours = IVMS101.vasp(exchange, country: "JP")
        let theirs = event.vasp.map { IVMS101.vasp($0, country: event.vaspCountry) }
        let payload = IVMS101.Payload(
            originator: event.originator.map { IVMS101.Originator(originatorPersons: [IVMS101.person($0)], accountNumber: $0.account.map { [$0] }) },
            beneficiary: event.beneficiary.map { IVMS101.Beneficiary(beneficiaryPersons: [IVMS101.person($0)], accountNumber: $0.account.map { [$0] }) },
            originatingVASP: (direction == .sent ? ours : theirs).map { IVMS101.OriginatingVASP(originatingVASP: $0) },
            beneficiaryVASP: (direction == .sent ? theirs : ours).map { IVMS101.BeneficiaryVASP(beneficiaryVASP: $0) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(payload) else { return nil }
        self.init(event: event.id, customer: event.customer, time: event.time, direction: direction, counterpartyVASP: event.vasp,
                  counterpartyCountry: event.vaspCountry, asset: event.asset, amountJPY: event.amountJPY, ivms101: String(decoding: data, as: UTF8.self),
                  recordedAt: 0)
    }

    public init(event: String, customer: UInt64, time: TimestampNanoseconds, direction: Direction, counterpartyVASP: String?, counterpartyCountry: String?,
                asset: String?, amountJPY: UInt64, ivms101: String, recordedAt: TimestampNanoseconds) {
        self.event = event
        self.customer = customer
        self.time = time
        self.direction = direction
        self.counterpartyVASP = counterpartyVASP
        self.counterpartyCountry = counterpartyCountry
        self.asset = asset
        self.amountJPY = amountJPY
        self.ivms101 = ivms101
        self.recordedAt = recordedAt
    }

    /// The originator and beneficiary the message carries, read back from its IVMS101 form.
    public func parties() throws(KinkoError) -> (originator: TravelRuleParty?, beneficiary: TravelRuleParty?) {
        let payload: IVMS101.Payload
        do { payload = try JSONDecoder().decode(IVMS101.Payload.self, from: Data(ivms101.utf8)) } catch {
            throw KinkoError(.storageCorrupted, "the stored travel-rule message of \(event) is not IVMS101 JSON: \(error)", field: "ivms101")
        }
        return (payload.originator.map { IVMS101.party($0.originatorPersons.first, account: $0.accountNumber?.first) },
                payload.beneficiary.map { IVMS101.party($0.beneficiaryPersons.first, account: $0.accountNumber?.first) })
    }

    /// What the message lacks under the travel rule (the paths `TravelRule.missingFields`
    /// names); empty when complete.
    public func missing() throws(KinkoError) -> [String] {
        let (originator, beneficiary) = try parties()
        return TravelRule.missingFields(originator, role: "originator") + TravelRule.missingFields(beneficiary, role: "beneficiary")
    }

    /// The earliest day the message may go: its transfer's time plus the transaction-record
    /// period in years, counted as every retention period is (`RetentionPolicy.periodEnd`).
    public func keptUntil(years: Int) -> TimestampNanoseconds {
        RetentionPolicy.periodEnd(from: time, years: years)
    }
}

/// The subset of IVMS101 (interVASP Messaging Standard 101, JSON binding) a travel-rule message
/// carries: natural persons with a legal name, a geographic address, a national identifier and
/// a date and place of birth, their account numbers, and both exchanges as legal persons.
/// Written by hand: no Swift package implements IVMS101, and the subset is a few plain types.
enum IVMS101 {
    struct Payload: Codable, Equatable {
        var originator: Originator?
        var beneficiary: Beneficiary?
        var originatingVASP: OriginatingVASP?
        var beneficiaryVASP: BeneficiaryVASP?
    }

    struct Originator: Codable, Equatable {
        var originatorPersons: [Person]
        var accountNumber: [String]?
    }

    struct Beneficiary: Codable, Equatable {
        var beneficiaryPersons: [Person]
        var accountNumber: [String]?
    }

    struct OriginatingVASP: Codable, Equatable { var originatingVASP: Person }
    struct BeneficiaryVASP: Codable, Equatable { var beneficiaryVASP: Person }

    struct Person: Codable, Equatable {
        var naturalPerson: NaturalPerson?
        var legalPerson: LegalPerson?
    }

    struct NaturalPerson: Codable, Equatable {
        var name: NaturalPersonName?
        var geographicAddress: [Address]?
        var nationalIdentification: NationalIdentification?
        var dateAndPlaceOfBirth: DateAndPlaceOfBirth?
    }

    struct NaturalPersonName: Codable, Equatable { var nameIdentifier: [NameIdentifier] }

    struct NameIdentifier: Codable, Equatable {
        var primaryIdentifier: String
        /// `LEGL`: the legal name.
        var nameIdentifierType: String
    }

    struct Address: Codable, Equatable {
        /// `GEOG`: a residential or business address.
        var addressType: String
        var addressLine: [String]
        var country: String?
    }

    struct NationalIdentification: Codable, Equatable {
        var nationalIdentifier: String
        /// `MISC`: an identifier of a kind the event does not say.
        var nationalIdentifierType: String
    }

    struct DateAndPlaceOfBirth: Codable, Equatable {
        var dateOfBirth: String
        var placeOfBirth: String
    }

    struct LegalPerson: Codable, Equatable {
        var name: LegalPersonName
        var countryOfRegistration: String?
    }

    struct LegalPersonName: Codable, Equatable { var nameIdentifier: [LegalNameIdentifier] }

    struct LegalNameIdentifier: Codable, Equatable {
        var legalPersonName: String
        var legalPersonNameIdentifierType: String
    }

    static func person(_ party: TravelRuleParty) -> Person {
        let birth: DateAndPlaceOfBirth? = if let date = party.dateOfBirth, let place = party.placeOfBirth { DateAndPlaceOfBirth(dateOfBirth: date, placeOfBirth: place) } else { nil }
        return Person(naturalPerson: NaturalPerson(
            name: party.name.map { NaturalPersonName(nameIdentifier: [NameIdentifier(primaryIdentifier: $0, nameIdentifierType: "LEGL")]) },
            geographicAddress: party.geographicAddress.map { [Address(addressType: "GEOG", addressLine: [$0], country: nil)] },
            nationalIdentification: party.nationalID.map { NationalIdentification(nationalIdentifier: $0, nationalIdentifierType: "MISC") },
            dateAndPlaceOfBirth: birth), legalPerson: nil)
    }

    static func party(_ person: Person?, account: String?) -> TravelRuleParty {
        let natural = person?.naturalPerson
        return TravelRuleParty(name: natural?.name?.nameIdentifier.first?.primaryIdentifier, account: account,
                               geographicAddress: natural?.geographicAddress?.first?.addressLine.joined(separator: ", "),
                               nationalID: natural?.nationalIdentification?.nationalIdentifier, dateOfBirth: natural?.dateAndPlaceOfBirth?.dateOfBirth,
                               placeOfBirth: natural?.dateAndPlaceOfBirth?.placeOfBirth)
    }

    static func vasp(_ name: String, country: String?) -> Person {
        Person(naturalPerson: nil, legalPerson: LegalPerson(
            name: LegalPersonName(nameIdentifier: [LegalNameIdentifier(legalPersonName: name, legalPersonNameIdentifierType: "LEGL")]), countryOfRegistration: country))
    }
}

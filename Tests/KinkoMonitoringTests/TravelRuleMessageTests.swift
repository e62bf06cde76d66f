import Foundation
import KinkoCore
@testable import KinkoMonitoring
import Testing

@Suite("Travel-rule messages (IVMS101)")
struct TravelRuleMessageTests {
    let t0 = Stream.start
    let sato = TravelRuleParty(name: "Sato Hanako", account: "1001", geographicAddress: "1-1 Chiyoda, Tokyo", nationalID: "JP-123",
                               dateOfBirth: "1980-04-01", placeOfBirth: "Osaka")

    // Goal (issue 21, item 4): a withdrawal's message is IVMS101 JSON — persons as natural persons
    // with a legal name (LEGL), a geographic address (GEOG), a national identifier and a date and
    // place of birth, their account numbers, this exchange as the originating VASP and the other
    // as the beneficiary VASP — byte for byte, and reads back to the same parties.
    @Test func aWithdrawalsMessageIsIVMS101() throws {
        var event = MonitoringEvent(id: "w1", kind: .withdrawal, customer: 7, time: t0, asset: "BTC", amountJPY: 300_000, address: "bc1q",
                                    vasp: "Coinbase", vaspCountry: "US", originator: sato, beneficiary: TravelRuleParty(name: "John Smith", account: "cb-77"))
        let message = try #require(TravelRuleMessage(event, exchange: "Kinko demo exchange"))
        #expect(message.direction == .sent && message.event == "w1" && message.customer == 7 && message.amountJPY == 300_000)
        #expect(message.ivms101 == #"{"beneficiary":{"accountNumber":["cb-77"],"beneficiaryPersons":[{"naturalPerson":{"name":{"nameIdentifier":[{"nameIdentifierType":"LEGL","primaryIdentifier":"John Smith"}]}}}]},"#
            + #""beneficiaryVASP":{"beneficiaryVASP":{"legalPerson":{"countryOfRegistration":"US","name":{"nameIdentifier":[{"legalPersonName":"Coinbase","legalPersonNameIdentifierType":"LEGL"}]}}}},"#
            + #""originatingVASP":{"originatingVASP":{"legalPerson":{"countryOfRegistration":"JP","name":{"nameIdentifier":[{"legalPersonName":"Kinko demo exchange","legalPersonNameIdentifierType":"LEGL"}]}}}},"#
            + #""originator":{"accountNumber":["1001"],"originatorPersons":[{"naturalPerson":{"dateAndPlaceOfBirth":{"dateOfBirth":"1980-04-01","placeOfBirth":"Osaka"},"#
            + #""geographicAddress":[{"addressLine":["1-1 Chiyoda, Tokyo"],"addressType":"GEOG"}],"name":{"nameIdentifier":[{"nameIdentifierType":"LEGL","primaryIdentifier":"Sato Hanako"}]},"#
            + #""nationalIdentification":{"nationalIdentifier":"JP-123","nationalIdentifierType":"MISC"}}}]}}"#)
        let (originator, beneficiary) = try message.parties()
        #expect(originator == sato && beneficiary == TravelRuleParty(name: "John Smith", account: "cb-77"))
        #expect(try message.missing() == ["beneficiary.geographic_address|national_id|date_and_place_of_birth"])

        // A deposit's: the other exchange originated it, this one is the beneficiary's.
        event.kind = .deposit
        let received = try #require(TravelRuleMessage(event, exchange: "Kinko demo exchange"))
        #expect(received.direction == .received)
        #expect(received.ivms101.contains(#""originatingVASP":{"originatingVASP":{"legalPerson":{"countryOfRegistration":"US","name":{"nameIdentifier":[{"legalPersonName":"Coinbase""#))
        #expect(received.ivms101.contains(#""beneficiaryVASP":{"beneficiaryVASP":{"legalPerson":{"countryOfRegistration":"JP","name":{"nameIdentifier":[{"legalPersonName":"Kinko demo exchange""#))
    }

    // Goal: only transfers to or from another exchange, or carrying travel-rule data, leave a
    // message; a message with no data at all lacks every party.
    @Test func onlyTransfersWithAnExchangeOrDataLeaveAMessage() throws {
        let unhosted = MonitoringEvent(id: "w2", kind: .withdrawal, customer: 7, time: t0, amountJPY: 1, address: "bc1q", unhosted: true)
        #expect(TravelRuleMessage(unhosted, exchange: "X") == nil)
        #expect(TravelRuleMessage(MonitoringEvent(id: "t", kind: .trade, customer: 7, time: t0, amountJPY: 1, vasp: "X"), exchange: "X") == nil)
        let bare = try #require(TravelRuleMessage(MonitoringEvent(id: "w3", kind: .withdrawal, customer: 7, time: t0, amountJPY: 1, address: "a", vasp: "Upbit"),
                                                  exchange: "X"))
        #expect(try bare.missing() == ["originator", "beneficiary"] && bare.counterpartyCountry == nil)
        let corrupt = TravelRuleMessage(event: "w4", customer: 7, time: t0, direction: .sent, counterpartyVASP: nil, counterpartyCountry: nil, asset: nil,
                                        amountJPY: 1, ivms101: "not json", recordedAt: 1)
        #expect(throws: KinkoError.self) { try corrupt.parties() }
    }

    // Goal: kept for the transaction-record period from the transfer's time, leap days counted,
    // and never past the end of time.
    @Test func keptForTheRetentionPeriod() throws {
        let day = try TimestampNanoseconds.startOfDayJST("2026-12-03", field: "t")
        let message = TravelRuleMessage(event: "e", customer: 1, time: day, direction: .sent, counterpartyVASP: nil, counterpartyCountry: nil, asset: nil,
                                         amountJPY: 0, ivms101: "{}", recordedAt: day)
        #expect(message.keptUntil(years: 7).jstDay == "2033-12-03" && message.keptUntil(years: 10).jstDay == "2036-12-03")
        var late = message
        late.time = .max - 1
        #expect(late.keptUntil(years: 7) == .max)
    }

    // Goal: a party's field and a VASP's name are at most 500 characters in an ingested event,
    // naming the field; at the limit they pass.
    @Test func partyFieldsAreAtMost500Characters() throws {
        func line(_ name: String, vasp: String = "V") -> String {
            #"{"id":"w","kind":"withdrawal","customer":1,"time":"2026-11-22T00:00:00Z","amount_jpy":1,"address":"a","vasp":"\#(vasp)","originator":{"name":"\#(name)"}}"#
        }
        let atLimit = String(repeating: "あ", count: TravelRuleParty.fieldLengthMax)
        #expect(EventInput.parse(line(atLimit)).events.first?.event.originator?.name == atLimit)
        let over = EventInput.parse(line(atLimit + "あ")).rejected.first
        #expect(over?.field == "originator.name" && over?.message == "is at most 500 characters; got 501")
        #expect(EventInput.parse(line("A", vasp: atLimit + "x")).rejected.first?.field == "vasp")
        #expect(EventInput.parse(#"{"id":"w","kind":"withdrawal","customer":1,"time":"2026-11-22T00:00:00Z","amount_jpy":1,"address":"a","originator":{"name":5}}"#)
            .rejected.first?.field == "originator.name")
    }
}

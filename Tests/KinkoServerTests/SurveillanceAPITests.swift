import Foundation
import HTTPTypes
import KinkoCore
import KinkoGovernance
import KinkoPlaybook
import KinkoServer
import KinkoSurveillance
import Testing

/// The matching engine's pre-trade check over HTTP, under the insider list compliance adopted.
@Suite("Pre-trade check over HTTP")
struct SurveillanceAPITests {
    static let list = """
        version: insiders-test
        pre_clearance_required: false
        staff: ["A-STAFF"]
        households:
          - ["A-STAFF", "A-SPOUSE"]
        restricted:
          - {account: "A-DEAL", market: "XYZ/JPY", from: 1000, to: 2000, reason: "deal team for AN1"}
        blackouts:
          - {market: "KBT/JPY", from: 5000, to: 9000, reason: "AN2: listing elsewhere"}
        pre_clearances: []

        """

    @Test("refuses the restricted list and a blackout's staff and household, allows the rest, and names the list it used")
    func decisions() async throws {
        let f = try await ServerFixture()
        let before = try await f.call(.post, "/v1/surveillance/pretrade", as: .operator, json: #"{"account":"A-DEAL","market":"XYZ/JPY","side":"buy","time":1500}"#)
        #expect(before.status == .notFound)
        // Compliance proposes, a second compliance officer approves, then it is adopted.
        let compliance = try #require(f.callers[.compliance])
        let (_, request) = try await f.services.surveillance.insiderLists.propose(yaml: Self.list, by: compliance)
        try await f.secondCompliance.approve(request.id, in: f.services.governance)
        _ = try await f.services.surveillance.insiderLists.adopt(version: "insiders-test", by: compliance)

        func ask(_ account: String, _ market: String, _ time: Int) async throws -> [String: Any] {
            let answer = try await f.call(.post, "/v1/surveillance/pretrade", as: .operator,
                                          json: #"{"account":"\#(account)","market":"\#(market)","side":"buy","time":\#(time)}"#)
            #expect(answer.status == .ok, "\(answer.text)")
            return answer.json
        }
        // Adoption is seen within the refresh period (the 404 above loaded nothing).
        let deal = try await ask("A-DEAL", "XYZ/JPY", 1500)
        #expect(deal["allowed"] as? Bool == false)
        #expect(deal["reason"] as? String == "restricted_list")
        #expect(deal["insider_list_version"] as? String == "insiders-test")
        #expect(try await ask("A-DEAL", "XYZ/JPY", 2001)["allowed"] as? Bool == true)
        #expect(try await ask("A-STAFF", "KBT/JPY", 5000)["reason"] as? String == "blackout")
        #expect(try await ask("A-SPOUSE", "KBT/JPY", 9000)["reason"] as? String == "linked_to_employee_in_blackout")
        #expect(try await ask("A-OTHER", "KBT/JPY", 6000)["allowed"] as? Bool == true)
    }

    @Test("only the operator's service token may ask; a bad side is named")
    func permissionsAndInput() async throws {
        let f = try await ServerFixture()
        let forbidden = try await f.call(.post, "/v1/surveillance/pretrade", as: .compliance, json: #"{"account":"A","market":"XYZ/JPY","side":"buy"}"#)
        #expect(forbidden.status == .forbidden)
        let bad = try await f.call(.post, "/v1/surveillance/pretrade", as: .operator, json: #"{"account":"A","market":"XYZ/JPY","side":"short"}"#)
        #expect(bad.status == .badRequest)
    }
}

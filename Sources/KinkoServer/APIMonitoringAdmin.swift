import Foundation
import KinkoCore
import KinkoGovernance
import KinkoMonitoring
import OpenAPIRuntime

/// Monitoring administration: rule sets, sanctions and stolen-address lists, travel-rule
/// jurisdictions and KYC profiles, as `kinko monitor rules|lists|jurisdictions|customers`.
extension KinkoAPI {
    var monitoring: Monitoring { services.monitoring }

    func listMonitoringRuleSets(_ input: Operations.ListMonitoringRuleSets.Input) async throws -> Operations.ListMonitoringRuleSets.Output {
        .ok(.init(body: .json(try await ruleSetViews(monitoring.ruleSets))))
    }

    func proposeMonitoringRules(_ input: Operations.ProposeMonitoringRules.Input) async throws -> Operations.ProposeMonitoringRules.Output {
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        return .created(.init(body: .json(try await proposeRuleSet(monitoring.ruleSets, body))))
    }

    func adoptMonitoringRules(_ input: Operations.AdoptMonitoringRules.Input) async throws -> Operations.AdoptMonitoringRules.Output {
        .ok(.init(body: .json(try await adoptRuleSet(monitoring.ruleSets, version: input.path.version))))
    }

    static func listView(_ list: AddressList) -> Components.Schemas.AddressList {
        .init(kind: list.kind.rawValue, asset: list.asset, version: list.version, addresses: list.addresses.count)
    }

    func listAddressLists(_ input: Operations.ListAddressLists.Input) async throws -> Operations.ListAddressLists.Output {
        .ok(.init(body: .json(.init(lists: try await monitoring.addressLists(by: try caller()).map(Self.listView)))))
    }

    func importAddressList(_ input: Operations.ImportAddressList.Input) async throws -> Operations.ImportAddressList.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        let list = try AddressList(kind: body.kind == .sanctioned ? .sanctioned : .stolen, asset: body.asset, version: body.version, text: body.text)
        return .accepted(.init(body: .json(try await approvalView(try await monitoring.proposeList(list, by: caller)))))
    }

    func activateAddressList(_ input: Operations.ActivateAddressList.Input) async throws -> Operations.ActivateAddressList.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        let request = try ApprovalRequestID(parsing: body.request, field: "request")
        let list = try AddressList(kind: body.kind == .sanctioned ? .sanctioned : .stolen, asset: body.asset, version: body.version, text: body.text)
        try await monitoring.activateList(list, request: request, by: caller)
        return .ok(.init(body: .json(Self.listView(list))))
    }

    func jurisdictionsView(_ list: TravelRuleJurisdictions) -> Components.Schemas.Jurisdictions {
        .init(version: list.version, countries: list.countries(at: services.clock.now()).sorted(),
              designations: list.designations.map { .init(country: $0.country, from: $0.from, until: $0.until) })
    }

    func getJurisdictions(_ input: Operations.GetJurisdictions.Input) async throws -> Operations.GetJurisdictions.Output {
        .ok(.init(body: .json(jurisdictionsView(try await monitoring.jurisdictions(by: try caller())))))
    }

    func setJurisdictions(_ input: Operations.SetJurisdictions.Input) async throws -> Operations.SetJurisdictions.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        let tokens: [String]
        switch (body.countries, body.designations) {
        case (let countries?, nil): tokens = countries
        case (nil, let designations?): tokens = designations.map { TravelRuleJurisdictions.Designation.token(country: $0.country, from: $0.from, until: $0.until) }
        default: throw KinkoError(.invalidInput, "give either countries (undated) or designations (dated), not both or neither", field: "designations")
        }
        let list = try TravelRuleJurisdictions(version: body.version, tokens: tokens)
        return .accepted(.init(body: .json(try await approvalView(try await monitoring.proposeJurisdictions(list, by: caller)))))
    }

    func activateJurisdictions(_ input: Operations.ActivateJurisdictions.Input) async throws -> Operations.ActivateJurisdictions.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        let list = try await monitoring.activateJurisdictions(request: try ApprovalRequestID(parsing: body.request, field: "request"), by: caller)
        return .ok(.init(body: .json(jurisdictionsView(list))))
    }

    func listTravelRuleMessages(_ input: Operations.ListTravelRuleMessages.Input) async throws -> Operations.ListTravelRuleMessages.Output {
        let caller = try caller()
        let query = input.query
        let messages: [TravelRuleMessage]
        switch (query.event, query.customer) {
        case (let event?, nil):
            guard query.after == nil else { throw KinkoError(.invalidInput, "after pages a customer's messages; with event there is one", field: "after") }
            messages = [try await monitoring.travelRuleMessage(event: event, by: caller)]
        case (nil, let customer?):
            messages = try await monitoring.travelRuleMessages(customer: try Self.uint64(customer, field: "customer"), after: query.after,
                                                               limit: try Self.page(query.limit), by: caller)
        default: throw KinkoError(.invalidInput, "give either event (one transfer's message) or customer (their messages)", field: "event")
        }
        let years = try await monitoring.transactionRetentionYears()
        return .ok(.init(body: .json(.init(messages: try messages.map { m in
            .init(event: m.event, customer: String(m.customer), time: m.time.iso8601, direction: m.direction == .sent ? .sent : .received,
                  vasp: m.counterpartyVASP, vaspCountry: m.counterpartyCountry, asset: m.asset, amountJpy: String(m.amountJPY),
                  recordedAt: m.recordedAt.iso8601, keptUntil: m.keptUntil(years: years).jstDay, missing: try m.missing(), ivms101: m.ivms101)
        }))))
    }

    func importProfiles(_ input: Operations.ImportProfiles.Input) async throws -> Operations.ImportProfiles.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        return .ok(.init(body: .json(.init(recorded: try await monitoring.importProfiles(csv: body.csv, by: caller)))))
    }
}

import Foundation
import KinkoCore
import KinkoGovernance
import KinkoLedger
import OpenAPIRuntime

/// Ledger administration, governance (principals, roles, tokens, keys, execution) and audit
/// proofs: the same domain calls as `kinko ledger`, `kinko governance` and `kinko audit`.
extension KinkoAPI {
    // MARK: Ledger administration

    func registerAsset(_ input: Operations.RegisterAsset.Input) async throws -> Operations.RegisterAsset.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        guard let scale = UInt8(exactly: body.scale) else { throw KinkoError(.invalidInput, "must be 0–38", field: "scale") }
        guard let number = UInt32(exactly: body.ledger) else { throw KinkoError(.invalidInput, "must be 1–4294967295", field: "ledger") }
        let kind: Asset.Kind = body.kind == .crypto ? .crypto : .fiat
        let asset = try Asset(code: body.code, scale: scale, kind: kind, ledger: number)
        try await ledger.registerAssets([asset], by: caller)
        return .created(.init(body: .json(.init(code: asset.code, ledger: Int(asset.ledger), scale: Int(asset.scale), kind: asset.kind.rawValue))))
    }

    func verifyLedger(_ input: Operations.VerifyLedger.Input) async throws -> Operations.VerifyLedger.Output {
        let report = try await services.ledgerService.verify(full: input.query.full ?? false, by: try caller())
        return .ok(.init(body: .json(.init(ok: report.isValid, accounts: report.accounts, batches: Int(report.batches), transfers: report.transfers,
                                           problems: report.problems))))
    }

    func pulseLedger(_ input: Operations.PulseLedger.Input) async throws -> Operations.PulseLedger.Output {
        let caller = try caller()
        let expired = try await services.ledgerService.pulse(by: caller)
        return .ok(.init(body: .json(.init(expired: expired.map(\.description)))))
    }

    // MARK: Principals and roles

    static func principalView(_ p: Principal) -> Components.Schemas.Principal {
        .init(id: p.id.description, name: p.name, kind: p.kind.rawValue, roles: p.roles.sorted().map(\.rawValue))
    }

    func principal(named name: String, field: String = "name") async throws -> Principal {
        do {
            return try await governance.principal(named: name, by: try caller())
        } catch let error as KinkoError where error.code == .notFound {
            throw KinkoError(.notFound, error.message, field: field)
        }
    }

    func tokenView(_ record: TokenRecord, secret: String, name: String) -> Components.Schemas.IssuedToken {
        .init(id: String(record.id), principal: name, expiresAt: record.expiresAt?.iso8601, token: secret,
              status: record.status == .active ? .active : .awaitingApproval, request: record.requestID?.description)
    }

    func enrolmentView(_ code: String, principal: Principal, lifetimeSeconds: UInt64) -> Components.Schemas.Enrolment {
        .init(principal: principal.name, code: code, expiresAt: (governance.clock.now() + lifetimeSeconds * 1_000_000_000).iso8601)
    }

    func createPrincipal(_ input: Operations.CreatePrincipal.Input) async throws -> Operations.CreatePrincipal.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        let kind: PrincipalKind = body.kind == .client ? .client : .person
        let principal = try await governance.createPrincipal(name: body.name, kind: kind, by: caller)
        let code = try await governance.createEnrolment(for: principal.id, by: caller)
        return .created(.init(body: .json(.init(principal: Self.principalView(principal),
                                                enrolment: enrolmentView(code, principal: principal, lifetimeSeconds: Enrolment.lifetimeSecondsDefault)))))
    }

    func createEnrolment(_ input: Operations.CreateEnrolment.Input) async throws -> Operations.CreateEnrolment.Output {
        let caller = try caller()
        var hours: UInt64 = Enrolment.lifetimeSecondsDefault / 3_600
        if let asked = input.query.hours {
            guard (1...Int(Enrolment.lifetimeSecondsMax / 3_600)).contains(asked) else {
                throw KinkoError(.limitExceeded, "must be 1–\(Enrolment.lifetimeSecondsMax / 3_600)", field: "hours")
            }
            hours = UInt64(asked)
        }
        let target = try await principal(named: input.path.name)
        let code = try await governance.createEnrolment(for: target.id, lifetimeSeconds: hours * 3_600, by: caller)
        return .created(.init(body: .json(enrolmentView(code, principal: target, lifetimeSeconds: hours * 3_600))))
    }

    func redeemEnrolment(_ input: Operations.RedeemEnrolment.Input) async throws -> Operations.RedeemEnrolment.Output {
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        let days = try body.days.map(Self.tokenDays)
        let (record, secret, holder) = try await governance.redeemEnrolment(code: body.code, lifetimeSeconds: days.map { $0 * 86_400 })
        return .created(.init(body: .json(tokenView(record, secret: secret, name: holder.name))))
    }

    static func tokenDays(_ days: Int) throws(KinkoError) -> UInt64 {
        guard (1...400).contains(days) else { throw KinkoError(.limitExceeded, "must be 1–400", field: "days") }
        return UInt64(days)
    }

    func grantRole(_ input: Operations.GrantRole.Input) async throws -> Operations.GrantRole.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        let role = try Role(parsing: body.role)
        let target = try await principal(named: input.path.name)
        let request = try await governance.grantRole(role, to: target.id, by: caller)
        return .ok(.init(body: .json(.init(outcome: .pending, principal: Self.principalView(target), request: try await approvalView(request)))))
    }

    func revokeRole(_ input: Operations.RevokeRole.Input) async throws -> Operations.RevokeRole.Output {
        let caller = try caller()
        let role = try Role(parsing: input.path.role)
        let target = try await principal(named: input.path.name)
        try await governance.revokeRole(role, from: target.id, by: caller)
        return .ok(.init(body: .json(Self.principalView(try await principal(named: target.name)))))
    }

    func dutiesReport(_ input: Operations.DutiesReport.Input) async throws -> Operations.DutiesReport.Output {
        let conflicts = try await governance.dutiesReport(by: try caller())
        return .ok(.init(body: .json(.init(pairsChecked: governance.duties.conflicts.count, conflicts: conflicts.map {
            .init(principal: $0.principal.name, roles: [$0.conflict.first.rawValue, $0.conflict.second.rawValue], reason: $0.conflict.reason)
        }))))
    }

    func listPermissions(_ input: Operations.ListPermissions.Input) async throws -> Operations.ListPermissions.Output {
        let table = try await governance.permissionTable(by: try caller())
        return .ok(.init(body: .json(.init(permissions: Permission.allCases.map {
            .init(permission: $0.rawValue, roles: (table.roles[$0] ?? []).sorted().map(\.rawValue))
        }))))
    }

    // MARK: Tokens and keys

    func issueToken(_ input: Operations.IssueToken.Input) async throws -> Operations.IssueToken.Output {
        let caller = try caller()
        let days = try input.query.days.map(Self.tokenDays)
        let (record, secret) = try await governance.issueOwnToken(lifetimeSeconds: days.map { $0 * 86_400 }, by: caller)
        return .created(.init(body: .json(tokenView(record, secret: secret, name: caller.name))))
    }

    func listOwnTokens(_ input: Operations.ListOwnTokens.Input) async throws -> Operations.ListOwnTokens.Output {
        let tokens = try await governance.ownTokens(by: try caller())
        return .ok(.init(body: .json(.init(tokens: tokens.map {
            .init(id: String($0.id), fingerprint: $0.fingerprint, status: $0.status == .active ? .active : .awaitingApproval,
                  createdAt: $0.createdAt.iso8601, expiresAt: $0.expiresAt?.iso8601, revokedAt: $0.revokedAt?.iso8601,
                  request: $0.requestID?.description)
        }))))
    }

    func revokeToken(_ input: Operations.RevokeToken.Input) async throws -> Operations.RevokeToken.Output {
        let caller = try caller()
        var owner: PrincipalID?
        if let name = input.query.principal { owner = try await principal(named: name, field: "principal").id }
        try await governance.revokeToken(try Self.uint64(input.path.id, field: "id"), of: owner, by: caller)
        return .noContent(.init())
    }

    func keyView(_ key: SignerKey, names: [PrincipalID: String]) -> Components.Schemas.SignerKey {
        .init(id: key.id, principal: names[key.principal] ?? key.principal.description, algorithm: key.algorithm.rawValue,
              registeredAt: key.registeredAt.iso8601, revokedAt: key.revokedAt?.iso8601,
              status: key.status == .active ? .active : .awaitingApproval, request: key.requestID?.description)
    }

    func principalNames() async throws -> [PrincipalID: String] {
        try await governance.principalNames(by: try caller())
    }

    func listKeys(_ input: Operations.ListKeys.Input) async throws -> Operations.ListKeys.Output {
        let caller = try caller()
        let keys = try await governance.keys(by: caller)
        let names = try await principalNames()
        return .ok(.init(body: .json(.init(keys: keys.map { keyView($0, names: names) }))))
    }

    func registerKey(_ input: Operations.RegisterKey.Input) async throws -> Operations.RegisterKey.Output {
        let caller = try caller()
        guard case .json(let body) = input.body else { throw KinkoError(.invalidInput, "send JSON", field: "body") }
        let key = try await governance.registerKey(
            algorithm: try SignatureAlgorithm(parsing: body.algorithm.rawValue), publicKey: try Hex.decode(body.publicKey, field: "public_key"),
            proof: try Hex.decode(body.proof, field: "proof"), by: caller)
        return .created(.init(body: .json(keyView(key, names: [caller.principal: caller.name]))))
    }

    func revokeKey(_ input: Operations.RevokeKey.Input) async throws -> Operations.RevokeKey.Output {
        let request = try await governance.revokeKey(input.path.id, by: try caller())
        return .accepted(.init(body: .json(try await approvalView(request))))
    }

    func executeRequest(_ input: Operations.ExecuteRequest.Input) async throws -> Operations.ExecuteRequest.Output {
        let caller = try caller()
        let id = try ApprovalRequestID(parsing: input.path.id, field: "id")
        try await governance.execute(id, by: caller)
        return .ok(.init(body: .json(try await approvalView(try await governance.request(id, by: caller)))))
    }

    // MARK: Audit proofs

    static func checkpointView(_ c: AuditCheckpoint) -> Components.Schemas.Checkpoint {
        .init(size: String(c.size), root: Hex.encode(c.root), time: String(c.time), keyId: Hex.encode(c.keyID), signature: Hex.encode(c.signature))
    }

    func listCheckpoints(_ input: Operations.ListCheckpoints.Input) async throws -> Operations.ListCheckpoints.Output {
        .ok(.init(body: .json(.init(checkpoints: try await governance.checkpoints(by: try caller()).map(Self.checkpointView)))))
    }

    /// The proof documents are canonical JSON built in the domain; they decode into the
    /// generated types, so what the API serves is byte-for-byte what the CLI prints.
    static func decode<T: Decodable>(_ json: CanonicalJSON, as type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: Data(json.bytes))
    }

    func inclusionProof(_ input: Operations.InclusionProof.Input) async throws -> Operations.InclusionProof.Output {
        let proof = try await governance.inclusionProof(entry: input.query.entry, size: input.query.size, by: try caller())
        return .ok(.init(body: .json(try Self.decode(proof, as: Operations.InclusionProof.Output.Ok.Body.JsonPayload.self))))
    }

    func consistencyProof(_ input: Operations.ConsistencyProof.Input) async throws -> Operations.ConsistencyProof.Output {
        let proof = try await governance.consistencyProof(from: input.query.from, to: input.query.to, by: try caller())
        return .ok(.init(body: .json(try Self.decode(proof, as: Operations.ConsistencyProof.Output.Ok.Body.JsonPayload.self))))
    }
}

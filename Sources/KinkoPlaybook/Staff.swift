public import KinkoCore
public import KinkoGovernance

/// One person (or client system) with credentials of their own: the token they redeemed and
/// the signing key they registered.
public struct Member: Sendable {
    public var caller: Caller
    public var token: String
    public var key: LocalSigningKey?

    public var name: String { caller.name }

    /// Signs `request` with this member's key and records the approval.
    @discardableResult
    public func approve(_ request: ApprovalRequestID, in governance: Governance) async throws -> ApprovalEvaluation {
        guard let key else { throw KinkoError(.notFound, "\(name) has no signing key", field: "key") }
        let stored = try await governance.requireRequest(request)
        return try await governance.approve(request, keyID: SignerKey.id(of: try key.publicKey()), signature: try key.sign(stored.digest), by: caller)
    }

    public init(caller: Caller, token: String, key: LocalSigningKey? = nil) {
        self.caller = caller
        self.token = token
        self.key = key
    }
}

/// The multi-person sequences that bring people on, scripted for the demo, the tools and the
/// tests. Every step is taken by the person it belongs to, with that person's own credentials:
/// the first admin creates and enrols, the newcomer redeems and registers, the second admin
/// approves. Nothing here reaches around `Governance`.
public struct Staff: Sendable {
    public let governance: Governance
    /// At least two: `admins[0]` files, `admins[1]` approves.
    public let admins: [Member]

    /// `kinko init` with two (or more) admins: each redeems their bootstrap enrolment and
    /// registers a first key, which needs no approval (there is nobody to give it yet).
    public static func found(_ governance: Governance, admins names: [String] = ["first.admin", "second.admin"],
                             algorithm: SignatureAlgorithm = .ed25519) async throws -> Staff {
        var admins: [Member] = []
        for (principal, code) in try await governance.bootstrap(adminNames: names) {
            let (_, token, _) = try await governance.redeemEnrolment(code: code)
            let caller = try await governance.authenticate(token: token)
            precondition(caller.principal == principal.id, "enrolment of \(principal.name) redeemed as \(caller.name)")
            let key = LocalSigningKey.generate(algorithm)
            _ = try await Self.register(key, for: caller, in: governance)
            admins.append(Member(caller: caller, token: token, key: key))
        }
        return Staff(governance: governance, admins: admins)
    }

    /// Brings on a principal holding `roles`: the first admin creates it and asks for each role,
    /// the second approves and the first executes; then the first enrols it, the newcomer
    /// redeems the code and registers a key of their own, and the second admin approves the
    /// token and the key where the roles make them wait.
    public func hire(_ name: String, kind: PrincipalKind = .person, roles: [Role], key algorithm: SignatureAlgorithm? = .ed25519) async throws -> Member {
        guard admins.count >= 2 else { throw KinkoError(.conflict, "hiring needs two admins; found \(admins.count)") }
        let (maker, checker) = (admins[0], admins[1])
        let principal = try await governance.createPrincipal(name: name, kind: kind, by: maker.caller)
        for role in roles {
            let request = try await governance.grantRole(role, to: principal.id, by: maker.caller)
            try await checker.approve(request.id, in: governance)
            try await governance.execute(request.id, by: maker.caller)
        }
        let code = try await governance.createEnrolment(for: principal.id, by: maker.caller)
        let (record, token, _) = try await governance.redeemEnrolment(code: code)
        if let request = record.requestID { try await checker.approve(request, in: governance) }
        let caller = try await governance.authenticate(token: token)
        var key: LocalSigningKey?
        if let algorithm {
            let generated = LocalSigningKey.generate(algorithm)
            let registered = try await Self.register(generated, for: caller, in: governance)
            if let request = registered.requestID { try await checker.approve(request, in: governance) }
            key = generated
        }
        return Member(caller: caller, token: token, key: key)
    }

    /// Registers `key` for `caller` with the proof of possession.
    public static func register(_ key: LocalSigningKey, for caller: Caller, in governance: Governance) async throws -> SignerKey {
        let publicKey = try key.publicKey()
        let proof = try key.sign(SignerKey.registrationMessage(principal: caller.principal, algorithm: key.algorithm, publicKey: publicKey))
        return try await governance.registerKey(algorithm: key.algorithm, publicKey: publicKey, proof: proof, by: caller)
    }

    public init(governance: Governance, admins: [Member]) {
        self.governance = governance
        self.admins = admins
    }
}

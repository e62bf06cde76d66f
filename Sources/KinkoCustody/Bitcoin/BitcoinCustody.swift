import Foundation
public import KinkoBitcoin
public import KinkoCore
public import KinkoGovernance
import KinkoLedger

/// Bitcoin custody on chain: signers' extended public keys registered with proof of
/// possession; wallets as `wsh(sortedmulti(…))` descriptors adopted under approval, with keys
/// no one person and no one vendor can sign with alone; customers' deposit addresses; the
/// wallet's unspent outputs; and a released movement carried out as a PSBT the signers sign
/// offline, completed when its txid is observed. Kinko holds no private key.
public struct BitcoinCustody: Sendable {
    public let custody: Custody
    public let settings: BitcoinSettings

    public static let asset = "BTC"
    public static let chain = "bitcoin"
    public static let walletAction = "custody.bitcoin.wallet.adopt"
    /// Observed outputs one import may carry.
    public static let importMax = 100_000
    /// Customer ids are 1–64 letters, digits, `.`, `-`, `_`.
    public static let customerLengthMax = 64

    public init(custody: Custody, settings: BitcoinSettings = BitcoinSettings()) {
        self.custody = custody
        self.settings = settings
    }

    var governance: Governance { custody.governance }
    var clock: any WallClock { custody.clock }
    var challenges: RecordCollection<XpubChallenge> { RecordCollection(XpubChallenge.collection, store: governance.store) }
    var xpubRecords: RecordCollection<RegisteredXpub> { RecordCollection(RegisteredXpub.collection, store: governance.store) }
    var walletRecords: RecordCollection<BitcoinWalletRecord> { RecordCollection(BitcoinWalletRecord.collection, store: governance.store) }
    var addressRecords: RecordCollection<BitcoinAddressRecord> { RecordCollection(BitcoinAddressRecord.collection, store: governance.store) }
    var utxoRecords: RecordCollection<TrackedUTXO> { RecordCollection(TrackedUTXO.collection, store: governance.store) }
    var psbtRecords: RecordCollection<MovementPSBT> { RecordCollection(MovementPSBT.collection, store: governance.store) }

    // MARK: Keys

    /// A fresh challenge for the caller (a signer) to sign with the key they will register.
    public func issueChallenge(by caller: Caller) async throws -> XpubChallenge {
        let role = try await governance.authorize(caller, .custodyBitcoinKeysRegister)
        let settings = try settings.validated()
        let now = clock.now()
        let challenge = XpubChallenge(challenge: TokenSecret.randomHex(bytes: 32), principal: caller.principal.description, issuedAt: now,
                                      expiresAt: now + settings.challengeSeconds * 1_000_000_000, usedAt: nil)
        let digest = Governance.digest(["challenge": .string(challenge.challenge)])
        guard try await governance.store.write(
            [try challenges.insert(challenge.challenge, challenge, tag: challenge.principal)], at: now,
            audit: caller.event(.custodyBitcoinKeysRegister, role: role, digest: digest, result: "challenge_issued",
                                details: ["expires_at": challenge.expiresAt.iso8601]))
        else { throw KinkoError(.conflict, "the challenge could not be stored; ask again") }
        return challenge
    }

    /// Files the caller's own `[fingerprint/path]xpub`: `signature` is the key at that path
    /// signing the challenge Kinko issued to the caller (`XpubProof`). `vendor` names the wallet
    /// software or device that holds the private key, from the vendor register.
    public func registerXpub(key: String, challenge: String, signature: [UInt8], vendor: String, by caller: Caller) async throws -> RegisteredXpub {
        let digest = Governance.digest(["key": .string(key), "challenge": .string(challenge), "vendor": .string(vendor)])
        let role = try await governance.authorize(caller, .custodyBitcoinKeysRegister, digest: digest)
        func refuse(_ error: KinkoError) async throws -> KinkoError {
            try await governance.refused(error, by: caller, role: role, .custodyBitcoinKeysRegister, digest: digest, details: ["key": String(key.prefix(200))])
        }
        guard let issued = try await challenges.get(challenge), issued.value.principal == caller.principal.description else {
            throw try await refuse(KinkoError(.invalidInput, "Kinko issued no such challenge to \(caller.name); ask for one first", field: "challenge"))
        }
        let now = clock.now()
        guard issued.value.usedAt == nil else { throw try await refuse(KinkoError(.conflict, "the challenge was used already; ask for a new one", field: "challenge")) }
        guard now <= issued.value.expiresAt else {
            throw try await refuse(KinkoError(.invalidInput, "the challenge expired at \(issued.value.expiresAt.iso8601); ask for a new one", field: "challenge"))
        }
        let parsed: (fingerprint: [UInt8], path: DerivationPath, xpub: ExtendedKey)
        do {
            try XpubProof.verify(keyExpression: key, challenge: challenge, signature: signature)
            parsed = try XpubProof.parse(keyExpression: key)
        } catch {
            throw try await refuse(error)
        }
        guard try await custody.store.vendors().contains(where: { $0.name == vendor }) else {
            throw try await refuse(KinkoError(.notFound, "\(vendor) is not in the vendor register", field: "vendor"))
        }
        let id = XpubProof.keyID(fingerprint: parsed.fingerprint, path: parsed.path)
        let serialized = parsed.xpub.serialized
        if let taken = try await allXpubs().first(where: { $0.id == id || XpubProof.serializedXpub(of: $0.key) == serialized }) {
            throw try await refuse(KinkoError(.conflict, "this key is registered already (\(taken.id), by \(taken.principalName))", field: "key"))
        }
        let record = RegisteredXpub(id: id, key: key, principal: caller.principal.description, principalName: caller.name, vendor: vendor,
                                    testNetworks: parsed.xpub.isTestVersion, registeredAt: now, challenge: challenge)
        var used = issued.value
        used.usedAt = now
        guard try await governance.store.write(
            [try xpubRecords.insert(id, record, tag: record.principal), try challenges.update(issued, to: used, tag: used.principal)], at: now,
            audit: caller.event(.custodyBitcoinKeysRegister, role: role, digest: digest, result: "registered", details: ["key": id, "vendor": vendor]))
        else {
            throw KinkoError(.conflict, "the challenge or the key changed meanwhile; ask for a new challenge", field: "challenge")
        }
        return record
    }

    /// Every registered key (readers of custody).
    public func xpubs(by caller: Caller) async throws -> [RegisteredXpub] {
        _ = try await governance.authorize(caller, .custodyRead)
        return try await allXpubs()
    }

    func allXpubs() async throws -> [RegisteredXpub] { try await xpubRecords.all().map(\.value) }

    // MARK: Wallets

    /// Files `descriptor` as the Bitcoin wallet of custody wallet `walletID`, for its signers
    /// to approve. Refused, naming every reason, when a key is not registered, when fewer than
    /// m people or one vendor could sign alone, or when the tier asks for more keys.
    public func proposeWallet(_ walletID: String, descriptor text: String, network: BitcoinNetwork, tier: BitcoinTier,
                              by caller: Caller) async throws -> (BitcoinWalletRecord, ApprovalRequest) {
        let digest = Governance.digest(["wallet": .string(walletID), "descriptor": .string(text), "network": .string(network.rawValue), "tier": .string(tier.rawValue)])
        let role = try await governance.authorize(caller, .custodyWalletsManage, digest: digest)
        func refuse(_ error: KinkoError) async throws -> KinkoError {
            try await governance.refused(error, by: caller, role: role, .custodyWalletsManage, digest: digest, details: ["wallet": walletID])
        }
        let settings = try settings.validated()
        guard let wallet = try await custody.store.wallets().first(where: { $0.id == walletID }) else {
            throw try await refuse(KinkoError(.notFound, "no wallet \(walletID); register it first", field: "wallet"))
        }
        guard wallet.chain == Self.chain, wallet.assets == [Self.asset] else {
            throw try await refuse(KinkoError(.invalidInput, "wallet \(walletID) is not a Bitcoin wallet (chain \(wallet.chain), assets \(wallet.assets.joined(separator: ",")))", field: "wallet"))
        }
        guard wallet.temperature == tier.temperature else {
            throw try await refuse(KinkoError(.invalidInput, "wallet \(walletID) is \(wallet.temperature.rawValue); a \(tier.rawValue) tier needs a \(tier.temperature.rawValue) wallet", field: "tier"))
        }
        if try await walletRecords.get(walletID) != nil {
            throw try await refuse(KinkoError(.conflict, "wallet \(walletID) has a descriptor proposed or adopted already", field: "wallet"))
        }
        let descriptor: Descriptor
        let holders: [BitcoinWalletRecord.KeyHolder]
        do {
            descriptor = try Descriptor(parsing: text)
            _ = try WalletPSBTBuilder(descriptor: descriptor, network: network)
            holders = try await keyHolders(descriptor, network: network)
        } catch let error as KinkoError {
            throw try await refuse(error)
        }
        let problems = WalletKeyPolicy.problems(threshold: descriptor.threshold, keys: holders, tier: tier, settings: settings)
        guard problems.isEmpty else {
            throw try await refuse(KinkoError(.walletPolicyRefused, "wallet \(walletID) refused: " + problems.joined(separator: "; "), field: "descriptor"))
        }
        let now = clock.now()
        let policy = try ApprovalPolicy(approvalsRequired: descriptor.threshold, eligibleRoles: [.signer], minimumFromRole: [.signer: descriptor.threshold])
        let payload: CanonicalJSON = [
            "wallet": .string(walletID), "descriptor": .string(descriptor.withChecksum), "network": .string(network.rawValue),
            "tier": .string(tier.rawValue), "threshold": .string(String(descriptor.threshold)),
            "keys": .array(holders.map { ["key": .string($0.key), "holder": .string($0.principalName), "vendor": .string($0.vendor)] }),
        ]
        let collection = walletRecords
        var record = BitcoinWalletRecord(
            wallet: walletID, descriptor: descriptor.withChecksum, network: network, tier: tier, threshold: descriptor.threshold, keys: holders,
            status: .proposed, requestID: "", proposedBy: caller.principal.description, proposedAt: now, adoptedAt: nil, nextReceive: 0, nextChange: 0,
            highestUsedReceive: nil)
        let proposed = record
        let request = try await governance.submit(action: Self.walletAction, payload: payload, policy: policy, by: caller, role: role,
                                                  permission: .custodyWalletsManage, details: ["wallet": walletID, "tier": tier.rawValue]) { id in
            var filed = proposed
            filed.requestID = id.description
            return [try collection.insert(walletID, filed, tag: BitcoinWalletRecord.Status.proposed.rawValue)]
        }
        record.requestID = request.id.description
        return (record, request)
    }

    /// Each key of `descriptor` with its registered holder; throws naming a key nobody
    /// registered, one registered for other networks, or one given twice.
    func keyHolders(_ descriptor: Descriptor, network: BitcoinNetwork) async throws -> [BitcoinWalletRecord.KeyHolder] {
        let registered = Dictionary(try await allXpubs().map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let principals = Dictionary(try await governance.store.principals().map { ($0.id.description, $0) }, uniquingKeysWith: { first, _ in first })
        var holders: [BitcoinWalletRecord.KeyHolder] = []
        for (position, key) in descriptor.keys.enumerated() {
            let field = "descriptor.keys[\(position)]"
            guard case .extended(let xpub, let steps, _, _) = key.material, steps.steps.isEmpty, let origin = key.origin else {
                throw KinkoError(.invalidInput, "a wallet key is [fingerprint/path]xpub/<0;1>/*, as registered", field: field)
            }
            let id = XpubProof.keyID(fingerprint: origin.fingerprint, path: origin.path)
            guard let record = registered[id], XpubProof.serializedXpub(of: record.key) == xpub.serialized else {
                throw KinkoError(.notFound, "key \(id) is not registered by a signer (with proof of possession)", field: field)
            }
            guard record.testNetworks == (network != .mainnet) else {
                throw KinkoError(.invalidInput, "key \(id) is for \(record.testNetworks ? "testnet and regtest" : "mainnet"), not \(network.rawValue)", field: field)
            }
            guard !holders.contains(where: { $0.key == id }) else { throw KinkoError(.invalidInput, "key \(id) appears twice", field: field) }
            guard let principal = principals[record.principal], principal.roles.contains(.signer) else {
                throw KinkoError(.walletPolicyRefused, "key \(id) belongs to \(record.principalName), who is no longer a signer", field: field)
            }
            holders.append(.init(key: id, principal: record.principal, principalName: record.principalName, vendor: record.vendor))
        }
        return holders
    }

    /// Puts an approved descriptor in force, once; the key policy is checked again (a holder
    /// may have lost the signer role meanwhile).
    public func adoptWallet(_ walletID: String, by caller: Caller) async throws -> BitcoinWalletRecord {
        guard let entry = try await walletRecords.get(walletID) else { throw KinkoError(.notFound, "no proposed descriptor for wallet \(walletID)", field: "wallet") }
        guard let requestID = UInt128(entry.value.requestID) else { throw KinkoError(.storageCorrupted, "wallet \(walletID) names no request") }
        let request = try await governance.requireRequest(ApprovalRequestID(requestID))
        let role = try await governance.authorize(caller, .custodyWalletsManage, digest: request.digest)
        guard entry.value.status == .proposed else { throw KinkoError(.conflict, "wallet \(walletID) was adopted already", field: "wallet") }
        let evaluation = try await governance.requireApproved(request.id, "wallet \(walletID)", by: caller, role: role, .custodyWalletsManage, digest: request.digest)
        let descriptor = try Descriptor(parsing: entry.value.descriptor)
        let holders = try await keyHolders(descriptor, network: entry.value.network)
        let problems = WalletKeyPolicy.problems(threshold: descriptor.threshold, keys: holders, tier: entry.value.tier, settings: try settings.validated())
        guard problems.isEmpty else {
            throw try await governance.refused(KinkoError(.walletPolicyRefused, "wallet \(walletID) refused: " + problems.joined(separator: "; "), field: "wallet"),
                                               by: caller, role: role, .custodyWalletsManage, digest: request.digest)
        }
        var adopted = entry.value
        adopted.status = .adopted
        adopted.adoptedAt = clock.now()
        adopted.keys = holders
        guard try await governance.store.write(
            [.executeRequest(request.id, revision: request.revision), try walletRecords.update(entry, to: adopted, tag: BitcoinWalletRecord.Status.adopted.rawValue)],
            at: clock.now(),
            audit: caller.event(.custodyWalletsManage, role: role, digest: request.digest, result: "adopted",
                                details: ["wallet": walletID, "request": request.id.description, "approvers": evaluation.counted.map(\.description).joined(separator: ",")]))
        else {
            throw KinkoError(.conflict, "wallet \(walletID) was adopted meanwhile", field: "wallet")
        }
        return adopted
    }

    /// Every Bitcoin wallet, proposed and adopted (readers of custody).
    public func wallets(by caller: Caller) async throws -> [BitcoinWalletRecord] {
        _ = try await governance.authorize(caller, .custodyRead)
        return try await walletRecords.all().map(\.value)
    }

    func adoptedWallet(_ walletID: String, field: String = "wallet") async throws -> (RecordCollection<BitcoinWalletRecord>.Entry, Descriptor) {
        guard let entry = try await walletRecords.get(walletID), entry.value.status == .adopted else {
            throw KinkoError(.notFound, "wallet \(walletID) has no adopted Bitcoin descriptor", field: field)
        }
        return (entry, try Descriptor(parsing: entry.value.descriptor))
    }

    // MARK: Deposit addresses

    /// The customer's deposit address in `walletID`: the one handed out before, or (`fresh`,
    /// or none yet) the next receive address. Refused past the gap limit.
    public func depositAddress(wallet walletID: String, customer: String, fresh: Bool = false, by caller: Caller) async throws -> BitcoinAddressRecord {
        guard (1...Self.customerLengthMax).contains(customer.utf8.count),
            customer.utf8.allSatisfy({ (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) || [46, 45, 95].contains($0) })
        else {
            throw KinkoError(.invalidInput, "a customer id is 1–\(Self.customerLengthMax) letters, digits, '.', '-' or '_'", field: "customer")
        }
        return try await issueAddress(wallet: walletID, purpose: .deposit, label: customer, fresh: fresh, by: caller)
    }

    /// A new receive address of `walletID` for the exchange's own coins coming in (a top-up
    /// of the fee float, a transfer from a wallet Kinko does not run), labelled for the books.
    public func transferAddress(wallet walletID: String, label: String, by caller: Caller) async throws -> BitcoinAddressRecord {
        guard (1...Self.labelLengthMax).contains(label.utf8.count), label.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) else {
            throw KinkoError(.invalidInput, "a label is 1–\(Self.labelLengthMax) printable ASCII characters", field: "label")
        }
        return try await issueAddress(wallet: walletID, purpose: .transfer, label: label, fresh: true, by: caller)
    }

    public static let labelLengthMax = 200

    private func issueAddress(wallet walletID: String, purpose: BitcoinAddressRecord.Purpose, label: String, fresh: Bool,
                              by caller: Caller) async throws -> BitcoinAddressRecord {
        let digest = Governance.digest(["wallet": .string(walletID), "purpose": .string(purpose.rawValue), "label": .string(label), "fresh": .string(fresh ? "yes" : "no")])
        let role = try await governance.authorize(caller, .custodyAddressesIssue, digest: digest)
        let settings = try settings.validated()
        let customer = purpose == .deposit ? label : nil
        let tag = BitcoinAddressRecord.tag(wallet: walletID, purpose: purpose, customer: customer)
        for _ in 0..<3 {
            let (entry, descriptor) = try await adoptedWallet(walletID)
            if purpose == .deposit {
                guard let wallet = try await custody.store.wallets().first(where: { $0.id == walletID }), wallet.purpose == .customerPool else {
                    throw KinkoError(.invalidInput, "wallet \(walletID) does not hold customers' coins", field: "wallet")
                }
            }
            if !fresh, let existing = try await addressRecords.list(tag: tag).last { return existing.value }
            guard entry.value.unusedReceive < UInt32(settings.gapLimit) else {
                throw try await governance.refused(KinkoError(
                    .limitExceeded, "wallet \(walletID) has \(entry.value.unusedReceive) addresses handed out that never received coins; the gap limit is \(settings.gapLimit)",
                    field: "gap_limit"), by: caller, role: role, .custodyAddressesIssue, digest: digest)
            }
            let index = entry.value.nextReceive
            let address = try descriptor.address(branch: 0, index: index, network: entry.value.network)
            let now = clock.now()
            let record = BitcoinAddressRecord(address: address, wallet: walletID, branch: 0, index: index, purpose: purpose, customer: customer,
                                              label: purpose == .deposit ? nil : label, movement: nil, issuedAt: now)
            var advanced = entry.value
            advanced.nextReceive = index + 1
            if try await governance.store.write(
                [try addressRecords.insert(address, record, tag: tag), try walletRecords.update(entry, to: advanced, tag: advanced.status.rawValue)], at: now,
                audit: caller.event(.custodyAddressesIssue, role: role, digest: digest, result: "issued",
                                    details: ["wallet": walletID, "purpose": purpose.rawValue, "label": label, "index": String(index), "address": address]))
            {
                return record
            }
        }
        throw KinkoError(.conflict, "wallet \(walletID)'s next address was taken meanwhile three times; try again", field: "wallet")
    }

    /// The addresses handed out in `walletID` for `customer` (readers of custody).
    public func addresses(wallet walletID: String, customer: String, by caller: Caller) async throws -> [BitcoinAddressRecord] {
        _ = try await governance.authorize(caller, .custodyRead)
        return try await addressRecords.list(tag: BitcoinAddressRecord.tag(wallet: walletID, purpose: .deposit, customer: customer)).map(\.value)
    }
}

extension XpubProof {
    /// The serialized xpub of a registered key expression, or nil if it does not read.
    static func serializedXpub(of keyExpression: String) -> String? {
        try? parse(keyExpression: keyExpression).xpub.serialized
    }
}

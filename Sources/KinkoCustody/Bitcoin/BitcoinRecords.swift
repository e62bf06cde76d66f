public import KinkoBitcoin
public import KinkoCore

/// The FSA's 2024 guidance separates hot wallets, cold wallets that are soon to move (they
/// refill the hot wallet) and long-term cold storage. Each Bitcoin wallet is one tier.
public enum BitcoinTier: String, Codable, Sendable, CaseIterable {
    case hot
    /// Cold, soon to move: refills the hot wallet.
    case warm
    /// Long-term cold storage.
    case cold

    /// The custody temperature its wallet must have (the 95%-cold rule counts warm as cold).
    public var temperature: Temperature { self == .hot ? .hot : .cold }
}

/// The named settings of on-chain Bitcoin custody; each has its range and a test at both ends.
public struct BitcoinSettings: Sendable, Equatable {
    /// How long an issued proof-of-possession challenge may be answered.
    public var challengeSeconds: UInt64 = 600
    /// The least m of an m-of-n wallet, per tier.
    public var thresholdMin: [BitcoinTier: Int] = [.hot: 2, .warm: 2, .cold: 2]
    /// Keys beyond m a wallet must have, per tier: a cold wallet survives the loss of a key.
    public var spareKeysMin: [BitcoinTier: Int] = [.hot: 0, .warm: 1, .cold: 1]
    /// Deposit addresses handed out past the highest one that received coins, at most: a
    /// wallet restored from its descriptor scans this far and finds every deposit.
    public var gapLimit = 1_000
    /// Confirmations before a coin is spendable and a movement's transaction counts as done.
    public var confirmations = 3
    /// The fee rate of a movement's transaction unless the treasurer names one, sat/vB.
    public var feeRate: UInt64 = 10
    /// The most a movement's transaction may pay in fees, in satoshis.
    public var feeCapSats: UInt64 = 1_000_000

    public static let challengeSecondsRange: ClosedRange<UInt64> = 60...86_400
    public static let confirmationsRange: ClosedRange<Int> = 1...100
    public static let feeCapRange: ClosedRange<UInt64> = 1...100_000_000

    public init() {}

    /// Checks every setting against its range, naming the first that is out of it.
    public func validated() throws(KinkoError) -> BitcoinSettings {
        guard Self.challengeSecondsRange.contains(challengeSeconds) else {
            throw KinkoError(.invalidInput, "a challenge lives \(Self.challengeSecondsRange.lowerBound)–\(Self.challengeSecondsRange.upperBound) s", field: "challenge_seconds")
        }
        for tier in BitcoinTier.allCases {
            guard let threshold = thresholdMin[tier], (1...Descriptor.keysMax).contains(threshold) else {
                throw KinkoError(.invalidInput, "the least m of a \(tier.rawValue) wallet is 1–\(Descriptor.keysMax)", field: "threshold_min")
            }
            guard let spare = spareKeysMin[tier], (0...Descriptor.keysMax - threshold).contains(spare) else {
                throw KinkoError(.invalidInput, "spare keys of a \(tier.rawValue) wallet: 0–\(Descriptor.keysMax - threshold)", field: "spare_keys_min")
            }
        }
        guard (1...WalletScan.gapLimitMax).contains(gapLimit) else {
            throw KinkoError(.invalidInput, "a gap limit is 1–\(WalletScan.gapLimitMax)", field: "gap_limit")
        }
        guard Self.confirmationsRange.contains(confirmations) else {
            throw KinkoError(.invalidInput, "confirmations are \(Self.confirmationsRange.lowerBound)–\(Self.confirmationsRange.upperBound)", field: "confirmations")
        }
        guard WalletPSBTBuilder.feeRateRange.contains(feeRate) else {
            throw KinkoError(.invalidInput, "a fee rate is \(WalletPSBTBuilder.feeRateRange.lowerBound)–\(WalletPSBTBuilder.feeRateRange.upperBound) sat/vB", field: "fee_rate")
        }
        guard Self.feeCapRange.contains(feeCapSats) else {
            throw KinkoError(.invalidInput, "a fee cap is \(Self.feeCapRange.lowerBound)–\(Self.feeCapRange.upperBound) sat", field: "fee_cap_sats")
        }
        return self
    }
}

/// A proof-of-possession challenge Kinko issued to a signer (record `bitcoin.challenges`).
public struct XpubChallenge: Codable, Sendable, Equatable {
    public var challenge: String
    public var principal: String
    public var issuedAt: UInt64
    public var expiresAt: UInt64
    public var usedAt: UInt64?

    static let collection = "bitcoin.challenges"
}

/// An extended public key a signer registered with proof of possession (record
/// `bitcoin.xpubs`, keyed by its origin `fingerprint/path`). Kinko never holds the private key.
public struct RegisteredXpub: Codable, Sendable, Equatable {
    /// `d34db33f/48'/0'/0'/2'`.
    public var id: String
    /// `[d34db33f/48'/0'/0'/2']xpub…`.
    public var key: String
    public var principal: String
    public var principalName: String
    /// The wallet software (or device) that holds the private key: a name in the vendor register.
    public var vendor: String
    /// tpub (testnet and regtest) or xpub (mainnet).
    public var testNetworks: Bool
    public var registeredAt: UInt64
    public var challenge: String

    static let collection = "bitcoin.xpubs"
}

/// A Bitcoin wallet's descriptor and where its branches stand (record `bitcoin.wallets`, keyed
/// by the custody wallet it belongs to).
public struct BitcoinWalletRecord: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case proposed, adopted }

    public struct KeyHolder: Codable, Sendable, Equatable {
        public var key: String
        public var principal: String
        public var principalName: String
        public var vendor: String

        public init(key: String, principal: String, principalName: String, vendor: String) {
            self.key = key
            self.principal = principal
            self.principalName = principalName
            self.vendor = vendor
        }
    }

    public var wallet: String
    /// The descriptor with its BIP 380 checksum.
    public var descriptor: String
    public var network: BitcoinNetwork
    public var tier: BitcoinTier
    public var threshold: Int
    public var keys: [KeyHolder]
    public var status: Status
    public var requestID: String
    public var proposedBy: String
    public var proposedAt: UInt64
    public var adoptedAt: UInt64?
    /// The next receive (`/0/*`) and change (`/1/*`) index to hand out.
    public var nextReceive: UInt32
    public var nextChange: UInt32
    /// The highest receive index that has received coins, or nil.
    public var highestUsedReceive: UInt32?

    static let collection = "bitcoin.wallets"

    /// Receive addresses handed out that have not received coins yet.
    public var unusedReceive: UInt32 { nextReceive - min(nextReceive, highestUsedReceive.map { $0 + 1 } ?? 0) }
}

/// An address Kinko derived and handed out (record `bitcoin.addresses`, keyed by the address;
/// tag `wallet/purpose[/customer]`).
public struct BitcoinAddressRecord: Codable, Sendable, Equatable {
    public enum Purpose: String, Codable, Sendable {
        /// A customer's deposit address.
        case deposit
        /// Where a movement from another of Kinko's wallets arrives.
        case transfer
        /// A movement's change.
        case change
    }

    public var address: String
    public var wallet: String
    /// 0 receive, 1 change.
    public var branch: Int
    public var index: UInt32
    public var purpose: Purpose
    public var customer: String?
    /// What a transfer address is for, in words.
    public var label: String?
    public var movement: UInt64?
    public var issuedAt: UInt64

    static let collection = "bitcoin.addresses"

    static func tag(wallet: String, purpose: Purpose, customer: String? = nil) -> String {
        "\(wallet)/\(purpose.rawValue)" + (customer.map { "/\($0)" } ?? "")
    }
}

/// One output of a wallet as Kinko tracks it (record `bitcoin.utxos`, keyed `txid:vout`; tag
/// `wallet/status`).
public struct TrackedUTXO: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable, CaseIterable {
        case unspent
        /// Spent by a movement's PSBT that is not yet confirmed.
        case reserved
        case spent
    }

    public var txid: String
    public var vout: UInt32
    public var wallet: String
    public var valueSats: UInt64
    public var address: String
    public var branch: Int
    public var index: UInt32
    public var confirmations: Int
    public var blockHeight: Int?
    public var status: Status
    /// The movement whose PSBT spends it.
    public var movement: UInt64?
    /// The transaction that spent it, when known; "outside Kinko" when it vanished unexplained.
    public var spentBy: String?
    public var firstSeenAt: UInt64

    static let collection = "bitcoin.utxos"

    var key: String { "\(txid):\(vout)" }
    static func tag(wallet: String, _ status: Status) -> String { "\(wallet)/\(status.rawValue)" }
}

/// A movement's transaction on its way (record `bitcoin.psbts`, keyed by the movement).
public struct MovementPSBT: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        /// Handed out; collecting partial signatures.
        case awaitingSignatures = "awaiting_signatures"
        /// Every input has its quorum: the raw transaction is ready to broadcast.
        case finalized
        /// Its txid was observed with enough confirmations; the movement is posted.
        case completed
    }

    public struct Submission: Codable, Sendable, Equatable {
        public var by: String
        public var at: UInt64
        /// The keys (origin ids) whose signatures it brought.
        public var keys: [String]
    }

    public var movement: UInt64
    public var wallet: String
    public var status: Status
    /// The PSBT as it stands (base64): the original with every signature collected so far.
    public var psbt: String
    /// The unsigned transaction's id, which is the final txid (segwit inputs only).
    public var txid: String
    public var feeSats: UInt64
    public var feeRate: UInt64
    public var destination: String
    public var change: String?
    public var inputs: [String]
    public var builtBy: String
    public var builtAt: UInt64
    public var submissions: [Submission]
    /// The keys that have signed every input they can, in the order they did.
    public var signedBy: [String]
    /// The raw transaction (hex), once finalized.
    public var transactionHex: String?
    public var completedAt: UInt64?

    static let collection = "bitcoin.psbts"
}

/// Whether a wallet's keys are spread so that no one person and no one vendor can sign alone.
public enum WalletKeyPolicy {
    /// Every reason `keys` (one holder per key) may not back an m-of-n wallet of `tier`; empty
    /// when the policy holds.
    public static func problems(threshold: Int, keys: [BitcoinWalletRecord.KeyHolder], tier: BitcoinTier, settings: BitcoinSettings) -> [String] {
        var problems: [String] = []
        let minimum = settings.thresholdMin[tier] ?? 2
        if threshold < minimum { problems.append("a \(tier.rawValue) wallet needs at least \(minimum) signatures; this one needs \(threshold)") }
        let spare = settings.spareKeysMin[tier] ?? 0
        if keys.count - threshold < spare {
            problems.append("a \(tier.rawValue) wallet has at least \(spare) key(s) beyond its \(threshold) signatures, so losing one does not lose the coins; this one has \(keys.count - threshold)")
        }
        // With m = 1 any one key signs alone; the tier's least m above says so.
        guard threshold > 1 else { return problems }
        // The fewest people who together hold `threshold` keys must be `threshold` people.
        let perPrincipal = Dictionary(grouping: keys, by: \.principal)
        let largest = perPrincipal.values.map(\.count).sorted(by: >)
        var held = 0, people = 0
        for count in largest where held < threshold {
            held += count
            people += 1
        }
        if held >= threshold && people < threshold {
            let names = perPrincipal.values.filter { $0.count > 1 }.compactMap(\.first).map { "\($0.principalName) holds \(perPrincipal[$0.principal]?.count ?? 0) keys" }
            problems.append("\(people) person(s) could sign alone (\(names.joined(separator: ", "))): the \(threshold) signatures must come from \(threshold) different people")
        }
        for (vendor, held) in Dictionary(grouping: keys, by: \.vendor).sorted(by: { $0.key < $1.key }) where held.count >= threshold {
            problems.append("vendor \(vendor) holds \(held.count) of the keys, enough to sign alone (DMM Bitcoin's lesson): at most \(threshold - 1) keys per vendor")
        }
        return problems
    }
}

extension KinkoError.Code {
    /// A wallet whose keys one person or one vendor could sign with alone, or short of its
    /// tier's quorum.
    public static let walletPolicyRefused = Self(rawValue: "wallet_policy_refused")
}

public import KinkoCore
import KinkoGovernance
import KinkoLedger

/// How both stores keep a compensation plan's lists, written once: the per-customer lines as
/// packed rows of (account, owner, entitlement, share, payment), the funding sources as canonical
/// JSON. A store keeps the scalar figures in columns of its own types.
extension CompensationPlan {
    /// The per-customer lines, packed (`PackedRows`, five 128-bit fields a row).
    public var packedLines: [UInt8] {
        PackedRows.pack(entitlements.indices.map {
            [entitlements[$0].account.rawValue, entitlements[$0].owner, entitlements[$0].amount.units, shares[$0].units, payments[$0].units]
        })
    }

    /// The funding sources as canonical JSON: `[{"amount", "kind", "policy"}]`, the policy "" when none.
    public var sourcesJSON: String {
        CanonicalJSON.array(sources.map {
            ["kind": .string($0.kind.rawValue), "amount": .string($0.amount.description), "policy": .string($0.policy.map(String.init) ?? "")]
        }).text
    }

    /// A plan from its stored parts; lines or sources that do not decode are `storage_corrupted`.
    public static func stored(incident: UInt64, asset: String, mode: CompensationMode, paymentAsset: String, packedLines: [UInt8], sourcesJSON: String,
                              totalLoss: Amount, totalPayment: Amount, shortfall: Amount) throws -> CompensationPlan {
        let lines = try PackedRows.unpack(packedLines, fields: 5)
        guard case .array(let items) = try CanonicalJSON(parsing: Array(sourcesJSON.utf8)) else {
            throw KinkoError(.storageCorrupted, "a plan's sources are malformed")
        }
        let sources = try items.map { item -> CompensationSource in
            guard case .object(let f) = item, case .string(let kind)? = f["kind"], let sourceKind = SourceKind(rawValue: kind),
                case .string(let amount)? = f["amount"], let units = UInt128(amount), case .string(let policy)? = f["policy"]
            else { throw KinkoError(.storageCorrupted, "a plan source is malformed") }
            return CompensationSource(kind: sourceKind, amount: Amount(units: units), policy: UInt64(policy))
        }
        return CompensationPlan(
            incident: incident, asset: asset, mode: mode, paymentAsset: paymentAsset,
            entitlements: lines.map { Entitlement(account: AccountID($0[0]), owner: $0[1], amount: Amount(units: $0[2])) },
            shares: lines.map { Amount(units: $0[3]) }, payments: lines.map { Amount(units: $0[4]) },
            totalLoss: totalLoss, totalPayment: totalPayment, sources: sources, shortfall: shortfall)
    }
}

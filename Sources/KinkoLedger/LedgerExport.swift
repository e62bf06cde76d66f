public import KinkoCore
public import KinkoGovernance

/// One NDJSON line per asset, account or transfer, in the field names `LedgerInput` reads (plus
/// what the ledger assigned: timestamps and balances), so an export can be read by any tool
/// and its accounts and transfers posted again elsewhere. Numbers are decimal strings; amounts
/// are exact units and, where the asset is known, a decimal in the asset's scale.
public enum LedgerExport {
    public static func line(_ asset: Asset) -> String {
        CanonicalJSON.object([
            "code": .string(asset.code), "ledger": .string(String(asset.ledger)), "scale": .string(String(asset.scale)),
            "kind": .string(asset.kind.rawValue),
        ]).text
    }

    public static func line(_ account: Account, _ balance: AccountBalance, asset: Asset?) -> String {
        CanonicalJSON.object([
            "id": .string(account.id.description), "ledger": .string(String(account.ledger)), "asset": .string(asset?.code ?? ""),
            "code": .string(String(account.code)), "class": .string(account.accountClass.name),
            "flags": .array(account.flags.names.map { .string($0) }), "owner": .string(String(account.owner)),
            "user_data_64": .string(String(account.userData64)), "user_data_32": .string(String(account.userData32)),
            "timestamp": .string(String(account.timestamp)),
            "debits_pending": .string(String(balance.debitsPending)), "debits_posted": .string(String(balance.debitsPosted)),
            "credits_pending": .string(String(balance.creditsPending)), "credits_posted": .string(String(balance.creditsPosted)),
        ]).text
    }

    public static func line(_ transfer: Transfer, asset: Asset?, batch: UInt64) -> String {
        CanonicalJSON.object([
            "id": .string(transfer.id.description), "debit_account_id": .string(transfer.debitAccountID.description),
            "credit_account_id": .string(transfer.creditAccountID.description),
            "amount_units": .string(String(transfer.amount)),
            "amount": .string(Amount(units: transfer.amount).decimalString(scale: asset?.scale ?? 0)),
            "asset": .string(asset?.code ?? ""), "ledger": .string(String(transfer.ledger)), "code": .string(transfer.code.name),
            "flags": .array(transfer.flags.names.map { .string($0) }), "pending_id": .string(transfer.pendingID.description),
            "timeout": .string(String(transfer.timeoutSeconds)), "user_data_128": .string(String(transfer.userData128)),
            "user_data_64": .string(String(transfer.userData64)), "user_data_32": .string(String(transfer.userData32)),
            "timestamp": .string(String(transfer.timestamp)), "batch": .string(String(batch)),
        ]).text
    }
}

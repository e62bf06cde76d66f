import KinkoCore
import KinkoGovernance
import KinkoLedger

/// What an approval request asks for, in words: the sentence an approver reads before signing.
/// The figures come from the request's payload — the canonical JSON whose SHA-256 is signed —
/// so what is read is what is signed; the console shows every payload field next to it.
enum ApprovalText {
    /// Names the sentence may use: principals by id, account classes by account id.
    struct Names {
        var principals: [PrincipalID: String] = [:]
        var accountClasses: [AccountID: AccountClass] = [:]

        func principal(_ text: String) -> String {
            UInt128(text).flatMap { principals[PrincipalID($0)] } ?? "principal \(text)"
        }

        func account(_ text: String) -> String {
            guard let value = UInt128(text) else { return "account \(text)" }
            let id = AccountID(value)
            return accountClasses[id].map { "account \(text) (\($0.name))" } ?? "account \(text)"
        }
    }

    static func fields(_ request: ApprovalRequest) -> [String: String] {
        guard case .object(let object) = request.payload else { return [:] }
        var fields: [String: String] = [:]
        for (key, value) in object {
            switch value {
            case .string(let text): fields[key] = text
            case .array(let items): fields[key] = items.map { item in if case .string(let text) = item { text } else { item.text } }.joined(separator: ", ")
            default: fields[key] = value.text
            }
        }
        return fields
    }

    /// Account ids a `ledger.transfer.post` request names (to look their classes up).
    static func accounts(of request: ApprovalRequest) -> [AccountID] {
        let fields = fields(request)
        return ["debit_account", "credit_account"].compactMap { key in fields[key].flatMap { UInt128($0) }.map { AccountID($0) } }
    }

    static func sentence(_ request: ApprovalRequest, names: Names) -> String {
        let f = fields(request)
        func v(_ key: String) -> String { f[key] ?? "?" }
        switch request.action {
        case "governance.roles.grant":
            return "Grant the role \(v("role")) to \(names.principal(v("principal")))."
        case "governance.tokens.activate":
            let issuer = f["issued_by"] == "self" ? "themself" : names.principal(v("issued_by"))
            return "Activate an API token (fingerprint \(v("token"))) for \(v("name")), issued by \(issuer)."
        case "governance.keys.activate":
            return "Activate \(v("name"))'s new \(v("algorithm")) signing key \(v("key"))."
        case "governance.keys.revoke":
            return "Revoke signing key \(v("key")) of \(f["name"] ?? names.principal(v("principal")))."
        case "custody.movement":
            let destination = f["to_wallet"].map { "wallet \($0)" } ?? f["to_address"].map { "address \($0)" } ?? "?"
            let payout = f["ledger_pending_id"].map { ", paying out ledger withdrawal \($0)" } ?? ""
            return "Move \(v("amount")) \(v("asset")) from wallet \(v("from_wallet")) to \(destination) (\(v("kind")))\(payout)."
        case "custody.whitelist.add":
            return "Add \(v("address")) (\(v("label"))) to the \(v("asset")) withdrawal whitelist."
        case "custody.wallet.unfreeze":
            return "Lift the freeze on wallet \(v("wallet")) (frozen because: \(v("reason")))."
        case "ledger.transfer.post":
            return "Post a \(v("code")) of \(v("amount")) \(v("asset")) from \(names.account(v("debit_account"))) to \(names.account(v("credit_account"))) (transfer \(v("transfer")))."
        case "reserve.fund":
            return f["direction"] == "release"
                ? "Release ¥\(v("amount")) from the liability reserve fund to own funds."
                : "Move ¥\(v("amount")) from own funds into the liability reserve fund."
        case "reserve.rules.adopt", "monitor.rules.adopt":
            return "Adopt \(request.action.hasPrefix("reserve") ? "reserve" : "monitoring") rule set \(v("version"))."
        case "monitor.lists.replace":
            return "Replace the \(v("asset")) \(v("kind")) address list \(f["replaces_version"].flatMap { $0.isEmpty ? nil : $0 } ?? "(none)") (\(v("replaces_addresses")) addresses) with version \(v("version")) (\(v("addresses")) addresses)."
        case "monitor.jurisdictions.replace":
            return "Make the travel-rule jurisdictions version \(v("version")): \(v("countries"))."
        case "monitor.alerts.dismiss":
            return "Dismiss the \(v("outcome")) alert \(v("alert")) (rules \(v("rules"))): \(v("reason"))."
        case "controls.withdrawal.clear":
            return "Clear withdrawal \(v("transfer")) of customer \(v("customer")) (\(v("amount_units")) units of \(v("asset")) to \(v("address"))) although monitoring blocked it (rules \(v("rules"))): \(v("note"))."
        default:
            if request.action.hasPrefix("settings."), let kind = f["kind"] {
                return "Adopt \(kind) version \(v("version")) (document SHA-256 \(v("document_sha256").prefix(16))…)."
            }
            return "\(request.action)."
        }
    }
}

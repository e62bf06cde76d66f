public import KinkoCore
public import KinkoGovernance
import KinkoLedger
import KinkoMonitoring

extension Exchange {
    /// A customer's full record, for a request by the customer or an authority: every version of
    /// the identity-verification record (document numbers only as their salted hashes), every
    /// account with its balance, every posted movement since the first, and the KYC work raised.
    public func customerExport(_ customer: UInt128, by caller: Caller) async throws -> CanonicalJSON {
        let versions = try await customers.history(UInt64(clamping: customer), by: caller)
        let statement = try await ledger.statement(owner: customer, from: TimestampNanoseconds.earliestAccepted, to: clock.now(), by: caller)
        let work = try await customers.openWork(by: caller).filter { UInt128($0.item.customer) == customer }
        func text(_ value: String?) -> CanonicalJSON { .string(value ?? "") }
        return .object([
            "format": "kinko-customer-export/1",
            "customer": .string(String(customer)),
            "exported_at": .string(clock.now().iso8601),
            "exported_by": .string(caller.name),
            "kyc_versions": .array(versions.map { r in
                .object([
                    "version": .string(String(r.version)), "name": .string(r.name), "date_of_birth": text(r.dateOfBirth), "address": text(r.address),
                    "country": .string(r.country), "occupation": text(r.occupation), "method": text(r.method?.rawValue),
                    "documents": .array(r.documents.map { .object(["kind": .string($0.kind), "number_sha256": .string($0.numberSHA256), "salt": .string($0.numberSalt)]) }),
                    "verified_at": text(r.verifiedAt?.iso8601), "verified_by": text(r.verifiedBy), "risk_rating": .string(r.riskRating.rawValue),
                    "pep": .string(String(r.pep)), "sanctions_screening": .string(r.sanctionsScreening), "next_review": .string(r.nextReviewDate),
                    "declared_income_jpy": .string(String(r.declaredIncomeJPY)), "declared_assets_jpy": .string(String(r.declaredAssetsJPY)),
                    "closed_at": text(r.closedAt?.iso8601), "changed_by": .string(r.changedBy), "changed_at": .string(r.changedAt.iso8601), "reason": .string(r.reason),
                ])
            }),
            "accounts": .array(statement.sections.map { section in
                let claim = section.account.accountClass.isClaim
                return .object([
                    "account": .string(section.account.id.description), "asset": .string(section.asset.code), "class": .string(section.account.accountClass.name),
                    "balance": .string(section.closing.netPostedDescription(claim: claim, scale: section.asset.scale)),
                    "movements": .array(section.movements.map { movement in
                        .object([
                            "time": .string(movement.transfer.timestamp.iso8601), "transfer": .string(movement.transfer.id.description),
                            "code": .string(movement.transfer.code.name), "side": .string(movement.side.rawValue),
                            "amount": .string(Amount(units: movement.transfer.amount).decimalString(scale: section.asset.scale)),
                            "balance": .string(movement.after.netPostedDescription(claim: claim, scale: section.asset.scale)),
                        ])
                    }),
                ])
            }),
            "kyc_work_open": .array(work.map { .object(["item": .string($0.key), "kind": .string($0.item.kind.rawValue), "reason": .string($0.item.reason)]) }),
        ])
    }
}

public import KinkoCore

extension LedgerEngine {
    /// Applies a stored transfers batch that does not replay, as it was stored, for inspection
    /// only: each transfer's effect is added to its accounts without any check (sums saturate
    /// instead of trapping), and pending transfers are opened, posted or voided as recorded.
    /// The result is the state the log describes, so a damaged ledger can still be read and
    /// exported; it is never written back.
    func applyUnchecked(_ transfers: [Transfer], sequence: UInt64, timestamp: TimestampNanoseconds) {
        beginBatch(sequence: sequence, events: transfers.count)
        _ = expirePending(through: timestamp)
        var context = BatchContext(sequence: sequence, prefetch: LedgerPrefetch())
        for transfer in transfers {
            if location(of: transfer.id) != nil { continue }
            guard let debitIndex = accountIndex(of: transfer.debitAccountID),
                let creditIndex = accountIndex(of: transfer.creditAccountID)
            else { continue }
            var debit = balance(at: debitIndex)
            var credit = balance(at: creditIndex)
            if transfer.flags.contains(.pending) {
                debit.debitsPending = Self.saturating(debit.debitsPending, plus: transfer.amount)
                credit.creditsPending = Self.saturating(credit.creditsPending, plus: transfer.amount)
                let pending = PendingTransfer(transfer: transfer, status: .pending)
                setPending(transfer.id.rawValue, active: pending, resolved: nil, dirty: pending)
            } else {
                if transfer.flags.resolvesPending, let pending = activePending[transfer.pendingID.rawValue] {
                    debit.debitsPending = Self.saturating(debit.debitsPending, minus: pending.transfer.amount)
                    credit.creditsPending = Self.saturating(credit.creditsPending, minus: pending.transfer.amount)
                    let status: PendingStatus = transfer.flags.contains(.postPendingTransfer) ? .posted : .voided
                    setPending(transfer.pendingID.rawValue, active: nil, resolved: status,
                               dirty: PendingTransfer(transfer: pending.transfer, status: status))
                }
                if !transfer.flags.contains(.voidPendingTransfer) {
                    debit.debitsPosted = Self.saturating(debit.debitsPosted, plus: transfer.amount)
                    credit.creditsPosted = Self.saturating(credit.creditsPosted, plus: transfer.amount)
                }
            }
            setBalance(debitIndex, debit)
            setBalance(creditIndex, credit)
            insertTransferID(transfer.id.rawValue, TransferLocation(sequence: sequence, slot: context.accepted.count))
            context.accepted.append(transfer)
        }
    }

    /// Adds the accounts of a stored batch that does not replay, skipping ids already present.
    func applyUnchecked(_ accounts: [Account], sequence: UInt64) {
        beginBatch(sequence: sequence)
        for account in accounts where accountIndex(of: account.id) == nil && account.id.rawValue != 0 && account.id.rawValue != .max {
            insertAccount(account)
        }
    }

    private static func saturating(_ value: UInt128, plus amount: UInt128) -> UInt128 {
        let (sum, overflow) = value.addingReportingOverflow(amount)
        return overflow ? .max : sum
    }

    private static func saturating(_ value: UInt128, minus amount: UInt128) -> UInt128 {
        value >= amount ? value - amount : 0
    }
}

public import KinkoCore

/// What the store had to say about ids a batch mentions, fetched before the batch executes.
public struct LedgerPrefetch: Sendable {
    /// Stored transfers, by id: for idempotency checks and pending transfers being resolved.
    public var transfers: [UInt128: Transfer] = [:]
    /// The checkpointed status of pending transfers among `transfers`.
    public var pendingStatuses: [UInt128: PendingStatus] = [:]

    public init(transfers: [UInt128: Transfer] = [:], pendingStatuses: [UInt128: PendingStatus] = [:]) {
        self.transfers = transfers
        self.pendingStatuses = pendingStatuses
    }
}

/// An account's balances right after a transfer touched it, recorded for accounts with the
/// `history` flag (TigerBeetle's account event): `slot` is the transfer's place among the
/// batch's accepted transfers, `side` the account's side of it.
public struct AccountHistoryEntry: Sendable, Equatable {
    public enum Side: Sendable, Equatable { case debit, credit }
    public var slot: Int
    public var side: Side
    public var balance: AccountBalance

    public init(slot: Int, side: Side, balance: AccountBalance) {
        self.slot = slot
        self.side = side
        self.balance = balance
    }
}

/// The result of executing one transfers batch.
public struct TransferBatchOutcome: Sendable {
    public var results: [CreateTransferResult]
    /// The transfers that succeeded, with their timestamps, in order: what gets stored.
    public var accepted: [Transfer]
    /// Pending transfers that expired at the start of this batch.
    public var expired: [UInt128]
    /// Ids of events that failed for a transient reason (`isTransient`): used up from now on.
    public var failed: [UInt128] = []
    /// Balances after each accepted transfer, of its accounts that have the `history` flag.
    public var history: [AccountHistoryEntry] = []
    /// For an imported batch, the timestamp to store it under: its last accepted event's (or,
    /// with none, the log's latest), so the log stays in time order. Nil otherwise.
    public var importedTimestamp: TimestampNanoseconds?
}

extension LedgerEngine {
    /// Ids this batch mentions that are stored in earlier batches and must be prefetched.
    public func transferIDsToPrefetch(_ events: [Transfer]) -> [TransferLocation] {
        precondition(transferIndexBuilt, "the transfer index must be built before writing")
        var locations: [TransferLocation] = []
        for event in events {
            if let location = location(of: event.id) { locations.append(location) }
            // Even an open pending transfer is fetched: an earlier event of this batch may
            // resolve it, and a later one then needs its stored content.
            if event.flags.resolvesPending, let location = location(of: event.pendingID) {
                locations.append(location)
            }
        }
        return locations
    }

    /// Pending transfers among the prefetched ones whose status only the store knows.
    public func pendingStatusesToPrefetch(_ transfers: [Transfer]) -> [TransferID] {
        transfers.filter {
            $0.flags.contains(.pending) && activePending[$0.id.rawValue] == nil
                && resolvedSinceCheckpoint[$0.id.rawValue] == nil
        }.map(\.id)
    }

    /// Executes a `create_transfers` batch as batch `sequence` at `timestamp`. Events get
    /// timestamps `timestamp - count + 1 + index`. The caller persists `accepted` and then calls
    /// `commitBatch`, or `rollbackBatch` if persisting failed.
    ///
    /// With `replay`, the events are stored transfers carrying their original timestamps (a
    /// batch read back from the store); they are re-executed at those timestamps.
    ///
    /// `refusals` are the exchange's control results (`TransferReview`) by event index: such an
    /// event fails with its refusal unless it is a retry of a stored transfer (which answers
    /// `exists…` as always), and its linked chain fails with it.
    ///
    /// With `tradesNeedCounterLeg` (the exchange's transfer-control policy), a trade leg that
    /// debits a customer liability must sit in a linked chain with a trade leg, in another
    /// asset, crediting a liability of the same customer. It is checked when the chain closes,
    /// with the accounts the legs already resolved (no second lookup on the hot path): the leg
    /// without one fails with `trade_counter_leg_missing` and the chain with it.
    public func executeTransfers(
        _ events: [Transfer], sequence: UInt64, timestamp: TimestampNanoseconds, prefetch: LedgerPrefetch,
        replay: Bool = false, refusals: [Int: CreateTransferResult] = [:], tradesNeedCounterLeg: Bool = false
    ) -> TransferBatchOutcome {
        beginBatch(sequence: sequence, events: events.count)
        let firstTimestamp = timestamp - UInt64(events.count) + 1
        precondition(replay || events.isEmpty || firstTimestamp > lastTimestamp, "timestamps must advance")
        // The first event decides whether the batch imports history; an imported batch runs
        // no expiries (its events are in the past).
        let batchImported = events.first?.flags.contains(.imported) ?? false
        let expired = batchImported ? [] : expirePending(through: timestamp)
        var context = BatchContext(sequence: sequence, prefetch: prefetch)
        context.accepted.reserveCapacity(events.count)
        context.recordsTradeLegs = tradesNeedCounterLeg && !replay
        var results = [CreateTransferResult](repeating: .ok, count: events.count)
        var chainStart: Int? = nil
        var chainUndoMark = 0
        var chainAcceptedMark = 0
        var index = 0
        while index < events.count {
            let event = events[index]
            let isLinked = event.flags.contains(.linked)
            if isLinked && chainStart == nil {
                chainStart = index
                chainUndoMark = undoLog.count
                chainAcceptedMark = context.accepted.count
                context.tradeLegs.removeAll(keepingCapacity: true)
            } else if chainStart == nil && context.recordsTradeLegs {
                // A lone event is a chain of one for the counter-leg rule.
                chainUndoMark = undoLog.count
                chainAcceptedMark = context.accepted.count
                context.tradeLegs.removeAll(keepingCapacity: true)
            }
            context.eventIndex = index
            var result: CreateTransferResult
            if isLinked && index == events.count - 1 {
                result = .linkedEventChainOpen
            } else if replay {
                // A stored event: an imported one keeps its own timestamp, the others get their slot's.
                var original = event
                if !event.flags.contains(.imported) { original.timestamp = 0 }
                result = createTransfer(original, timestamp: event.timestamp, context: &context)
            } else if let check = Self.importCheck(imported: event.flags.contains(.imported), batchImported: batchImported,
                                                   timestamp: event.timestamp, batchTimestamp: timestamp) {
                result = check.transferResult
            } else {
                result = createTransfer(event, timestamp: firstTimestamp + UInt64(index), context: &context,
                                        refusal: refusals.isEmpty ? nil : refusals[index])
            }
            // The chain (or the lone event) closes here: the counter-leg rule, over its trade legs.
            if result == .ok && !isLinked && context.recordsTradeLegs && !context.tradeLegs.isEmpty,
                let missing = Self.legWithoutCounterLeg(context.tradeLegs) {
                rollback(to: chainUndoMark)
                context.dropAccepted(from: chainAcceptedMark)
                for earlier in (chainStart ?? index)...index { results[earlier] = .linkedEventFailed }
                results[missing] = .tradeCounterLegMissing
                chainStart = nil
                index += 1
                continue
            }
            results[index] = result
            // A transient failure uses the id up, whether or not its chain is rolled back.
            defer { if result.isTransient && !replay { markFailed([event.id.rawValue]); context.failed.append(event.id.rawValue) } }
            if let start = chainStart {
                if result != .ok {
                    rollback(to: chainUndoMark)
                    context.dropAccepted(from: chainAcceptedMark)
                    for earlier in start..<index { results[earlier] = .linkedEventFailed }
                    chainStart = nil
                    index = Self.failRestOfChain(after: index, isLinked: isLinked, count: events.count, results: &results, failed: .linkedEventFailed,
                                                 open: .linkedEventChainOpen) { events[$0].flags.contains(.linked) }
                    continue
                }
                if !isLinked { chainStart = nil }
            }
            index += 1
        }
        let imported = batchImported ? context.accepted.last?.timestamp ?? transferLogTimestamp : nil
        openBatchLogTimestamp = imported ?? timestamp
        return TransferBatchOutcome(results: results, accepted: context.accepted, expired: expired, failed: context.failed,
                                    history: context.history, importedTimestamp: imported)
    }

    struct BatchContext {
        let sequence: UInt64
        let prefetch: LedgerPrefetch
        var accepted: [Transfer] = []
        var failed: [UInt128] = []
        var history: [AccountHistoryEntry] = []
        /// The counter-leg rule is on: trade legs of the open chain are recorded.
        var recordsTradeLegs = false
        var tradeLegs: [TradeLeg] = []
        var eventIndex = 0

        init(sequence: UInt64, prefetch: LedgerPrefetch) {
            self.sequence = sequence
            self.prefetch = prefetch
        }

        /// Forgets the transfers accepted from `mark` on (a failed chain), and their history.
        mutating func dropAccepted(from mark: Int) {
            accepted.removeSubrange(mark...)
            while let last = history.last, last.slot >= mark { history.removeLast() }
        }
    }

    /// A trade leg of the open chain, with what the counter-leg rule needs of its accounts.
    struct TradeLeg {
        let index: Int
        let ledger: UInt32
        let debitClass: AccountClass
        let debitOwner: UInt128
        let creditClass: AccountClass
        let creditOwner: UInt128
    }

    /// The index of the first trade leg debiting a customer that no leg in another asset pays
    /// back (credits a liability of the same customer); nil when every such leg has one.
    static func legWithoutCounterLeg(_ legs: [TradeLeg]) -> Int? {
        for leg in legs where leg.debitClass == .customerLiability {
            let paidBack = legs.contains { other in
                other.ledger != leg.ledger && other.creditClass == .customerLiability && other.creditOwner == leg.debitOwner
            }
            if !paidBack { return leg.index }
        }
        return nil
    }

    /// The stored content of a transfer id, wherever it is (this batch or an earlier one).
    private func storedTransfer(_ id: UInt128, context: BatchContext) -> Transfer? {
        guard let location = location(of: TransferID(id)) else { return nil }
        return storedTransfer(at: location, id: id, context: context)
    }

    private func storedTransfer(at location: TransferLocation, id: UInt128, context: BatchContext) -> Transfer {
        if location.sequence == context.sequence { return context.accepted[location.slot] }
        guard let transfer = context.prefetch.transfers[id] else {
            preconditionFailure("transfer \(id) at \(location) was not prefetched")
        }
        return transfer
    }

    private func createTransfer(
        _ t: Transfer, timestamp: TimestampNanoseconds, context: inout BatchContext, refusal: CreateTransferResult? = nil
    ) -> CreateTransferResult {
        // An imported event happened at its own timestamp (checked by the batch and below).
        let imported = t.flags.contains(.imported)
        let timestamp = imported ? t.timestamp : timestamp
        if !TransferFlags.known.isSuperset(of: t.flags) { return .reservedFlag }
        if t.id.rawValue == 0 { return .idMustNotBeZero }
        if t.id.rawValue == .max { return .idMustNotBeIntMax }
        // One lookup: a stored transfer, an id used up by a transient failure, or a new id.
        if let raw = transferLocations[t.id.rawValue] {
            guard raw != TransferLocation.failed.rawValue else { return .idAlreadyFailed }
            return compareExisting(t, storedTransfer(at: TransferLocation(rawValue: raw), id: t.id.rawValue, context: context), context: context)
        }
        if let refusal { return refusal }
        if t.flags.resolvesPending { return resolvePending(t, timestamp: timestamp, context: &context) }
        if t.debitAccountID.rawValue == 0 { return .debitAccountIDMustNotBeZero }
        if t.debitAccountID.rawValue == .max { return .debitAccountIDMustNotBeIntMax }
        if t.creditAccountID.rawValue == 0 { return .creditAccountIDMustNotBeZero }
        if t.creditAccountID.rawValue == .max { return .creditAccountIDMustNotBeIntMax }
        if t.debitAccountID == t.creditAccountID { return .accountsMustBeDifferent }
        if t.pendingID.rawValue != 0 { return .pendingIDMustBeZero }
        let isPending = t.flags.contains(.pending)
        if !isPending && t.timeoutSeconds != 0 { return .timeoutReservedForPendingTransfer }
        if !isPending && !t.flags.isDisjoint(with: TransferFlags.closing) { return .closingTransferMustBePending }
        if t.ledger == 0 { return .ledgerMustNotBeZero }
        if t.code.rawValue == 0 { return .codeMustNotBeZero }
        guard let debitIndex = accountIndex(of: t.debitAccountID) else { return .debitAccountNotFound }
        guard let creditIndex = accountIndex(of: t.creditAccountID) else { return .creditAccountNotFound }
        let debitAccount = account(at: debitIndex)
        let creditAccount = account(at: creditIndex)
        if debitAccount.ledger != creditAccount.ledger { return .accountsMustHaveTheSameLedger }
        if t.ledger != debitAccount.ledger { return .transferMustHaveTheSameLedgerAsAccounts }
        if imported {
            if regresses(timestamp, context: context) { return .importedEventTimestampMustNotRegress }
            if timestamp <= debitAccount.timestamp { return .importedEventTimestampMustPostdateDebitAccount }
            if timestamp <= creditAccount.timestamp { return .importedEventTimestampMustPostdateCreditAccount }
            if t.timeoutSeconds != 0 { return .importedEventTimeoutMustBeZero }
        }
        if debitAccount.flags.contains(.closed) { return .debitAccountAlreadyClosed }
        if creditAccount.flags.contains(.closed) { return .creditAccountAlreadyClosed }
        if !segregation.allows(t.code, debit: debitAccount.accountClass, credit: creditAccount.accountClass) {
            return segregation.knows(t.code) ? .accountClassesNotAllowedForCode : .transferCodeUnknown
        }
        var debit = balance(at: debitIndex)
        var credit = balance(at: creditIndex)
        // An amount of zero is a valid transfer, as in TigerBeetle: it moves nothing. A
        // balancing transfer moves at most what brings its account's side level.
        var amount = t.amount
        if t.flags.contains(.balancingDebit) {
            let (used, overflow) = debit.debitsPosted.addingReportingOverflow(debit.debitsPending)
            amount = min(amount, overflow || used >= debit.creditsPosted ? 0 : debit.creditsPosted - used)
        }
        if t.flags.contains(.balancingCredit) {
            let (used, overflow) = credit.creditsPosted.addingReportingOverflow(credit.creditsPending)
            amount = min(amount, overflow || used >= credit.debitsPosted ? 0 : credit.debitsPosted - used)
        }
        if isPending {
            if debit.debitsPending.addingReportingOverflow(amount).overflow { return .overflowsDebitsPending }
            if credit.creditsPending.addingReportingOverflow(amount).overflow { return .overflowsCreditsPending }
        }
        if debit.debitsPosted.addingReportingOverflow(amount).overflow { return .overflowsDebitsPosted }
        if credit.creditsPosted.addingReportingOverflow(amount).overflow { return .overflowsCreditsPosted }
        let (debitsAll, o1) = debit.debitsPending.addingReportingOverflow(debit.debitsPosted)
        let (debitsNext, o2) = debitsAll.addingReportingOverflow(amount)
        if o1 || o2 { return .overflowsDebits }
        let (creditsAll, o3) = credit.creditsPending.addingReportingOverflow(credit.creditsPosted)
        let (creditsNext, o4) = creditsAll.addingReportingOverflow(amount)
        if o3 || o4 { return .overflowsCredits }
        if timestamp > Self.timestampMax || UInt64(t.timeoutSeconds) * 1_000_000_000 > Self.timestampMax - timestamp { return .overflowsTimeout }
        if debitAccount.flags.contains(.debitsMustNotExceedCredits) && debitsNext > debit.creditsPosted {
            return .exceedsCredits
        }
        if creditAccount.flags.contains(.creditsMustNotExceedDebits) && creditsNext > credit.debitsPosted {
            return .exceedsDebits
        }
        if isPending {
            debit.debitsPending += amount
            credit.creditsPending += amount
        } else {
            debit.debitsPosted += amount
            credit.creditsPosted += amount
        }
        setBalance(debitIndex, debit)
        setBalance(creditIndex, credit)
        var stored = t
        stored.amount = amount
        stored.timestamp = timestamp
        recordHistory(debitAccount.flags, debit, creditAccount.flags, credit, context: &context)
        accept(stored, context: &context)
        if context.recordsTradeLegs && t.code == .trade {
            context.tradeLegs.append(TradeLeg(index: context.eventIndex, ledger: t.ledger, debitClass: debitAccount.accountClass,
                                              debitOwner: debitAccount.owner, creditClass: creditAccount.accountClass, creditOwner: creditAccount.owner))
        }
        if isPending {
            let pending = PendingTransfer(transfer: stored, status: .pending)
            setPending(t.id.rawValue, active: pending, resolved: nil, dirty: pending)
            if let expiresAt = pending.expiresAt { expiryQueue.push(expiresAt, t.id.rawValue) }
            if t.flags.contains(.closingDebit) { setClosedByPending(debitIndex, true) }
            if t.flags.contains(.closingCredit) { setClosedByPending(creditIndex, true) }
        }
        return .ok
    }

    /// An imported transfer must come after every transfer in the log (this batch's too) and
    /// must not share an account's timestamp.
    private func regresses(_ timestamp: TimestampNanoseconds, context: BatchContext) -> Bool {
        timestamp <= max(transferLogTimestamp, context.accepted.last?.timestamp ?? 0) || accountTimestampExists(timestamp)
    }

    /// Records the balances after the transfer about to be accepted, for the sides whose account
    /// has the `history` flag.
    @inline(__always)
    private func recordHistory(_ debitFlags: AccountFlags, _ debit: AccountBalance, _ creditFlags: AccountFlags, _ credit: AccountBalance,
                               context: inout BatchContext) {
        if debitFlags.contains(.history) { context.history.append(.init(slot: context.accepted.count, side: .debit, balance: debit)) }
        if creditFlags.contains(.history) { context.history.append(.init(slot: context.accepted.count, side: .credit, balance: credit)) }
    }

    @inline(__always)
    private func accept(_ transfer: Transfer, context: inout BatchContext) {
        insertTransferID(transfer.id.rawValue, TransferLocation(sequence: context.sequence, slot: context.accepted.count))
        context.accepted.append(transfer)
    }

    /// Post or void, in TigerBeetle's order of checks. The pending transfer's accounts, ledger
    /// and code are inherited, and its user data where the event leaves them zero. A post moves
    /// `amount` (`Transfer.amountWholePending` for all of it; 0 moves nothing) and releases the
    /// rest of the reservation; a void releases all of it (amount 0 or the pending amount).
    private func resolvePending(
        _ t: Transfer, timestamp: TimestampNanoseconds, context: inout BatchContext
    ) -> CreateTransferResult {
        if t.flags.isSuperset(of: [.postPendingTransfer, .voidPendingTransfer]) || !t.flags.isDisjoint(with: TransferFlags.notWithPostOrVoid) {
            return .flagsAreMutuallyExclusive
        }
        let pendingID = t.pendingID.rawValue
        if pendingID == 0 { return .pendingIDMustNotBeZero }
        if pendingID == .max { return .pendingIDMustNotBeIntMax }
        if pendingID == t.id.rawValue { return .pendingIDMustBeDifferent }
        if t.timeoutSeconds != 0 { return .timeoutReservedForPendingTransfer }
        guard let (pending, status) = lookupPending(pendingID, context: context) else { return .pendingTransferNotFound }
        guard let status else { return .pendingTransferNotPending }
        if t.debitAccountID.rawValue != 0 && t.debitAccountID != pending.debitAccountID {
            return .pendingTransferHasDifferentDebitAccountID
        }
        if t.creditAccountID.rawValue != 0 && t.creditAccountID != pending.creditAccountID {
            return .pendingTransferHasDifferentCreditAccountID
        }
        if t.ledger != 0 && t.ledger != pending.ledger { return .pendingTransferHasDifferentLedger }
        if t.code.rawValue != 0 && t.code != pending.code { return .pendingTransferHasDifferentCode }
        let isPost = t.flags.contains(.postPendingTransfer)
        let amount = isPost ? (t.amount == Transfer.amountWholePending ? pending.amount : t.amount)
                            : (t.amount == 0 ? pending.amount : t.amount)
        if amount > pending.amount { return .exceedsPendingTransferAmount }
        if !isPost && amount < pending.amount { return .pendingTransferHasDifferentAmount }
        switch status {
        case .posted: return .pendingTransferAlreadyPosted
        case .voided: return .pendingTransferAlreadyVoided
        case .expired: return .pendingTransferExpired
        case .pending: break
        }
        if let expiresAt = PendingTransfer(transfer: pending, status: status).expiresAt, expiresAt <= timestamp {
            return .pendingTransferExpired
        }
        if t.flags.contains(.imported) && regresses(timestamp, context: context) { return .importedEventTimestampMustNotRegress }
        guard let debitIndex = accountIndex(of: pending.debitAccountID),
            let creditIndex = accountIndex(of: pending.creditAccountID)
        else {
            preconditionFailure("pending transfer \(pendingID) names an account that does not exist")
        }
        let debitFlags = account(at: debitIndex).flags, creditFlags = account(at: creditIndex).flags
        // The only movement a closed account allows is the void of a pending transfer.
        if !isPost {
            if pending.flags.contains(.closingDebit) { setClosedByPending(debitIndex, false) }
            if pending.flags.contains(.closingCredit) { setClosedByPending(creditIndex, false) }
        } else if debitFlags.contains(.closed) {
            return .debitAccountAlreadyClosed
        } else if creditFlags.contains(.closed) {
            return .creditAccountAlreadyClosed
        }
        var debit = balance(at: debitIndex)
        var credit = balance(at: creditIndex)
        precondition(debit.debitsPending >= pending.amount && credit.creditsPending >= pending.amount,
                     "pending balances of transfer \(pendingID) are below its amount \(pending.amount)")
        debit.debitsPending -= pending.amount
        credit.creditsPending -= pending.amount
        if isPost {
            // The reservation held `amount` already, so the posted sums cannot pass what the
            // pending and posted sums together held before.
            debit.debitsPosted += amount
            credit.creditsPosted += amount
        }
        setBalance(debitIndex, debit)
        setBalance(creditIndex, credit)
        var stored = t
        stored.debitAccountID = pending.debitAccountID
        stored.creditAccountID = pending.creditAccountID
        stored.ledger = pending.ledger
        stored.code = pending.code
        stored.amount = amount
        if t.userData128 == 0 { stored.userData128 = pending.userData128 }
        if t.userData64 == 0 { stored.userData64 = pending.userData64 }
        if t.userData32 == 0 { stored.userData32 = pending.userData32 }
        stored.timestamp = timestamp
        recordHistory(debitFlags, debit, creditFlags, credit, context: &context)
        accept(stored, context: &context)
        let newStatus: PendingStatus = isPost ? .posted : .voided
        setPending(pendingID, active: nil, resolved: newStatus, dirty: PendingTransfer(transfer: pending, status: newStatus))
        return .ok
    }

    /// A pending transfer and its status, or `(transfer, nil)` if the id names a transfer that
    /// is not pending, or nil if the id is unknown.
    private func lookupPending(_ id: UInt128, context: BatchContext) -> (Transfer, PendingStatus?)? {
        if let active = activePending[id] { return (active.transfer, .pending) }
        guard let transfer = storedTransfer(id, context: context) else { return nil }
        guard transfer.flags.contains(.pending) else { return (transfer, nil) }
        if let status = resolvedSinceCheckpoint[id] ?? context.prefetch.pendingStatuses[id] {
            return (transfer, status)
        }
        preconditionFailure("status of pending transfer \(id) was not prefetched")
    }

    /// Same id: the same content answers `exists`, anything else names the first field that
    /// differs, in TigerBeetle's order. For post and void, fields the retry leaves zero match
    /// what was inherited from the pending transfer, and "the whole amount" matches a post that
    /// took all of it.
    private func compareExisting(_ t: Transfer, _ e: Transfer, context: BatchContext) -> CreateTransferResult {
        if t.flags != e.flags { return .existsWithDifferentFlags }
        if t.pendingID != e.pendingID { return .existsWithDifferentPendingID }
        if t.timeoutSeconds != e.timeoutSeconds { return .existsWithDifferentTimeout }
        guard t.flags.resolvesPending else {
            if t.debitAccountID != e.debitAccountID { return .existsWithDifferentDebitAccountID }
            if t.creditAccountID != e.creditAccountID { return .existsWithDifferentCreditAccountID }
            // A balancing transfer's amount is an upper limit: a retry matches what it moved.
            let balancing = !t.flags.isDisjoint(with: [.balancingDebit, .balancingCredit])
            if balancing ? t.amount < e.amount : t.amount != e.amount { return .existsWithDifferentAmount }
            if t.userData128 != e.userData128 { return .existsWithDifferentUserData128 }
            if t.userData64 != e.userData64 { return .existsWithDifferentUserData64 }
            if t.userData32 != e.userData32 { return .existsWithDifferentUserData32 }
            if t.ledger != e.ledger { return .existsWithDifferentLedger }
            if t.code != e.code { return .existsWithDifferentCode }
            return .exists
        }
        guard let p = storedTransfer(t.pendingID.rawValue, context: context) else {
            preconditionFailure("transfer \(e.id) resolves \(t.pendingID), which is not stored")
        }
        if t.debitAccountID.rawValue != 0 && t.debitAccountID != e.debitAccountID { return .existsWithDifferentDebitAccountID }
        if t.creditAccountID.rawValue != 0 && t.creditAccountID != e.creditAccountID { return .existsWithDifferentCreditAccountID }
        let whole = t.flags.contains(.voidPendingTransfer) ? t.amount == 0 : t.amount == Transfer.amountWholePending
        if whole ? e.amount != p.amount : t.amount != e.amount { return .existsWithDifferentAmount }
        if (t.userData128 == 0 ? p.userData128 : t.userData128) != e.userData128 { return .existsWithDifferentUserData128 }
        if (t.userData64 == 0 ? p.userData64 : t.userData64) != e.userData64 { return .existsWithDifferentUserData64 }
        if (t.userData32 == 0 ? p.userData32 : t.userData32) != e.userData32 { return .existsWithDifferentUserData32 }
        if t.ledger != 0 && t.ledger != e.ledger { return .existsWithDifferentLedger }
        if t.code.rawValue != 0 && t.code != e.code { return .existsWithDifferentCode }
        return .exists
    }

    /// Expires every open pending transfer whose timeout has passed by `timestamp`, releasing
    /// its reserved amounts. Returns the expired ids in the order they expired.
    func expirePending(through timestamp: TimestampNanoseconds) -> [UInt128] {
        var expired: [UInt128] = []
        while let next = expiryQueue.first, next.at <= timestamp {
            _ = expiryQueue.popFirst()
            guard let pending = activePending[next.id], pending.expiresAt == next.at else { continue }
            let transfer = pending.transfer
            guard let debitIndex = accountIndex(of: transfer.debitAccountID),
                let creditIndex = accountIndex(of: transfer.creditAccountID)
            else {
                preconditionFailure("pending transfer \(next.id) names an account that does not exist")
            }
            var debit = balance(at: debitIndex)
            var credit = balance(at: creditIndex)
            debit.debitsPending -= transfer.amount
            credit.creditsPending -= transfer.amount
            setBalance(debitIndex, debit)
            setBalance(creditIndex, credit)
            // A closing transfer that expires reopens its account.
            if transfer.flags.contains(.closingDebit) { setClosedByPending(debitIndex, false) }
            if transfer.flags.contains(.closingCredit) { setClosedByPending(creditIndex, false) }
            setPending(next.id, active: nil, resolved: .expired, dirty: PendingTransfer(transfer: transfer, status: .expired))
            expired.append(next.id)
        }
        return expired
    }

    /// A batch with no events that only expires what is due (the ledger's pulse).
    public func executePulse(sequence: UInt64, timestamp: TimestampNanoseconds) -> [UInt128] {
        beginBatch(sequence: sequence)
        openBatchLogTimestamp = timestamp
        return expirePending(through: timestamp)
    }
}

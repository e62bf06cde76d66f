public import KinkoCore

extension LedgerEngine {
    /// Executes a `create_accounts` batch. Linked chains succeed or fail together, as for
    /// transfers. New accounts get timestamps `timestamp - count + 1 + index`.
    public func executeAccounts(
        _ events: [Account], sequence: UInt64, timestamp: TimestampNanoseconds, replay: Bool = false
    ) -> (results: [CreateAccountResult], accepted: [Account]) {
        beginBatch(sequence: sequence)
        let firstTimestamp = timestamp - UInt64(events.count) + 1
        let batchImported = events.first?.flags.contains(.imported) ?? false
        var results = [CreateAccountResult](repeating: .ok, count: events.count)
        var accepted: [Account] = []
        var chain: (start: Int, undo: Int, accepted: Int)? = nil
        var index = 0
        while index < events.count {
            var event = events[index]
            let isLinked = event.flags.contains(.linked)
            if isLinked && chain == nil { chain = (index, undoLog.count, accepted.count) }
            let imported = event.flags.contains(.imported)
            let eventTimestamp = replay || imported ? event.timestamp : firstTimestamp + UInt64(index)
            if replay && !imported { event.timestamp = 0 }
            var result: CreateAccountResult
            if isLinked && index == events.count - 1 {
                result = .linkedEventChainOpen
            } else if !replay, let check = Self.importCheck(imported: imported, batchImported: batchImported, timestamp: event.timestamp,
                                                            batchTimestamp: timestamp) {
                result = check.accountResult
            } else {
                result = createAccount(event, timestamp: eventTimestamp)
            }
            results[index] = result
            if result == .ok {
                event.timestamp = eventTimestamp
                accepted.append(event)
            }
            if let open = chain {
                if result != .ok {
                    rollback(to: open.undo)
                    accepted.removeSubrange(open.accepted...)
                    for earlier in open.start..<index { results[earlier] = .linkedEventFailed }
                    chain = nil
                    index = Self.failRestOfChain(after: index, isLinked: isLinked, count: events.count, results: &results, failed: .linkedEventFailed,
                                                 open: .linkedEventChainOpen) { events[$0].flags.contains(.linked) }
                    continue
                }
                if !isLinked { chain = nil }
            }
            index += 1
        }
        return (results, accepted)
    }

    private func createAccount(_ a: Account, timestamp: TimestampNanoseconds) -> CreateAccountResult {
        if !AccountFlags.known.isSuperset(of: a.flags) { return .reservedFlag }
        if a.id.rawValue == 0 { return .idMustNotBeZero }
        if a.id.rawValue == .max { return .idMustNotBeIntMax }
        if let index = accountIndex(of: a.id) {
            let e = account(at: index)
            // Every flag counts, `linked` too, as in TigerBeetle: the account keeps the flags it
            // was created with.
            if a.flags != e.flags { return .existsWithDifferentFlags }
            if a.owner != e.owner { return .existsWithDifferentOwner }
            if a.userData64 != e.userData64 { return .existsWithDifferentUserData64 }
            if a.userData32 != e.userData32 { return .existsWithDifferentUserData32 }
            if a.ledger != e.ledger { return .existsWithDifferentLedger }
            if a.code != e.code { return .existsWithDifferentCode }
            if a.accountClass != e.accountClass { return .existsWithDifferentClass }
            return .exists
        }
        if a.flags.isSuperset(of: [.debitsMustNotExceedCredits, .creditsMustNotExceedDebits]) {
            return .flagsAreMutuallyExclusive
        }
        if a.ledger == 0 { return .ledgerMustNotBeZero }
        if a.code == 0 { return .codeMustNotBeZero }
        if asset(ledger: a.ledger) == nil { return .ledgerNotFound }
        if a.accountClass == .customerLiability && a.owner == 0 { return .ownerMustNotBeZero }
        // An imported account comes after every account and every transfer in the log (Kinko
        // keeps one time order across both; TigerBeetle only forbids an equal timestamp).
        if a.flags.contains(.imported) && (timestamp <= lastAccountTimestamp || timestamp <= transferLogTimestamp) {
            return .importedEventTimestampMustNotRegress
        }
        var stored = a
        stored.timestamp = timestamp
        insertAccount(stored)
        return .ok
    }

    /// Registers assets (one ledger each). Re-registering the same asset is a no-op; a ledger
    /// or code already used by a different asset is refused.
    public func executeAssets(_ assets: [Asset], sequence: UInt64) throws(KinkoError) -> [Asset] {
        beginBatch(sequence: sequence)
        var added: [Asset] = []
        for asset in assets {
            if let existing = self.asset(ledger: asset.ledger) {
                guard existing == asset else {
                    rollbackBatch()
                    throw KinkoError(.invalidInput, "ledger \(asset.ledger) already carries \(existing.code)", field: "ledger")
                }
                continue
            }
            if let existing = self.asset(code: asset.code) {
                rollbackBatch()
                throw KinkoError(.invalidInput, "asset \(asset.code) already uses ledger \(existing.ledger)", field: "code")
            }
            insertAsset(asset)
            added.append(asset)
        }
        return added
    }
}

extension LedgerEngine {
    /// After an event of a linked chain failed: the rest of the chain fails with it, up to and
    /// including its last event (`open` when the batch ends with the chain still open). Returns
    /// the index after the chain. Accounts and transfers share it.
    static func failRestOfChain<Result>(after index: Int, isLinked: Bool, count: Int, results: inout [Result], failed: Result, open: Result,
                                        linked: (Int) -> Bool) -> Int {
        var next = index + 1
        guard isLinked else { return next }
        while next < count {
            let closes = !linked(next)
            results[next] = next == count - 1 && !closes ? open : failed
            next += 1
            if closes { break }
        }
        return next
    }
}

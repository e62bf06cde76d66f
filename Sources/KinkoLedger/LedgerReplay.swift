public import KinkoCore

/// Re-executes stored batches. Every stored event succeeded when it was first executed and the
/// engine is deterministic, so anything else means the store was changed behind our back.
public enum LedgerReplay {
    public static func apply(_ record: LedgerBatchRecord, to engine: LedgerEngine) throws(KinkoError) {
        let sequence = record.sequence
        guard sequence == engine.headSequence + 1 else {
            throw KinkoError(.storageCorrupted, "batch \(sequence) follows batch \(engine.headSequence): the log has a gap or is out of order")
        }
        let expectedExpired = try LedgerCodec.decodeIDs(record.expired)
        switch record.kind {
        case .assets:
            let assets = try LedgerCodec.decodeAssets(record.body, count: record.count)
            do {
                _ = try engine.executeAssets(assets, sequence: sequence)
            } catch {
                throw KinkoError(.storageCorrupted, "batch \(sequence): stored assets do not replay: \(error.message)")
            }
        case .accounts:
            let accounts = try LedgerCodec.decodeAccounts(record.body, count: record.count)
            let (results, _) = engine.executeAccounts(accounts, sequence: sequence, timestamp: record.timestamp, replay: true)
            if let bad = results.firstIndex(where: { !$0.isSuccess }) {
                engine.rollbackBatch()
                throw KinkoError(.storageCorrupted, "batch \(sequence): stored account \(accounts[bad].id) does not replay (\(results[bad]))")
            }
        case .transfers:
            let transfers = try LedgerCodec.decodeTransfers(record.body, count: record.count)
            let outcome = engine.executeTransfers(
                transfers, sequence: sequence, timestamp: record.timestamp, prefetch: LedgerPrefetch(), replay: true)
            if let bad = outcome.results.firstIndex(where: { $0 != .ok }) {
                engine.rollbackBatch()
                throw KinkoError(
                    .storageCorrupted,
                    "batch \(sequence): stored transfer \(transfers[bad].id) does not replay (\(outcome.results[bad]))")
            }
            try checkExpired(outcome.expired, expectedExpired, sequence: sequence, engine: engine)
            guard LedgerCodec.encodeHistory(outcome.history) == record.history else {
                engine.rollbackBatch()
                throw KinkoError(.storageCorrupted, "batch \(sequence): the stored account history differs from the replayed balances")
            }
            engine.markFailed(try LedgerCodec.decodeIDs(record.failed))
        case .pulse:
            let expired = engine.executePulse(sequence: sequence, timestamp: record.timestamp)
            try checkExpired(expired, expectedExpired, sequence: sequence, engine: engine)
        }
        engine.commitBatch(sequence: sequence, timestamp: record.timestamp)
    }

    /// Like `apply`, but a batch that does not replay is applied as stored (see
    /// `LedgerEngine.applyUnchecked`) instead of stopping: for opening a damaged ledger for
    /// inspection. Returns what did not replay.
    public static func applyForInspection(_ record: LedgerBatchRecord, to engine: LedgerEngine) throws(KinkoError) -> String? {
        do {
            try apply(record, to: engine)
            return nil
        } catch {
            guard error.code == .storageCorrupted, record.sequence == engine.headSequence + 1 else { throw error }
            switch record.kind {
            case .transfers:
                engine.applyUnchecked(try LedgerCodec.decodeTransfers(record.body, count: record.count), sequence: record.sequence,
                                      timestamp: record.timestamp)
            case .accounts:
                engine.applyUnchecked(try LedgerCodec.decodeAccounts(record.body, count: record.count), sequence: record.sequence)
            case .assets, .pulse:
                engine.beginBatch(sequence: record.sequence)
            }
            engine.commitBatch(sequence: record.sequence, timestamp: record.timestamp)
            return error.message + "; applied as stored"
        }
    }

    /// The same transfers expired. Their order within a batch is not compared: transfers due
    /// at the same instant were expired in heap order before 2026-12-04 (now by id), and the
    /// order changes nothing in the balances.
    private static func checkExpired(_ actual: [UInt128], _ expected: [UInt128], sequence: UInt64, engine: LedgerEngine) throws(KinkoError) {
        guard actual.sorted() == expected.sorted() else {
            engine.rollbackBatch()
            throw KinkoError(.storageCorrupted, "batch \(sequence): expired pending transfers differ from the stored list")
        }
    }

    /// Account-by-account differences between a replayed engine and the loaded one.
    public static func differences(expected: LedgerEngine, stored: LedgerEngine) -> [String] {
        var problems: [String] = []
        let expectedAccounts = Dictionary(uniqueKeysWithValues: expected.allAccounts().map { ($0.account.id, $0) })
        for (account, balance) in stored.allAccounts() {
            guard let replayed = expectedAccounts[account.id] else {
                problems.append("account \(account.id) is stored but no batch created it")
                continue
            }
            if replayed.account != account {
                problems.append("account \(account.id): stored definition differs from the batch that created it")
            }
            for (field, have, want) in [
                ("debits_pending", balance.debitsPending, replayed.balance.debitsPending),
                ("debits_posted", balance.debitsPosted, replayed.balance.debitsPosted),
                ("credits_pending", balance.creditsPending, replayed.balance.creditsPending),
                ("credits_posted", balance.creditsPosted, replayed.balance.creditsPosted),
            ] where have != want {
                problems.append("account \(account.id): \(field) is \(have) but its transfers sum to \(want)")
            }
        }
        if expectedAccounts.count != stored.accountCount {
            problems.append("\(expectedAccounts.count) accounts were created but \(stored.accountCount) are stored")
        }
        if expected.activePendingCount != stored.activePendingCount {
            problems.append("\(expected.activePendingCount) pending transfers should be open but \(stored.activePendingCount) are")
        }
        return problems
    }
}

import ArgumentParser
import Foundation
import KinkoCore
import KinkoGovernance
import KinkoLedger
import KinkoSQLite

/// The child process of the crash test (`Tests/KinkoSQLiteTests/CrashTests.swift`): posts
/// deterministic batches forever and prints `ack N` after batch N is durable. The test kills
/// it with SIGKILL at random moments and checks what survived.
struct CrashChild: KinkoCommand {
    static let configuration = CommandConfiguration(
        commandName: "crash-child", abstract: "Ingest deterministic batches until killed (for the crash test).",
        shouldDisplay: false)

    @OptionGroup var database: DatabaseOptions
    @Option(help: "The first batch number to post.") var start: Int = 1
    @Option(help: "Transfers per batch.") var batchSize: Int = 2_000
    @Option(help: "Batches between checkpoints.") var checkpointEvery: UInt64 = 4

    func execute() async throws {
        let session = try await ToolSession.open(path: database.path)
        var limits = Ledger.Limits()
        limits.checkpointIntervalBatches = checkpointEvery
        let ledger = try await Ledger.open(store: SQLiteLedgerStore(database: session.database), limits: limits)
        try await ledger.registerAssets(Asset.standard, by: session.admin)
        _ = try await ledger.createAccounts(CrashWorkload.accounts, by: session.operator)
        var batch = start
        while true {
            let results = try await ledger.createTransfers(CrashWorkload.batch(batch, size: batchSize), by: session.operator)
            guard results.allSatisfy({ $0.isSuccess }) else {
                throw KinkoError(.storageFailure, "batch \(batch) was refused: \(Set(results.map { $0.name }))")
            }
            // Unbuffered: the acknowledgement must be out before the next batch starts.
            FileHandle.standardOutput.write(Data("ack \(batch)\n".utf8))
            batch += 1
        }
    }
}

/// The crash test's data: 1,000 unlimited accounts on the BTC ledger; batch N holds transfers
/// with ids `N × 1,000,000 + i` between accounts chosen by a generator seeded with N, with every
/// tenth pair of transfers linked.
enum CrashWorkload {
    static let accountCount = 1_000

    static var accounts: [Account] {
        (1...accountCount).map { Account(id: AccountID(UInt128($0)), ledger: 2, code: 1, accountClass: .customerLiability, owner: UInt128($0)) }
    }

    static func batch(_ number: Int, size: Int) -> [Transfer] {
        var rng = SplitMix64(seed: UInt64(number))
        return (0..<size).map { index in
            let debit = Int(rng.next() % UInt64(accountCount)) + 1
            let credit = debit % accountCount + 1
            return Transfer(
                id: TransferID(UInt128(number) * 1_000_000 + UInt128(index)), debitAccountID: AccountID(UInt128(debit)),
                creditAccountID: AccountID(UInt128(credit)), amount: UInt128(rng.next() % 1_000 + 1), ledger: 2, code: .trade,
                flags: index % 10 == 0 && index + 1 < size ? .linked : [])
        }
    }
}

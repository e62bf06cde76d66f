import Foundation
import KinkoCore
import KinkoGovernance
import KinkoLedger
import KinkoStores
import Testing

/// Migrating another ledger's history: one person files the import, a second approves it, and
/// only the file approved runs, once, with its original timestamps.
@Suite("Reviewed history import, on every database", .serialized)
struct ImportFlowTests {
    static let start: TimestampNanoseconds = 1_795_305_600_000_000_000  // 2026-11-22T00:00:00Z
    /// 2020-01-01T00:00:00Z: the old system's history.
    static let past: TimestampNanoseconds = 1_577_836_800_000_000_000
    static let day: TimestampNanoseconds = 86_400_000_000_000

    static let accounts = [
        Account(id: AccountID(10), ledger: 2, code: 200, accountClass: .customerCustodyHolding, flags: .imported, timestamp: past),
        Account(id: AccountID(11), ledger: 2, code: 100, accountClass: .customerLiability, flags: [.debitsMustNotExceedCredits, .imported],
                owner: 1, timestamp: past + 1),
        Account(id: AccountID(21), ledger: 2, code: 100, accountClass: .customerLiability, flags: [.debitsMustNotExceedCredits, .imported],
                owner: 2, timestamp: past + 2),
    ]
    static let transfers = [
        Transfer(id: TransferID(1), debitAccountID: AccountID(10), creditAccountID: AccountID(11), amount: 100_000_000, ledger: 2,
                 code: .deposit, flags: .imported, timestamp: past + day),
        Transfer(id: TransferID(2), debitAccountID: AccountID(11), creditAccountID: AccountID(21), amount: 30_000_000, ledger: 2,
                 code: .trade, flags: .imported, timestamp: past + 2 * day),
    ]

    @Test(arguments: Backend.configured) func anImportRunsOnceASecondPersonApprovedThatFile(_ backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let f = try await GovernanceFixture(harness, start: Self.start)
            let (ops, _) = try await f.person("ops", [.operator])
            let (finance, _) = try await f.person("finance", [.finance])
            let opsKey = try await f.key(for: ops), financeKey = try await f.key(for: finance)
            let ledger = try await Ledger.open(store: f.stores.ledger, clock: f.clock)
            try await ledger.registerAssets(Asset.standard, by: f.admin)
            let service = LedgerService(ledger: ledger, governance: f.governance, facts: nil)

            // A file with a live (not imported) event is refused, naming it.
            var live = Self.transfers
            live[1].flags = []
            await #expect { _ = try await service.requestImport(accounts: Self.accounts, transfers: live, by: ops) } throws: {
                ($0 as? KinkoError)?.field == "transfers[1].flags"
            }
            let (request, summary) = try await service.requestImport(accounts: Self.accounts, transfers: Self.transfers, by: ops)
            #expect(summary.accounts == 3 && summary.transfers == 2)
            #expect(summary.first == Self.past && summary.last == Self.past + 2 * Self.day)
            #expect(summary.grossAmounts == ["BTC": "1.30000000"])
            #expect(summary.digest == LedgerService.importDigest(accounts: Self.accounts, transfers: Self.transfers))

            // Not approved yet; the one who filed it cannot approve it.
            await #expect { _ = try await service.executeImport(request.id, accounts: Self.accounts, transfers: Self.transfers, by: finance) } throws: {
                ($0 as? KinkoError)?.code == .approvalRequired
            }
            await #expect(throws: KinkoError.self) { _ = try await f.approve(request.id, by: ops, key: opsKey) }
            _ = try await f.approve(request.id, by: finance, key: financeKey)

            // Approved: another file (one unit more) does not run, and nothing is written.
            var changed = Self.transfers
            changed[0].amount += 1
            await #expect { _ = try await service.executeImport(request.id, accounts: Self.accounts, transfers: changed, by: finance) } throws: {
                ($0 as? KinkoError)?.code == .approvalRefused && ($0 as? KinkoError)?.field == "file"
            }
            #expect(await ledger.account(AccountID(11)) == nil)

            // The approved file runs, with its own times, exactly once.
            #expect(try await service.executeImport(request.id, accounts: Self.accounts, transfers: Self.transfers, by: finance) == summary)
            #expect(await ledger.account(AccountID(11))?.balance == AccountBalance(debitsPosted: 30_000_000, creditsPosted: 100_000_000))
            #expect(try await ledger.transfer(TransferID(2))?.timestamp == Self.past + 2 * Self.day)
            await #expect { _ = try await service.executeImport(request.id, accounts: Self.accounts, transfers: Self.transfers, by: finance) } throws: {
                ($0 as? KinkoError)?.code == .conflict
            }
            // Balances as of a day of the old history read back from the migrated log.
            let asOf = try await ledger.postedBalances(asOf: Self.past + Self.day + 1) { $0.id == AccountID(11) }
            #expect(asOf.first?.balance == AccountBalance(creditsPosted: 100_000_000))
            #expect(try await ledger.verify(full: true).problems == [])
        }
    }

    // The limit: an import of exactly `importEventsMax` events is filed; one more is refused,
    // naming the file; an empty one too.
    @Test func anImportHoldsAtMostAMillionEvents() async throws {
        try await StoreHarness.with(.sqlite) { harness in
            let f = try await GovernanceFixture(harness, start: Self.start)
            let (ops, _) = try await f.person("ops", [.operator])
            let ledger = try await Ledger.open(store: f.stores.ledger, clock: f.clock)
            try await ledger.registerAssets(Asset.standard, by: f.admin)
            let service = LedgerService(ledger: ledger, governance: f.governance, facts: nil)
            let template = Self.transfers[0]
            var many = [Transfer](repeating: template, count: LedgerService.importEventsMax - Self.accounts.count)
            for index in many.indices { many[index].id = TransferID(UInt128(index + 1)) }
            let (_, summary) = try await service.requestImport(accounts: Self.accounts, transfers: many, by: ops)
            #expect(summary.accounts + summary.transfers == LedgerService.importEventsMax)
            #expect(summary.grossAmounts == ["BTC": "999997.00000000"])
            many.append(template)
            await #expect { _ = try await service.requestImport(accounts: Self.accounts, transfers: many, by: ops) } throws: {
                ($0 as? KinkoError)?.code == .limitExceeded && ($0 as? KinkoError)?.field == "file"
            }
            await #expect { _ = try await service.requestImport(accounts: [], transfers: [], by: ops) } throws: {
                ($0 as? KinkoError)?.field == "file"
            }
        }
    }
}

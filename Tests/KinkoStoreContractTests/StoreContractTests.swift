import Foundation
import KinkoCore
@testable import KinkoGovernance
import KinkoMonitoring
import KinkoPlaybook
import KinkoStores
import KinkoLedger
@testable import KinkoPostgres
import Logging
import ServiceLifecycle
import Testing

let contractCaller = Caller(principal: Principal(
    id: PrincipalID(1), name: "contract", kind: .client, roles: [.admin, .operator, .treasurer, .finance], createdAt: 0))

func customerAccount(_ id: UInt128) -> Account {
    Account(id: AccountID(id), ledger: 2, code: 100, accountClass: .customerLiability, flags: .debitsMustNotExceedCredits, owner: id)
}

func trade(_ id: UInt128, _ debit: UInt128, _ credit: UInt128, _ amount: UInt128, code: TransferCode = .trade, flags: TransferFlags = [],
           pendingID: UInt128 = 0, timeout: UInt32 = 0) -> Transfer {
    Transfer(id: TransferID(id), debitAccountID: AccountID(debit), creditAccountID: AccountID(credit), amount: amount,
             ledger: 2, code: code, flags: flags, pendingID: TransferID(pendingID), timeoutSeconds: timeout)
}

/// Assets, customers 1 and 2, the hot wallet holding (10), own funds (20); customer 1 deposits 1,000.
func seedLedger(_ ledger: Ledger) async throws {
    try await ledger.registerAssets(Asset.standard, by: contractCaller)
    let accounts = try await ledger.createAccounts([
        customerAccount(1), customerAccount(2),
        Account(id: AccountID(10), ledger: 2, code: 200, accountClass: .customerCustodyHolding, flags: .creditsMustNotExceedDebits),
        Account(id: AccountID(20), ledger: 2, code: 300, accountClass: .ownFunds),
    ], by: contractCaller)
    #expect(accounts.allSatisfy { $0 == CreateAccountResult.ok })
    #expect(try await ledger.createTransfers([trade(1, 10, 1, 1_000, code: .deposit)], by: contractCaller) == [.ok])
}

/// One behaviour, every store: the same expectations against SQLite and PostgreSQL.
@Suite("Store contract (SQLite and PostgreSQL)", .serialized)
struct StoreContractTests {
    // Goal: what was acknowledged survives a reopen exactly, through checkpoints and the
    // batches after them; a full replay agrees account by account.
    @Test(arguments: Backend.configured) func ledgerSurvivesReopen(backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let ledger = try await harness.ledger(checkpointEvery: 3)
            try await seedLedger(ledger)
            for round in 0..<10 {
                let id = UInt128(100 + round * 2)
                #expect(try await ledger.createTransfers([trade(id, 1, 2, 30), trade(id + 1, 2, 20, 5, code: .fee)], by: contractCaller) == [.ok, .ok])
            }
            #expect(try await ledger.createTransfers([trade(999, 1, 2, 701)], by: contractCaller) == [.exceedsCredits])
            let reopened = try await harness.ledger(checkpointEvery: 3)
            #expect(await reopened.account(AccountID(1))?.balance == AccountBalance(debitsPosted: 300, creditsPosted: 1_000))
            #expect(await reopened.account(AccountID(2))?.balance == AccountBalance(debitsPosted: 50, creditsPosted: 300))
            #expect(await reopened.account(AccountID(20))?.balance == AccountBalance(debitsPosted: 0, creditsPosted: 50))
            #expect(try await reopened.verify(full: true).problems == [])
            // History reads the checkpointed postings index and the batches after it.
            let page = try await reopened.history(of: AccountID(1), limit: 4)
            #expect(page.transfers.map(\.transfer.id) == [TransferID(118), TransferID(116), TransferID(114), TransferID(112)])
            let older = try await reopened.history(of: AccountID(1), before: try #require(page.next), limit: 100)
            #expect(older.transfers.count == 7 && older.transfers.last?.transfer.id == TransferID(1))
            #expect(try await reopened.transfer(TransferID(105))?.amount == 5)
        }
    }

    // Goal: two writers on one database (two processes) never lose or double an update: each
    // catches up with the other's batches and the balance limit holds exactly.
    @Test(arguments: Backend.configured) func twoWritersNeverBreakAnInvariant(backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let first = try await harness.ledger(checkpointEvery: 4)
            try await seedLedger(first)
            let second = try await harness.ledger(checkpointEvery: 4)
            // 2 × 60 attempts to move 10 from customer 1 (1,000): exactly 100 succeed in total.
            let results = try await withThrowingTaskGroup(of: [CreateTransferResult].self) { group in
                for (index, ledger) in [first, second].enumerated() {
                    group.addTask {
                        var results: [CreateTransferResult] = []
                        for round in 0..<60 {
                            results += try await ledger.createTransfers([trade(UInt128(10_000 + index * 1_000 + round), 1, 2, 10)], by: contractCaller)
                        }
                        return results
                    }
                }
                var all: [CreateTransferResult] = []
                for try await batch in group { all += batch }
                return all
            }
            #expect(results.count { $0 == CreateTransferResult.ok } == 100 && results.count { $0 == CreateTransferResult.exceedsCredits } == 20)
            try await first.refresh()
            try await second.refresh()
            for ledger in [first, second] {
                #expect(await ledger.account(AccountID(1))?.balance == AccountBalance(debitsPosted: 1_000, creditsPosted: 1_000))
                #expect(await ledger.account(AccountID(2))?.balance.creditsPosted == 1_000)
                #expect(try await ledger.verify(full: true).problems == [])
            }
        }
    }

    // Goal: an id used up by a transient failure stays used up across a reopen, before and
    // after a checkpoint (the batch's failed ids are stored with it).
    @Test(arguments: Backend.configured) func failedIDsSurviveReopen(backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let ledger = try await harness.ledger(checkpointEvery: 3)
            try await seedLedger(ledger)
            #expect(try await ledger.createTransfers([trade(60, 1, 77, 1), trade(61, 1, 2, 1_001), trade(62, 1, 2, 1)], by: contractCaller)
                == [.creditAccountNotFound, .exceedsCredits, .ok])
            #expect(try await ledger.createTransfers([trade(60, 1, 2, 1)], by: contractCaller) == [.idAlreadyFailed])
            let reopened = try await harness.ledger(checkpointEvery: 3)
            #expect(try await reopened.createTransfers([trade(60, 1, 2, 1), trade(61, 1, 2, 1), trade(62, 1, 2, 1)], by: contractCaller)
                == [.idAlreadyFailed, .idAlreadyFailed, .exists])
            for round in 0..<4 { #expect(try await reopened.createTransfers([trade(UInt128(70 + round), 1, 2, 1)], by: contractCaller) == [.ok]) }
            let again = try await harness.ledger(checkpointEvery: 3)
            #expect(try await again.createTransfers([trade(61, 1, 2, 1)], by: contractCaller) == [.idAlreadyFailed])
            #expect(try await again.verify(full: true).problems == [])
        }
    }

    // Goal: pending transfers and their statuses survive a checkpoint and a reopen; posting
    // one and voiding the other is exact.
    @Test(arguments: Backend.configured) func pendingTransfersAcrossCheckpoints(backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let ledger = try await harness.ledger(checkpointEvery: 1)
            try await seedLedger(ledger)
            #expect(try await ledger.createTransfers([trade(50, 1, 2, 400, flags: .pending), trade(51, 1, 2, 300, flags: .pending)], by: contractCaller) == [.ok, .ok])
            let reopened = try await harness.ledger(checkpointEvery: 1)
            #expect(await reopened.account(AccountID(1))?.balance == AccountBalance(debitsPending: 700, debitsPosted: 0, creditsPending: 0, creditsPosted: 1_000))
            #expect(try await reopened.createTransfers([trade(52, 1, 2, Transfer.amountWholePending, flags: .postPendingTransfer, pendingID: 50),
                                                        trade(53, 1, 2, 0, flags: .voidPendingTransfer, pendingID: 51)], by: contractCaller) == [.ok, .ok])
            let again = try await harness.ledger(checkpointEvery: 1)
            #expect(await again.account(AccountID(1))?.balance == AccountBalance(debitsPosted: 400, creditsPosted: 1_000))
            #expect(try await again.createTransfers([trade(54, 1, 2, 0, flags: .postPendingTransfer, pendingID: 51)], by: contractCaller)
                    == [.pendingTransferAlreadyVoided])
            #expect(try await again.verify(full: true).problems == [])
        }
    }

    // Goal: governance through the store: two admins from init, each redeeming a one-time
    // enrolment; a principal enrolled by one admin whose token, role grant and key wait for
    // the other; an approval counted once; execution exactly once; own tokens listed and
    // revoked; generic records compare-and-set; the audit log of it all verifies.
    @Test(arguments: Backend.configured) func governanceAndTheAuditLog(backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let governance = Governance(store: try await harness.open().governance)
            let staff = try await Staff.found(governance, admins: ["admin", "second.admin"])
            let (admin, second) = (staff.admins[0], staff.admins[1])
            await #expect(throws: KinkoError.self) { try await governance.createPrincipal(name: "second.admin", kind: .person, by: admin.caller) }
            let signer = try await governance.createPrincipal(name: "signer", kind: .person, by: admin.caller)
            let grant = try await governance.grantRole(.signer, to: signer.id, by: admin.caller)
            try await second.approve(grant.id, in: governance)
            try await governance.execute(grant.id, by: admin.caller)
            await #expect(throws: KinkoError.self) { try await governance.execute(grant.id, by: admin.caller) }
            #expect(try await governance.store.principal(signer.id)?.roles == [.signer])
            // The enrolment works once; the signer's token waits for an admin who did not enrol them.
            let code = try await governance.createEnrolment(for: signer.id, by: admin.caller)
            let (record, secret, _) = try await governance.redeemEnrolment(code: code)
            await #expect(throws: KinkoError.self) { try await governance.redeemEnrolment(code: code) }
            #expect(record.status == .awaitingApproval && record.issuedBy == admin.caller.principal)
            let activation = try #require(record.requestID)
            await #expect(throws: KinkoError.self) { try await governance.authenticate(token: secret) }
            await #expect(throws: KinkoError.self) { try await admin.approve(activation, in: governance) }
            try await second.approve(activation, in: governance)
            let signerCaller = try await governance.authenticate(token: secret)
            #expect(signerCaller.name == "signer")
            let key = LocalSigningKey.generate(.ed25519)
            let registered = try await Staff.register(key, for: signerCaller, in: governance)
            #expect(registered.status == .awaitingApproval)
            try await second.approve(try #require(registered.requestID), in: governance)
            #expect(try await governance.store.keys().first { $0.id == registered.id }?.status == .active)
            // Own tokens: listed without secrets, revoked once.
            let own = try await governance.ownTokens(by: signerCaller)
            #expect(own.map(\.id) == [record.id] && own.first?.status == .active)
            try await governance.revokeToken(record.id, by: signerCaller)
            await #expect(throws: KinkoError.self) { try await governance.authenticate(token: secret) }
            await #expect(throws: KinkoError.self) { try await governance.revokeToken(record.id, by: admin.caller) }
            // Records: insert once, update only from the version read.
            let collection = RecordCollection<[String: String]>("contract.records", store: governance.store)
            let event = AuditEvent(principal: admin.caller.principal, principalName: "admin", role: "admin", action: "contract.records",
                                   requestDigest: [], result: "ok")
            #expect(try await governance.store.write([try collection.insert("a", ["v": "1"], tag: "t")], at: 1, audit: event))
            let duplicate = try await governance.store.write([try collection.insert("a", ["v": "2"])], at: 2, audit: event)
            #expect(!duplicate)
            let entry = try #require(try await collection.get("a"))
            #expect(try await governance.store.write([try collection.update(entry, to: ["v": "3"], tag: "t")], at: 3, audit: event))
            let stale = try await governance.store.write([try collection.update(entry, to: ["v": "4"])], at: 4, audit: event)
            #expect(!stale)
            let updated = try await collection.get("a")
            #expect(updated?.value == ["v": "3"] && updated?.version == 2)
            #expect(try await collection.list(tag: "t").map(\.key) == ["a"])
            let sizeBefore = try await governance.store.auditSize()
            let partly = try await governance.store.write([try collection.insert("b", [:]), try collection.insert("a", [:])], at: 5, audit: event)
            #expect(!partly)
            #expect(try await collection.get("b") == nil)
            #expect(try await governance.store.auditSize() == sizeBefore)

            // A second connection (another process) sees the same log, and it verifies.
            let other = Governance(store: try await harness.open().governance)
            let report = try await other.verifyAudit(publicKey: try harness.publicKey)
            let size = try await governance.store.auditSize()
            #expect(report.isValid && report.entries == size && report.checkpoints == report.entries)
            #expect(try await other.store.requests(status: .executed).map(\.id) == [grant.id, activation, try #require(registered.requestID)])
            #expect(try await other.store.requests(status: .open).isEmpty)
            #expect(try await other.store.keys().count == 3)
        }
    }

    // Goal: a write that changes nothing writes no audit entry, on every database alike: a
    // second adoption of the same rule set, a second execution, revoking a revoked token, an
    // update from a stale version.
    @Test(arguments: Backend.configured) func noOpWritesAreNotAudited(backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let f = try await GovernanceFixture(harness)
            let (compliance, _) = try await f.person("compliance.one", [.compliance])
            let (second, _) = try await f.person("compliance.two", [.compliance])
            let key = try await f.key(for: second)
            let monitoring = Monitoring(governance: f.governance, store: f.stores.monitoring, clock: f.clock)
            let (_, request) = try await monitoring.ruleSets.propose(yaml: MonitoringRules.defaultYAML, by: compliance)
            _ = try await f.approve(request.id, by: second, key: key)
            let stored = try #require(try await f.governance.store.request(request.id))
            let event = compliance.event(.approvalsExecute, role: .compliance, digest: stored.digest, result: "adopted")
            #expect(try await monitoring.ruleSets.adopt(version: "2026.3-default", by: compliance).version == "2026.3-default")
            let size = try await f.governance.store.auditSize()
            let adopted = try #require(try await f.governance.store.record("settings.monitor.rules", key: "2026.3-default"))
            #expect(try await !f.governance.store.write([.executeRequest(request.id, revision: stored.revision),
                                                         .update(collection: adopted.collection, key: adopted.key, version: adopted.version,
                                                                 tag: adopted.tag, body: adopted.body)], at: 2, audit: event))
            #expect(try await !f.governance.store.executeRequest(request.id, revision: stored.revision, at: 3, effect: nil, audit: event))
            let (token, _) = try await f.governance.issueOwnToken(lifetimeSeconds: nil, by: compliance)
            try await f.governance.revokeToken(token.id, by: compliance)
            let afterRevoke = try await f.governance.store.auditSize()
            #expect(afterRevoke == size + 2)
            #expect(try await !f.governance.store.revokeToken(id: token.id, at: 4, audit: event))
            #expect(try await f.governance.store.auditSize() == afterRevoke)
        }
    }

    // Goal: audited writers in two processes at once: no audit entry is lost or numbered twice.
    @Test(arguments: Backend.configured) func concurrentAuditWriters(backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let stores = [try await harness.open().governance, try await harness.open().governance]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, store) in stores.enumerated() {
                    for task in 0..<4 {
                        group.addTask {
                            for round in 0..<25 {
                                try await store.appendAudit(AuditEvent(principal: PrincipalID(1), principalName: "p\(index)", role: "admin",
                                                                       action: "contract.write", requestDigest: [], result: "ok",
                                                                       details: ["task": "\(index)-\(task)-\(round)"]))
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await stores[0].auditSize() == 200)
            let entries = try await stores[1].auditEntries(from: 0, limit: 1_000)
            #expect(entries.map(\.position) == Array(0..<200))
            let tasks = Set(try entries.map { try AuditEntry(bytes: $0.bytes).event.details["task"] ?? "" })
            #expect(tasks.count == 200)
            #expect(try await Governance(store: stores[0]).verifyAudit(publicKey: try harness.publicKey).isValid)
        }
    }
}

@Suite("PostgreSQL half of the store contract")
struct PostgresConfiguredTests {
    // Goal: say so when the PostgreSQL half cannot run (no server configured) instead of
    // passing silently; when it can, the schema is migrated once by two openers at once.
    @Test(.enabled(if: Backend.postgresURL != nil, "KINKO_TEST_POSTGRES_URL is not set: the PostgreSQL half of the store contract is skipped"))
    func migrationsRunOnceUnderConcurrentOpeners() async throws {
        try await StoreHarness.with(.postgres) { harness in
            async let a = harness.open()
            async let b = harness.open()
            _ = try await (a, b)
            let database = try await KinkoPostgresDatabase.open(url: try #require(harness.postgresURL), auditKeyPath: harness.keyPath)
            #expect(try await database.appliedMigrations() == ["2026-11-22 ledger", "2026-11-22 governance", "2026-11-30 custody", "2026-11-30 reserve", "2026-11-30 monitoring",
                                                              "2026-12-01 credentials and records", "2026-12-01 quarantine class", "2026-12-02 rule sets as settings",
                                                              "2026-12-02 transfers between customers", "2026-12-03 alerts by time raised",
                                                              "2026-12-03 incident valuations", "2026-12-03 reconciliation runs",
                                                              "2026-12-03 who recorded each balance", "2026-12-03 travel-rule messages", "2026-12-03 reserve holdings",
                                                              "2026-12-04 failed transfer ids", "2026-12-04 account history", "2026-12-04 account user_data_32"])
            await database.close()
            await #expect(throws: KinkoError.self) { _ = try await KinkoPostgresDatabase.open(url: "postgres://nowhere", auditKeyPath: nil) }
        }
    }

    // Goal: in a long-lived process the pool is a service of the process's service group: the
    // database connects once the group runs it, and after the group shuts down gracefully every
    // call fails at once (retryable) instead of waiting for a pool nobody runs. Opened for a
    // one-shot command, the database runs the service itself and offers none to a group.
    @Test(.enabled(if: Backend.postgresURL != nil, "KINKO_TEST_POSTGRES_URL is not set"))
    func poolRunsAsAServiceOfTheProcessGroup() async throws {
        try await StoreHarness.with(.postgres) { harness in
            let url = try #require(harness.postgresURL)
            let own = try await KinkoPostgresDatabase.open(url: url, auditKeyPath: nil)
            #expect(own.service == nil)
            await own.close()

            let database = try await KinkoPostgresDatabase.open(url: url, auditKeyPath: nil, running: .inServiceGroup)
            let group = ServiceGroup(services: [try #require(database.service)], logger: Logger(label: "test"))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                try await database.migrate()
                #expect(try await database.appliedMigrations().count == PostgresMigrations.all.count)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            await #expect { _ = try await database.appliedMigrations() } throws: { ($0 as? KinkoError)?.code == .storageUnavailable }
            await database.close()
        }
    }
}

@Suite("A thread of its own for blocking reads")
struct ThreadExecutorTests {

    /// An actor the work calls first, as `MonitoringRuntime.evaluate` calls its own actor.
    actor Bookkeeping {
        func touch() {}
    }
    static let bookkeeping = Bookkeeping()

    /// Like `MonitoringRuntime.evaluate`: a nonisolated async function that returns from an
    /// actor and then blocks. Back from the actor it runs on the task's preferred executor.
    /// (Not after `Task.sleep` or `Task.yield`: under load a sleeping task was seen resuming
    /// on the shared pool, which made this test flaky.)
    static func blockingWork(_ semaphore: DispatchSemaphore, on executor: ThreadExecutor) async -> Bool {
        await bookkeeping.touch()
        semaphore.wait()
        return executor.isCurrentThread
    }

    // Goal: nonisolated async work that prefers the executor, a blocking wait included, runs on
    // its thread (asked by thread id, not by name: naming races with the thread's start),
    // while Swift's cooperative threads stay free (here: a task on them ends the wait); after
    // `shutdown` the thread ends, and work that comes later still runs.
    @Test func blockingWorkRunsOnTheExecutorsThreadAndWorkAfterShutdownStillRuns() async throws {
        let executor = ThreadExecutor(name: "kinko-test-read")
        let semaphore = DispatchSemaphore(value: 0)
        let waiters = (0..<4).map { _ in Task { await withTaskExecutorPreference(executor) { await Self.blockingWork(semaphore, on: executor) } } }
        // Four waits at once would hold both cooperative threads of a 2-core machine if they ran there.
        let releaser = Task {
            for _ in 0..<4 {
                try await Task.sleep(for: .milliseconds(20))
                semaphore.signal()
            }
        }
        try await releaser.value
        var onExecutor: [Bool] = []
        for waiter in waiters { onExecutor.append(await waiter.value) }
        #expect(onExecutor == [true, true, true, true])
        #expect(!executor.isCurrentThread)
        #expect(executor.jobsRun >= 4)
        executor.shutdown()
        semaphore.signal()
        #expect(await withTaskExecutorPreference(executor) { await Self.blockingWork(semaphore, on: executor) })
        executor.shutdown()
    }
}

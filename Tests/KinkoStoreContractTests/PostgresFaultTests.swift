import Foundation
import KinkoCore
@testable import KinkoGovernance
import KinkoLedger
@testable import KinkoPostgres
import Testing

/// Faults only PostgreSQL has: a backend or the whole server going away while Kinko writes.
@Suite("PostgreSQL faults", .serialized)
struct PostgresFaultTests {
    /// Posts `batches` batches of `size` transfers of 1 from customer 1 to customer 2, each
    /// retried with the same ids while the database answers `storage_unavailable`; returns how
    /// many attempts failed that way.
    static func ingest(_ ledger: Ledger, batches: Range<Int>, size: Int = 5) async throws -> Int {
        var failures = 0
        for batch in batches {
            let transfers = (0..<size).map { trade(UInt128(1_000_000 + batch * size + $0), 1, 2, 1) }
            var attempts = 0
            while true {
                attempts += 1
                do {
                    let results = try await ledger.createTransfers(transfers, by: contractCaller)
                    // A retry after a commit whose answer was lost finds the transfers stored.
                    #expect(results.allSatisfy { $0 == CreateTransferResult.ok || $0 == CreateTransferResult.exists }, "batch \(batch): \(results)")
                    break
                } catch let error as KinkoError where error.code == .storageUnavailable {
                    failures += 1
                    // The pool may take up to a minute to trust a restarted server again.
                    try #require(attempts < 1_500, "batch \(batch) kept failing: \(error)")
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
        }
        return failures
    }

    /// A PostgreSQL server of the test's own: scripts/pg-test-server.sh in a temporary directory
    /// on a port of its own.
    struct PrivateServer {
        let directory: String
        let port: Int
        var url: String { "postgres://postgres@127.0.0.1:\(port)/postgres" }
        static var script: String {
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("scripts/pg-test-server.sh").path
        }

        static func start() async throws -> PrivateServer {
            let server = PrivateServer(directory: FileManager.default.temporaryDirectory.appendingPathComponent("kinko-pg-\(UUID().uuidString)").path,
                                       port: Int.random(in: 55_000..<56_000))
            try #require(try await server.run("start", String(server.port)) == 0, "scripts/pg-test-server.sh start failed")
            return server
        }

        /// Runs `scripts/pg-test-server.sh COMMAND DIR …` and returns its exit status.
        func run(_ command: String, _ arguments: String...) async throws -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [Self.script, command, directory] + arguments
            // The server it starts must not inherit our output (it would hold the pipe open).
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return try await PostgresFaultTests.exitStatus(of: process)
        }
    }

    /// Waits for a child process and returns its exit status. Foundation's `waitUntilExit` is
    /// not used: on Linux it never saw the restart script end (the restarted server is a
    /// grandchild that outlives it), and it blocks one of the few cooperative threads. When
    /// Foundation reaped the child first, its own status is used.
    static func exitStatus(of process: Process) async throws -> Int32 {
        let pid = process.processIdentifier
        for _ in 0..<600 {
            var status: Int32 = 0
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { return (status >> 8) & 0xff }
            if reaped == -1 && errno == ECHILD && !process.isRunning { return process.terminationStatus }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("process \(pid) did not end within a minute")
        return -1
    }

    /// `body`, again while it answers `storage_unavailable` (at most 100 times, 100 ms apart).
    static func retrying<T>(_ body: () async throws -> T) async throws -> T {
        for _ in 0..<100 {
            do {
                return try await body()
            } catch let error as KinkoError where error.code == .storageUnavailable {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        return try await body()
    }

    /// Everything acknowledged is stored once: customer 1 paid exactly one unit per transfer.
    static func expectExactlyOnce(_ harness: StoreHarness, transfers: Int) async throws {
        let reopened = try await harness.ledger()
        #expect(await reopened.account(AccountID(1))?.balance == AccountBalance(debitsPosted: UInt128(transfers), creditsPosted: 1_000))
        #expect(await reopened.account(AccountID(2))?.balance.creditsPosted == UInt128(transfers))
        #expect(try await reopened.verify(full: true).problems == [])
        let governance = Governance(store: try await harness.open().governance)
        #expect(try await governance.verifyAudit(publicKey: try harness.publicKey).isValid)
    }

    // Goal: the backend serving an append is terminated while the append waits for the audit
    // lock: the caller gets `storage_unavailable` (retryable), nothing of that batch is stored,
    // and the retry with the same ids stores it once.
    @Test(.enabled(if: Backend.postgresURL != nil, "KINKO_TEST_POSTGRES_URL is not set"))
    func backendTerminatedMidAppend() async throws {
        try await StoreHarness.with(.postgres) { harness in
            let ledger = try await harness.ledger(checkpointEvery: 4)
            try await seedLedger(ledger)
            _ = try await Self.ingest(ledger, batches: 0..<10)
            let url = try #require(harness.postgresURL)
            let name = try #require(URLComponents(string: url)?.path.dropFirst()).description
            // Hold the audit lock so the next append waits inside its transaction, then end
            // that waiting backend the way a server shutdown does.
            let blocker = try await KinkoPostgresDatabase.open(url: url, auditKeyPath: nil)
            let killed = try await blocker.holdingAuditLock {
                let append = Task { try await ledger.createTransfers([trade(2_000_001, 1, 2, 1)], by: contractCaller) }
                var terminated = false
                for _ in 0..<100 where !terminated {
                    try await Task.sleep(for: .milliseconds(50))
                    terminated = try await KinkoPostgresDatabase.terminateBackends(url: url, database: name, waitingForLock: true) > 0
                }
                return (terminated, await append.result)
            }
            await blocker.close()
            #expect(killed.0, "no append was seen waiting for the lock")
            switch killed.1 {
            case .success(let results): Issue.record("the append survived its backend: \(results)")
            case .failure(let error): #expect((error as? KinkoError)?.code == .storageUnavailable, "\(error)")
            }
            #expect(await ledger.account(AccountID(1))?.balance.debitsPosted == 50, "memory did not run ahead of the store")
            // The pool may still hand out the dead connection once: that too is a retryable answer.
            #expect(try await Self.retrying { try await ledger.createTransfers([trade(2_000_001, 1, 2, 1)], by: contractCaller) } == [.ok])
            #expect(try await Self.retrying { try await ledger.createTransfers([trade(2_000_001, 1, 2, 1)], by: contractCaller) } == [.exists])
            try await Self.expectExactlyOnce(harness, transfers: 51)
        }
    }

    // Goal: the PostgreSQL server restarts (fast shutdown: every session is ended) while
    // batches stream in: acknowledged batches survive, a batch in flight gets a retryable
    // `storage_unavailable`, retries with the same ids store nothing twice, and every
    // invariant holds afterwards. The server is one of the test's own (started with
    // scripts/pg-test-server.sh from Debian's binaries), so the restart disturbs no other test.
    @Test(.enabled(if: Backend.postgresURL != nil, "KINKO_TEST_POSTGRES_URL is not set (no PostgreSQL binaries assumed)"))
    func serverRestartMidIngest() async throws {
        let server = try await PrivateServer.start()
        do {
            try await StoreHarness.with(.postgres, server: server.url) { harness in
                let ledger = try await harness.ledger(checkpointEvery: 4)
                try await seedLedger(ledger)
                let writer = Task { try await Self.ingest(ledger, batches: 0..<150) }
                try await Task.sleep(for: .milliseconds(300))
                #expect(try await server.run("restart") == 0)
                let postedAtRestart = await ledger.account(AccountID(1))?.balance.debitsPosted ?? 0
                #expect(postedAtRestart < 750, "the restart came after the ingest had finished")
                let failures = try await writer.value
                print("server restart mid-ingest: \(failures) attempts answered storage_unavailable and were retried")
                try await Self.expectExactlyOnce(harness, transfers: 750)
            }
        } catch {
            _ = try? await server.run("stop")
            throw error
        }
        #expect(try await server.run("stop") == 0)
    }

}

import PostgresNIO

extension KinkoPostgresDatabase {
    /// Runs `body` while this connection holds the audit lock (every audited writer waits).
    func holdingAuditLock<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await connection.query("BEGIN", logger: Logger(label: "test"))
            try await KinkoPostgresDatabase.run("SELECT frontier FROM audit_state WHERE id = 1 FOR UPDATE", on: connection, logger: Logger(label: "test"))
            do {
                let value = try await body()
                try await connection.query("COMMIT", logger: Logger(label: "test"))
                return value
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: Logger(label: "test"))
                throw error
            }
        }
    }

    /// Terminates the backends of `database` (those waiting for a lock, or all), as a server
    /// shutdown would; returns how many.
    static func terminateBackends(url: String, database: String, waitingForLock: Bool) async throws -> Int {
        let client = PostgresClient(configuration: try configuration(url: url))
        let runner = Task { await client.run() }
        defer { runner.cancel() }
        let rows = try await client.query("""
            SELECT count(pg_terminate_backend(pid))::bigint FROM pg_stat_activity
            WHERE datname = \(database) AND pid <> pg_backend_pid() AND (NOT \(waitingForLock) OR wait_event_type = 'Lock')
            """)
        for try await count in rows.decode(Int64.self) { return Int(count) }
        return 0
    }
}

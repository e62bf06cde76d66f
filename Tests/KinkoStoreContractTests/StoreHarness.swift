import Foundation
import Logging
import KinkoCore
import KinkoGovernance
import KinkoLedger
import KinkoPostgres
import KinkoSQLite
import KinkoStores
import Testing

/// The databases the store contract runs against: SQLite always; PostgreSQL when
/// `KINKO_TEST_POSTGRES_URL` names a server (`.ci/run` starts one), e.g.
/// `postgres://postgres@127.0.0.1:54329/postgres`. Each test gets a database of its own.
enum Backend: String, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    static var postgresURL: String? {
        ProcessInfo.processInfo.environment["KINKO_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// SQLite, and PostgreSQL when a server is configured; `KINKO_TEST_BACKENDS=postgres` (or
    /// `sqlite`) narrows the run to one while debugging.
    static var configured: [Backend] {
        let available: [Backend] = postgresURL == nil ? [.sqlite] : [.sqlite, .postgres]
        guard let only = ProcessInfo.processInfo.environment["KINKO_TEST_BACKENDS"], !only.isEmpty else { return available }
        return available.filter { only.split(separator: ",").contains(Substring($0.rawValue)) }
    }

    var testDescription: String { rawValue }
}

/// One test's database (a file, or a PostgreSQL database created for the test and dropped
/// after), and the audit key. `open()` gives a new connection to it each time, as a second
/// process would have.
final class StoreHarness: @unchecked Sendable {
    let backend: Backend
    let directory: URL
    let postgresURL: String?
    let server: String?
    private var opened: [KinkoPostgresDatabase] = []

    var keyPath: String { directory.appendingPathComponent("audit-key").path }
    var sqlitePath: String { directory.appendingPathComponent("kinko.sqlite").path }

    /// `server` is the PostgreSQL server to create the test's database on (default: the one
    /// `KINKO_TEST_POSTGRES_URL` names).
    init(_ backend: Backend, server: String? = nil) async throws {
        self.backend = backend
        let server = server ?? Backend.postgresURL
        self.server = server
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("kinko-contract-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        _ = try AuditSigner.create(path: directory.appendingPathComponent("audit-key").path)
        switch backend {
        case .sqlite:
            postgresURL = nil
        case .postgres:
            let admin = try #require(server)
            let name = "kinko_t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(20).lowercased()
            try await KinkoPostgresDatabase.execute(url: admin, "CREATE DATABASE \(name)")
            var components = try #require(URLComponents(string: admin))
            components.path = "/" + name
            postgresURL = components.string
        }
    }

    /// Runs `body` with a fresh harness and closes it afterwards, also when `body` throws.
    static func with(_ backend: Backend, server: String? = nil, _ body: (StoreHarness) async throws -> Void) async throws {
        let harness = try await StoreHarness(backend, server: server)
        do {
            try await body(harness)
        } catch {
            await harness.close()
            throw error
        }
        await harness.close()
    }

    /// A new connection to the test's database.
    func open() async throws -> (ledger: any LedgerStore, governance: any GovernanceStore) {
        let stores = try await stores(clock: SystemWallClock())
        return (stores.ledger, stores.governance)
    }

    /// postgres-nio's protocol trace on standard error when `KINKO_TEST_PG_TRACE=1` (for
    /// debugging a test against PostgreSQL); nil (Kinko's quiet logger) otherwise.
    static var traceLogger: Logger? {
        guard ProcessInfo.processInfo.environment["KINKO_TEST_PG_TRACE"] == "1" else { return nil }
        var trace = Logger(label: "pg-trace") { StreamLogHandler.standardError(label: $0) }
        trace.logLevel = .trace
        return trace
    }

    /// Every store on a new connection to the test's database, with `clock`.
    func stores(clock: any WallClock) async throws -> KinkoStores {
        switch backend {
        case .sqlite:
            return KinkoStores(sqlite: try KinkoDatabase(path: sqlitePath, auditKeyPath: keyPath, clock: clock))
        case .postgres:
            let database = try await KinkoPostgresDatabase.open(url: try #require(postgresURL), auditKeyPath: keyPath, clock: clock,
                                                                logger: Self.traceLogger)
            opened.append(database)
            return KinkoStores(postgres: database)
        }
    }

    func ledger(checkpointEvery: UInt64 = 64) async throws -> Ledger {
        var limits = Ledger.Limits()
        limits.checkpointIntervalBatches = checkpointEvery
        return try await Ledger.open(store: try await open().ledger, limits: limits)
    }

    var publicKey: [UInt8] { get throws { try AuditSigner.load(path: keyPath).publicKey } }

    /// Closes connections and drops the PostgreSQL database; removes the directory.
    func close() async {
        for database in opened { await database.close() }
        if let url = postgresURL, let admin = server, let name = URLComponents(string: url)?.path.dropFirst() {
            try? await KinkoPostgresDatabase.execute(url: admin, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }
        try? FileManager.default.removeItem(at: directory)
    }
}

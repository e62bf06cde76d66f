import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KinkoControls
import KinkoCore
import KinkoGovernance
import KinkoServer
import KinkoSQLite
import KinkoStores
import Logging
import KinkoTestSupport
import Testing

/// Log records kept in memory, for tests that read what the server logged.
final class CapturedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    var text: String { lock.withLock { lines.joined(separator: "\n") } }

    func append(_ line: String) { lock.withLock { lines.append(line) } }

    /// A logger whose records land here, through the same redaction the server process uses.
    func logger() -> Logger {
        Logger(label: "kinko.http") { _ in RedactingLogHandler(Handler(log: self)) }
    }

    struct Handler: LogHandler {
        let log: CapturedLog
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let fields = (event.metadata ?? [:]).merging(metadata) { first, _ in first }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            log.append("\(event.level) \(event.message) \(fields.joined(separator: " "))\(event.error.map { " error=\(String(reflecting: $0))" } ?? "")")
        }
    }
}

/// Issue 14: each attack of the hardening run, replayed against the server in process.
@Suite("Hardening: the attacks of issue 14 stay repelled", .serialized)
struct HardeningTests {
    // Attack: a request that fails with a 500 wrote its Authorization header (a treasurer's
    // bearer token) and its body to the log. Now neither appears, in any form.
    @Test func aServerErrorLogsNeitherTheTokenNorTheBody() async throws {
        let f = try await ServerFixture()
        let log = CapturedLog()
        let app = Application(router: try KinkoHTTPServer(services: f.services, logger: log.logger()).router())
        let token = try #require(f.tokens[.treasurer])
        let secret = "vendor-notice-ref-\(UUID().uuidString)"
        // Break the database under the server: the vendors table is gone, so saving one fails.
        try await f.database.pool.write { db in try db.execute(sql: "DROP TABLE custody_vendors") }
        try await app.test(.router) { client in
            let body = #"{"name":"acme","notice_date":"2026-04-01","notice_reference":"\#(secret)"}"#
            let status = try await client.execute(uri: "/v1/custody/vendors", method: .post,
                                                  headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
                                                  body: ByteBuffer(string: body)) { $0.status }
            #expect(status == .internalServerError)
        }
        let text = log.text
        #expect(text.contains("request failed"), "the failure itself is logged: \(text)")
        #expect(text.contains("no such table"), "with its cause: \(text)")
        #expect(!text.contains(token), "the bearer token reached the log")
        #expect(!text.contains(String(token.dropFirst(TokenSecret.prefix.count))), "the token's secret part reached the log")
        #expect(!text.contains(secret), "the request body reached the log")
        #expect(!text.lowercased().contains("authorization"), "a header reached the log")
    }

    // Attack (critical): a far-future day or time trapped the process. The inspector killed it
    // with one console POST; 13 of 13 API requests did the same. Now each is a 4xx naming the
    // field (or a 403 before anything is parsed), and the server keeps answering.
    @Test func farFutureDaysAndTimesAreRefusedNotFatal() async throws {
        let f = try await ServerFixture()
        try await f.adoptMonitoring()
        let inspector = try await f.call(.post, "/console/actions/reconcile", json: try await f.console(.inspector).form("day=9999-12-31"), headers: try await f.console(.inspector).headers)
        #expect(inspector.status == .forbidden || inspector.headers[.location]?.contains("error=") == true, "\(inspector.status)")
        let finance = try await f.call(.post, "/console/actions/reconcile", json: try await f.console(.finance).form("day=9999-12-31"), headers: try await f.console(.finance).headers)
        #expect(finance.headers[.location]?.hasPrefix("/console?error=day") == true)
        let reconcile = try await f.call(.post, "/v1/custody/reconciliations", as: .treasurer, json: #"{"day":"2600-01-01"}"#)
        #expect(reconcile.status == .badRequest && reconcile.json["field"] as? String == "day", "\(reconcile.text)")
        let invalidDay = try await f.call(.post, "/v1/custody/reconciliations", as: .treasurer, json: #"{"day":"2026-02-30"}"#)
        #expect(invalidDay.status == .badRequest && invalidDay.json["field"] as? String == "day")
        for time in ["2600-01-01T00:00:00Z", "2262-04-11T23:47:17Z", "18446744073709551615", "9999-12-31T23:59:59Z"] {
            let prices = try await f.call(.post, "/v1/custody/observations/prices", as: .operator,
                                          json: #"{"prices":[{"asset":"BTC","price":"1000000","observed_at":"\#(time)"}]}"#)
            #expect(prices.status == .badRequest && (prices.json["field"] as? String)?.hasSuffix("observed_at") == true, "\(time): \(prices.text)")
            let incident = try await f.call(.post, "/v1/incidents", as: .finance,
                                            json: #"{"losses":[{"wallet":"btc-hot","asset":"BTC","amount":"1"}],"lost_at":"\#(time)"}"#)
            #expect(incident.status.code >= 400 && incident.status.code < 500, "\(time): \(incident.text)")
            let event = try await f.call(.post, "/v1/monitoring/events", as: .operator,
                                         ndjson: #"{"id":"far-\#(time.prefix(4))","kind":"deposit","customer":1,"time":"\#(time)","asset":"BTC","amount_jpy":100,"address":"bc1q"}"#)
            #expect(event.status.code < 500 && !event.text.contains(#""status":"evaluated""#), "\(time): \(event.text)")
        }
        #expect(try await f.call(.get, "/healthz").status == .ok)
    }

    // Attack (medium): the inspector wrote 12,133 signed refusals in 20 s. Now the first
    // `refusalsPerWindowMax` refusals of a principal are audited one by one; the rest answer 429
    // with Retry-After and are written as one counted summary when the window closes.
    @Test func repeatedRefusalsAreLimitedAndSummarised() async throws {
        let f = try await ServerFixture(refusals: try RefusalLimiter.Settings(refusalsPerWindowMax: 5, windowSeconds: 60))
        let before = try await f.services.governance.store.auditSize()
        var statuses: [Int] = []
        var retryAfter: String?
        for _ in 0..<25 {
            let answer = try await f.call(.post, "/v1/custody/reconciliations", as: .inspector, json: #"{"day":"2026-11-20"}"#)
            statuses.append(answer.status.code)
            if answer.status == .tooManyRequests {
                retryAfter = answer.headers[.retryAfter]
                #expect(answer.json["code"] as? String == "rate_limited")
            }
        }
        #expect(statuses == Array(repeating: 403, count: 5) + Array(repeating: 429, count: 20))
        #expect(retryAfter.flatMap(Int.init).map { (1...60).contains($0) } == true)
        #expect(try await f.services.governance.store.auditSize() == before + 5, "only the first five are written one by one")
        // Another principal has a budget of its own.
        #expect(try await f.call(.post, "/v1/custody/reconciliations", as: .auditor, json: #"{"day":"2026-11-20"}"#).status == .forbidden)
        #expect(try await f.services.governance.flushRefusalSummaries(force: true) == 1)
        let entries = try await f.services.governance.store.auditEntries(from: before, limit: 100).map { try AuditEntry(bytes: $0.bytes) }
        let summary = try #require(entries.last)
        #expect(summary.event.action == Governance.refusalSummaryAction && summary.event.principalName == "inspector.one")
        #expect(summary.event.details["refusals"] == "20" && summary.event.details["actions"] == "custody.reconcile×20")
        #expect(try await f.services.governance.verifyAudit(publicKey: try #require(f.services.stores.auditPublicKey)).isValid)
    }

    // /metrics without a token shows how the server runs; how the exchange stands (hot share,
    // reserve adequacy, alerts) only with --metrics full; --metrics off answers 404.
    @Test func metricsExposureIsASetting() async throws {
        let f = try await ServerFixture()
        func scrape(_ exposure: MetricsExposure) async throws -> (HTTPResponse.Status, String) {
            var settings = ServerSettings()
            settings.metrics = exposure
            let app = Application(router: try KinkoHTTPServer(services: f.services, settings: settings).router())
            return try await app.test(.router) { client in
                try await client.execute(uri: "/metrics", method: .get) { ($0.status, String(buffer: $0.body)) }
            }
        }
        let (operationalStatus, operational) = try await scrape(.operational)
        #expect(operationalStatus == .ok && operational.contains("kinko_ledger_accounts") && !operational.contains("kinko_monitoring_alerts"))
        let (_, full) = try await scrape(.full)
        #expect(full.contains("kinko_monitoring_alerts{status=\"open\"}"))
        // The hot-share limit is the regulatory figure in force (shipped: 5%), not a constant.
        #expect(full.contains("kinko_custody_hot_share_limit 0.05") && !operational.contains("kinko_custody_hot_share_limit"))
        #expect(try await scrape(.off).0 == .notFound)
    }

    // Attack (low): the database and its WAL were created mode 0644. Now 0600, and an existing
    // database opened again is made owner-only.
    @Test func databaseFilesAreOwnerOnly() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kinko-modes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("kinko.sqlite").path
        func mode(_ file: String) throws -> Int {
            try #require(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int) & 0o777
        }
        do {
            let database = try KinkoDatabase(path: path)
            try await database.pool.write { db in try db.execute(sql: "CREATE TABLE probe (x)") }
            for file in [path, path + "-wal", path + "-shm"] { #expect(try mode(file) == 0o600, "\(file)") }
        }
        #expect(chmod(path, 0o644) == 0)
        _ = try KinkoDatabase(path: path)
        #expect(try mode(path) == 0o600)
    }

    // Every setting of kinko serve has a named range: accepted at each end, refused one past,
    // naming the setting.
    @Test func serverSettingsHoldAtTheirLimits() throws {
        func field(_ change: (inout ServerSettings) -> Void) -> String? {
            var settings = ServerSettings()
            change(&settings)
            do {
                _ = try settings.validated()
                return nil
            } catch {
                return error.field ?? "?"
            }
        }
        let timeouts = ConnectionLimits.timeoutSecondsRange, connections = ConnectionLimits.connectionsRange
        for (keyPath, name) in [(\ConnectionLimits.headerTimeoutSeconds, "header_timeout"), (\.bodyTimeoutSeconds, "body_timeout"), (\.idleTimeoutSeconds, "idle_timeout")] {
            #expect(field { $0.connections[keyPath: keyPath] = timeouts.lowerBound } == nil)
            #expect(field { $0.connections[keyPath: keyPath] = timeouts.upperBound } == nil)
            #expect(field { $0.connections[keyPath: keyPath] = timeouts.lowerBound - 1 } == name)
            #expect(field { $0.connections[keyPath: keyPath] = timeouts.upperBound + 1 } == name)
        }
        #expect(field { $0.connections.connectionsMax = connections.upperBound; $0.connections.connectionsPerAddressMax = connections.upperBound } == nil)
        #expect(field { $0.connections.connectionsMax = connections.upperBound + 1 } == "max_connections")
        #expect(field { $0.connections.connectionsMax = 1; $0.connections.connectionsPerAddressMax = 1 } == nil)
        #expect(field { $0.connections.connectionsPerAddressMax = 0 } == "max_connections_per_address")
        #expect(field { $0.connections.connectionsMax = 10; $0.connections.connectionsPerAddressMax = 11 } == "max_connections_per_address")
        let idle = ConsoleSettings.sessionIdleMinutesRange
        #expect(field { $0.console.sessionIdleMinutes = idle.upperBound } == nil)
        #expect(field { $0.console.sessionIdleMinutes = idle.upperBound + 1 } == "session_idle")
        #expect(field { $0.console.sessionIdleMinutes = idle.lowerBound - 1 } == "session_idle")
        let every = ServerSettings.checkpointEverySecondsRange
        #expect(field { $0.checkpointEverySeconds = every.upperBound } == nil)
        #expect(field { $0.checkpointEverySeconds = every.upperBound + 1 } == "checkpoint_every")
        #expect(field { $0.checkpointEverySeconds = every.lowerBound - 1 } == "checkpoint_every")
        for (keyPath, range, name) in [(\ServerSettings.surveilScanEverySeconds, ServerSettings.surveilScanEverySecondsRange, "surveil_scan_every"),
                                       (\.networkScanEverySeconds, ServerSettings.networkScanEverySecondsRange, "network_scan_every")] {
            #expect(field { $0[keyPath: keyPath] = range.lowerBound } == nil)
            #expect(field { $0[keyPath: keyPath] = range.upperBound } == nil)
            #expect(field { $0[keyPath: keyPath] = range.lowerBound - 1 } == name)
            #expect(field { $0[keyPath: keyPath] = range.upperBound + 1 } == name)
        }

        let refusals = RefusalLimiter.Settings.refusalsPerWindowRange, window = RefusalLimiter.Settings.windowSecondsRange
        #expect(throws: Never.self) { _ = try RefusalLimiter.Settings(refusalsPerWindowMax: refusals.upperBound, windowSeconds: window.upperBound) }
        #expect(throws: Never.self) { _ = try RefusalLimiter.Settings(refusalsPerWindowMax: refusals.lowerBound, windowSeconds: window.lowerBound) }
        #expect((#expect(throws: KinkoError.self) { _ = try RefusalLimiter.Settings(refusalsPerWindowMax: refusals.upperBound + 1) })?.field == "refusals_per_window")
        #expect((#expect(throws: KinkoError.self) { _ = try RefusalLimiter.Settings(refusalsPerWindowMax: 0) })?.field == "refusals_per_window")
        #expect((#expect(throws: KinkoError.self) { _ = try RefusalLimiter.Settings(windowSeconds: window.upperBound + 1) })?.field == "refusal_window_seconds")
    }

    // The mask itself: every Kinko secret shape and every Bearer credential, nothing else.
    @Test func redactionMasksSecretsAndKeepsTheRest() {
        let token = "kinko_" + String(repeating: "ab12", count: 16)
        #expect(LogRedaction.redact("authorization: Bearer \(token), body") == "authorization: Bearer [redacted], body")
        #expect(LogRedaction.redact("cookie kinko_session=\(token)x") == "cookie kinko_[redacted]=kinko_[redacted]")
        #expect(LogRedaction.redact("code kinko_enrol_0123abcd done") == "code kinko_[redacted] done")
        #expect(LogRedaction.redact("BEARER   abc.def-ghi\nnext") == "Bearer [redacted]\nnext")
        #expect(LogRedaction.redact("GET /v1/ledger/accounts 200") == "GET /v1/ledger/accounts 200")
        #expect(LogRedaction.redact("bearer") == "bearer")
        let long = KinkoError(.storageFailure, String(repeating: "x", count: 2_000) + token)
        #expect(LogRedaction.describe(long).count <= LogRedaction.describedLengthMax + "[redacted]".count)
    }
}

/// Issue 14, items 6 and 8 against a live server: connection limits and timeouts, and the
/// 4xx problem documents for bodies and headers no client should send.
@Suite("Hardening: connections and malformed requests, live", .serialized)
struct LiveHardeningTests {
    static func settings(_ change: (inout ServerSettings) -> Void) -> ServerSettings {
        var settings = ServerSettings()
        change(&settings)
        return settings
    }

    static func live<T: Sendable>(_ f: ServerFixture, _ settings: ServerSettings, _ body: @escaping @Sendable (Int) async throws -> T) async throws -> T {
        let app = try KinkoHTTPServer(services: f.services, settings: settings).application(host: "127.0.0.1", port: 0)
        return try await app.test(.live) { client in try await body(try #require(client.port)) }
    }

    // Attack: 3,000 half-sent requests stayed open for over 20 s. Now a request whose header
    // does not complete within the header timeout, and a connection that says nothing, are
    // closed; an idle kept-alive connection is closed after the idle timeout.
    @Test func halfSentRequestsAndIdleConnectionsAreClosed() async throws {
        let f = try await ServerFixture()
        let settings = Self.settings {
            // A 5 s header timeout, a 2 s idle timeout, and reads that wait up to 15 s (they
            // return as soon as the answer or the close arrives): on a loaded 2-core machine a
            // 1 s header timeout could cut a whole request the server had not yet read.
            $0.connections.headerTimeoutSeconds = 5
            $0.connections.idleTimeoutSeconds = 2
        }
        try await Self.live(f, settings) { port in
            let half = try LoopbackConnection(port: port)
            half.send("GET /healthz HTTP/1.1\r\nHost: kinko\r\nX-Slow: ")
            let silent = try LoopbackConnection(port: port)
            let started = Date()
            let cut = half.read(seconds: 15)
            #expect(cut.closed && cut.text.isEmpty, "a half-sent header is closed without an answer")
            #expect(Date().timeIntervalSince(started) < 12)
            #expect(silent.read(seconds: 15).closed, "a connection that sends nothing is closed")

            let kept = try LoopbackConnection(port: port)
            kept.send("GET /healthz HTTP/1.1\r\nHost: kinko\r\n\r\n")
            let answer = kept.read(seconds: 15) { $0.contains("\r\n\r\n") && $0.hasSuffix("}") || $0.hasSuffix("ok") || $0.hasSuffix("\n") }
            #expect(answer.text.hasPrefix("HTTP/1.1 200"), "\(answer.text)")
            #expect(kept.read(seconds: 15).closed, "an idle kept-alive connection is closed after the idle timeout")
        }
    }

    // Attack: about 20,000 connections took /healthz down. Now one address holds at most
    // `connectionsPerAddressMax`; one more is answered 503 with a problem document and closed,
    // and a place frees up when a connection closes.
    @Test func connectionsOverTheCapAreTurnedAway() async throws {
        let f = try await ServerFixture()
        let settings = Self.settings {
            $0.connections.connectionsPerAddressMax = 4
            $0.connections.connectionsMax = 4
            $0.connections.headerTimeoutSeconds = 30
        }
        try await Self.live(f, settings) { port in
            // The test framework's own client holds one connection.
            var held: [LoopbackConnection] = []
            for _ in 0..<3 {
                let connection = try LoopbackConnection(port: port)
                connection.send("GET /healthz HTTP/1.1\r\nHost: kinko\r\n\r\n")
                #expect(connection.read(seconds: 15) { $0.contains("\r\n\r\n") }.text.hasPrefix("HTTP/1.1 200"))
                held.append(connection)
            }
            let extra = try LoopbackConnection(port: port)
            let refused = extra.read(seconds: 15)
            #expect(refused.text.hasPrefix("HTTP/1.1 503") && refused.text.contains(#""code":"too_many_connections""#) && refused.closed, "\(refused.text)")
            held.removeFirst()
            var admitted = false
            for _ in 0..<50 where !admitted {
                try await Task.sleep(for: .milliseconds(100))
                let again = try LoopbackConnection(port: port)
                again.send("GET /healthz HTTP/1.1\r\nHost: kinko\r\nConnection: close\r\n\r\n")
                admitted = again.read(seconds: 5).text.hasPrefix("HTTP/1.1 200")
            }
            #expect(admitted, "a closed connection frees its place")
        }
    }

    // Attack: a 12 MiB chunked body, a body shorter than its Content-Length, and an oversized
    // header or query each answered 500 or nothing. Now 413, 400 and 431, problem documents.
    @Test func bodiesAndHeadersOutOfBoundsAreProblems() async throws {
        let f = try await ServerFixture()
        let token = try #require(f.tokens[.treasurer])
        try await Self.live(f, ServerSettings()) { port in
            let chunked = try LoopbackConnection(port: port)
            chunked.send("POST /v1/custody/vendors HTTP/1.1\r\nHost: kinko\r\nAuthorization: Bearer \(token)\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            let chunk = "100000\r\n" + String(repeating: "a", count: 0x100000) + "\r\n"
            for _ in 0..<12 where chunked.send(chunk) {}
            chunked.send("0\r\n\r\n")
            let large = chunked.read(seconds: 20) { $0.contains("}") }
            #expect(large.text.hasPrefix("HTTP/1.1 413") && large.text.contains(#""code":"body_too_large""#), "\(large.text.prefix(300))")

            let short = try LoopbackConnection(port: port)
            short.send("POST /v1/custody/vendors HTTP/1.1\r\nHost: kinko\r\nAuthorization: Bearer \(token)\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":")
            short.shutdownWrite()
            let cut = short.read(seconds: 10) { $0.contains("}") }
            #expect(cut.text.hasPrefix("HTTP/1.1 400") && cut.text.contains(#""code":"body_incomplete""#), "\(cut.text.prefix(300))")

            let header = try LoopbackConnection(port: port)
            header.send("GET /healthz HTTP/1.1\r\nHost: kinko\r\nX-Big: \(String(repeating: "b", count: 70_000))\r\n\r\n")
            let big = header.read(seconds: 10) { $0.contains("}") }
            #expect(big.text.hasPrefix("HTTP/1.1 431") && big.text.contains(#""code":"header_too_large""#), "\(big.text.prefix(300))")

            let query = try LoopbackConnection(port: port)
            query.send("GET /v1/ledger/accounts?limit=\(String(repeating: "9", count: 70_000)) HTTP/1.1\r\nHost: kinko\r\n\r\n")
            let long = query.read(seconds: 10) { $0.contains("}") }
            #expect(long.text.hasPrefix("HTTP/1.1 431") && long.text.contains("application/problem+json"), "\(long.text.prefix(300))")

            let garbage = try LoopbackConnection(port: port)
            garbage.send("NOT HTTP AT ALL\r\n\r\n")
            let malformed = garbage.read(seconds: 10) { $0.contains("}") }
            #expect(malformed.text.hasPrefix("HTTP/1.1 400") && malformed.text.contains(#""code":"malformed_request""#), "\(malformed.text.prefix(300))")
        }
    }
}

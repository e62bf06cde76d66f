import ArgumentParser
import Foundation
import Hummingbird
import KinkoCore
import KinkoGovernance
import KinkoPostgres
import KinkoServer
import KinkoStores
import Logging
import ServiceLifecycle
import UnixSignals

/// `kinko serve`: the HTTP API and the web console.
struct Serve: KinkoCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the HTTP API (/v1, openapi.yaml), /healthz, /readyz, /metrics and the web console (/console).")
    @OptionGroup var database: DatabaseOptions
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).") var port = 8080
    @Flag(help: "Build the demo exchange first when the database does not exist yet or has no principals (tokens in demo-tokens.json).") var demo = false

    @Option(help: "Seconds from a request's first byte to its complete header (also from accepting a connection to its first header).")
    var headerTimeout = ConnectionLimits().headerTimeoutSeconds
    @Option(help: "Seconds from a request's header to the end of its body.") var bodyTimeout = ConnectionLimits().bodyTimeoutSeconds
    @Option(help: "Seconds a kept-alive connection may wait for its next request.") var idleTimeout = ConnectionLimits().idleTimeoutSeconds
    @Option(help: "Open connections at once (more are answered 503).") var maxConnections = ConnectionLimits().connectionsMax
    @Option(help: "Open connections from one address at once (more are answered 503).")
    var maxConnectionsPerAddress = ConnectionLimits().connectionsPerAddressMax
    @Option(help: "Refusals audited one by one per principal and window; more are answered 429 and summarised.")
    var refusalsPerWindow = RefusalLimiter.Settings.standard.refusalsPerWindowMax
    @Option(help: "The refusal window, in seconds.") var refusalWindow = RefusalLimiter.Settings.standard.windowSeconds
    @Option(help: "What /metrics shows without a token: operational (requests, connections, ledger size), full (also hot share, reserve adequacy, alerts: only on the exchange's monitoring network) or off.")
    var metrics = MetricsExposure.operational.rawValue
    @Option(help: "Append each new signed audit checkpoint to this file (keep it outside the database's machine, or have it copied off).")
    var checkpointLog: String?
    @Option(help: "Seconds between updates of the checkpoint log.") var checkpointEvery = ServerSettings().checkpointEverySeconds
    @Option(help: "Mark console cookies Secure: auto (when a trusted proxy says the request came over TLS), always, never.")
    var secureCookies = ConsoleSettings.SecureCookies.auto.rawValue
    @Flag(help: "Believe X-Forwarded-Proto (only behind a proxy that sets it).") var trustForwardedProto = false
    @Option(help: "Idle minutes after which a console session ends (1–720).") var sessionIdle = ConsoleSettings().sessionIdleMinutes
    @Option(help: "A file holding a bearer token with monitor.ingest (the operator's service token): the server runs the market-surveillance scan and monitoring's network scan on a schedule as its principal. Without it, run `kinko surveil scan` and `kinko monitor network-scan` from cron.")
    var jobsTokenFile: String?
    @Option(help: "Seconds between market-surveillance scans (10–86400; with --jobs-token-file).") var surveilScanEvery = ServerSettings().surveilScanEverySeconds
    @Option(help: "Seconds between network scans (60–604800; with --jobs-token-file).") var networkScanEvery = ServerSettings().networkScanEverySeconds
    @Option(help: "A file holding a bearer token with custody.reconcile, of someone who does not record balances (finance, or a second treasurer): once each 17:00 JST cut-off passes, the server reconciles the day as its principal, and any day of the last week left unreconciled. Without it, run `kinko custody reconcile --day D` after each cut-off.")
    var reconcileTokenFile: String?
    @Option(help: "The SHA-256 fingerprint of the audit checkpoint key (default: $\(AuditKeyPin.environmentVariable)); the server refuses to start with another key.")
    var auditKeyFingerprint: String?

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0–65535") }
        _ = try settings()
        _ = try refusalSettings()
    }

    func settings() throws -> ServerSettings {
        var settings = ServerSettings()
        settings.connections.headerTimeoutSeconds = headerTimeout
        settings.connections.bodyTimeoutSeconds = bodyTimeout
        settings.connections.idleTimeoutSeconds = idleTimeout
        settings.connections.connectionsMax = maxConnections
        settings.connections.connectionsPerAddressMax = maxConnectionsPerAddress
        guard let exposure = MetricsExposure(rawValue: metrics) else {
            throw ValidationError("--metrics is one of \(MetricsExposure.allCases.map(\.rawValue).joined(separator: ", ")); got \(metrics)")
        }
        settings.metrics = exposure
        settings.checkpointLog = checkpointLog
        settings.checkpointEverySeconds = checkpointEvery
        guard let secure = ConsoleSettings.SecureCookies(rawValue: secureCookies) else {
            throw ValidationError("--secure-cookies is one of auto, always, never; got \(secureCookies)")
        }
        settings.console.secureCookies = secure
        settings.console.trustForwardedProto = trustForwardedProto
        settings.console.sessionIdleMinutes = sessionIdle
        settings.surveilScanEverySeconds = surveilScanEvery
        settings.networkScanEverySeconds = networkScanEvery
        if let jobsTokenFile {
            let token = try readFile(jobsTokenFile, field: "--jobs-token-file").trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw KinkoError(.invalidInput, "\(jobsTokenFile) is empty: it holds one bearer token", field: "jobs_token_file") }
            settings.jobsToken = token
        }
        if let reconcileTokenFile {
            let token = try readFile(reconcileTokenFile, field: "--reconcile-token-file").trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw KinkoError(.invalidInput, "\(reconcileTokenFile) is empty: it holds one bearer token", field: "reconcile_token_file") }
            settings.reconcileToken = token
        }
        return try settings.validated()
    }

    func refusalSettings() throws -> RefusalLimiter.Settings {
        try RefusalLimiter.Settings(refusalsPerWindowMax: refusalsPerWindow, windowSeconds: refusalWindow)
    }

    func execute() async throws {
        if try await !KinkoStores.isInitialised(database.path, auditKeyPath: database.auditKeyPath) {
            guard demo else {
                let what = database.isPostgres ? "no Kinko principals in \(database.displayName)" : "no database at \(database.path)"
                throw KinkoError(.notFound, "\(what): create one with `kinko init` (prints the first admin's token) or run `kinko serve --demo`",
                                 field: "database")
            }
            var arguments = ["--database", database.path]
            if let key = database.auditKey { arguments += ["--audit-key", key] }
            try await Demo.parse(arguments).execute()
            print("")
        }
        LoggingSystem.bootstrap { label in
            var handler = RedactingLogHandler(StreamLogHandler.standardError(label: label))
            handler.logLevel = ProcessInfo.processInfo.environment["KINKO_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
            return handler
        }
        let pin = try auditKeyFingerprint.map { try AuditKeyPin(hex: $0, field: "audit_key_fingerprint") }
            ?? (try AuditKeyPin.fromEnvironment(ProcessInfo.processInfo.environment))
        // The database's background work (the SQLite checkpointer, or the PostgreSQL pool) and
        // the server run in one service group: SIGTERM or SIGINT stops the server first, lets
        // requests in flight finish, then stops the database's services.
        let stores = try await database.openStores(running: .inServiceGroup)
        let logger = Logger(label: "kinko")
        let serving = ServingKinko { [database, host, port] in
            try await stores.migrate()
            let services = try await Services(stores: stores.exchange, auditKeyPin: pin, refusals: try refusalSettings())
            let settings = try settings()
            if let token = settings.jobsToken {
                // Refuse to start with a token that cannot run the scans, rather than fail every few minutes.
                let caller = try await services.governance.authenticate(token: token)
                guard (try? caller.role(for: .monitorIngest, table: services.governance.permissions)) != nil else {
                    throw KinkoError(.forbidden, "the jobs token is \(caller.name)'s, who lacks monitor.ingest: use the operator's service token", field: "jobs_token_file")
                }
            }
            if let token = settings.reconcileToken {
                let caller = try await services.governance.authenticate(token: token)
                guard (try? caller.role(for: .custodyReconcile, table: services.governance.permissions)) != nil else {
                    throw KinkoError(.forbidden, "the reconcile token is \(caller.name)'s, who lacks custody.reconcile: use finance's or a second treasurer's", field: "reconcile_token_file")
                }
            }
            let app = try KinkoHTTPServer(services: services, settings: settings).application(host: host, port: port)
            let directory = database.directory.path
            print("""
                Kinko serving \(database.displayName) on http://\(host):\(port)
                  console  http://\(host):\(port)/console   (sign in with a token)
                  API      http://\(host):\(port)/v1/…       (Authorization: Bearer <token>; spec: Sources/KinkoServer/openapi.yaml)
                  probes   /healthz /readyz /metrics
                Scheduled scans: \(settings.jobsToken == nil ? "none (--jobs-token-file runs them; or cron `kinko surveil scan` and `kinko monitor network-scan`)" : "market surveillance every \(settings.surveilScanEverySeconds) s, network every \(settings.networkScanEverySeconds) s").
                Daily reconciliation: \(settings.reconcileToken == nil ? "by hand (--reconcile-token-file runs it at each cut-off)" : "at each cut-off, and any day of the last week left unreconciled").
                Tokens: \(FileManager.default.fileExists(atPath: directory + "/demo-tokens.json") ? "demo-tokens.json (one per role)" : "the first admin's token was printed by `kinko init`; an admin issues more with `kinko governance issue-token`").
                Stop with Ctrl-C or SIGTERM: requests in flight finish first.
                """)
            // Standard output redirected to a file or a pipe is block-buffered: without this the
            // banner (and the demo's summary) would appear only at shutdown. fflush(nil) flushes every
            // output stream without naming the C global `stdout`.
            fflush(nil)
            try await app.run()
        }
        let group = ServiceGroup(configuration: .init(services: stores.backgroundServices + [serving],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// The server as a service of `kinko serve`'s group: set up once the database's services run
/// (PostgreSQL connects only then), then serve until the group shuts down.
private struct ServingKinko: Service {
    let body: @Sendable () async throws -> Void

    func run() async throws { try await body() }
}

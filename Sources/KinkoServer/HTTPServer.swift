import Foundation
public import Hummingbird
import HummingbirdCore
public import Logging
import OpenAPIHummingbird
import OpenAPIRuntime
public import ServiceLifecycle

/// The HTTP server: the OpenAPI operations under `/v1`, the probes, `/metrics` and the console.
public struct KinkoHTTPServer: Sendable {
    public let services: Services
    public let settings: ServerSettings
    public let logger: Logger
    /// The largest request body accepted (413 above it): room for 8,190 transfers as JSON.
    public static let maxBodyBytes = 8 * 1024 * 1024
    let metrics: RequestMetrics
    let connections: ConnectionCounter
    let consoleSessions: ConsoleSessions

    public init(services: Services, settings: ServerSettings = ServerSettings(), logger: Logger = Logger(label: "kinko.http")) {
        self.services = services
        self.settings = settings
        self.logger = logger
        consoleSessions = ConsoleSessions(idleMinutes: settings.console.sessionIdleMinutes)
        metrics = RequestMetrics()
        connections = ConnectionCounter(refused: metrics.counter("kinko_http_connections_refused_total", "Connections turned away by the connection caps."))
    }

    public func router() throws -> Router<BasicRequestContext> {
        let router = Router()
        router.middlewares.add(ProblemMiddleware(maxBodyBytes: Self.maxBodyBytes, logger: logger))
        let api = KinkoAPI(services: services, metrics: metrics, exposure: settings.metrics, connections: connections)
        try api.registerHandlers(on: router, serverURL: .defaultOpenAPIServerURL, configuration: .init(),
                                 middlewares: [OperationMiddleware(governance: services.governance, metrics: metrics)])
        Console(services: services, sessions: consoleSessions, settings: settings.console).register(on: router)
        return router
    }

    /// Runs one scheduled job now, as `settings.jobsToken`'s principal; true when it succeeded.
    public func runJob(_ job: ScheduledJob) async -> Bool {
        await BackgroundDuties(services: services, settings: settings, logger: logger, metrics: metrics).run(job)
    }

    /// The metrics text `/metrics` would show in full.
    public var metricsText: String { metrics.text }

    /// An application on `host:port`; `runService()` serves until SIGTERM or SIGINT, then lets
    /// requests in flight finish.
    /// Connections pass the limits of `settings.connections` (`GuardedHTTP1Channel`); the
    /// background duties (refusal summaries, the checkpoint log) run alongside.
    /// `alongside`: background services of the process (the database's) to run and stop with it.
    public func application(host: String, port: Int, alongside: [any Service] = []) throws -> some ApplicationProtocol {
        let (limits, counter) = (try settings.validated().connections, connections)
        return Application(
            router: try router(),
            server: HTTPServerBuilder { responder in GuardedHTTP1Channel(responder: responder, limits: limits, counter: counter) },
            configuration: .init(address: .hostname(host, port: port), serverName: "kinko"),
            services: [BackgroundDuties(services: services, settings: settings, logger: logger, metrics: metrics)] + alongside,
            logger: logger)
    }
}

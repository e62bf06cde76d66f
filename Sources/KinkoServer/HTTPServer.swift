import Foundation
public import Hummingbird
import KinkoStores
public import Logging
import OpenAPIHummingbird
import OpenAPIRuntime

/// The HTTP server: the OpenAPI operations under `/v1`, the probes, `/metrics` and the console.
public struct KinkoHTTPServer: Sendable {
    public let services: Services
    public let logger: Logger
    /// The largest request body accepted (413 above it): room for 8,190 transfers as JSON.
    public static let maxBodyBytes = 8 * 1024 * 1024
    let metrics = RequestMetrics()

    public init(services: Services, logger: Logger = Logger(label: "kinko.http")) {
        self.services = services
        self.logger = logger
    }

    public func router() throws -> Router<BasicRequestContext> {
        let router = Router()
        router.middlewares.add(ProblemMiddleware(maxBodyBytes: Self.maxBodyBytes, logger: logger))
        let api = KinkoAPI(services: services, metrics: metrics)
        try api.registerHandlers(on: router, serverURL: .defaultOpenAPIServerURL, configuration: .init(),
                                 middlewares: [OperationMiddleware(governance: services.governance, metrics: metrics)])
        Console(services: services).register(on: router)
        return router
    }

    /// An application on `host:port`; `runService()` serves until SIGTERM or SIGINT, then lets
    /// requests in flight finish.
    public func application(host: String, port: Int) throws -> some ApplicationProtocol {
        Application(router: try router(), configuration: .init(address: .hostname(host, port: port), serverName: "kinko"), logger: logger)
    }
}

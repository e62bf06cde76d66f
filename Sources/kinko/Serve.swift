import ArgumentParser
import Foundation
import Hummingbird
import KinkoCore
import KinkoServer
import KinkoStores
import Logging

/// `kinko serve`: the HTTP API and the web console.
struct Serve: KinkoCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the HTTP API (/v1, openapi.yaml), /healthz, /readyz, /metrics and the web console (/console).")
    @OptionGroup var database: DatabaseOptions
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).") var port = 8080
    @Flag(help: "Build the demo exchange first when the database does not exist yet or has no principals (tokens in demo-tokens.json).") var demo = false

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0–65535") }
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
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = ProcessInfo.processInfo.environment["KINKO_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
            return handler
        }
        let services = try await Services(stores: try await database.openStores())
        let server = KinkoHTTPServer(services: services)
        let app = try server.application(host: host, port: port)
        let directory = database.directory.path
        print("""
            Kinko serving \(database.displayName) on http://\(host):\(port)
              console  http://\(host):\(port)/console   (sign in with a token)
              API      http://\(host):\(port)/v1/…       (Authorization: Bearer <token>; spec: Sources/KinkoServer/openapi.yaml)
              probes   /healthz /readyz /metrics
            Tokens: \(FileManager.default.fileExists(atPath: directory + "/demo-tokens.json") ? "demo-tokens.json (one per role)" : "the first admin's token was printed by `kinko init`; an admin issues more with `kinko governance issue-token`").
            Stop with Ctrl-C or SIGTERM: requests in flight finish first.
            """)
        try await app.runService()
    }
}

public import ServiceLifecycle
import PostgresNIO

/// The background work of one PostgreSQL database as a swift-service-lifecycle service: it runs
/// each generation of the connection pool (postgres-nio's `PostgresClient.run()`, which must run
/// for the pool to hand out connections), and once a second calls `watch` (the database's lease
/// watcher). A generation runs until it is retired (the database replaced its pool after a
/// server restart, or closed); the service runs until it is cancelled, its service group shuts
/// down gracefully, or the database closes.
///
/// A long-lived process (`kinko serve`) runs it in its service group next to the HTTP server;
/// a one-shot command lets the database run it in a task of its own until `close()`
/// (`KinkoPostgresDatabase.Running`).
public final class PostgresPoolService: Service, Sendable {
    /// One pool and the signal that retires it.
    struct Generation: Sendable {
        let client: PostgresClient
        let retired: AsyncStream<Void>
    }

    private let generations: AsyncStream<Generation>
    private let added: AsyncStream<Generation>.Continuation
    private let watch: @Sendable () -> Void
    private let stopped: @Sendable () -> Void
    /// How often `watch` runs.
    static let watchInterval: Duration = .seconds(1)

    /// `watch` runs once a second; `stopped` once `run` ends (the database closes: without
    /// its pool no call could be answered).
    init(watch: @escaping @Sendable () -> Void, stopped: @escaping @Sendable () -> Void) {
        (generations, added) = AsyncStream.makeStream(of: Generation.self)
        self.watch = watch
        self.stopped = stopped
    }

    /// Hands `client` to the service to run until `retire` is called; the continuation finishes
    /// the generation's `retired` stream.
    func start(_ client: PostgresClient) -> AsyncStream<Void>.Continuation {
        let (retired, retire) = AsyncStream.makeStream(of: Void.self)
        added.yield(Generation(client: client, retired: retired))
        return retire
    }

    /// No further generations: `run` returns once the running ones are retired.
    func finish() { added.finish() }

    public func run() async {
        defer { stopped() }
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                let watch = self.watch
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: Self.watchInterval)
                        watch()
                    }
                }
                for await generation in self.generations {
                    group.addTask {
                        await withDiscardingTaskGroup { pool in
                            pool.addTask { await generation.client.run() }
                            for await _ in generation.retired {}
                            pool.cancelAll()
                        }
                    }
                }
                // The database closed (or the service was cancelled): stop watching.
                group.cancelAll()
            }
        }
    }
}

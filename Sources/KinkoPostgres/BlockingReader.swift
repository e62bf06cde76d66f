import Logging
import NIOCore
import PostgresNIO
import Synchronization
import KinkoCore

/// Reads for callers that cannot await: the monitoring engine loads a customer's state in the
/// middle of evaluating an event. One connection of its own, driven with NIO futures on NIO's
/// event loop threads and waited for — never a Swift task — so a caller blocking one of Swift's
/// few cooperative threads cannot starve the read it waits for. A read that outlives the call
/// deadline has its connection closed under it and fails `storage_unavailable`; the next read
/// connects again.
final class BlockingReader: Sendable {
    private let configuration: PostgresConnection.Configuration
    private let deadline: Duration
    private let logger: Logger
    private let connection = Mutex<PostgresConnection?>(nil)

    init(target: KinkoPostgresDatabase.Target, deadline: Duration, logger: Logger) {
        configuration = PostgresConnection.Configuration(
            host: target.host, port: target.port, username: target.username, password: target.password, database: target.database, tls: .disable)
        self.deadline = deadline
        self.logger = logger
    }

    /// The rows of `query`, waiting for them on the calling thread.
    func rows(_ query: PostgresQuery) throws -> [PostgresRow] {
        let eventLoop = PostgresConnection.defaultEventLoopGroup.any()
        let timeout = TimeAmount.nanoseconds(Int64(deadline.components.seconds) * 1_000_000_000 + deadline.components.attoseconds / 1_000_000_000)
        let open: PostgresConnection
        do {
            open = try connection.withLock { current in
                if let current, !current.isClosed { return current }
                let connecting = PostgresConnection.connect(on: eventLoop, configuration: configuration, id: 0, logger: logger)
                let giveUp = eventLoop.scheduleTask(in: timeout) { connecting.whenSuccess { Self.shut($0) } }
                defer { giveUp.cancel() }
                let fresh = try connecting.wait()
                current = fresh
                return fresh
            }
        } catch {
            throw KinkoPostgresDatabase.translate(error)
        }
        // postgres-nio never answers a query written to a closed connection, so the answer is
        // our own promise, failed at the deadline if the query has not completed it by then.
        let answer = open.eventLoop.makePromise(of: [PostgresRow].self)
        let cutOff = open.eventLoop.scheduleTask(in: timeout) {
            Self.shut(open)
            answer.fail(KinkoError(.storageUnavailable, "the database did not answer within \(self.deadline); retry"))
        }
        defer { cutOff.cancel() }
        do {
            guard !open.isClosed else {
                throw KinkoError(.storageUnavailable, "the connection to the database was closed (the server restarted or ended the session); retry")
            }
            open.query(query, logger: logger).map(\.rows).cascade(to: answer)
            return try answer.futureResult.wait()
        } catch {
            connection.withLock { current in if current === open { current = nil } }
            Self.shut(open)
            if let error = error as? KinkoError { throw error }
            if open.isClosed, !KinkoPostgresDatabase.endsTheConnection(error), (error as? PSQLError)?.code != .server {
                throw KinkoError(.storageUnavailable, "the database did not answer within \(deadline); retry")
            }
            throw KinkoPostgresDatabase.translate(error)
        }
    }

    /// Closes `connection`, keeping it alive until it is closed (postgres-nio insists).
    private static func shut(_ connection: PostgresConnection) {
        let closing: EventLoopFuture<Void> = connection.close()
        closing.whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    deinit { close() }

    func close() {
        let open = connection.withLock { current in
            defer { current = nil }
            return current
        }
        if let open { Self.shut(open) }
    }
}

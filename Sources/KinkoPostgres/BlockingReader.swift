import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization
import KinkoCore

/// Reads for callers that cannot await: the monitoring engine loads a customer's state in the
/// middle of evaluating an event. One connection of its own, driven with NIO futures on NIO's
/// event loop threads and waited for — never a Swift task, so the wait cannot starve the read
/// it waits for. The waiting happens on a thread of its own: batches are evaluated on
/// `executor` (`MonitoringStateSource.blockingReadsExecutor`), never on Swift's cooperative
/// threads, which other requests need meanwhile. A read that outlives the call deadline has its
/// connection closed under it and fails `storage_unavailable`; the next read connects again.
final class BlockingReader: Sendable {
    private let configuration: PostgresConnection.Configuration
    private let deadline: Duration
    private let logger: Logger
    private let connection = Mutex<PostgresConnection?>(nil)
    /// The thread batches that may read through this reader run on.
    let executor = ThreadExecutor(name: "kinko-monitor")

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
        executor.shutdown()
    }
}

/// A task executor with one thread of its own: work that must block (a synchronous read over
/// the network) runs here instead of on Swift's cooperative threads. Swift has no such executor
/// and NIO 2.x offers none (its `NIOThreadPool` is not a `TaskExecutor`); it is a queue, a
/// condition and a loop. After `shutdown` the thread ends once the queue is empty; work
/// enqueued later runs on a thread started for it.
final class ThreadExecutor: TaskExecutor, Sendable {
    private struct State: ~Copyable {
        var jobs: [UnownedJob] = []
        var running = false
        var shuttingDown = false
        var jobsRun = 0
        /// The running thread, once its loop started.
        var thread: pthread_t?
    }
    private let state = Mutex(State())
    private let ready = NSCondition()
    /// The thread's name, as `top -H` shows it (at most `nameBytesMax` bytes: Linux's limit).
    let name: String
    static let nameBytesMax = 15

    init(name: String) { self.name = name }

    /// Jobs run so far (a task's every resumption on this executor is one).
    var jobsRun: Int { state.withLock { $0.jobsRun } }

    /// Whether the caller runs on this executor's thread.
    var isCurrentThread: Bool {
        let current = pthread_self()
        return state.withLock { $0.thread.map { pthread_equal($0, current) != 0 } ?? false }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let start = ready.withLock {
            state.withLock { state in
                state.jobs.append(job)
                defer { state.running = true }
                return !state.running
            }
        }
        ready.signal()
        if start {
            let thread = Thread { [self] in
                // Linux names a thread after the one that started it. Foundation renames only a
                // thread it knows is current, which can race with start(): the name is for
                // people (top -H), not for code; `isCurrentThread` is what code asks.
                Thread.current.name = String(name.utf8.prefix(Self.nameBytesMax))
                loop()
            }
            thread.start()
        }
    }

    /// Lets the thread end once nothing is queued.
    func shutdown() {
        ready.withLock { state.withLock { $0.shuttingDown = true } }
        ready.broadcast()
    }

    private func loop() {
        let me = pthread_self()
        state.withLock { $0.thread = me }
        while true {
            ready.lock()
            var next: UnownedJob?
            while true {
                let (job, stop) = state.withLock { state -> (UnownedJob?, Bool) in
                    if !state.jobs.isEmpty {
                        state.jobsRun += 1
                        return (state.jobs.removeFirst(), false)
                    }
                    if state.shuttingDown {
                        state.running = false
                        return (nil, true)
                    }
                    return (nil, false)
                }
                if let job {
                    next = job
                    break
                }
                if stop {
                    ready.unlock()
                    return
                }
                ready.wait()
            }
            ready.unlock()
            next?.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

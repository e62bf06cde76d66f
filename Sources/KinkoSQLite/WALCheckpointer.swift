import Foundation
import GRDBSQLite
import KinkoCore

/// Copies the write-ahead log back into the database file on a thread of its own, so the
/// ledger's writer never pays for it inside a batch. SQLite's automatic checkpoint runs in
/// the committing connection, which would add a few hundred milliseconds to every ~50th batch.
///
/// A PASSIVE checkpoint never blocks writers or readers; when it has copied every frame, the
/// next writer starts the log from the beginning again, so the file stays bounded.
/// `@unchecked Sendable`: the stop flag is guarded by `condition`; the connection is used only
/// by the thread.
final class WALCheckpointer: @unchecked Sendable {
    /// How often the log size is looked at.
    static let pollIntervalMilliseconds = 20
    /// Log size above which a checkpoint runs.
    static let thresholdBytes = 32 << 20

    private let path: String
    private let condition = NSCondition()
    private var stopping = false
    private var finished = false

    init(path: String) {
        self.path = path
        let thread = Thread { [self] in run() }
        thread.name = "kinko.wal-checkpointer"
        thread.start()
    }

    /// Stops the thread after any checkpoint in progress, and waits for it.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private func run() {
        var connection: OpaquePointer? = nil
        let opened = sqlite3_open_v2(path, &connection, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK
        if opened { sqlite3_busy_timeout(connection, 1_000) }
        let walPath = path + "-wal"
        condition.lock()
        while !stopping {
            condition.unlock()
            if opened, let size = try? FileManager.default.attributesOfItem(atPath: walPath)[.size] as? Int,
                size > Self.thresholdBytes
            {
                sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            }
            condition.lock()
            if !stopping { _ = condition.wait(until: Date().addingTimeInterval(Double(Self.pollIntervalMilliseconds) / 1000)) }
        }
        condition.unlock()
        sqlite3_close_v2(connection)
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }
}

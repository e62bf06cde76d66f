import Dispatch
import Foundation
import GRDBSQLite
import KinkoCore
public import ServiceLifecycle

/// Copies the write-ahead log back into the database file in the background, so the ledger's
/// writer never pays for it inside a batch. SQLite's automatic checkpoint runs in the
/// committing connection, which would add a few hundred milliseconds to every ~50th batch.
///
/// A swift-service-lifecycle `Service`: whoever runs a long-lived process over the database
/// runs it (`kinko serve` in its service group, the benchmarks alongside their work); it stops
/// on graceful shutdown or cancellation. A process that does not run it (a one-off command, a
/// test) still has SQLite's own checkpoint at `KinkoDatabase.walAutocheckpointPages` as a
/// backstop. The checkpoint itself is a blocking SQLite call: it runs on a dispatch queue of its
/// own, never on one of Swift's cooperative threads. A PASSIVE checkpoint never blocks writers
/// or readers; when it has copied every frame, the next writer starts the log from the
/// beginning again, so the file stays bounded.
public final class WALCheckpointer: Service, Sendable {
    /// How often the log size is looked at.
    public static let pollInterval: Duration = .milliseconds(20)
    /// Log size above which a checkpoint runs.
    public static let thresholdBytes = 32 << 20

    private let path: String
    private let threshold: Int
    private let queue = DispatchQueue(label: "kinko.wal-checkpointer")

    init(path: String, thresholdBytes: Int = WALCheckpointer.thresholdBytes) {
        self.path = path
        threshold = thresholdBytes
    }

    /// The connection the checkpoints run on, used only on `queue`.
    private final class Connection: @unchecked Sendable {
        var handle: OpaquePointer?
    }

    public func run() async throws {
        let connection = Connection()
        await onQueue {
            if sqlite3_open_v2(self.path, &connection.handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK {
                sqlite3_busy_timeout(connection.handle, 1_000)
                // A connection that has not read the database yet does not know it is in WAL
                // mode, and its checkpoints do nothing (they report -1 frames): read once first.
                _ = sqlite3_exec(connection.handle, "SELECT count(*) FROM sqlite_master", nil, nil, nil)
            }
        }
        let walPath = path + "-wal"
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                if let size = try? FileManager.default.attributesOfItem(atPath: walPath)[.size] as? Int, size > self.threshold {
                    await self.onQueue { _ = sqlite3_wal_checkpoint_v2(connection.handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil) }
                }
                do { try await Task.sleep(for: Self.pollInterval) } catch { break }
            }
        }
        await onQueue { _ = sqlite3_close_v2(connection.handle) }
    }

    private func onQueue(_ work: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            queue.async {
                work()
                done.resume()
            }
        }
    }
}

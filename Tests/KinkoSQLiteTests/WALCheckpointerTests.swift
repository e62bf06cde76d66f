import Foundation
import GRDB
import KinkoCore
@testable import KinkoSQLite
import Testing

/// The WAL checkpointer is a service: it copies the log into the database file while it runs
/// and ends when its task is cancelled (as a service group's graceful shutdown does).
@Suite("WAL checkpointer")
struct WALCheckpointerTests {
    @Test func copiesTheLogIntoTheFileWhileRunningAndStopsWhenCancelled() async throws {
        let temp = try TemporaryDirectory()
        let path = temp.url.appendingPathComponent("kinko.sqlite").path
        let database = try KinkoDatabase(path: path)
        func fileSize() throws -> Int { try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0 }
        // A megabyte of new pages in the log, not yet in the file.
        try await database.pool.write { db in
            try db.execute(sql: "CREATE TABLE filler (bytes BLOB)")
            for _ in 0..<256 { try db.execute(sql: "INSERT INTO filler VALUES (randomblob(4096))") }
        }
        let before = try fileSize()
        #expect(try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int ?? 0 > 1 << 20, "the pages are in the log")
        let checkpointer = WALCheckpointer(path: path, thresholdBytes: 0)
        let running = Task { try await checkpointer.run() }
        var grew = false
        for _ in 0..<250 where !grew {
            try await Task.sleep(for: .milliseconds(20))
            grew = try fileSize() > before
        }
        running.cancel()
        try await running.value
        #expect(grew, "the schema reached the database file (\(before) bytes before)")
        _ = database
    }
}

import Foundation
import KinkoCore
import KinkoLedger
import KinkoSQLite
import Testing

/// The `kinko` executable built next to this test bundle (`swift test` builds every product).
func kinkoExecutable() throws -> URL {
    let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var directory = bundle.deletingLastPathComponent()
    // On Linux the test binary is `.build/<triple>/debug/KinkoPackageTests.xctest`; on macOS it
    // is inside `KinkoPackageTests.xctest/Contents/MacOS/`.
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent("kinko")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        directory.deleteLastPathComponent()
    }
    throw KinkoError(.notFound, "the kinko executable was not found next to \(bundle.path); run `swift build` first")
}

@Suite("Crash safety", .serialized)
struct CrashTests {
    static let kills = 24
    static let batchSize = 2_000

    // Goal: SIGKILL at random moments during ingest never loses an acknowledged batch, never
    // leaves part of a batch, and never breaks an invariant — checked after each of 24 kills.
    @Test func killNineDuringIngest() async throws {
        let temp = try TemporaryDatabase()
        let executable = try kinkoExecutable()
        var rng = SystemRandomNumberGenerator()
        var nextBatch = 1
        var acknowledged = 0
        var inFlightLost = 0, inFlightWhole = 0
        for round in 0..<Self.kills {
            let child = Process()
            child.executableURL = executable
            child.arguments = ["bench", "crash-child", "--database", temp.path, "--start", String(nextBatch),
                               "--batch-size", String(Self.batchSize)]
            let output = Pipe()
            child.standardOutput = output
            child.standardError = FileHandle.nullDevice
            try child.run()
            // Let it get going (opening takes longer as the file grows), then kill it.
            try await Task.sleep(for: .milliseconds(Int.random(in: 250...900, using: &rng)))
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            #expect(child.terminationReason == .uncaughtSignal, "round \(round): the child exited by itself")
            let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let acks = printed.split(separator: "\n").compactMap { $0.hasPrefix("ack ") ? Int($0.dropFirst(4)) : nil }
            if let last = acks.last { acknowledged = last }

            // Reopen as a new process would: the cheap check runs on open, then the full one.
            let (_, ledger) = try await temp.open()
            let report = try await ledger.verify(full: true)
            #expect(report.problems == [], "round \(round)")
            for batch in max(1, acknowledged - 2)...max(1, acknowledged) where acknowledged > 0 {
                #expect(try await presentCount(ledger, batch: batch) == Self.batchSize, "acknowledged batch \(batch) lost transfers")
            }
            let inFlight = try await presentCount(ledger, batch: acknowledged + 1)
            #expect(inFlight == 0 || inFlight == Self.batchSize, "batch \(acknowledged + 1) is present in part: \(inFlight)")
            #expect(try await presentCount(ledger, batch: acknowledged + 2) == 0)
            if inFlight == 0 { inFlightLost += 1 } else { inFlightWhole += 1 }
            nextBatch = inFlight == Self.batchSize ? acknowledged + 2 : acknowledged + 1
            acknowledged = nextBatch - 1
        }
        #expect(acknowledged > 0, "no batch was ever acknowledged")
        print("crash test: \(Self.kills) kills, \(acknowledged) batches stored; the unacknowledged batch was absent \(inFlightLost) times and whole \(inFlightWhole) times")
    }

    /// How many of the batch's transfer ids are stored.
    private func presentCount(_ ledger: Ledger, batch: Int) async throws -> Int {
        let ids = (0..<Self.batchSize).map { TransferID(UInt128(batch) * 1_000_000 + UInt128($0)) }
        let found = try await ledger.lookupTransfers(ids)
        #expect(found.map(\.id) == Array(ids.prefix(found.count)), "batch \(batch) holds other transfers than expected")
        return found.count
    }
}

import Foundation
import KinkoCore
import KinkoTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("kinko serve as a process", .serialized)
struct ServeTests {
    // Goal: SIGTERM lets a request already in flight finish (here: a batch whose body is only
    // half sent when the signal arrives), then the server exits 0; nothing is lost.
    @Test func sigtermFinishesTheRequestInFlight() async throws {
        let temp = try TemporaryDirectory()
        let kinko = try kinkoExecutable()
        #expect(try run(kinko, ["demo"], in: temp.url).status == 0)
        let tokens = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: temp.url.appendingPathComponent("demo-tokens.json"))) as? [String: String])
        let port = LoopbackConnection.freePort()
        let server = Process()
        server.executableURL = kinko
        server.arguments = ["serve", "--port", String(port)]
        server.currentDirectoryURL = temp.url
        let output = Pipe()
        server.standardOutput = output
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { server.terminate() } }

        var connection: LoopbackConnection?
        for _ in 0..<200 where connection == nil {
            connection = try? LoopbackConnection(port: port)
            if connection == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let open = try #require(connection, "the server did not listen on \(port)")
        // The banner is on standard output while the server runs, not only at shutdown (a pipe is
        // block-buffered, so serve flushes it): read what is there without waiting.
        let descriptor = output.fileHandleForReading.fileDescriptor
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = read(descriptor, &buffer, buffer.count)
        let early = count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : ""
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK)
        #expect(early.contains("Kinko serving kinko.sqlite on http://127.0.0.1:\(port)"), "printed while serving: \(early)")
        // A trade: both legs in one linked chain (a lone leg debiting a customer is refused).
        let body = #"""
            {"id": "770001", "debit_account_id": "10012", "credit_account_id": "10022", "amount": "0.1", "asset": "BTC", "code": "trade", "flags": ["linked"]}
            {"id": "770002", "debit_account_id": "10021", "credit_account_id": "10011", "amount": "1500000", "asset": "JPY", "code": "trade"}
            """#
        let half = body.utf8.count / 2
        open.send("POST /v1/ledger/transfers HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(tokens["operator"] ?? "")\r\n"
                  + "Content-Type: application/x-ndjson\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + String(body.prefix(half)))
        try await Task.sleep(for: .milliseconds(300))
        kill(server.processIdentifier, SIGTERM)
        try await Task.sleep(for: .milliseconds(300))
        #expect(server.isRunning, "the server waits for the request in flight")
        open.send(String(body.dropFirst(half)))
        let response = open.readToEnd()
        #expect(response.hasPrefix("HTTP/1.1 200"), "\(response)")
        #expect(response.contains(#""ok" : 2"#) && response.lowercased().contains("x-request-id"), "\(response)")
        for _ in 0..<200 where server.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!server.isRunning && server.terminationStatus == 0)
        let printed = early + String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(printed.contains("Kinko serving kinko.sqlite on http://127.0.0.1:\(port)") && printed.contains("console  http://127.0.0.1:\(port)/console"))
        #expect(printed.contains("Tokens: demo-tokens.json"))

        // The batch was stored: the ledger says so after the restart.
        let shown = try run(kinko, ["ledger", "transfer", "770001"], in: temp.url, environment: ["KINKO_TOKEN": tokens["auditor"] ?? ""])
        #expect(shown.status == 0 && shown.output.contains("770001"))
    }

    // Goal: with no database and no --demo, serve says how to make one instead of creating an
    // empty file.
    @Test func serveWithoutADatabaseSaysWhatToDo() throws {
        let temp = try TemporaryDirectory()
        let result = try run(try kinkoExecutable(), ["serve", "--port", "0"], in: temp.url)
        #expect(result.status != 0 && result.error.contains("kinko init") && result.error.contains("kinko serve --demo"))
        #expect(!FileManager.default.fileExists(atPath: temp.url.appendingPathComponent("kinko.sqlite").path))
    }
}

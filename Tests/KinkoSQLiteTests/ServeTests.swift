import Foundation
import KinkoCore
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking loopback TCP connection, so a test can hold a request half-sent.
struct LoopbackConnection {
    let descriptor: Int32

    init(port: UInt16) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(descriptor)
            throw KinkoError(.notFound, "cannot connect to 127.0.0.1:\(port)")
        }
    }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return }
            sent += n
        }
    }

    /// Everything the server sends until it closes the connection.
    func readToEnd() -> String {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { break }
            data += buffer[0..<n]
        }
        close(descriptor)
        return String(decoding: data, as: UTF8.self)
    }

    /// A port nothing listens on right now.
    static func freePort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                _ = bind(fd, pointer, length)
                return getsockname(fd, pointer, &length)
            }
        }
        return UInt16(bigEndian: address.sin_port)
    }
}

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
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
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

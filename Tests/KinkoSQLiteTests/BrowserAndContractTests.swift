import Foundation
import Testing

/// The end-to-end checks of `kinko serve` written in Python (Tests/e2e): a real browser
/// (Selenium with Debian's headless Chromium) signs in to the console and compares the
/// overview with the API's figures, and Schemathesis fuzzes every operation of openapi.yaml
/// against the live server (no 5xx, every answer as the spec says).
///
/// They need tools `Tests/e2e/setup.sh` installs (`.ci/run` does). Without them the test is
/// skipped, unless `KINKO_E2E_REQUIRED=1` (as in CI), when their absence is a failure.
@Suite("Browser and API contract (Tests/e2e)", .serialized)
struct BrowserAndContractTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var venv: URL {
        ProcessInfo.processInfo.environment["KINKO_E2E_VENV"].map { URL(fileURLWithPath: $0) } ?? root.appendingPathComponent(".build-e2e/venv")
    }
    static var required: Bool { ProcessInfo.processInfo.environment["KINKO_E2E_REQUIRED"] == "1" }
    static var toolsPresent: Bool {
        [venv.appendingPathComponent("bin/python").path, venv.appendingPathComponent("bin/schemathesis").path, "/usr/bin/chromedriver"]
            .allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
    }

    // Goal: the console shows the figures the API returns, roles limit what it shows, and no
    // generated request makes the server fail or answer outside its contract; SIGTERM then
    // stops the server cleanly.
    @Test(.enabled(if: toolsPresent || required, "Tests/e2e tools are not installed (run Tests/e2e/setup.sh)"))
    func consoleInABrowserAndTheContract() async throws {
        try #require(Self.toolsPresent, "KINKO_E2E_REQUIRED=1 but the tools are missing: run Tests/e2e/setup.sh")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("kinko-e2e-\(UUID().uuidString)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Self.root.appendingPathComponent("Tests/e2e/run.sh").path, "all"]
        process.environment = ProcessInfo.processInfo.environment.merging([
            "KINKO_BIN": try kinkoExecutable().path, "KINKO_E2E_VENV": Self.venv.path, "KINKO_E2E_OUT": out.path,
        ]) { _, new in new }
        let log = out.appendingPathExtension("log")
        #expect(FileManager.default.createFile(atPath: log.path, contents: nil))
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        try handle.close()
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        let summary = text.split(separator: "\n").filter { $0.contains("[e2e") || $0.hasPrefix("e2e:") }.suffix(12).joined(separator: "\n")
        #expect(status == 0, "Tests/e2e/run.sh failed (full log \(log.path)):\n\(text.split(separator: "\n").suffix(80).joined(separator: "\n"))")
        if status == 0 { print(summary) }
    }
}

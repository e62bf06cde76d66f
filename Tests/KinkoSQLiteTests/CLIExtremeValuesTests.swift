import Foundation
import KinkoCore
import Testing

/// Issue 14, item 1, for the command line: every command that takes a day or a time, given the
/// values that trapped the server (far-future days and times, impossible dates, `UInt64.max`
/// nanoseconds), exits with an error naming the option's field, never a crash.
@Suite("kinko: extreme days and times are errors, not crashes", .serialized)
struct CLIExtremeValuesTests {
    static let days = ["9999-12-31", "2600-01-01", "2555-01-01", "2026-02-30", "1969-12-31", "0000-00-00", "2026-13-01", ""]
    static let times = ["9999-12-31T23:59:59Z", "2600-01-01T00:00:00Z", "2262-04-11T23:47:17Z", "18446744073709551615", "18446744073709551616",
                        "2026-02-30T00:00:00Z", "-1", "1969-12-31T23:59:59Z"]

    /// Runs kinko and tells whether it ended by exiting (not by a signal), its status and error.
    static func exits(_ demo: DemoDirectory, _ arguments: [String], as role: String) throws -> (exited: Bool, status: Int32, error: String) {
        let process = Process()
        process.executableURL = demo.kinko
        process.arguments = arguments
        process.currentDirectoryURL = demo.temp.url
        process.environment = ProcessInfo.processInfo.environment.filter { $0.key != "KINKO_DATABASE" }.merging(["KINKO_TOKEN": demo.tokens[role] ?? ""]) { _, new in new }
        let error = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = error
        try process.run()
        let text = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationReason == .exit, process.terminationStatus, text)
    }

    @Test func everyDayAndTimeOptionRefusesExtremes() throws {
        let demo = try DemoDirectory()
        var cases: [(role: String, arguments: [String], field: String)] = []
        for day in Self.days {
            cases.append(("treasurer", ["custody", "reconcile", "--day", day], "day"))
            cases.append(("auditor", ["custody", "report", "--day", day], "day"))
            cases.append(("treasurer", ["custody", "vendor", "--name", "fuzz-vendor", "--notice-date", day, "--notice-reference", "N-1"], "notice_date"))
            cases.append(("finance", ["reserve", "insurance", "add", "--insurer", "fuzz", "--coverage", "hack", "--limit", "1000",
                                      "--starts", day, "--ends", "2027-01-01"], "starts"))
        }
        for time in Self.times {
            cases.append(("operator", ["custody", "record-balances", "--wallet", "btc-hot", "--asset", "BTC", "--amount", "1", "--observed-at", time], "observed_at"))
            cases.append(("operator", ["custody", "record-prices", "--asset", "BTC", "--price", "100", "--observed-at", time], "observed_at"))
            cases.append(("finance", ["incident", "declare", "--loss", "btc-hot:BTC:1", "--lost-at", time], "lost_at"))
        }
        var failures: [String] = []
        for (role, arguments, field) in cases {
            let (exited, status, error) = try Self.exits(demo, arguments, as: role)
            if !exited { failures.append("\(arguments.joined(separator: " ")) as \(role): killed by signal \(status)") }
            else if status == 0 { failures.append("\(arguments.joined(separator: " ")) as \(role): accepted") }
            else if !error.contains(field) && !error.contains(field.replacingOccurrences(of: "_", with: "-")) {
                failures.append("\(arguments.joined(separator: " ")) as \(role): status \(status), the error does not name \(field): \(error.prefix(200))")
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        #expect(cases.count == 8 * 4 + 8 * 3)
    }
}

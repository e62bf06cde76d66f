import Foundation
import KinkoTestSupport
import Testing

/// `kinko bench monitor-http` drives the whole server; run small, it shows the path works and
/// that its options hold at their limits.
@Suite("Benchmark commands")
struct BenchCommandTests {
    @Test func monitorOverHTTPAnswersEveryRequestAndRefusesOptionsPastTheirLimits() throws {
        let temp = try TemporaryDirectory()
        let kinko = try kinkoExecutable()
        let port = String(LoopbackConnection.freePort())
        let small = try run(kinko, ["bench", "monitor-http", "--requests", "400", "--addresses", "1", "--customers", "10", "--port", port, "--json"],
                            in: temp.url)
        try #require(small.status == 0, "\(small.error)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(small.output.utf8)) as? [String: Any])
        #expect(report["requests"] as? Int == 400 && report["addresses"] as? Int == 1)
        let outcomes = try #require(report["outcomes"] as? [String: Int])
        #expect(outcomes.values.reduce(0, +) == 400 && Set(outcomes.keys).isSubset(of: ["clear", "review", "block"]))
        #expect(outcomes["block"] ?? 0 >= 1, "every tenth withdrawal goes to the listed address")
        for (option, value, message) in [("--requests", "99", "--requests must be 100–1000000"), ("--requests", "1000001", "--requests must be 100–1000000"),
                                          ("--addresses", "0", "--addresses must be 1–1000000"), ("--addresses", "1000001", "--addresses must be 1–1000000"),
                                          ("--customers", "9", "--customers must be 10–1000000")] {
            let refused = try run(kinko, ["bench", "monitor-http", option, value, "--port", port], in: temp.url)
            #expect(refused.status != 0 && refused.error.contains(message), "\(option) \(value): \(refused.error)")
        }
    }
}

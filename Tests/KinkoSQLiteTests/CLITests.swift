import Foundation
import KinkoCore
import Testing

/// Runs a program and returns its exit status and standard output.
func run(_ executable: URL, _ arguments: [String], in directory: URL, environment: [String: String] = [:], input: String? = nil) throws -> (status: Int32, output: String, error: String) {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.currentDirectoryURL = directory
    process.environment = ProcessInfo.processInfo.environment.filter { $0.key != "KINKO_TOKEN" && $0.key != "KINKO_DATABASE" }
        .merging(environment) { _, new in new }
    let output = Pipe(), error = Pipe(), stdin = Pipe()
    process.standardOutput = output
    process.standardError = error
    process.standardInput = stdin
    try process.run()
    if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
    try stdin.fileHandleForWriting.close()
    let out = output.fileHandleForReading.readDataToEndOfFile()
    let err = error.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
}

@Suite("The kinko command", .serialized)
struct CLITests {
    let temp: TemporaryDirectory
    let kinko: URL
    let tokens: [String: String]

    init() throws {
        temp = try TemporaryDirectory()
        kinko = try kinkoExecutable()
        let demo = try run(kinko, ["demo"], in: temp.url)
        try #require(demo.status == 0, "kinko demo failed: \(demo.error)")
        let data = try Data(contentsOf: temp.url.appendingPathComponent("demo-tokens.json"))
        tokens = try #require(try JSONSerialization.jsonObject(with: data) as? [String: String])
    }

    func kinko(_ arguments: String..., as role: String? = nil, input: String? = nil) throws -> (status: Int32, output: String, error: String) {
        try run(kinko, arguments, in: temp.url, environment: role.map { ["KINKO_TOKEN": tokens[$0] ?? ""] } ?? [:], input: input)
    }

    // Goal: demo makes one principal per role; the audit log verifies without any token.
    @Test func demoAndVerify() throws {
        #expect(Set(tokens.keys) == ["admin", "operator", "treasurer", "signer", "compliance", "finance", "auditor", "inspector", "administrator"])
        let verify = try kinko("audit", "verify")
        #expect(verify.status == 0)
        #expect(verify.output.contains("audit log ok"))
        let again = try kinko("demo")
        #expect(again.status == 0 && again.output.contains("already done"))
    }

    // Goal: no token is 2, a token without the role is 3 (and audited), the right role works.
    @Test func everyCommandChecksTheCaller() throws {
        #expect(try kinko("ledger", "balances").status == 2)
        #expect(try kinko("ledger", "balances", "--token", "kinko_nonsense").status == 2)
        let refused = try kinko("ledger", "pulse", as: "inspector")
        #expect(refused.status == 3)
        #expect(refused.error.contains("fsa.inspector (inspector) may not run ledger.pulse"))
        #expect(try kinko("ledger", "pulse", as: "operator").status == 0)
        #expect(try kinko("ledger", "balances", "--asset", "BTC", as: "inspector").status == 0)
        let post = #"{"id": "77", "debit_account_id": "10012", "credit_account_id": "10022", "amount": "0.1", "asset": "BTC", "code": "trade"}"#
        #expect(try kinko("ledger", "post", "--file", "-", as: "auditor", input: post).status == 3)
        #expect(try kinko("ledger", "post", "--file", "-", as: "operator", input: post).status == 0)
        let log = try kinko("audit", "log", "--from", "0", "--limit", "1000", as: "auditor")
        #expect(log.output.contains("fsa.inspector (none)") && log.output.contains("ledger.pulse") && log.output.contains("forbidden"))
        #expect(try kinko("audit", "verify").status == 0)
    }

    // Goal: proofs printed by kinko pass the independent Python verifier; altered ones fail.
    @Test func pythonVerifierAcceptsProofsAndRejectsAlteredOnes() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/verify_audit_proof.py").path
        let python = URL(fileURLWithPath: "/usr/bin/env")
        for arguments in [["--entry", "0"], ["--entry", "7"], ["--entry", "12", "--size", "20"], ["--from", "3", "--to", "20"], ["--from", "16", "--to", "21"]] {
            let proof = try run(kinko, ["audit", "proof"] + arguments, in: temp.url, environment: ["KINKO_TOKEN": tokens["auditor"] ?? ""])
            try #require(proof.status == 0, "\(arguments): \(proof.error)")
            let accepted = try run(python, ["python3", script, "-"], in: temp.url, input: proof.output)
            #expect(accepted.output == "OK\n", "\(arguments)")
            // Change one hex digit of the first proof hash (of the entry, when a one-leaf tree
            // has no proof hashes).
            let tampered = Self.flipFirstDigit(after: #""proof":[""#, in: proof.output)
                ?? Self.flipFirstDigit(after: #""entry":""#, in: proof.output) ?? proof.output
            try #require(tampered != proof.output)
            let rejected = try run(python, ["python3", script, "-"], in: temp.url, input: tampered)
            #expect(rejected.status == 1 && rejected.output.hasPrefix("FAILED"), "\(arguments): \(rejected.output)")
        }
    }

    // Goal: custody commands check roles; the demo's day reconciles clean; refusals name the rule.
    @Test func custodyCommands() throws {
        let check = try kinko("custody", "check", "--json", as: "inspector")
        #expect(check.status == 0 && check.output.contains(#""pass":"true""#))
        #expect(try kinko("custody", "move", "--kind", "hot_to_cold", "--from", "btc-hot", "--to", "btc-cold", "--asset", "BTC", "--amount", "0.01", as: "auditor").status == 3)
        let refused = try kinko("custody", "move", "--kind", "withdrawal", "--from", "btc-own", "--address", "bc1qunknown", "--asset", "BTC", "--amount", "0.1", as: "treasurer")
        #expect(refused.status == 7)
        #expect(refused.error == "refused by rule whitelist: bc1qunknown is not on the BTC withdrawal whitelist\n")
        let wallets = try kinko("custody", "wallets", as: "auditor")
        #expect(wallets.output.contains("vendor without notice"))
        let day = try #require(try kinko("demo").output.split(separator: " ").drop { $0 != "day" }.dropFirst().first)
        let report = try kinko("custody", "report", "--day", String(day), "--format", "json", as: "auditor")
        #expect(report.status == 0 && report.output.contains(#""clean":"true""#))
        let csv = try kinko("custody", "report", "--day", String(day), "--format", "csv", as: "auditor")
        #expect(csv.output.hasPrefix("day,asset,customer_liabilities,ledger_holdings,observed,breaks\n\(day),JPY,59534000,59534000,59534000,0"))
        #expect(try kinko("custody", "reconcile", "--day", "2099-01-01", as: "treasurer").status == 1)
        #expect(try kinko("custody", "reconcile", "--day", String(day), as: "auditor").status == 3)
    }

    // Goal: the reserve, incident and insolvency commands check roles; the demo's hack was paid.
    @Test func reserveIncidentAndInsolvencyCommands() throws {
        #expect(try kinko("reserve", "rules", "default").output.contains("floor_jpy: \"2000000000\""))
        let incidents = try kinko("incident", "list", as: "inspector")
        #expect(incidents.status == 0 && incidents.output.contains("paid    900 s"))
        #expect(try kinko("incident", "declare", "--loss", "btc-hot:BTC:0.1", "--lost-at", "2026-11-21T00:00:00Z", as: "operator").status == 3)
        #expect(try kinko("reserve", "compute", as: "auditor").status == 3)
        let compute = try kinko("reserve", "compute", "--json", as: "finance")
        #expect(compute.status == 0 && compute.output.contains(#""adequate":"true""#))
        let statement = try kinko("incident", "statement", "--incident", "1", "--asset", "XRP", as: "auditor")
        #expect(statement.output.split(separator: "\n").count == 9)
        #expect(try kinko("insolvency", "schedule", as: "operator").status == 3)
        let schedule = try kinko("insolvency", "schedule", "--format", "json", as: "administrator")
        #expect(schedule.status == 0 && schedule.output.contains(#""asset":"XRP","claims":"388500.000000""#))
        #expect(try kinko("insolvency", "freeze", as: "finance").status == 3)
    }

    static func flipFirstDigit(after marker: String, in text: String) -> String? {
        guard let range = text.range(of: marker), range.upperBound < text.endIndex else { return nil }
        let digit = text[range.upperBound]
        guard digit.isHexDigit else { return nil }
        return text.replacingCharacters(in: range.upperBound...range.upperBound, with: digit == "0" ? "1" : "0")
    }

    // Goal: init runs once per database.
    @Test func initRefusesAnInitialisedDatabase() throws {
        let again = try kinko("init")
        #expect(again.status == 1)
        #expect(again.error.contains("already initialised"))
        let fresh = try kinko("init", "--database", "fresh.sqlite")
        #expect(fresh.status == 0 && fresh.output.contains("token (shown once"))
    }
}

/// A temporary directory removed when the value goes away.
final class TemporaryDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("kinko-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
}

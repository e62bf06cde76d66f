import Foundation
import KinkoBitcoin
import KinkoCore
import KinkoMonitoring
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

/// A temporary directory holding the demo database (`kinko demo`) and its tokens, one per role.
struct DemoDirectory {
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

    /// Runs `kinko` in the directory, as the demo principal holding `role` if one is named.
    func kinko(_ arguments: [String], as role: String? = nil, input: String? = nil) throws -> (status: Int32, output: String, error: String) {
        try run(kinko, arguments, in: temp.url, environment: role.map { ["KINKO_TOKEN": tokens[$0] ?? ""] } ?? [:], input: input)
    }
}

@Suite("The kinko command", .serialized)
struct CLITests {
    let demo: DemoDirectory
    var temp: TemporaryDirectory { demo.temp }
    var kinko: URL { demo.kinko }
    var tokens: [String: String] { demo.tokens }

    init() throws {
        demo = try DemoDirectory()
    }

    func kinko(_ arguments: String..., as role: String? = nil, input: String? = nil) throws -> (status: Int32, output: String, error: String) {
        try demo.kinko(arguments, as: role, input: input)
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
        let post = #"""
            {"id": "77", "debit_account_id": "10012", "credit_account_id": "10022", "amount": "0.1", "asset": "BTC", "code": "trade", "flags": "linked"}
            {"id": "78", "debit_account_id": "10021", "credit_account_id": "10011", "amount": "1500000", "asset": "JPY", "code": "trade"}
            """#
        #expect(try kinko("ledger", "post", "--file", "-", as: "auditor", input: post).status == 3)
        #expect(try kinko("ledger", "post", "--file", "-", as: "operator", input: post).status == 0)
        let log = try kinko("audit", "log", "--from", "0", "--limit", "1000", as: "auditor")
        #expect(log.output.contains("fsa.inspector (none)") && log.output.contains("ledger.pulse") && log.output.contains("forbidden"))
        #expect(try kinko("audit", "verify").status == 0)
    }

    // Goal: query-transfers applies TigerBeetle's filters on the demo ledger, and a filter
    // TigerBeetle would answer with nothing is refused naming the field.
    @Test func queryTransfersByFilter() throws {
        let post = #"""
            {"id": "91", "debit_account_id": "10012", "credit_account_id": "10022", "amount": "0.1", "asset": "BTC", "code": "trade", "flags": "linked", "user_data_32": 5}
            {"id": "92", "debit_account_id": "10021", "credit_account_id": "10011", "amount": "1500000", "asset": "JPY", "code": "trade", "user_data_32": 5}
            """#
        #expect(try kinko("ledger", "post", "--file", "-", as: "operator", input: post).status == 0)
        let byData = try kinko("ledger", "query-transfers", "--user-data-32", "5", as: "auditor")
        #expect(byData.status == 0)
        let ids = byData.output.split(separator: "\n").dropFirst(2).map { $0.split(separator: " ", omittingEmptySubsequences: true)[1] }
        #expect(ids == ["91", "92"])
        let account = try kinko("ledger", "query-transfers", "--account", "10011", "--credits-only", "--reversed", "--limit", "1", as: "auditor")
        #expect(account.status == 0 && account.output.contains(" 92 ") && !account.output.contains(" 91 "))
        // Imported history is refused at the front end (no reviewed migration flow yet), and audited.
        let imported = #"{"id": "93", "debit_account_id": "10012", "credit_account_id": "10022", "amount": "0.1", "asset": "BTC", "code": "trade", "flags": "imported"}"#
        let refused = try kinko("ledger", "post", "--file", "-", as: "operator", input: imported)
        #expect(refused.status != 0 && refused.error.contains("imported events") && refused.error.contains("events[0].flags"))
        let window = try kinko("ledger", "query-transfers", "--from", "2030-01-02", "--until", "2030-01-01", as: "auditor")
        #expect(window.status != 0 && window.error.contains("timestamp_min must not be after timestamp_max"))
        // Balances after each transfer, for an account created with the history flag.
        let history = #"{"id":"10029","asset":"BTC","code":100,"class":"customer_liability","owner":"1002","flags":"debits_must_not_exceed_credits|history"}"#
        let created = try kinko("ledger", "create-accounts", "--file", "-", as: "operator", input: history)
        #expect(created.status == 0, "\(created.error)")
        let chain = #"""
            {"id": "94", "debit_account_id": "10012", "credit_account_id": "10029", "amount": "0.05", "asset": "BTC", "code": "trade", "flags": "linked"}
            {"id": "95", "debit_account_id": "10021", "credit_account_id": "10011", "amount": "750000", "asset": "JPY", "code": "trade"}
            """#
        #expect(try kinko("ledger", "post", "--file", "-", as: "operator", input: chain).status == 0)
        let balances = try kinko("ledger", "query-transfers", "--account", "10029", "--balances", as: "auditor")
        #expect(balances.status == 0, "\(balances.error)")
        let row = balances.output.split(separator: "\n").dropFirst(2).map { $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().map(String.init) }
        #expect(row == [["94", "0.00000000", "0.00000000", "0.00000000", "0.05000000"]])
        let untracked = try kinko("ledger", "query-transfers", "--account", "10011", "--balances", as: "auditor")
        #expect(untracked.status != 0 && untracked.error.contains("without the history flag") && untracked.error.contains("account_id"))
    }

    // Goal: a migration is filed for a second person; the one who filed it cannot run it.
    @Test func importIsFiledForASecondPerson() throws {
        try Data(#"""
            {"id": "96", "debit_account_id": "10012", "credit_account_id": "10022", "amount": "0.25", "asset": "BTC", "code": "trade", "flags": "imported", "timestamp": "2020-01-01T00:00:00Z"}
            {"id": "97", "debit_account_id": "10022", "credit_account_id": "10012", "amount": "0.05", "asset": "BTC", "code": "trade", "flags": "imported", "timestamp": "1577923200000000000"}
            """#.utf8).write(to: temp.url.appendingPathComponent("history.ndjson"))
        let filed = try kinko("ledger", "import", "request", "--transfers", "history.ndjson", as: "operator")
        #expect(filed.status == 0, "\(filed.error)")
        #expect(filed.output.contains("0 accounts, 2 transfers, from 2020-01-01T00:00:00") && filed.output.contains("BTC: 0.30000000 moved (gross)"))
        let request = try #require(filed.output.split(separator: "\n").first?.split(separator: " ").dropFirst(2).first.map(String.init))
        let alone = try kinko("ledger", "import", "execute", "--request", request, "--transfers", "history.ndjson", as: "finance")
        #expect(alone.status != 0 && alone.error.contains("not approved yet"), "\(alone.error)")
        let live = try kinko("ledger", "import", "request", "--transfers", "-", as: "operator",
                             input: #"{"id": "98", "debit_account_id": "10012", "credit_account_id": "10022", "amount": "1", "asset": "BTC", "code": "trade"}"#)
        #expect(live.status != 0 && live.error.contains("transfers[0].flags"))
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
        // Nothing on the input (the proof command failed, e.g. a token without audit.read) is named as such.
        let empty = try run(python, ["python3", script, "-"], in: temp.url, input: "")
        #expect(empty.status == 1 && empty.output.hasPrefix("FAILED: no proof on the input"), "\(empty.output)")
    }

    // Goal: custody commands check roles; the demo's day reconciles with one break — the
    // ¥16,000 of fees held above what customers are owed, which the sweep after the
    // reconciliation takes out (a sweep needs a reconciliation that proved the surplus);
    // refusals name the rule.
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
        #expect(report.status == 0 && report.output.contains(#""clean":"false""#))
        let csv = try kinko("custody", "report", "--day", String(day), "--format", "csv", as: "auditor")
        #expect(csv.output.hasPrefix("day,asset,customer_liabilities,ledger_holdings,observed,breaks\n\(day),JPY,59534000,59550000,59550000,1"))
        let parked = try kinko("ledger", "parked", "list", as: "auditor")
        #expect(parked.output.contains("702") && parked.output.contains("segregation_sweep") && parked.output.contains("posted"))
        #expect(try kinko("custody", "reconcile", "--day", "2099-01-01", as: "treasurer").status == 1)
        #expect(try kinko("custody", "reconcile", "--day", String(day), as: "auditor").status == 3)
    }

    // Goal: Bitcoin custody through the binary on the demo's regtest wallets: the adopted
    // 2-of-3 descriptors; a customer's deposit address, the same on asking again; a signer
    // registering a third xpub by answering Kinko's challenge with `kinko signer prove`; and a
    // new hot → cold movement carried out as a PSBT — built by treasury, signed by two file
    // signers with `kinko signer sign`, handed back, finalized, and completed on its txid.
    @Test func bitcoinCustodyCommands() throws {
        let keys = temp.url.appendingPathComponent("demo-keys").path
        func token(_ name: String) throws -> String {
            try String(contentsOfFile: "\(keys)/\(name).token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        func run(_ arguments: [String], as name: String) throws -> (status: Int32, output: String, error: String) {
            try KinkoSQLiteTests.run(kinko, arguments, in: temp.url, environment: ["KINKO_TOKEN": try token(name)])
        }
        let wallets = try kinko("custody", "bitcoin", "wallets", as: "auditor")
        #expect(wallets.output.contains("btc-hot\tadopted\thot\t2 of 3\tregtest") && wallets.output.contains("btc-cold\tadopted\tcold\t2 of 3\tregtest"))
        let address = try kinko("custody", "bitcoin", "deposit-address", "--wallet", "btc-hot", "--customer", "1001", as: "operator")
        #expect(address.status == 0 && address.output.hasPrefix("bcrt1q") && address.output.contains("btc-hot /0/0\tcustomer 1001"))
        #expect(try kinko("custody", "bitcoin", "deposit-address", "--wallet", "btc-hot", "--customer", "1001", as: "operator").output == address.output)
        #expect(try kinko("custody", "bitcoin", "deposit-address", "--wallet", "btc-hot", "--customer", "1001", as: "auditor").status == 3)

        // A signer registers a third key, proving possession.
        let challenge = try run(["custody", "bitcoin", "challenge"], as: "suzuki.signer")
        try #require(challenge.status == 0, "\(challenge.error)")
        let proof = try kinko("signer", "prove", "--key-file", "\(keys)/suzuki.signer.tprv", "--path", "m/48'/1'/2'/2'", "--challenge",
                              challenge.output.trimmingCharacters(in: .whitespacesAndNewlines))
        let lines = proof.output.split(separator: "\n").map(String.init)
        try #require(lines.count == 2, "\(proof.error)")
        let registered = try run(["custody", "bitcoin", "register-xpub", "--key", lines[0], "--challenge", challenge.output.trimmingCharacters(in: .whitespacesAndNewlines),
                                  "--signature", lines[1], "--vendor", "coldcard"], as: "suzuki.signer")
        #expect(registered.status == 0 && registered.output.contains("/48'/1'/2'/2' for suzuki.signer (vendor coldcard, testnet/regtest)"), "\(registered.error)")
        #expect(try kinko("custody", "bitcoin", "xpubs", as: "auditor").output.split(separator: "\n").count == 2 + 7)

        // The node's view of btc-hot now, and a price, so the movement's rules can run.
        let utxos = try kinko("custody", "bitcoin", "utxos", "--wallet", "btc-hot", as: "auditor")
        let ndjson = utxos.output.split(separator: "\n").dropFirst(2).map { line -> String in
            let cells = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            let outpoint = cells[0].split(separator: ":")
            let sats = (try? Amount(decimal: cells[1], scale: 8).units) ?? 0
            return #"{"txid":"\#(outpoint[0])","vout":\#(outpoint[1]),"value_sats":\#(sats),"address":"\#(cells[2])","confirmations":9,"block_height":104}"#
        }.joined(separator: "\n")
        try Data(ndjson.utf8).write(to: temp.url.appendingPathComponent("hot.ndjson"))
        let imported = try kinko("custody", "bitcoin", "import-utxos", "--wallet", "btc-hot", "--file", "hot.ndjson", as: "treasurer")
        #expect(imported.status == 0 && imported.output.contains("0 new"), "\(imported.error)")
        #expect(try kinko("custody", "record-prices", "--asset", "BTC", "--price", "15000000", as: "operator").status == 0)

        let move = try kinko("custody", "move", "--kind", "hot_to_cold", "--from", "btc-hot", "--to", "btc-cold", "--asset", "BTC", "--amount", "0.01", as: "treasurer")
        try #require(move.status == 0, "\(move.error)")
        let words = move.output.split(separator: " ")
        let movement = String(words[1]), request = String(words[5].dropLast())
        #expect(try kinko("custody", "bitcoin", "build-psbt", "--movement", movement, "--out", "m.psbt", as: "treasurer").error.contains("approval_required"))
        for signer in ["suzuki.signer", "ito.signer"] {
            let approved = try run(["governance", "approve", request, "--key-file", "\(keys)/\(signer).key"], as: signer)
            #expect(approved.status == 0, "\(approved.error)")
        }
        #expect(try kinko("custody", "release", "--movement", movement, as: "treasurer").status == 0)
        let built = try kinko("custody", "bitcoin", "build-psbt", "--movement", movement, "--fee-rate", "3", "--out", "m.psbt", as: "treasurer")
        try #require(built.status == 0, "\(built.error)")
        #expect(built.output.contains("movement \(movement): PSBT ") && built.output.contains("change bcrt1q"))
        var finalized = ""
        for signer in ["suzuki.signer", "ito.signer"] {
            let copy = "\(signer).psbt"
            #expect(try kinko("custody", "bitcoin", "get-psbt", "--movement", movement, "--out", copy, as: "auditor").status == 0)
            let signed = try kinko("signer", "sign", "--key-file", "\(keys)/\(signer).tprv", "--network", "regtest", copy)
            #expect(signed.status == 0 && signed.output.contains("0.01000000 BTC to bcrt1q") && signed.output.contains("[change, proven]"), "\(signed.error)")
            let submitted = try run(["custody", "bitcoin", "submit-psbt", "--movement", movement, copy], as: signer)
            #expect(submitted.status == 0, "\(submitted.error)")
            finalized = submitted.output
        }
        #expect(finalized.contains("finalized") && finalized.contains("raw transaction (broadcast it): 02000000"))
        let txid = try #require(finalized.split(separator: "\n").first { $0.hasPrefix("txid ") }.map { String($0.dropFirst(5)) })
        #expect(try kinko("custody", "bitcoin", "observe", "--movement", movement, "--txid", txid, "--confirmations", "2", as: "operator").error.contains("(confirmations)"))
        let done = try kinko("custody", "bitcoin", "observe", "--movement", movement, "--txid", txid, "--confirmations", "3", as: "operator")
        #expect(done.status == 0 && done.output.contains("completed, txid \(txid)"), "\(done.error)")

        // A node (a stand-in speaking Bitcoin Core's JSON-RPC) reports btc-hot's outputs: the
        // ones Kinko tracks and a new deposit to customer 1009's address.
        let deposit = try kinko("custody", "bitcoin", "deposit-address", "--wallet", "btc-hot", "--customer", "1009", as: "operator")
        let depositAddress = try #require(deposit.output.split(separator: "\t").first.map(String.init))
        var unspents: [[String: Any]] = []
        for line in try kinko("custody", "bitcoin", "utxos", "--wallet", "btc-hot", as: "auditor").output.split(separator: "\n").dropFirst(2) {
            let cells = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            let outpoint = cells[0].split(separator: ":")
            unspents.append(["txid": String(outpoint[0]), "vout": Int(outpoint[1]) ?? 0, "amount": cells[1], "height": 200,
                             "scriptPubKey": Hex.encode(try BitcoinNetwork.regtest.scriptPubKey(address: cells[2]))])
        }
        unspents.append(["txid": String(repeating: "7e", count: 32), "vout": 2, "amount": "0.25000000", "height": 205,
                         "scriptPubKey": Hex.encode(try BitcoinNetwork.regtest.scriptPubKey(address: depositAddress))])
        let nodeDirectory = temp.url.appendingPathComponent("node")
        try FileManager.default.createDirectory(at: nodeDirectory, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: unspents).write(to: nodeDirectory.appendingPathComponent("unspents.json"))
        let node = Process()
        node.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        node.arguments = ["python3", URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../bitcoin-node/fake_node.py").standardized.path,
                          nodeDirectory.appendingPathComponent("port").path, nodeDirectory.appendingPathComponent("unspents.json").path, "206",
                          "kinko:rpc-secret", nodeDirectory.appendingPathComponent("request.json").path]
        node.standardOutput = FileHandle.nullDevice
        node.standardError = FileHandle.nullDevice
        try node.run()
        defer { kill(node.processIdentifier, SIGKILL) }
        var port = ""
        for _ in 0..<100 where port.isEmpty {
            port = (try? String(contentsOf: nodeDirectory.appendingPathComponent("port"), encoding: .utf8)) ?? ""
            if port.isEmpty { Thread.sleep(forTimeInterval: 0.1) }
        }
        let refused = try kinko("custody", "bitcoin", "sync-node", "--wallet", "btc-hot", "--rpc-url", "http://kinko:wrong@127.0.0.1:\(port)", as: "treasurer")
        #expect(refused.status == 1 && refused.error.contains("(rpc_url)") && !refused.error.contains("wrong"), "\(refused.error)")
        let synced = try kinko("custody", "bitcoin", "sync-node", "--wallet", "btc-hot", "--rpc-url", "http://kinko:rpc-secret@127.0.0.1:\(port)", as: "treasurer")
        #expect(synced.status == 0 && synced.output.contains("btc-hot: 1 new"), "\(synced.output) \(synced.error)")
        let scan = try String(contentsOf: nodeDirectory.appendingPathComponent("request.json"), encoding: .utf8)
        #expect(scan.contains(#""method": "scantxoutset""#) && scan.contains("/0/*))#") && scan.contains("/1/*))#"), "\(scan)")
        let tracked = try kinko("custody", "bitcoin", "utxos", "--wallet", "btc-hot", as: "auditor")
        #expect(tracked.output.contains("\(String(repeating: "7e", count: 32)):2") && tracked.output.contains("0.25000000"))
    }

    // Goal: the reserve, incident and insolvency commands check roles; the demo's hack was paid.
    // Goal (issue 21): `settings show --json` lists every regulatory parameter with its value,
    // source and effective date, as of now or a past day; a change proposed by one compliance
    // officer is put in force only by another's `settings approve`, and applies from its day.
    @Test func settingsCommands() throws {
        let keys = temp.url.appendingPathComponent("demo-keys").path
        func run(_ arguments: [String], as name: String) throws -> (status: Int32, output: String, error: String) {
            let token = try String(contentsOfFile: "\(keys)/\(name).token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            return try KinkoSQLiteTests.run(kinko, arguments, in: temp.url, environment: ["KINKO_TOKEN": token])
        }
        func rows(_ output: String) throws -> [String: [String: Any]] {
            let list = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]])
            return Dictionary(uniqueKeysWithValues: list.compactMap { row in (row["key"] as? String).map { ($0, row) } })
        }
        let shown = try kinko("settings", "show", "--json", as: "treasurer")
        try #require(shown.status == 0, "\(shown.error)")
        let now = try rows(shown.output)
        #expect(now.count == 13)
        #expect(now["reserve.covered_loss_types"]?["value"] as? String == "hack,insider_fraud,unauthorised_outflow")
        let hot = try #require(now["custody.hot_share_limit_basis_points"])
        #expect(hot["value"] as? String == "500" && hot["effective_from"] as? String == "2020-05-01" && hot["status"] as? String == "law")
        #expect((hot["source"] as? String)?.contains("Art. 27(2)") == true)
        #expect(now.values.allSatisfy { ($0["source"] as? String)?.isEmpty == false && $0["value"] != nil && $0.keys.contains("effective_from") })
        #expect(now["aml.structuring_threshold_jpy"]?["value"] as? String == "2000000")
        let before = try rows(try kinko("settings", "show", "--at", "2020-04-30", "--json", as: "treasurer").output)
        #expect(before["custody.hot_share_limit_basis_points"]?["value"] as? String == "-")
        #expect(before["custody.hot_share_limit_basis_points"]?["effective_from"] is NSNull)
        // The travel rule's jurisdictions: JP and 28 others now, JP and 20 others before May 2024.
        let travel = try #require(now["aml.travel_rule_jurisdictions"])
        #expect((travel["value"] as? String)?.split(separator: ",").count == 29 && travel["effective_from"] as? String == "2024-05-01")
        #expect(travel["unit"] as? String == "ISO 3166-1 alpha-2 codes (Japan and 28 others)")
        let april2024 = try rows(try kinko("settings", "show", "--at", "2024-04-30", "--json", as: "treasurer").output)["aml.travel_rule_jurisdictions"]
        #expect((april2024?["value"] as? String)?.split(separator: ",").count == 21 && april2024?["effective_from"] as? String == "2023-06-01")
        let jurisdictions = try kinko("monitor", "jurisdictions", "show", as: "compliance")
        #expect(jurisdictions.status == 0 && jurisdictions.output.contains("travel-rule jurisdictions fsa-2024-05-01, in force at "), "\(jurisdictions.error)")
        #expect(jurisdictions.output.contains(": JP and 28 others\n  JP AE AL BH BM BS CA CH DE EE GB GI HK ID IL IN KR KY LI LU MU MY NG PH PT RS SG US VE\n"))
        #expect(jurisdictions.output.contains("\n  GB  from 2024-05-01\n") && jurisdictions.output.contains("\n  JP  always\n"))
        let before2023 = try kinko("monitor", "jurisdictions", "show", "--at", "2023-05-31", as: "compliance").output
        #expect(before2023.contains(": JP and 0 others\n  JP\n") && before2023.contains("  US  from 2023-06-01  (not in force then)"))
        // The demo's withdrawal to bitFlyer left its travel-rule message, kept 7 years.
        let message = try kinko("monitor", "travel-rule", "show", "--event", "withdrawal-601", as: "compliance")
        #expect(message.status == 0 && message.output.hasPrefix("event withdrawal-601: sent to bitFlyer (JP)\ncustomer 1004, BTC worth JPY 3000000"), "\(message.error)")
        #expect(message.output.contains("\noriginator: Tanaka Taro; account 1004; address 1-1 Marunouchi, Tokyo; national id -; born -\n"))
        #expect(message.output.contains("\ncomplete\n") && message.output.contains("(7 years, transaction records)"))
        let ivms = try kinko("monitor", "travel-rule", "show", "--event", "withdrawal-601", "--json", as: "compliance").output
        #expect((try JSONSerialization.jsonObject(with: Data(ivms.utf8)) as? [String: Any])?.keys.sorted() == ["beneficiary", "beneficiaryVASP", "originatingVASP", "originator"])
        #expect(try kinko("monitor", "travel-rule", "list", "--customer", "1004", as: "auditor").output.contains("withdrawal-601  sent  bitFlyer  JP  JPY 3000000  complete"))
        #expect(try kinko("monitor", "travel-rule", "show", "--event", "withdrawal-601", as: "treasurer").status == 3)
        let badDay = try kinko("settings", "show", "--at", "2020-02-30", as: "treasurer")
        #expect(badDay.status != 0 && badDay.error.contains("--at"))

        // One compliance officer proposes 4% from 2099-04-01; another approves, which adopts it.
        let yaml = try kinko("settings", "default").output
            .replacingOccurrences(of: "version: \"2026.1\"", with: "version: \"2099.1\"")
            .replacingOccurrences(of: "1 May 2020)\"", with: "1 May 2020)\"\n    - {value: 400, effective_from: \"2099-04-01\", status: plan, source: \"a stricter notice\"}")
        let proposed = try demo.kinko(["settings", "propose", "--file", "-"], as: "compliance", input: yaml)
        #expect(proposed.status == 0 && proposed.output.contains("regulatory settings 2099.1 proposed; approval request"), "\(proposed.error)")
        #expect(try demo.kinko(["settings", "propose", "--file", "-"], as: "operator", input: yaml.replacingOccurrences(of: "2099.1", with: "2099.2")).status == 3)
        let proposer = try kinko("settings", "list", as: "auditor").output.split(separator: "\n").last.map(String.init) ?? ""
        let approverName = proposer.contains("mori.compliance") ? "takahashi.compliance" : "mori.compliance"
        let approved = try run(["settings", "approve", "--version", "2099.1", "--key-file", "\(keys)/\(approverName).key"], as: approverName)
        #expect(approved.status == 0 && approved.output.contains("regulatory settings 2099.1 in force"), "\(approved.error)")
        let later = try rows(try kinko("settings", "show", "--at", "2099-04-01", "--json", as: "treasurer").output)
        #expect(later["custody.hot_share_limit_basis_points"]?["value"] as? String == "400")
        #expect(later["custody.hot_share_limit_basis_points"]?["document"] as? String == "regulatory.settings 2099.1")
        #expect(try rows(try kinko("settings", "show", "--json", as: "treasurer").output)["custody.hot_share_limit_basis_points"]?["value"] as? String == "500")
    }

    @Test func reserveIncidentAndInsolvencyCommands() throws {
        #expect(try kinko("reserve", "rules", "default").output.contains("floor_jpy: \"2000000000\""))
        let incidents = try kinko("incident", "list", as: "inspector")
        #expect(incidents.status == 0 && incidents.output.contains("paid    900 s"))
        // The loss in XRP, not in the ledger's drops (1,000 XRP was printed as 1000000000).
        #expect(incidents.output.contains("xrp-hot 1000.000000 XRP") && !incidents.output.contains("1000000000"))
        #expect(try kinko("incident", "declare", "--loss", "btc-hot:BTC:0.1", "--lost-at", "2026-11-21T00:00:00Z", as: "operator").status == 3)
        #expect(try kinko("reserve", "compute", as: "auditor").status == 3)
        let compute = try kinko("reserve", "compute", "--json", as: "finance")
        #expect(compute.status == 0 && compute.output.contains(#""adequate":"true""#))
        let statement = try kinko("incident", "statement", "--incident", "1", "--asset", "XRP", as: "auditor")
        #expect(statement.output.split(separator: "\n").count == 9)
        // In the assets' units: XRP held and lost, yen paid (not drops and not XRP's scale).
        #expect(statement.output.hasPrefix("owner,account,held_at_loss_XRP,loss_share_XRP,payment_JPY,transfer\n1001,10014,250000.000000,641.848524,57766,"))
        #expect(try kinko("insolvency", "schedule", as: "operator").status == 3)
        let schedule = try kinko("insolvency", "schedule", "--format", "json", as: "administrator")
        #expect(schedule.status == 0 && schedule.output.contains(#""asset":"XRP","claims":"388500.000000""#))
        #expect(try kinko("insolvency", "freeze", as: "finance").status == 3)
    }

    // Goal: monitoring from the command line: roles, a batch with a bad line (exit 4, the rest
    // kept), the demo's alerts and case, and backtests of NDJSON and of AMLSim output (gzipped too).
    @Test func monitorCommands() throws {
        #expect(try kinko("monitor", "rules", "default").output.contains("structuring: {threshold_jpy: 2000000"))
        let alerts = try kinko("monitor", "alerts", as: "compliance")
        #expect(alerts.status == 0 && alerts.output.contains("sanctioned_address") && alerts.output.contains("closed (case 1)"))
        #expect(try kinko("monitor", "alerts", as: "operator").status == 3)
        #expect(try kinko("monitor", "str", "1", as: "auditor").status == 3)
        let str = try kinko("monitor", "str", "1", "--format", "json", as: "compliance")
        #expect(str.status == 0 && str.output.contains(#""format" : "kinko-str-draft/1""#))
        let batch = """
            {"id":"cli-1","kind":"deposit","customer":1001,"time":"2026-11-22T00:00:00Z","amount_jpy":5000}
            {"id":"cli-2","kind":"deposit","customer":1001,"time":"2026-11-22T00:00:00Z"}
            """
        #expect(try kinko("monitor", "ingest", "--file", "-", as: "compliance", input: batch).status == 3)
        let ingest = try kinko("monitor", "ingest", "--file", "-", "--json", as: "operator", input: batch)
        #expect(ingest.status == 4)
        #expect(ingest.output.contains(#""event":"cli-1","line":1,"message":null,"outcome":"clear""#))
        #expect(ingest.output.contains(#""message":"line 2, field amount_jpy: is required""#))

        let events = temp.url.appendingPathComponent("events.ndjson")
        try (1...3).map { #"{"id":"b\#($0)","kind":"deposit","customer":5,"time":"2026-01-01T0\#($0):00:00Z","amount_jpy":1900000}"# }
            .joined(separator: "\n").write(to: events, atomically: true, encoding: .utf8)
        let replay = try kinko("monitor", "backtest", "--events", events.path, "--json")
        #expect(replay.status == 0 && replay.output.contains(#""structuring" : 1"#) && replay.output.contains(#""review" : 1"#))

        let amlsim = temp.url.appendingPathComponent("amlsim")
        try FileManager.default.createDirectory(at: amlsim, withIntermediateDirectories: true)
        var transactions = ["tran_id,orig_acct,bene_acct,tx_type,base_amt,tran_timestamp,is_sar,alert_id",
                            "1,1,2,TRANSFER,500.00,2017-01-02T00:00:00Z,True,0", "2,2,3,TRANSFER,480.00,2017-01-05T00:00:00Z,True,0",
                            "3,3,1,TRANSFER,450.00,2017-01-09T00:00:00Z,True,0"]
        for week in 0..<8 { transactions.append("\(4 + week),4,5,TRANSFER,100.00,2017-01-\(String(format: "%02d", 1 + week * 3))T00:00:00Z,False,-1") }
        try transactions.joined(separator: "\n").write(to: amlsim.appendingPathComponent("transactions.csv"), atomically: true, encoding: .utf8)
        try (["acct_id,first_name,last_name,initial_deposit"] + (1...5).map { "\($0),First\($0),\"Last, \($0)\",1000.00" })
            .joined(separator: "\n").write(to: amlsim.appendingPathComponent("accounts.csv"), atomically: true, encoding: .utf8)
        try "alert_id,alert_type,acct_id\n0,cycle,1\n0,cycle,2\n0,cycle,3\n".write(to: amlsim.appendingPathComponent("alert_accounts.csv"), atomically: true, encoding: .utf8)
        let gzip = try run(URL(fileURLWithPath: "/bin/sh"), ["-c", "gzip accounts.csv"], in: amlsim)
        #expect(gzip.status == 0)
        let backtest = try kinko("monitor", "backtest", "--amlsim", amlsim.path, "--json")
        #expect(backtest.status == 0, "\(backtest.error)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(backtest.output.utf8)) as? [String: Any])
        #expect(report["instance_recall"] as? Double == 1 && report["transaction_precision"] as? Double == 1 && report["transaction_recall"] as? Double == 1)
        #expect(report["account_precision"] as? Double == 1)
        let cycle = try #require((report["per_typology"] as? [String: Any])?["cycle"] as? [String: Any])
        #expect(cycle["instances_found"] as? Int == 1 && cycle["alerts"] as? Int == 1)
        // The network detectors report too (too few relationships repeat here for a settle window:
        // no alerts), with their curve and the perturbations asked for.
        let network = try #require(report["network"] as? [String: Any])
        #expect((network["at_budget"] as? [String: Any])?["alerts"] as? Int == 0 && (network["curve"] as? [Any])?.count == NetworkReport.curveBudgets.count)
        let perturbed = try kinko("monitor", "backtest", "--amlsim", amlsim.path, "--perturb", "renumber,time:2", "--json")
        let changes = try #require((try JSONSerialization.jsonObject(with: Data(perturbed.output.utf8)) as? [String: Any])?["perturbations"] as? [[String: Any]])
        #expect(changes.map { $0["name"] as? String } == ["renumber", "time:2.0"] && changes.allSatisfy { $0["change"] as? Double == 0 })
        let badPerturbation = try kinko("monitor", "backtest", "--amlsim", amlsim.path, "--perturb", "time:0")
        #expect(badPerturbation.status != 0 && badPerturbation.error.contains("perturb"))
        // Training needs laundering and ordinary fans; this set has neither, and says so.
        let train = try kinko("monitor", "train", "--amlsim", amlsim.path)
        #expect(train.status != 0 && train.error.contains("training needs both laundering and ordinary fans"))
        let missing = try kinko("monitor", "backtest", "--amlsim", temp.url.path)
        #expect(missing.status != 0 && missing.error.contains("transactions.csv"))
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

import Foundation
import KinkoBitcoin
import KinkoCore
import KinkoTestSupport
import Testing

@Suite("kinko bitcoin and kinko signer")
struct BitcoinCLITests {
    // Goal: the whole file-signer flow through the binary: three 0600 key files give their
    // xpubs; the descriptor's address matches the library's; each signer sees the payment, the
    // proven change and the fee before signing; one signature does not finalize; two, combined,
    // finalize to the transaction the PSBT describes. A key file others can read is refused.
    @Test func fileSignersSignAMovement() throws {
        let temp = try TemporaryDirectory()
        let kinko = try kinkoExecutable()
        func file(_ name: String) -> String { temp.url.appendingPathComponent(name).path }
        let masters = try (1...3).map { try ExtendedKey.master(seed: Array(repeating: UInt8($0), count: 32), network: .regtest) }
        for (index, master) in masters.enumerated() {
            try Data((master.serialized + "\n").utf8).write(to: URL(fileURLWithPath: file("signer\(index + 1).key")))
            try FileManager.default.setAttributes([.posixPermissions: index == 2 ? 0o644 : 0o600], ofItemAtPath: file("signer\(index + 1).key"))
        }
        let open = try run(kinko, ["signer", "xpub", "--key-file", file("signer3.key"), "--path", "m/48'/1'/0'/2'"], in: temp.url)
        #expect(open.status != 0 && open.error.contains("chmod 600"))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file("signer3.key"))

        var keys: [String] = []
        for index in 1...3 {
            let xpub = try run(kinko, ["signer", "xpub", "--key-file", file("signer\(index).key"), "--path", "m/48'/1'/0'/2'"], in: temp.url)
            try #require(xpub.status == 0, "\(xpub.error)")
            keys.append(xpub.output.trimmingCharacters(in: .whitespacesAndNewlines) + "/<0;1>/*")
        }
        // Proof of possession: signer 1 signs a challenge; the proof checks, and fails for another challenge.
        let challenge = String(repeating: "5a", count: 32)
        let proof = try run(kinko, ["signer", "prove", "--key-file", file("signer1.key"), "--path", "m/48'/1'/0'/2'", "--challenge", challenge], in: temp.url)
        let proofLines = proof.output.split(separator: "\n").map(String.init)
        try #require(proof.status == 0 && proofLines.count == 2, "\(proof.error)")
        #expect(proofLines[0] + "/<0;1>/*" == keys[0])
        #expect(try run(kinko, ["bitcoin", "verify-xpub", "--key", proofLines[0], "--challenge", challenge, "--signature", proofLines[1]], in: temp.url).status == 0)
        let replayed = try run(kinko, ["bitcoin", "verify-xpub", "--key", proofLines[0], "--challenge", String(repeating: "5b", count: 32), "--signature", proofLines[1]],
                               in: temp.url)
        #expect(replayed.status != 0 && replayed.error.contains("(signature)"))

        let descriptor = try Descriptor(parsing: "wsh(sortedmulti(2,\(keys.joined(separator: ","))))")
        let address = try run(kinko, ["bitcoin", "address", "--descriptor", descriptor.withChecksum, "--index", "3", "--network", "regtest"], in: temp.url)
        #expect(address.output == (try descriptor.address(branch: 0, index: 3, network: .regtest)) + "\n")

        // The wallet's observed outputs, and a PSBT paying 0.15 BTC from them.
        let utxos = [
            #"{"txid":"\#(String(repeating: "ab", count: 32))","vout":1,"value_sats":40000000,"address":"\#(try descriptor.address(branch: 0, index: 3, network: .regtest))","confirmations":3,"block_height":101}"#,
            #"{"txid":"\#(String(repeating: "cd", count: 32))","vout":0,"value_sats":5000,"address":"bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080","confirmations":3,"block_height":101}"#,
        ].joined(separator: "\n")
        try Data(utxos.utf8).write(to: URL(fileURLWithPath: file("utxos.ndjson")))
        let wallet = ["--descriptor", descriptor.withChecksum, "--network", "regtest", "--utxos", file("utxos.ndjson")]
        let listed = try run(kinko, ["bitcoin", "utxos"] + wallet, in: temp.url)
        #expect(listed.output.contains("0.40000000 BTC\tbranch 0 index 3") && listed.output.contains("not this wallet's"))
        let other = try ExtendedKey.master(seed: Array(repeating: 9, count: 32), network: .regtest)
        let payee = Bech32.segwitAddress(hrp: "bcrt", version: 0, program: BitcoinHash.hash160(other.publicKey))
        let created = try run(kinko, ["bitcoin", "psbt", "create"] + wallet + ["--pay", "\(payee)=15000000", "--fee-rate", "4", "--out", file("a.psbt")], in: temp.url)
        try #require(created.status == 0, "\(created.error)")
        let psbt = try PSBT(parsingFile: [UInt8](try Data(contentsOf: URL(fileURLWithPath: file("a.psbt")))))
        #expect(psbt.transaction.outputs.map(\.value).first == 15_000_000 && psbt.transaction.inputs.count == 1)
        try FileManager.default.copyItem(atPath: file("a.psbt"), toPath: file("b.psbt"))
        let wrongNetwork = try run(kinko, ["bitcoin", "psbt", "create"] + wallet + ["--pay", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4=1000", "--fee-rate", "4"], in: temp.url)
        #expect(wrongNetwork.status != 0 && wrongNetwork.error.contains("(pay[0])"))

        let first = try run(kinko, ["signer", "sign", "--key-file", file("signer1.key"), "--network", "regtest", file("a.psbt")], in: temp.url)
        try #require(first.status == 0, "\(first.error)")
        #expect(first.output.contains("0.15000000 BTC to bcrt1q") && first.output.contains("[change, proven]") && first.output.contains("fee: 0.0000"))
        #expect(first.output.contains("signed inputs 0"))
        let capped = try run(kinko, ["signer", "sign", "--key-file", file("signer3.key"), "--network", "regtest", "--fee-cap-sats", "1", file("b.psbt")], in: temp.url)
        #expect(capped.status != 0 && capped.error.contains("limit_exceeded (fee)"))
        #expect(try run(kinko, ["signer", "sign", "--key-file", file("signer3.key"), "--network", "regtest", file("b.psbt")], in: temp.url).status == 0)

        let short = try run(kinko, ["bitcoin", "psbt", "finalize", file("a.psbt")], in: temp.url)
        #expect(short.status != 0 && short.error.contains("signatures_missing"))
        let combine = try run(kinko, ["bitcoin", "psbt", "combine", file("a.psbt"), file("b.psbt"), "--out", file("c.psbt")], in: temp.url)
        try #require(combine.status == 0, "\(combine.error)")
        let inspect = try run(kinko, ["bitcoin", "psbt", "inspect", "--network", "regtest", file("c.psbt")], in: temp.url)
        #expect(inspect.output.contains("2 of 2 signatures"))
        let final = try run(kinko, ["bitcoin", "psbt", "finalize", "--json", file("c.psbt")], in: temp.url)
        try #require(final.status == 0, "\(final.error)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(final.output.utf8)) as? [String: String])
        #expect(object["txid"] == psbt.transaction.txid)
        let hex = try #require(object["hex"])
        let transaction = try BitcoinTransaction(parsing: try #require(Hex.decode(hex)))
        #expect(transaction.inputs[0].witness.count == 4 && transaction.outputs.count == 2)
    }
}

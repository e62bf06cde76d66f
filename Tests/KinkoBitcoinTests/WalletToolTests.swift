import Foundation
import KinkoBitcoin
import KinkoCore
import Testing

@Suite("Descriptors as Kinko reads them")
struct DescriptorBehaviourTests {
    // Keys from BIP 32's test vector 1 (mainnet) and 2 (testnet versions of the same idea).
    static let seeds: [[UInt8]] = [Array(0..<16), Array(16..<48), Array(48..<80)]

    static func wallet(network: BitcoinNetwork, threshold: Int = 2, branches: String = "<0;1>/*") throws -> String {
        let keys = try seeds.map { seed in
            let master = try ExtendedKey.master(seed: seed, network: network)
            return try SignerKeyFile.keyExpression(master: master, path: DerivationPath(parsing: "m/48'/\(network.coinType)'/0'/2'")) + "/" + branches
        }
        return "wsh(sortedmulti(\(threshold),\(keys.joined(separator: ","))))"
    }

    // Goal: a 2-of-3 wallet's receive and change branches give different addresses; sortedmulti
    // does not depend on the order keys are written in; the checksum round-trips.
    @Test func receiveAndChangeBranches() throws {
        let text = try Self.wallet(network: .regtest)
        let descriptor = try Descriptor(parsing: text)
        #expect(descriptor.branchCount == 2 && descriptor.isRanged && !descriptor.containsPrivateKeys && descriptor.isDerivableFromPublicKeys)
        let receive = try descriptor.address(branch: 0, index: 7, network: .regtest)
        let change = try descriptor.address(branch: 1, index: 7, network: .regtest)
        #expect(receive.hasPrefix("bcrt1q") && change.hasPrefix("bcrt1q") && receive != change && receive.count == 64)
        let reordered = try Descriptor(parsing: "wsh(sortedmulti(2,\(descriptor.keys.reversed().map(\.description).joined(separator: ","))))")
        #expect(try reordered.address(branch: 0, index: 7, network: .regtest) == receive)
        let withChecksum = descriptor.withChecksum
        #expect(try Descriptor(parsing: withChecksum) == descriptor)
        let tampered = String(withChecksum.dropLast()) + (withChecksum.hasSuffix("q") ? "p" : "q")
        let error = #expect(throws: KinkoError.self) { try Descriptor(parsing: tampered) }
        #expect(error?.field == "descriptor")
        // The same keys on testnet: another prefix, the same program.
        let testnet = try descriptor.address(branch: 0, index: 7, network: .testnet)
        #expect(testnet.hasPrefix("tb1q"))
        #expect(try Bech32.decodeSegwitAddress(testnet, hrp: "tb").program == (try Bech32.decodeSegwitAddress(receive, hrp: "bcrt").program))
    }

    // Goal: what Kinko refuses, each naming the descriptor (or the network): a testnet key on
    // mainnet, uncompressed keys in segwit, thresholds out of range, over 20 keys, unknown forms.
    @Test func refusals() throws {
        let regtest = try Descriptor(parsing: try Self.wallet(network: .regtest))
        let wrongNetwork = #expect(throws: KinkoError.self) { try regtest.address(index: 0, network: .mainnet) }
        #expect(wrongNetwork?.field == "network")
        let point = "03a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd"
        let uncompressed = "04a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd5b8dec5235a0fa8722476c7709c02559e3aa73aa03918ba2d492eea75abea235"
        for bad in ["wsh(multi(1,\(uncompressed)))", "wsh(sortedmulti(0,\(point)))", "wsh(sortedmulti(2,\(point)))",
                    "wsh(sortedmulti(1,\(Array(repeating: point, count: 21).joined(separator: ","))))", "tr(\(point))", "wsh(sortedmulti(1,\(point))",
                    "wsh(sortedmulti(01,\(point)))"] {
            let error = #expect(throws: KinkoError.self, "\(bad)") { try Descriptor(parsing: bad) }
            #expect(error?.field == "descriptor")
        }
        #expect(try Descriptor(parsing: "wsh(sortedmulti(20,\(Array(repeating: point, count: 20).joined(separator: ","))))").keys.count == 20)
        // A hardened step after an xpub reads (BIP 380) but cannot be derived by Kinko.
        let hardened = try Descriptor(parsing: try Self.wallet(network: .regtest, branches: "0h/*"))
        #expect(!hardened.isDerivableFromPublicKeys)
        #expect(throws: KinkoError.self) { try hardened.address(index: 0, network: .regtest) }
    }
}

@Suite("The plain-file signer's key file")
struct SignerKeyFileTests {
    static func write(_ text: String, mode: Int) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kinko-key-\(UUID().uuidString)").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    // Goal: a 0600 file with one master tprv gives the origin-annotated tpub; a file others can
    // read, a public key, a derived key and two keys are each refused naming key_file.
    @Test func readsOnlyAPrivateMasterKeyOnlyItsOwnerCanRead() throws {
        let master = try ExtendedKey.master(seed: Array(0..<32), network: .testnet)
        let good = try Self.write("# signer 1\n\(master.serialized)\n", mode: 0o600)
        defer { try? FileManager.default.removeItem(atPath: good) }
        let loaded = try SignerKeyFile.load(path: good)
        #expect(loaded == master)
        let expression = try SignerKeyFile.keyExpression(master: loaded, path: DerivationPath(parsing: "m/48'/1'/0'/2'"))
        #expect(expression.hasPrefix("[\(Hex.encode(master.fingerprint))/48'/1'/0'/2']tpub"))
        #expect(try Descriptor(parsing: "wsh(sortedmulti(1,\(expression)/0/*))").keys[0].origin?.path.relative == "48'/1'/0'/2'")

        let derived = try master.derive(DerivationPath(parsing: "m/1'"))
        for (text, mode) in [(master.serialized, 0o644), (master.serialized, 0o640), (master.serializedPublic, 0o600), (derived.serialized, 0o600),
                             (master.serialized + "\n" + master.serialized, 0o600)] {
            let path = try Self.write(text, mode: mode)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let error = #expect(throws: KinkoError.self, "mode \(String(mode, radix: 8))") { try SignerKeyFile.load(path: path) }
            #expect(error?.field == "key_file")
        }
        let large = try Self.write(String(repeating: "#", count: SignerKeyFile.bytesMax + 1), mode: 0o600)
        defer { try? FileManager.default.removeItem(atPath: large) }
        #expect((#expect(throws: KinkoError.self) { try SignerKeyFile.load(path: large) })?.code == .limitExceeded)
        let atLimit = try Self.write(String(repeating: "#", count: SignerKeyFile.bytesMax - master.serialized.utf8.count - 1) + "\n" + master.serialized, mode: 0o600)
        defer { try? FileManager.default.removeItem(atPath: atLimit) }
        #expect(try SignerKeyFile.load(path: atLimit) == master)
    }
}

@Suite("Addresses by the million")
struct FastDerivationTests {
    // Goal: the fast path (one deriver per key) gives exactly the plain derivation's addresses,
    // on both branches and at the top of the index range; off-range and wrong-network calls are
    // refused as the plain path refuses them.
    @Test func fastPathEqualsPlainDerivation() throws {
        let descriptor = try Descriptor(parsing: try DescriptorBehaviourTests.wallet(network: .testnet))
        for branch in [0, 1] {
            let fast = try descriptor.addresses(branch: branch, range: 0..<40, network: .testnet)
            #expect(fast == (try (0..<40).map { try descriptor.address(branch: branch, index: $0, network: .testnet) }))
        }
        let top = ChildNumber.hardenedBit - 2
        #expect(try descriptor.addresses(branch: 0, range: top..<(top + 2), network: .regtest)
            == [try descriptor.address(branch: 0, index: top, network: .regtest), try descriptor.address(branch: 0, index: top + 1, network: .regtest)])
        #expect(throws: KinkoError.self) { try descriptor.addresses(branch: 0, range: 0..<1, network: .mainnet) }
        #expect(throws: KinkoError.self) { try descriptor.addresses(branch: 2, range: 0..<1, network: .testnet) }
    }
}

@Suite("Proof of possession of an xpub")
struct XpubProofTests {
    static let challenge = Hex.encode(Array(0..<32) as [UInt8])

    // Goal: a signer's proof verifies; it does not verify for another challenge, another key,
    // a key whose origin path does not match its depth, or a tampered signature; a malformed
    // challenge is refused naming it.
    @Test func proofsBindKeyAndChallenge() throws {
        let master = try ExtendedKey.master(seed: Array(repeating: 5, count: 32), network: .mainnet)
        let path = try DerivationPath(parsing: "m/48'/0'/0'/2'")
        let (expression, signature) = try XpubProof.sign(master: master, path: path, challenge: Self.challenge)
        #expect(expression.hasPrefix("[\(Hex.encode(master.fingerprint))/48'/0'/0'/2']xpub"))
        try XpubProof.verify(keyExpression: expression, challenge: Self.challenge, signature: signature)

        let otherChallenge = Hex.encode(Array(1..<33) as [UInt8])
        #expect((#expect(throws: KinkoError.self) { try XpubProof.verify(keyExpression: expression, challenge: otherChallenge, signature: signature) })?.field == "signature")
        let other = try SignerKeyFile.keyExpression(master: try ExtendedKey.master(seed: Array(repeating: 6, count: 32), network: .mainnet), path: path)
        #expect((#expect(throws: KinkoError.self) { try XpubProof.verify(keyExpression: other, challenge: Self.challenge, signature: signature) })?.field == "signature")
        let wrongDepth = expression.replacingOccurrences(of: "/48'/0'/0'/2']", with: "/48'/0'/0']")
        #expect((#expect(throws: KinkoError.self) { try XpubProof.verify(keyExpression: wrongDepth, challenge: Self.challenge, signature: signature) })?.field == "key")
        var tampered = signature
        tampered[tampered.count - 1] ^= 1
        #expect(throws: KinkoError.self) { try XpubProof.verify(keyExpression: expression, challenge: Self.challenge, signature: tampered) }
        for bad in ["abc", String(repeating: "0", count: 30), String(repeating: "g", count: 64), String(repeating: "0", count: 130)] {
            #expect((#expect(throws: KinkoError.self) { try XpubProof.sign(master: master, path: path, challenge: bad) })?.field == "challenge")
        }
        #expect(throws: Never.self) { try XpubProof.sign(master: master, path: path, challenge: String(repeating: "0", count: 128)) }
    }
}

@Suite("Observed outputs and the wallet scan")
struct WalletScanTests {
    static func line(_ txid: String, _ vout: Int, _ value: Int, _ address: String, confirmations: Int = 6) -> String {
        #"{"txid":"\#(txid)","vout":\#(vout),"value_sats":\#(value),"address":"\#(address)","confirmations":\#(confirmations),"block_height":800000}"#
    }

    // Goal: outputs are placed at their branch and index within the gap limit; one past it, one
    // of another wallet and an unconfirmed one are listed apart; the next change index follows
    // the highest used; a wider gap limit finds the far one.
    @Test func scanFindsTheWalletsOutputs() throws {
        let descriptor = try Descriptor(parsing: try DescriptorBehaviourTests.wallet(network: .regtest))
        let other = try Descriptor(parsing: try DescriptorBehaviourTests.wallet(network: .regtest, threshold: 1))
        func receive(_ index: UInt32) throws -> String { try descriptor.address(branch: 0, index: index, network: .regtest) }
        let txid = { (n: Int) in String(repeating: String(format: "%02x", n), count: 32) }
        let text = [
            Self.line(txid(1), 0, 10_000, try receive(0)), Self.line(txid(2), 1, 20_000, try receive(3)),
            Self.line(txid(3), 0, 30_000, try receive(30)), Self.line(txid(4), 0, 40_000, try descriptor.address(branch: 1, index: 2, network: .regtest)),
            Self.line(txid(5), 0, 50_000, try other.address(branch: 0, index: 0, network: .regtest)), Self.line(txid(6), 0, 60_000, try receive(1), confirmations: 0),
        ].joined(separator: "\n")
        let utxos = try ObservedUTXO.parse(ndjson: text)
        let scan = try WalletScan(descriptor: descriptor, network: .regtest, utxos: utxos)
        #expect(scan.coins.map { [$0.branch, Int($0.index)] } == [[0, 0], [0, 3], [1, 2]])
        #expect(scan.foreign.map(\.valueSats) == [30_000, 50_000] && scan.unconfirmed.map(\.valueSats) == [60_000])
        #expect(scan.nextChangeIndex == 3 && scan.highestUsed[0] == 3)
        let wide = try WalletScan(descriptor: descriptor, network: .regtest, utxos: utxos, gapLimit: 30)
        #expect(wide.coins.count == 4 && wide.foreign.map(\.valueSats) == [50_000])
        #expect((#expect(throws: KinkoError.self) { try WalletScan(descriptor: descriptor, network: .regtest, utxos: utxos, gapLimit: 0) })?.field == "gap_limit")
    }

    // Goal: each bad line is refused with its number and field.
    @Test func badLinesAreNamed() throws {
        let good = Self.line(String(repeating: "ab", count: 32), 0, 1_000, "bcrt1qxyz")
        let cases: [(String, String)] = [
            (good.replacingOccurrences(of: "\"vout\":0", with: "\"vout\":-1"), "vout"),
            (good.replacingOccurrences(of: "\"value_sats\":1000", with: "\"value_sats\":0"), "value_sats"),
            (good.replacingOccurrences(of: "\"value_sats\":1000", with: "\"value_sats\":2100000000000001"), "value_sats"),
            (good.replacingOccurrences(of: String(repeating: "ab", count: 32), with: "abc"), "txid"),
            (good.replacingOccurrences(of: "\"confirmations\":6", with: "\"confirmations\":\"six\""), "confirmations"),
            ("{", "utxos"), (good.replacingOccurrences(of: "\"vout\":0", with: "\"vout\":1.5"), "vout"),
            (good.replacingOccurrences(of: "\"vout\":0", with: "\"vout\":true"), "vout"),
            (good.replacingOccurrences(of: "\"vout\":0,", with: ""), "vout"),
        ]
        for (text, field) in cases {
            let error = #expect(throws: KinkoError.self, "\(text)") { try ObservedUTXO.parse(ndjson: "\n" + text) }
            #expect(error?.field == field && error?.message.hasPrefix("line 2:") == true, "\(error?.field ?? "") \(error?.message ?? "")")
        }
        let twice = #expect(throws: KinkoError.self) { try ObservedUTXO.parse(ndjson: good + "\n" + good) }
        #expect(twice?.field == "txid" && twice?.message.hasPrefix("line 2:") == true && twice?.message.contains("appears twice") == true)
        #expect(try ObservedUTXO.parse(ndjson: good.replacingOccurrences(of: "\"value_sats\":1000", with: "\"value_sats\":2100000000000000")).count == 1)
    }

    // Goal: payment addresses of every kind become their scripts; another network's are refused.
    @Test func addressesToScripts() throws {
        #expect(Hex.encode(try BitcoinNetwork.mainnet.scriptPubKey(address: "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4")) == "0014751e76e8199196d454941c45d1b3a323f1433bd6")
        let keyHash = BitcoinHash.hash160(Array("k".utf8))
        #expect(try BitcoinNetwork.mainnet.scriptPubKey(address: Base58.encodeCheck([0x00] + keyHash)) == Script.p2pkh(keyHash: keyHash))
        #expect(try BitcoinNetwork.testnet.scriptPubKey(address: Base58.encodeCheck([0xC4] + keyHash)) == [0xA9, 0x14] + keyHash + [0x87])
        for (network, address) in [(BitcoinNetwork.mainnet, Base58.encodeCheck([0x6F] + keyHash)), (.regtest, "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4"),
                                   (.testnet, "tb1qnotanaddress")] {
            #expect((#expect(throws: KinkoError.self, "\(address)") { try network.scriptPubKey(address: address, field: "pay[0]") })?.field != nil)
        }
    }
}

import CKinkoField
import Foundation
@testable import KinkoBitcoin
import KinkoCore
import Testing

/// The variable-time batch derivation (FastDerivation.swift) against libsecp256k1.
@Suite("Batch public derivation")
struct BatchDerivationTests {
    static let p = FieldElement.p
    static let pMinusOne = FieldElement(l0: p.l0 - 1, l1: .max, l2: .max, l3: .max)

    static func random(_ generator: inout SplitMix64) -> FieldElement {
        while true {
            let element = FieldElement(l0: generator.next(), l1: generator.next(), l2: generator.next(), l3: generator.next())
            if element.isReduced { return element }
        }
    }

    @Test func fieldArithmeticHoldsItsIdentitiesAtTheEdgesAndAtRandom() {
        #expect(Self.pMinusOne + .one == .zero)
        #expect(FieldElement.zero - .one == Self.pMinusOne)
        #expect(Self.pMinusOne * Self.pMinusOne == .one)  // (−1)² = 1
        #expect(Self.pMinusOne + Self.pMinusOne == Self.pMinusOne - .one)  // −2
        #expect(FieldElement(l0: 2, l1: 0, l2: 0, l3: 0).inverse * FieldElement(l0: 2, l1: 0, l2: 0, l3: 0) == .one)
        #expect(FieldElement(bigEndian: ArraySlice([UInt8](repeating: 0xFF, count: 32))) == nil)  // ≥ p
        var generator = SplitMix64(seed: 16)
        for _ in 0..<500 {
            let a = Self.random(&generator), b = Self.random(&generator), c = Self.random(&generator)
            #expect((a + b) - b == a)
            #expect(a * (b + c) == a * b + a * c)
            #expect((a * b) * c == a * (b * c))
            #expect(b.isZero || (a * b) * b.inverse == a)
            #expect((a - b).isReduced && (a + b).isReduced && (a * b).isReduced)
        }
    }

    @Test func theCArithmeticAgreesWithTheSwift() {
        var generator = SplitMix64(seed: 48)
        for round in 0..<300 {
            let a = round == 0 ? Self.pMinusOne : Self.random(&generator), b = round == 1 ? Self.pMinusOne : Self.random(&generator)
            var product: [UInt64] = [0, 0, 0, 0], inverse: [UInt64] = [0, 0, 0, 0]
            kinko_fe_mul(&product, [a.l0, a.l1, a.l2, a.l3], [b.l0, b.l1, b.l2, b.l3])
            #expect(product == { let c = a * b; return [c.l0, c.l1, c.l2, c.l3] }())
            if round < 20 {
                kinko_fe_inv(&inverse, [a.l0, a.l1, a.l2, a.l3])
                #expect(inverse == { let c = a.inverse; return [c.l0, c.l1, c.l2, c.l3] }())
            }
        }
    }

    @Test func tableEntriesAreTheMultiplesLibsecp256k1Computes() throws {
        let table = try #require(GeneratorTable.build(bits: 8))
        #expect(table.count == 32 * 256 && table.point(1) == AffinePoint.generator)
        for (window, digit) in [(0, 1), (0, 2), (0, 255), (1, 1), (7, 200), (31, 255), (31, 1)] {
            var scalar = [UInt8](repeating: 0, count: 32)
            scalar[31 - window] = UInt8(digit)  // digit · 2^(8·window)
            #expect(table.point(window * 256 + digit).compressed == (try Secp256k1.publicKey(secretKey: scalar)), "window \(window) digit \(digit)")
        }
    }

    @Test func batchChildrenEqualLibsecp256k1sForRandomKeysAndIndices() throws {
        let table = try #require(GeneratorTable.build(bits: 8))
        var generator = SplitMix64(seed: 32)
        for round in 0..<4 {
            let master = try ExtendedKey.master(seed: (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }, network: round % 2 == 0 ? .mainnet : .regtest)
            let key = try master.derive(DerivationPath(parsing: "m/48'/0'/0'/2'/\(round % 2)"))
            let slow = try PublicDeriver(key)
            let batch = try #require(BatchPublicDeriver(key, slow: slow, table: table))
            let start = UInt32.random(in: 0..<(ChildNumber.hardenedBit - 600), using: &generator)
            let fast = try batch.children(start..<(start + 500))
            #expect(fast.count == 500 * 33)
            for offset in 0..<500 { #expect(Array(fast[(33 * offset)..<(33 * offset + 33)]) == (try slow.child(start + UInt32(offset)))) }
        }
    }

    @Test func theAddressWriterEncodesAsBIP173Does() {
        var generator = SplitMix64(seed: 64)
        for hrp in ["bc", "tb", "bcrt"] {
            var writer = P2WSHAddressWriter(hrp: hrp, threshold: 2, keys: 3, sorted: true)
            for _ in 0..<200 {
                var keys: [[UInt8]] = []
                for _ in 0..<3 { keys.append([UInt8.random(in: 2...3, using: &generator)] + (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }) }
                var script: [UInt8] = [0x52]
                for key in keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) { script += [33] + key }
                script += [0x53, 0xAE]
                #expect(writer.address(keys.map { $0[...] }) == Bech32.segwitAddress(hrp: hrp, version: 0, program: BitcoinHash.sha256(script)))
            }
        }
    }

    @Test func theAddressWriterPushesQuorumsAbove16AsTheGeneralPathDoes() {
        var generator = SplitMix64(seed: 65)
        var writer = P2WSHAddressWriter(hrp: "bc", threshold: 17, keys: 20, sorted: true)
        var keys: [[UInt8]] = []
        for _ in 0..<20 { keys.append([2] + (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }) }
        var script = Descriptor.pushNumber(17)
        for key in keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) { script += [33] + key }
        script += Descriptor.pushNumber(20) + [0xAE]
        #expect(writer.address(keys.map { $0[...] }) == Bech32.segwitAddress(hrp: "bc", version: 0, program: BitcoinHash.sha256(script)))
    }

    @Test func onlyTweaksBelowTheGroupOrderGoTheFastWay() {
        let n = BatchPublicDeriver.order
        #expect(BatchPublicDeriver.belowOrder((n.0 - 1, n.1, n.2, n.3)))
        #expect(!BatchPublicDeriver.belowOrder((n.0, n.1, n.2, n.3)))
        #expect(!BatchPublicDeriver.belowOrder((n.0 + 1, n.1, n.2, n.3)))
        #expect(BatchPublicDeriver.belowOrder((.max, .max, 0, .max)))
        #expect(!BatchPublicDeriver.belowOrder((0, 0, .max, .max)))
    }

    @Test func manyAddressesAreTheSameAsOneByOne() throws {
        let keys = try (1...3).map { seed in
            try SignerKeyFile.keyExpression(master: try ExtendedKey.master(seed: [UInt8](repeating: UInt8(seed), count: 32), network: .regtest),
                                            path: DerivationPath(parsing: "m/48'/1'/0'/2'")) + "/<0;1>/*"
        }
        let descriptor = try Descriptor(parsing: "wsh(sortedmulti(2,\(keys.joined(separator: ","))))")
        // Through the public entry point (the shared 10-bit table), across a batch boundary;
        // one address fewer than the threshold goes through libsecp256k1 alone.
        let count = Int(Descriptor.batchSize) + Descriptor.batchDerivationMin
        let addresses = try descriptor.addresses(branch: 1, range: 7..<(7 + UInt32(count)), network: .regtest)
        let below = try descriptor.addresses(branch: 1, range: 7..<(7 + UInt32(Descriptor.batchDerivationMin - 1)), network: .regtest)
        #expect(Array(addresses.prefix(below.count)) == below)
        #expect(addresses.count == count)
        for offset in [0, 1, Int(Descriptor.batchSize) - 1, Int(Descriptor.batchSize), count - 1] {
            #expect(addresses[offset] == (try descriptor.address(branch: 1, index: 7 + UInt32(offset), network: .regtest)))
        }
    }
}

@Suite("A node's scantxoutset")
struct NodeScanTests {
    static let script = "0020" + String(repeating: "ab", count: 32)

    static func answer(amount: String, script: String = NodeScanTests.script, height: Int = 100) -> [UInt8] {
        Array(#"{"result":{"success":true,"txouts":9,"height":105,"bestblock":"00","unspents":[{"txid":"\#(String(repeating: "CD", count: 32))","vout":1,"scriptPubKey":"\#(script)","desc":"raw()","amount":\#(amount),"height":\#(height)}],"total_amount":0},"error":null,"id":"kinko"}"#.utf8)
    }

    @Test func answersAreReadToTheSatoshiAndRefusedNamingTheUnspent() throws {
        let read = try NodeScan.parse(Self.answer(amount: "0.00000001"), network: .regtest)
        #expect(read.height == 105 && read.utxos.map(\.valueSats) == [1] && read.utxos[0].confirmations == 6 && read.utxos[0].blockHeight == 100)
        #expect(read.utxos[0].txid == String(repeating: "cd", count: 32) && read.utxos[0].address.hasPrefix("bcrt1q"))
        #expect(try NodeScan.parse(Self.answer(amount: "20999999.97690000"), network: .regtest).utxos[0].valueSats == 2_099_999_997_690_000)
        for (answer, reason) in [(Self.answer(amount: "0.000000001"), "satoshis"), (Self.answer(amount: "21000000.00000001"), "satoshis"),
                                 (Self.answer(amount: "1", script: "6a"), "address"), (Self.answer(amount: "1", height: 106), "past the scan")] {
            let error = #expect(throws: KinkoError.self) { try NodeScan.parse(answer, network: .regtest) }
            #expect(error?.field == "node.unspents[0]" && error?.message.contains(reason) == true, "\(reason): \(error?.message ?? "")")
        }
        let refused = #expect(throws: KinkoError.self) {
            try NodeScan.parse(Array(#"{"result":null,"error":{"code":-8,"message":"Scan already in progress"},"id":"kinko"}"#.utf8), network: .regtest)
        }
        #expect(refused?.message.contains("Scan already in progress") == true)
    }

    @Test func theRequestScansBothBranchesToTheirRanges() throws {
        let keys = try (1...3).map { seed in
            try SignerKeyFile.keyExpression(master: try ExtendedKey.master(seed: [UInt8](repeating: UInt8(seed), count: 32), network: .regtest),
                                            path: DerivationPath(parsing: "m/48'/1'/0'/2'")) + "/<0;1>/*"
        }
        let descriptor = try Descriptor(parsing: "wsh(sortedmulti(2,\(keys.joined(separator: ","))))")
        let body = try #require(try JSONSerialization.jsonObject(with: Data(try NodeScan.request(descriptor: descriptor, ranges: [1_020, 1_003]))) as? [String: Any])
        let params = try #require(body["params"] as? [Any])
        let objects = try #require(params.last as? [[String: Any]])
        #expect(body["method"] as? String == "scantxoutset" && params.first as? String == "start")
        #expect(objects.map { $0["range"] as? [Int] ?? [] } == [[0, 1_020], [0, 1_003]])
        for (branch, object) in objects.enumerated() {
            let single = try Descriptor(parsing: try #require(object["desc"] as? String))  // its checksum is checked
            #expect(try single.address(index: 7, network: .regtest) == (try descriptor.address(branch: branch, index: 7, network: .regtest)))
        }
    }
}

import Foundation
import KinkoBitcoin
import KinkoCore
import Testing

/// The BIPs' own test vectors, transcribed into Vectors/*.json from bitcoin/bips (each file names
/// its source and commit).
enum Vectors {
    static func load(_ name: String) throws -> [String: Any] {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Vectors"))
        return try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    static func list(_ object: [String: Any], _ key: String) throws -> [[String: Any]] {
        try #require(object[key] as? [[String: Any]], "no \(key)")
    }
}

@Suite("RIPEMD-160")
struct RIPEMD160Tests {
    // Goal: every vector of the designers' test set, the million-"a" one included.
    @Test func designersVectors() throws {
        let vectors = try Vectors.list(try Vectors.load("ripemd160"), "vectors")
        #expect(vectors.count == 9)
        for vector in vectors {
            let message: [UInt8]
            if let text = vector["message"] as? String {
                message = Array(text.utf8)
            } else {
                let repeated = try #require(vector["message_repeat"] as? String), count = try #require(vector["count"] as? Int)
                message = Array(repeating: Array(repeated.utf8), count: count).flatMap { $0 }
            }
            #expect(Hex.encode(RIPEMD160.hash(message)) == vector["hash"] as? String, "\(message.count) bytes")
        }
    }
}

@Suite("Bech32 and Bech32m (BIP 173, BIP 350)")
struct Bech32Tests {
    // Goal: every valid string decodes with its variant and re-encodes to itself (lower case);
    // every invalid one is refused.
    @Test func stringVectors() throws {
        let vectors = try Vectors.load("bech32")
        for (key, variant) in [("valid_bech32", Bech32.Variant.bech32), ("valid_bech32m", .bech32m)] {
            let strings = try #require(vectors[key] as? [String])
            #expect(strings.count == 7)
            for string in strings {
                let decoded = try Bech32.decode(string)
                #expect(decoded.variant == variant, "\(string)")
                #expect(Bech32.encode(hrp: decoded.hrp, data: decoded.data, variant: variant) == string.lowercased())
            }
        }
        for (key, variant) in [("invalid_bech32", Bech32.Variant.bech32), ("invalid_bech32m", .bech32m)] {
            for vector in try Vectors.list(vectors, key) {
                let string = try #require(vector["string"] as? String)
                // Invalid for this variant: refused, or decoded as the other one.
                if let decoded = try? Bech32.decode(string) {
                    #expect(decoded.variant != variant, "\(vector["reason"] ?? "") accepted: \(string)")
                }
            }
        }
    }

    // Goal: every valid address gives the BIP's scriptPubKey and re-encodes to itself; every
    // invalid one is refused for every network's prefix.
    @Test func addressVectors() throws {
        let vectors = try Vectors.load("bech32")
        let valid = try Vectors.list(vectors, "valid_addresses")
        #expect(valid.count == 8)
        for vector in valid {
            let address = try #require(vector["address"] as? String)
            let hrp = String(address.lowercased().prefix { $0 != "1" })
            let (version, program) = try Bech32.decodeSegwitAddress(address, hrp: hrp)
            #expect(Hex.encode(Bech32.scriptPubKey(version: version, program: program)) == vector["script_pubkey"] as? String)
            #expect(Bech32.segwitAddress(hrp: hrp, version: version, program: program) == address.lowercased())
        }
        let invalid = try Vectors.list(vectors, "invalid_addresses")
        #expect(invalid.count == 23)
        for vector in invalid {
            let address = try #require(vector["address"] as? String)
            for hrp in ["bc", "tb", "bcrt"] {
                #expect(throws: KinkoError.self, "\(vector["reason"] ?? ""): \(address)") { try Bech32.decodeSegwitAddress(address, hrp: hrp) }
            }
        }
    }
}

@Suite("BIP 32 extended keys")
struct BIP32Tests {
    // Goal: vectors 1–4: each chain's keys from the seed, both serializations exact, and the
    // public child of each public parent equal to the private derivation's (where unhardened).
    @Test func derivationVectors() throws {
        let vectors = try Vectors.list(try Vectors.load("bip32"), "valid")
        #expect(vectors.count == 4)
        var checked = 0
        for vector in vectors {
            let seedHex = try #require(vector["seed"] as? String)
            let seed = try #require(Hex.decode(seedHex))
            let master = try ExtendedKey.master(seed: seed, network: .mainnet)
            var previous: ExtendedKey?
            for chain in try Vectors.list(vector, "chains") {
                let written = try #require(chain["path"] as? String)
                let path = try DerivationPath(parsing: written.replacingOccurrences(of: "H", with: "'"))
                let key = try master.derive(path)
                #expect(key.serialized == chain["xprv"] as? String, "\(path)")
                #expect(key.serializedPublic == chain["xpub"] as? String, "\(path)")
                let xprv = try #require(chain["xprv"] as? String)
                #expect(try ExtendedKey(parsing: xprv) == key)
                if let previous, let last = path.steps.last, !last.isHardened, path.steps.count == previous.depth + 1 {
                    #expect(try previous.neutered.child(last).serialized == chain["xpub"] as? String, "public derivation at \(path)")
                }
                previous = key
                checked += 1
            }
        }
        #expect(checked == 17)
    }

    // Goal: vector 5: every invalid extended key is refused, with a reason.
    @Test func invalidKeys() throws {
        let invalid = try Vectors.list(try Vectors.load("bip32"), "invalid")
        #expect(invalid.count == 16)
        for vector in invalid {
            let key = try #require(vector["key"] as? String)
            let error = #expect(throws: KinkoError.self, "\(vector["reason"] ?? "")") { try ExtendedKey(parsing: key) }
            #expect(error?.code == .invalidInput && error?.field == "key")
        }
    }

    // Goal: a hardened child needs the private key; paths outside the grammar are refused.
    @Test func publicKeysCannotDeriveHardenedChildren() throws {
        let master = try ExtendedKey.master(seed: Array(0..<32), network: .testnet)
        #expect(master.serializedPublic.hasPrefix("tpub") && master.serialized.hasPrefix("tprv"))
        let error = #expect(throws: KinkoError.self) { try master.neutered.child(ChildNumber(0, hardened: true)) }
        #expect(error?.field == "path")
        for bad in ["m/0H", "m/-1", "m/2147483648", "m/1/", "m//1", "m/1x"] {
            #expect(throws: KinkoError.self, "\(bad)") { try DerivationPath(parsing: bad) }
        }
        #expect(try DerivationPath(parsing: "m/48'/0h/2147483647'/2").description == "m/48'/0'/2147483647'/2")
        #expect(throws: KinkoError.self) { try ExtendedKey.master(seed: Array(repeating: 1, count: 15), network: .mainnet) }
    }
}

@Suite("Output script descriptors (BIP 380, 381, 382, 383)")
struct DescriptorTests {
    // Goal: BIP 380's checksum vectors: the valid one is computed exactly, the invalid ones refused.
    @Test func checksumVectors() throws {
        let vectors = try Vectors.load("descriptors")
        for valid in try #require(vectors["checksum_valid"] as? [String]) {
            let parts = valid.split(separator: "#")
            #expect(Descriptor.checksum(String(parts[0])) == String(parts[1]))
        }
        for vector in try Vectors.list(vectors, "checksum_invalid") {
            let text = try #require(vector["descriptor"] as? String)
            let parts = text.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
            #expect(parts.count == 1 || Descriptor.checksum(String(parts[0])) != String(parts[1]), "\(vector["reason"] ?? "")")
        }
    }

    // Goal: BIP 383's valid vectors give their scriptPubKeys exactly (at indices 0, 1, 2 where
    // ranged); the invalid ones are refused.
    @Test func multisigVectors() throws {
        let vectors = try Vectors.load("descriptors")
        let valid = try Vectors.list(vectors, "valid")
        #expect(valid.count == 9)
        for vector in valid {
            let text = try #require(vector["descriptor"] as? String)
            let descriptor = try Descriptor(parsing: text)
            let expected = try #require(vector["script_pubkeys"] as? [String])
            let indices = (vector["indices"] as? [Int]) ?? [0]
            for (index, script) in zip(indices, expected) {
                #expect(Hex.encode(try descriptor.scriptPubKey(index: UInt32(index))) == script, "\(descriptor) at \(index)")
            }
        }
        let invalid = try Vectors.list(vectors, "invalid")
        #expect(invalid.count == 4)
        for vector in invalid {
            let text = try #require(vector["descriptor"] as? String)
            #expect(throws: KinkoError.self, "\(vector["reason"] ?? "")") { try Descriptor(parsing: text) }
        }
    }

    // Goal: BIP 380's key-expression vectors, each inside sh(multi(1,…)): the valid ones are
    // read, the invalid ones refused.
    @Test func keyExpressionVectors() throws {
        let vectors = try Vectors.load("descriptors")
        for vector in try Vectors.list(vectors, "key_expression_valid") {
            let key = try #require(vector["key"] as? String)
            #expect(throws: Never.self, "\(vector["note"] ?? "")") { _ = try Descriptor(parsing: "sh(multi(1,\(key)))") }
        }
        for vector in try Vectors.list(vectors, "key_expression_invalid") {
            let key = try #require(vector["key"] as? String)
            #expect(throws: KinkoError.self, "\(vector["reason"] ?? ""): \(key)") { try Descriptor(parsing: "sh(multi(1,\(key)))") }
        }
    }
}

@Suite("Transactions and BIP 143 signature hashes")
struct SighashTests {
    // Goal: every case of BIP 143 with all its values given: the signature hash exactly, and the
    // unsigned transaction re-serialized byte for byte.
    @Test func bip143Vectors() throws {
        let cases = try Vectors.list(try Vectors.load("bip143"), "cases")
        #expect(cases.count == 13)
        for vector in cases {
            let name = vector["name"] as? String ?? "?"
            let unsignedHex = try #require(vector["unsigned_tx"] as? String)
            let transaction = try BitcoinTransaction(parsing: try #require(Hex.decode(unsignedHex)))
            #expect(Hex.encode(transaction.serialized()) == unsignedHex, "\(name)")
            let scriptCodeHex = try #require(vector["script_code"] as? String)
            // The BIP prints scriptCode with its length prefix.
            var scriptCode = try #require(Hex.decode(scriptCodeHex))
            let prefix = scriptCode[0] < 0xFD ? 1 : 3
            scriptCode.removeFirst(prefix)
            let amount = try #require(vector["amount"] as? NSNumber).uint64Value
            let type = try #require(vector["sighash_type"] as? NSNumber).uint32Value
            let index = try #require(vector["input_index"] as? Int)
            let hash = try transaction.segwitSignatureHash(input: index, scriptCode: scriptCode, amount: amount, type: .init(rawValue: type))
            #expect(Hex.encode(hash) == vector["sighash"] as? String, "\(name)")
        }
    }

    // Goal: a signature made by Kinko verifies against its key and not against another key or
    // another hash; it is low-S DER.
    @Test func signAndVerify() throws {
        let key = try ExtendedKey.master(seed: Array(0..<32), network: .regtest)
        let other = try ExtendedKey.master(seed: Array(1..<33), network: .regtest)
        let hash = BitcoinHash.sha256(Array("kinko".utf8))
        let signature = try Secp256k1.sign(hash: hash, secretKey: try #require(key.secretKey))
        #expect(signature[0] == 0x30 && signature.count <= 72)
        #expect(Secp256k1.verify(signature: signature, hash: hash, publicKey: key.publicKey))
        #expect(!Secp256k1.verify(signature: signature, hash: hash, publicKey: other.publicKey))
        #expect(!Secp256k1.verify(signature: signature, hash: BitcoinHash.sha256(Array("kinkO".utf8)), publicKey: key.publicKey))
        #expect(try Secp256k1.sign(hash: hash, secretKey: try #require(key.secretKey)) == signature, "RFC 6979: deterministic")
    }

    // Goal: malformed serializations are refused with the field named, never a trap.
    @Test func truncatedTransactionsAreRefused() throws {
        let cases = try Vectors.list(try Vectors.load("bip143"), "cases")
        let hex = try #require(cases[0]["unsigned_tx"] as? String)
        let bytes = try #require(Hex.decode(hex))
        for cut in [0, 1, 4, 5, 40, bytes.count - 1] {
            let error = #expect(throws: KinkoError.self, "cut at \(cut)") { try BitcoinTransaction(parsing: Array(bytes.prefix(cut))) }
            #expect(error?.field == "transaction")
        }
        #expect(throws: KinkoError.self) { try BitcoinTransaction(parsing: bytes + [0]) }
    }
}

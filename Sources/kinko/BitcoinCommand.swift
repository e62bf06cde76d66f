import ArgumentParser
import Foundation
import KinkoBitcoin
import KinkoCore

/// `kinko bitcoin …`: stateless file tools over Kinko's Bitcoin code, so any other wallet can
/// check what Kinko derives.
struct BitcoinCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bitcoin", abstract: "Bitcoin file tools: a descriptor's addresses, PSBTs (no database).",
        subcommands: [Address.self, DescriptorInfo.self, VerifyXpub.self, UTXOs.self, PSBTCommand.self])

    struct Address: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "The address(es) of a descriptor at an index.")
        @Option(help: "The descriptor, e.g. wsh(sortedmulti(2,[fp/48'/0'/0'/2']xpub…/0/*,…)) (a #checksum is checked when present).")
        var descriptor: String
        @Option(help: "The first index (0–2147483647).") var index: UInt32 = 0
        @Option(help: "How many consecutive indices (1–\(Self.countMax)).") var count = 1
        @Option(help: "For a <0;1> descriptor: which branch (0 receive, 1 change).") var branch = 0
        @Option(help: "mainnet, testnet or regtest (tpub keys fit both test networks, so say which).") var network: String
        @Flag(help: "Print JSON: the descriptor with its checksum and each address with its scriptPubKey.") var json = false

        /// Addresses one call derives at most.
        static let countMax = 1_000_000

        struct Output: Encodable {
            struct Derived: Encodable {
                var index: UInt32
                var address: String
                var scriptPubKey: String
                enum CodingKeys: String, CodingKey { case index, address, scriptPubKey = "script_pubkey" }
            }
            var descriptor: String
            var network: String
            var branch: Int
            var addresses: [Derived]
        }

        func execute() async throws {
            guard let network = BitcoinNetwork(rawValue: network) else {
                throw KinkoError(.invalidInput, "mainnet, testnet or regtest; got \(network)", field: "network")
            }
            guard (1...Self.countMax).contains(count) else { throw KinkoError(.limitExceeded, "count is 1–\(Self.countMax); got \(count)", field: "count") }
            let parsed = try Descriptor(parsing: descriptor)
            guard parsed.isDerivableFromPublicKeys else {
                throw KinkoError(.invalidInput, "a key has a hardened step after its xpub: only its holder can derive it", field: "descriptor")
            }
            guard branch >= 0, branch < parsed.branchCount else {
                throw KinkoError(.invalidInput, "the descriptor has \(parsed.branchCount) branch(es); got \(branch)", field: "branch")
            }
            guard UInt64(index) + UInt64(count) - 1 < UInt64(ChildNumber.hardenedBit) else {
                throw KinkoError(.invalidInput, "index + count − 1 must stay below 2147483648", field: "count")
            }
            guard parsed.isRanged || count == 1 else { throw KinkoError(.invalidInput, "the descriptor is not ranged (no /*); count must be 1", field: "count") }
            let addresses = try parsed.addresses(branch: branch, range: index..<(index + UInt32(count)), network: network)
            var derived: [Output.Derived] = []
            derived.reserveCapacity(count)
            for (offset, address) in addresses.enumerated() {
                let program = try Bech32.decodeSegwitAddress(address, hrp: network.hrp)
                derived.append(Output.Derived(index: index + UInt32(offset), address: address,
                                              scriptPubKey: Hex.encode(Bech32.scriptPubKey(version: program.version, program: program.program))))
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                let output = Output(descriptor: parsed.withChecksum, network: network.rawValue, branch: branch, addresses: derived)
                print(String(decoding: try encoder.encode(output), as: UTF8.self))
            } else {
                for item in derived { print(count == 1 ? item.address : "\(item.index)\t\(item.address)") }
            }
        }
    }

    /// Options shared by the commands that read a wallet and its observed outputs.
    struct WalletOptions: ParsableArguments {
        @Option(help: "The wallet: wsh(sortedmulti(m, KEY/<0;1>/*, …)).") var descriptor: String
        @Option(help: "mainnet, testnet or regtest.") var network: String
        @Option(help: "Observed unspent outputs, NDJSON: txid, vout, value_sats, address, confirmations, block_height.") var utxos: String
        @Option(help: "Unused addresses after the last used one before a branch's scan stops (1–\(WalletScan.gapLimitMax)).")
        var gapLimit = WalletScan.gapLimitDefault
        @Option(help: "Confirmations an output needs to be spent.") var minConfirmations = 1

        func scan() throws -> (Descriptor, BitcoinNetwork, WalletScan) {
            let network = try BitcoinFiles.network(network)
            let parsed = try Descriptor(parsing: descriptor)
            guard let data = FileManager.default.contents(atPath: utxos) else { throw KinkoError(.notFound, "cannot read \(utxos)", field: "utxos") }
            let observed = try ObservedUTXO.parse(ndjson: String(decoding: data, as: UTF8.self))
            return (parsed, network, try WalletScan(descriptor: parsed, network: network, utxos: observed, gapLimit: gapLimit, minimumConfirmations: minConfirmations))
        }
    }

    struct UTXOs: KinkoCommand {
        static let configuration = CommandConfiguration(commandName: "utxos",
                                                        abstract: "Which observed outputs are the wallet's, at which branch and index; its spendable balance.")
        @OptionGroup var wallet: WalletOptions

        func execute() async throws {
            let (_, _, scan) = try wallet.scan()
            for coin in scan.coins { print("\(coin.txid):\(coin.vout)\t\(SigningReview.bitcoin(coin.value)) BTC\tbranch \(coin.branch) index \(coin.index)") }
            let balance = scan.coins.reduce(UInt64(0)) { $0 + $1.value }
            print("spendable: \(SigningReview.bitcoin(balance)) BTC in \(scan.coins.count) outputs; next change index \(scan.nextChangeIndex)")
            if !scan.unconfirmed.isEmpty { print("unconfirmed (not spendable yet): \(scan.unconfirmed.count)") }
            if !scan.foreign.isEmpty {
                print("not this wallet's (another wallet, or past the gap limit of \(wallet.gapLimit)): \(scan.foreign.map { "\($0.txid):\($0.vout)" }.joined(separator: ", "))")
            }
        }
    }

    struct VerifyXpub: KinkoCommand {
        static let configuration = CommandConfiguration(commandName: "verify-xpub",
                                                        abstract: "Check an xpub registration: the key at its origin path signed the challenge.")
        @Option(help: "The registered [fingerprint/path]xpub.") var key: String
        @Option(help: "The challenge (hex).") var challenge: String
        @Option(help: "The signature (hex DER) from kinko signer prove.") var signature: String

        func execute() async throws {
            try XpubProof.verify(keyExpression: key, challenge: challenge, signature: try Hex.decode(signature, field: "signature"))
            print("ok: the holder of \(key.prefix(24))… signed the challenge")
        }
    }

    struct DescriptorInfo: KinkoCommand {
        static let configuration = CommandConfiguration(commandName: "descriptor", abstract: "Check a descriptor and print it with its checksum.")
        @Argument(help: "The descriptor (a #checksum is checked when present).") var descriptor: String

        func execute() async throws {
            let parsed = try Descriptor(parsing: descriptor)
            print(parsed.withChecksum)
            print("\(parsed.kind.rawValue) \(parsed.threshold) of \(parsed.keys.count)\(parsed.isRanged ? ", ranged" : "")\(parsed.branchCount > 1 ? ", \(parsed.branchCount) branches" : "")")
            if parsed.containsPrivateKeys { print("warning: it contains private keys; Kinko stores public descriptors only") }
        }
    }
}

/// `kinko signer …`: a plain-file signer (the key stays in a 0600 file on the signer's machine).
struct SignerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signer", abstract: "A plain-file Bitcoin signer: its extended public key for a wallet, and signing PSBTs.",
        subcommands: [Xpub.self, Prove.self, Sign.self])

    struct Xpub: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Print the origin-annotated xpub at a path, e.g. [d34db33f/48'/0'/0'/2']xpub….")
        @Option(help: "The signer's key file (one xprv or tprv, mode 0600).") var keyFile: String
        @Option(help: "The BIP 48 path, e.g. m/48'/0'/0'/2' (mainnet) or m/48'/1'/0'/2' (test networks).") var path: String

        func execute() async throws {
            let master = try SignerKeyFile.load(path: keyFile)
            print(try SignerKeyFile.keyExpression(master: master, path: try DerivationPath(parsing: path)))
        }
    }

    struct Prove: KinkoCommand {
        static let configuration = CommandConfiguration(
            abstract: "Prove you hold the key behind an xpub: sign Kinko's registration challenge with the key at the path.")
        @Option(help: "The signer's key file (one xprv or tprv, mode 0600).") var keyFile: String
        @Option(help: "The BIP 48 path, e.g. m/48'/0'/0'/2'.") var path: String
        @Option(help: "The challenge Kinko issued (hex).") var challenge: String

        func execute() async throws {
            let master = try SignerKeyFile.load(path: keyFile)
            let (expression, signature) = try XpubProof.sign(master: master, path: try DerivationPath(parsing: path), challenge: challenge)
            print(expression)
            print(Hex.encode(signature))
        }
    }

    struct Sign: KinkoCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what a PSBT pays (every output, proven change, the fee), then sign every input this key holds and write the PSBT back.")
        @Option(help: "The signer's key file (one xprv or tprv, mode 0600).") var keyFile: String
        @Option(help: "mainnet, testnet or regtest (for the addresses shown).") var network: String
        @Option(help: "Refuse a PSBT whose fee is above this many satoshis.") var feeCapSats = SigningReview.feeCapDefault
        @Argument(help: "The PSBT file (base64 or binary; written back in the same form).") var file: String

        func execute() async throws {
            let master = try SignerKeyFile.load(path: keyFile)
            let network = try BitcoinFiles.network(network)
            let (data, binary) = try BitcoinFiles.read(file)
            var psbt = try PSBT(parsingFile: data)
            let review = try SigningReview(psbt, master: master, network: network, feeCap: feeCapSats)
            print(review.text)
            guard !review.inputsToSign.isEmpty else {
                throw KinkoError(.invalidInput, "no input of this PSBT holds a key of \(keyFile) (fingerprint \(Hex.encode(master.fingerprint)))", field: "key_file")
            }
            let signed = try psbt.sign(with: master)
            try psbt.verifySignatures()
            try BitcoinFiles.write(psbt, to: file, binary: binary)
            print("signed inputs \(signed.map(String.init).joined(separator: ", ")); wrote \(file)")
        }
    }
}

/// Reading and writing PSBT files as they came (base64 text or binary).
enum BitcoinFiles {
    static func network(_ name: String) throws(KinkoError) -> BitcoinNetwork {
        guard let network = BitcoinNetwork(rawValue: name) else { throw KinkoError(.invalidInput, "mainnet, testnet or regtest; got \(name)", field: "network") }
        return network
    }

    /// The file's bytes and whether it is binary (starts with the PSBT magic).
    static func read(_ path: String) throws(KinkoError) -> ([UInt8], binary: Bool) {
        guard let data = FileManager.default.contents(atPath: path) else { throw KinkoError(.notFound, "cannot read \(path)", field: "file") }
        guard data.count <= PSBT.bytesMax * 2 else { throw KinkoError(.limitExceeded, "\(path) is over \(PSBT.bytesMax * 2) bytes", field: "file") }
        let bytes = [UInt8](data)
        return (bytes, PSBT.isBinary(bytes))
    }

    static func write(_ psbt: PSBT, to path: String, binary: Bool) throws(KinkoError) {
        let data = binary ? Data(psbt.serialized) : Data((psbt.base64 + "\n").utf8)
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw KinkoError(.invalidInput, "cannot write \(path)", field: "file")
        }
    }
}

extension BitcoinCommand {
    struct PSBTCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "psbt", abstract: "Inspect, combine and finalize PSBTs (BIP 174).",
                                                        subcommands: [Create.self, Inspect.self, Combine.self, Finalize.self])

        struct Create: KinkoCommand {
            static let configuration = CommandConfiguration(
                abstract: "Build the PSBT of a payment from a wallet's observed outputs (change to the change branch); prints base64 or writes --out.")
            @OptionGroup var wallet: WalletOptions
            @Option(name: .customLong("pay"), help: "ADDRESS=SATOSHIS, once per payment.") var payments: [String]
            @Option(help: "Fee rate, sat/vB (\(WalletPSBTBuilder.feeRateRange.lowerBound)–\(WalletPSBTBuilder.feeRateRange.upperBound)).") var feeRate: UInt64
            @Option(help: "The change address index (default: one past the highest used).") var changeIndex: UInt32?
            @Option(help: "Write the PSBT here (base64).") var out: String?

            func execute() async throws {
                let (descriptor, network, scan) = try wallet.scan()
                var outputs: [BitcoinTransaction.Output] = []
                for (position, payment) in payments.enumerated() {
                    let parts = payment.split(separator: "=", maxSplits: 1).map(String.init)
                    guard parts.count == 2, let value = UInt64(parts[1]) else {
                        throw KinkoError(.invalidInput, "write ADDRESS=SATOSHIS; got \(payment)", field: "pay[\(position)]")
                    }
                    outputs.append(BitcoinTransaction.Output(value: value, scriptPubKey: try network.scriptPubKey(address: parts[0], field: "pay[\(position)]")))
                }
                let builder = try WalletPSBTBuilder(descriptor: descriptor, network: network)
                let psbt = try builder.build(coins: scan.coins, payments: outputs, feeRate: feeRate, changeIndex: changeIndex ?? scan.nextChangeIndex)
                if let out { try BitcoinFiles.write(psbt, to: out, binary: false) } else { print(psbt.base64) }
                FileHandle.standardError.write(Data("PSBT \(psbt.transaction.txid): \(psbt.inputs.count) inputs, fee \(psbt.fee ?? 0) sat\n".utf8))
            }
        }

        struct Inspect: KinkoCommand {
            static let configuration = CommandConfiguration(abstract: "Inputs, outputs, fee and signatures of a PSBT.")
            @Option(help: "mainnet, testnet or regtest (for addresses).") var network: String
            @Flag(help: "Print JSON.") var json = false
            @Argument(help: "The PSBT file (base64 or binary).") var file: String

            struct Output: Encodable {
                struct In: Encodable {
                    var outpoint: String, amount: UInt64?, signatures: Int, threshold: Int?, finalized: Bool
                }
                struct Out: Encodable { var address: String, amount: UInt64, change_claimed: Bool }
                var txid: String, fee: UInt64?, inputs: [In], outputs: [Out]
            }

            func execute() async throws {
                let network = try BitcoinFiles.network(network)
                let psbt = try PSBT(parsingFile: try BitcoinFiles.read(file).0)
                let inputs = psbt.inputs.indices.map { index in
                    let input = psbt.inputs[index]
                    return Output.In(outpoint: psbt.transaction.inputs[index].outpoint, amount: input.witnessUTXO?.value,
                                     signatures: input.partialSignatures.count, threshold: input.witnessScript.flatMap(Script.multisig)?.threshold,
                                     finalized: input.isFinalized)
                }
                let outputs = psbt.transaction.outputs.enumerated().map { index, output in
                    Output.Out(address: SigningReview.destination(output.scriptPubKey, network: network), amount: output.value,
                               change_claimed: !psbt.outputs[index].derivations.isEmpty)
                }
                let report = Output(txid: psbt.transaction.txid, fee: psbt.fee, inputs: inputs, outputs: outputs)
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                    print(String(decoding: try encoder.encode(report), as: UTF8.self))
                    return
                }
                print("Transaction \(report.txid)")
                for (index, input) in report.inputs.enumerated() {
                    let amount = input.amount.map { SigningReview.bitcoin($0) + " BTC" } ?? "amount unknown"
                    let state = input.finalized ? "finalized" : "\(input.signatures)\(input.threshold.map { " of \($0)" } ?? "") signatures"
                    print("  input \(index): \(input.outpoint), \(amount), \(state)")
                }
                for (index, output) in report.outputs.enumerated() {
                    print("  output \(index): \(SigningReview.bitcoin(output.amount)) BTC to \(output.address)\(output.change_claimed ? "  [claims change: check with kinko signer sign]" : "")")
                }
                print("  fee: \(report.fee.map { "\(SigningReview.bitcoin($0)) BTC (\($0) sat)" } ?? "unknown")")
            }
        }

        struct Combine: KinkoCommand {
            static let configuration = CommandConfiguration(abstract: "Merge PSBTs of one transaction (signatures from several signers); prints base64.")
            @Option(help: "Write the combined PSBT here (base64) instead of printing it.") var out: String?
            @Argument(help: "Two or more PSBT files.") var files: [String]

            func execute() async throws {
                guard files.count >= 2 else { throw KinkoError(.invalidInput, "give two or more PSBT files", field: "files") }
                var psbts: [PSBT] = []
                for file in files { psbts.append(try PSBT(parsingFile: try BitcoinFiles.read(file).0)) }
                let combined = try PSBT.combine(psbts)
                try combined.verifySignatures()
                if let out { try BitcoinFiles.write(combined, to: out, binary: false) } else { print(combined.base64) }
            }
        }

        struct Finalize: KinkoCommand {
            static let configuration = CommandConfiguration(abstract: "Finalize a fully signed PSBT; prints the raw transaction hex and txid (refuses one short of its quorum).")
            @Flag(help: "Print {\"hex\", \"txid\"}.") var json = false
            @Argument(help: "The PSBT file (base64 or binary).") var file: String

            func execute() async throws {
                var psbt = try PSBT(parsingFile: try BitcoinFiles.read(file).0)
                try psbt.finalize()
                let transaction = try psbt.extract()
                let hex = Hex.encode(transaction.serialized())
                if json {
                    let object = ["hex": hex, "txid": transaction.txid]
                    print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
                } else {
                    print(hex)
                    print("txid \(transaction.txid)")
                }
            }
        }
    }
}

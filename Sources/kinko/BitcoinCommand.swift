import ArgumentParser
import Foundation
import KinkoBitcoin
import KinkoCore

/// `kinko bitcoin …`: stateless file tools over Kinko's Bitcoin code, so any other wallet can
/// check what Kinko derives.
struct BitcoinCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bitcoin", abstract: "Bitcoin file tools: derive a descriptor's addresses (no database).",
        subcommands: [Address.self, DescriptorInfo.self])

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
            var derived: [Output.Derived] = []
            derived.reserveCapacity(count)
            for offset in 0..<UInt32(count) {
                let at = index + offset
                derived.append(Output.Derived(index: at, address: try parsed.address(branch: branch, index: at, network: network),
                                              scriptPubKey: Hex.encode(try parsed.scriptPubKey(branch: branch, index: at))))
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
        commandName: "signer", abstract: "A plain-file Bitcoin signer: its extended public key for a wallet.",
        subcommands: [Xpub.self])

    struct Xpub: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Print the origin-annotated xpub at a path, e.g. [d34db33f/48'/0'/0'/2']xpub….")
        @Option(help: "The signer's key file (one xprv or tprv, mode 0600).") var keyFile: String
        @Option(help: "The BIP 48 path, e.g. m/48'/0'/0'/2' (mainnet) or m/48'/1'/0'/2' (test networks).") var path: String

        func execute() async throws {
            let master = try SignerKeyFile.load(path: keyFile)
            print(try SignerKeyFile.keyExpression(master: master, path: try DerivationPath(parsing: path)))
        }
    }
}

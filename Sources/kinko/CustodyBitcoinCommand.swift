import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import KinkoBitcoin
import KinkoControls
import KinkoCore
import KinkoCustody
import KinkoGovernance

/// `kinko custody bitcoin …`: Bitcoin custody on chain, in the database — signers' xpubs,
/// descriptor wallets under approval, deposit addresses, unspent outputs and movements as
/// PSBTs. The stateless file tools are `kinko bitcoin` and `kinko signer`.
struct CustodyBitcoinCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bitcoin",
        abstract: "Bitcoin on chain: xpubs with proof of possession, descriptor wallets, deposit addresses, outputs, movements as PSBTs.",
        subcommands: [
            Challenge.self, RegisterXpub.self, Xpubs.self, ProposeWallet.self, AdoptWallet.self, Wallets.self, DepositAddress.self,
            ImportUTXOs.self, SyncNode.self, UTXOList.self, Agreement.self, BuildPSBT.self, GetPSBT.self, SubmitPSBT.self, Observe.self,
        ])

    struct Challenge: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Ask Kinko for a challenge to prove you hold the key you register (signers).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions

        func execute() async throws {
            let session = try await Session.open(database, token)
            let challenge = try await session.exchange().bitcoin.issueChallenge(by: session.caller)
            print(challenge.challenge)
            FileHandle.standardError.write(Data("answer it before \(challenge.expiresAt.iso8601): kinko signer prove --key-file K --path P --challenge \(challenge.challenge)\n".utf8))
        }
    }

    struct RegisterXpub: KinkoCommand {
        static let configuration = CommandConfiguration(
            commandName: "register-xpub", abstract: "Register your own [fingerprint/path]xpub with the signature `kinko signer prove` made (signers).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "The key expression `kinko signer prove` printed first.") var key: String
        @Option(help: "The challenge Kinko issued you.") var challenge: String
        @Option(help: "The signature (hex) `kinko signer prove` printed second.") var signature: String
        @Option(help: "The wallet software or device holding the private key (a name in the vendor register).") var vendor: String

        func execute() async throws {
            guard let bytes = Hex.decode(signature) else { throw KinkoError(.invalidInput, "the signature is hex", field: "signature") }
            let session = try await Session.open(database, token)
            let record = try await session.exchange().bitcoin.registerXpub(key: key, challenge: challenge, signature: bytes, vendor: vendor, by: session.caller)
            print("registered \(record.id) for \(record.principalName) (vendor \(record.vendor), \(record.testNetworks ? "testnet/regtest" : "mainnet"))")
        }
    }

    struct Xpubs: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "The registered xpubs and who holds them.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions

        func execute() async throws {
            let session = try await Session.open(database, token)
            let rows = try await session.exchange().bitcoin.xpubs(by: session.caller).map {
                [$0.id, $0.principalName, $0.vendor, $0.testNetworks ? "test" : "main", $0.registeredAt.iso8601]
            }
            print(Table(header: ["key", "holder", "vendor", "networks", "registered"], rows: rows).rendered)
        }
    }

    struct ProposeWallet: KinkoCommand {
        static let configuration = CommandConfiguration(
            commandName: "propose-wallet",
            abstract: "File a wallet's descriptor for its signers to approve; refused if one person or one vendor could sign alone (treasurer).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "The custody wallet (registered with chain bitcoin, asset BTC).") var wallet: String
        @Option(help: "wsh(sortedmulti(m,[fp/path]xpub…/<0;1>/*,…)), every key registered.") var descriptor: String
        @Option(help: "mainnet, testnet or regtest.") var network: String
        @Option(help: "hot, warm (cold, soon to move) or cold (long-term).") var tier: String

        func execute() async throws {
            guard let tier = BitcoinTier(rawValue: tier) else { throw KinkoError(.invalidInput, "hot, warm or cold; got \(tier)", field: "tier") }
            let network = try BitcoinFiles.network(network)
            let session = try await Session.open(database, token)
            let (record, request) = try await session.exchange().bitcoin.proposeWallet(wallet, descriptor: descriptor, network: network, tier: tier, by: session.caller)
            print("wallet \(wallet): \(record.threshold) of \(record.keys.count), \(tier.rawValue), \(network.rawValue) — approval request \(request.id) for \(request.policy.approvalsRequired) signers")
            for key in record.keys { print("  \(key.key)\t\(key.principalName)\t\(key.vendor)") }
            print("then: kinko custody bitcoin adopt-wallet --wallet \(wallet)")
        }
    }

    struct AdoptWallet: KinkoCommand {
        static let configuration = CommandConfiguration(commandName: "adopt-wallet", abstract: "Put an approved descriptor in force (treasurer).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option var wallet: String

        func execute() async throws {
            let session = try await Session.open(database, token)
            let record = try await session.exchange().bitcoin.adoptWallet(wallet, by: session.caller)
            print("wallet \(wallet) adopted: \(record.descriptor)")
        }
    }

    struct Wallets: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Bitcoin wallets: descriptor, tier, quorum, holders and where their branches stand.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions

        func execute() async throws {
            let session = try await Session.open(database, token)
            for record in try await session.exchange().bitcoin.wallets(by: session.caller) {
                print("\(record.wallet)\t\(record.status.rawValue)\t\(record.tier.rawValue)\t\(record.threshold) of \(record.keys.count)\t\(record.network.rawValue)"
                      + "\tnext receive \(record.nextReceive), next change \(record.nextChange)")
                print("  \(record.descriptor)")
                for key in record.keys { print("  \(key.key)\t\(key.principalName)\t\(key.vendor)") }
            }
        }
    }

    struct DepositAddress: KinkoCommand {
        static let configuration = CommandConfiguration(
            commandName: "deposit-address", abstract: "A customer's deposit address (the one handed out before, or --fresh for a new one).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option var wallet: String
        @Option var customer: String
        @Flag(help: "Hand out a new address even if the customer has one.") var fresh = false

        func execute() async throws {
            let session = try await Session.open(database, token)
            let record = try await session.exchange().bitcoin.depositAddress(wallet: wallet, customer: customer, fresh: fresh, by: session.caller)
            print("\(record.address)\t\(wallet) /0/\(record.index)\tcustomer \(customer)")
        }
    }

    struct ImportUTXOs: KinkoCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-utxos",
            abstract: "Take a wallet's whole unspent set (NDJSON: txid, vout, value_sats, address, confirmations, block_height) as observed now.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option var wallet: String
        @Option(help: "The NDJSON file (- for standard input).") var file: String

        func execute() async throws {
            let utxos = try ObservedUTXO.parse(ndjson: try readInput(file))
            let session = try await Session.open(database, token)
            let result = try await session.exchange().bitcoin.importUTXOs(wallet: wallet, utxos, by: session.caller)
            print("\(wallet): \(result.added) new, \(result.updated) updated, \(result.spentByMovements) spent by movements; confirmed \(SigningReview.bitcoin(result.confirmedSats)) BTC"
                  + (result.unconfirmedSats > 0 ? ", unconfirmed \(SigningReview.bitcoin(result.unconfirmedSats)) BTC" : ""))
            if !result.foreign.isEmpty { print("not at an address Kinko handed out for \(wallet) (not tracked): " + result.foreign.map { "\($0.txid):\($0.vout)" }.joined(separator: ", ")) }
            for movement in result.completedMovements { print("movement \(movement): its transaction is confirmed; completed and posted") }
            if !result.spentOutside.isEmpty {
                print("ALARM: spent outside Kinko (no movement spent them): " + result.spentOutside.joined(separator: ", "))
                throw ExitCode(4)
            }
        }
    }

    struct SyncNode: KinkoCommand {
        static let configuration = CommandConfiguration(
            commandName: "sync-node",
            abstract: "Ask a Bitcoin Core node (scantxoutset) for the wallet's unspent outputs and import them as its whole set.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option var wallet: String
        @Option(help: "The node's JSON-RPC URL, e.g. http://user:password@127.0.0.1:18443 (or give --rpc-cookie).") var rpcURL: String
        @Option(help: "The node's .cookie file (user:password), read for Basic authentication.") var rpcCookie: String?
        @Option(help: "Seconds to wait for the scan (1–3600).") var timeout = 300

        func execute() async throws {
            guard (1...3_600).contains(timeout) else { throw KinkoError(.invalidInput, "1–3600 seconds", field: "timeout") }
            let session = try await Session.open(database, token)
            let bitcoin = try await session.exchange().bitcoin
            let body = try await bitcoin.nodeScanRequest(wallet: wallet, by: session.caller)
            let answer = try await BitcoinNode.call(url: rpcURL, cookie: rpcCookie, body: body, timeout: timeout)
            let result = try await bitcoin.importNodeScan(wallet: wallet, answer: answer, by: session.caller)
            print("\(wallet): \(result.added) new, \(result.updated) updated, \(result.spentByMovements) spent by movements; confirmed \(SigningReview.bitcoin(result.confirmedSats)) BTC (from the node)")
            for movement in result.completedMovements { print("movement \(movement): its transaction is confirmed; completed and posted") }
            if !result.spentOutside.isEmpty {
                print("ALARM: spent outside Kinko (no movement spent them): " + result.spentOutside.joined(separator: ", "))
                throw ExitCode(4)
            }
        }
    }

    struct UTXOList: KinkoCommand {
        static let configuration = CommandConfiguration(commandName: "utxos", abstract: "A wallet's tracked outputs.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option var wallet: String
        @Option(help: "unspent, reserved or spent.") var status = "unspent"
        @Flag(help: "Print NDJSON in the form import-utxos reads (txid, vout, value_sats, address, confirmations, block_height).") var ndjson = false

        func execute() async throws {
            guard let status = TrackedUTXO.Status(rawValue: status) else { throw KinkoError(.invalidInput, "unspent, reserved or spent; got \(status)", field: "status") }
            let session = try await Session.open(database, token)
            let outputs = try await session.exchange().bitcoin.utxos(wallet: wallet, status: status, by: session.caller)
            if ndjson {
                for output in outputs {
                    print(#"{"txid":"\#(output.txid)","vout":\#(output.vout),"value_sats":\#(output.valueSats),"address":"\#(output.address)","confirmations":\#(output.confirmations),"block_height":\#(output.blockHeight.map(String.init) ?? "null")}"#)
                }
                return
            }
            let rows = outputs.map {
                ["\($0.txid):\($0.vout)", SigningReview.bitcoin($0.valueSats), $0.address, "/\($0.branch)/\($0.index)", String($0.confirmations),
                 $0.movement.map { "movement \($0)" } ?? "", $0.spentBy ?? ""]
            }
            print(Table(header: ["output", "BTC", "address", "at", "conf", "reserved for", "spent by"], rows: rows).rendered)
        }
    }

    struct Agreement: KinkoCommand {
        static let configuration = CommandConfiguration(
            abstract: "Per wallet: confirmed unspent outputs against the ledger and the latest observation (exit 4 when they differ).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option var wallet: String?

        func execute() async throws {
            let session = try await Session.open(database, token)
            let report = try await session.exchange().bitcoin.agreement(wallet: wallet, by: session.caller)
            for line in report {
                print("\(line.wallet)\toutputs \(SigningReview.bitcoin(line.utxoSats))\tledger \(line.ledgerSats.map { Amount(units: $0).decimalString(scale: 8) } ?? "none")"
                      + "\t\(line.agrees ? "agrees" : "DIFFERS")" + (line.unconfirmedSats > 0 ? "\t(+\(SigningReview.bitcoin(line.unconfirmedSats)) unconfirmed)" : ""))
                for difference in line.differences { print("  \(difference)") }
            }
            if !report.allSatisfy(\.agrees) { throw ExitCode(4) }
        }
    }

    struct BuildPSBT: KinkoCommand {
        static let configuration = CommandConfiguration(
            commandName: "build-psbt", abstract: "Make the PSBT of a released movement and write it for the signers (treasurer).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option var movement: UInt64
        @Option(help: "sat/vB (default: the settings').") var feeRate: UInt64?
        @Option(help: "Where to write the PSBT (base64).") var out: String

        func execute() async throws {
            let session = try await Session.open(database, token)
            let record = try await session.exchange().bitcoin.buildPSBT(movement: movement, feeRate: feeRate, by: session.caller)
            try CustodyBitcoinCommand.write(record, to: out)
            print("movement \(movement): PSBT \(record.txid) — \(record.inputs.count) input(s), fee \(record.feeSats) sat; pays \(record.destination)"
                  + (record.change.map { ", change \($0)" } ?? "") + "; wrote \(out)")
        }
    }

    struct GetPSBT: KinkoCommand {
        static let configuration = CommandConfiguration(commandName: "get-psbt", abstract: "Fetch a movement's PSBT as it stands (to sign, or to broadcast once final).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option var movement: UInt64
        @Option(help: "Where to write the PSBT (base64).") var out: String

        func execute() async throws {
            let session = try await Session.open(database, token)
            let record = try await session.exchange().bitcoin.psbt(movement: movement, by: session.caller)
            try CustodyBitcoinCommand.write(record, to: out)
            print("movement \(movement): \(record.status.rawValue), signed by \(record.signedBy.isEmpty ? "nobody yet" : record.signedBy.joined(separator: ", ")); wrote \(out)")
            if let hex = record.transactionHex { print("raw transaction (broadcast it): \(hex)") }
        }
    }

    struct SubmitPSBT: KinkoCommand {
        static let configuration = CommandConfiguration(
            commandName: "submit-psbt", abstract: "Hand back the PSBT you signed with `kinko signer sign`; at quorum Kinko finalizes it (signers).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option var movement: UInt64
        @Argument(help: "The signed PSBT file (base64 or binary).") var file: String

        func execute() async throws {
            let psbt = try PSBT(parsingFile: try BitcoinFiles.read(file).0)
            let session = try await Session.open(database, token)
            let record = try await session.exchange().bitcoin.submitSignatures(movement: movement, psbt: psbt, by: session.caller)
            print("movement \(movement): signatures of \(record.submissions.last?.keys.joined(separator: ", ") ?? "") taken; \(record.status.rawValue)")
            if let hex = record.transactionHex {
                print("txid \(record.txid)")
                print("raw transaction (broadcast it): \(hex)")
            }
        }
    }

    struct Observe: KinkoCommand {
        static let configuration = CommandConfiguration(
            abstract: "Report a movement's transaction seen on chain; with enough confirmations the movement completes with its real fee.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option var movement: UInt64
        @Option var txid: String
        @Option var confirmations: Int

        func execute() async throws {
            let session = try await Session.open(database, token)
            let done = try await session.exchange().bitcoin.observe(movement: movement, txid: txid, confirmations: confirmations, by: session.caller)
            print("movement \(movement): \(done.status.rawValue), txid \(done.transactionHash ?? txid), fee \(done.networkFee.map { $0.decimalString(scale: 8) } ?? "?") BTC")
        }
    }

    static func write(_ record: MovementPSBT, to path: String) throws {
        do {
            try Data((record.psbt + "\n").utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw KinkoError(.invalidInput, "cannot write \(path)", field: "out")
        }
    }
}

/// One JSON-RPC call to a Bitcoin Core node over HTTP (Basic authentication from the URL or
/// the node's cookie file). Credentials are never printed or logged.
enum BitcoinNode {
    static let answerBytesMax = 256 << 20

    static func call(url text: String, cookie: String?, body: [UInt8], timeout: Int) async throws -> [UInt8] {
        guard var components = URLComponents(string: text), ["http", "https"].contains(components.scheme ?? ""), components.host != nil else {
            throw KinkoError(.invalidInput, "an http(s) URL of the node's RPC port", field: "rpc_url")
        }
        var credentials: String?
        if let user = components.user { credentials = "\(user):\(components.password ?? "")" }
        components.user = nil
        components.password = nil
        if let cookie {
            guard let text = try? String(contentsOfFile: cookie, encoding: .utf8) else { throw KinkoError(.notFound, "cannot read \(cookie)", field: "rpc_cookie") }
            credentials = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let target = components.url else { throw KinkoError(.invalidInput, "not a URL", field: "rpc_url") }
        var request = URLRequest(url: target, timeoutInterval: TimeInterval(timeout))
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let credentials { request.setValue("Basic " + Data(credentials.utf8).base64EncodedString(), forHTTPHeaderField: "Authorization") }
        let data: Data, response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw KinkoError(.storageUnavailable, "the node at \(target.host ?? "?"):\(target.port.map(String.init) ?? "") did not answer: \(error.localizedDescription)", field: "rpc_url")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status != 401, status != 403 else { throw KinkoError(.invalidInput, "the node refused the credentials (HTTP \(status))", field: "rpc_url") }
        guard data.count <= answerBytesMax else { throw KinkoError(.limitExceeded, "the node's answer is over \(answerBytesMax) bytes", field: "rpc_url") }
        // Bitcoin Core answers RPC errors with 500 and a JSON error body, which NodeScan reads.
        guard status == 200 || status == 500 else { throw KinkoError(.invalidInput, "the node answered HTTP \(status)", field: "rpc_url") }
        return [UInt8](data)
    }
}

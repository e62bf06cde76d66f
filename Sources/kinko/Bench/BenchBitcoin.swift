import ArgumentParser
import Foundation
import KinkoBitcoin
import KinkoCore

/// `kinko bench bitcoin`: deposit addresses of a 2-of-3 wallet by the million, and a large
/// movement's PSBT built, signed twice, verified and finalized.
struct BenchBitcoin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bitcoin",
                                                    abstract: "Derive deposit addresses of a 2-of-3 wallet; build, sign twice, verify and finalize a large PSBT.")

    @Option(help: "Addresses to derive (1,000–10,000,000).") var addresses: Int = 1_000_000
    @Option(help: "Inputs of the PSBT (1–\(WalletPSBTBuilder.inputsMax)).") var inputs: Int = 500
    @Option(help: "Threads deriving addresses (1–64).") var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard (1_000...10_000_000).contains(addresses) else { throw ValidationError("--addresses must be 1000–10000000") }
        guard (1...WalletPSBTBuilder.inputsMax).contains(inputs) else { throw ValidationError("--inputs must be 1–\(WalletPSBTBuilder.inputsMax)") }
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be 1–64") }
    }

    func run() async throws {
        let masters = try (1...3).map { try ExtendedKey.master(seed: Array(repeating: UInt8($0), count: 32), network: .regtest) }
        let keys = try masters.map { try SignerKeyFile.keyExpression(master: $0, path: DerivationPath(parsing: "m/48'/1'/0'/2'")) + "/<0;1>/*" }
        let descriptor = try Descriptor(parsing: "wsh(sortedmulti(2,\(keys.joined(separator: ","))))")

        // Baseline in the same run: the plain path (each address derived from the xpub).
        let baselineCount = 2_000
        let baselineStart = ContinuousClock.now
        for index in 0..<UInt32(baselineCount) { _ = try descriptor.address(branch: 0, index: index, network: .regtest) }
        let baselineSeconds = (ContinuousClock.now - baselineStart).seconds

        let start = ContinuousClock.now
        let chunk = (addresses + threads - 1) / threads
        let derived = try await withThrowingTaskGroup(of: (Int, [String]).self) { group in
            for thread in 0..<threads {
                let lower = UInt32(min(addresses, thread * chunk)), upper = UInt32(min(addresses, (thread + 1) * chunk))
                guard lower < upper else { continue }
                group.addTask { (thread, try descriptor.addresses(branch: 0, range: lower..<upper, network: .regtest)) }
            }
            return try await group.reduce(into: [Int: [String]]()) { $0[$1.0] = $1.1 }.sorted { $0.key < $1.key }.flatMap(\.value)
        }
        let addressSeconds = (ContinuousClock.now - start).seconds
        let checksum = derived.reduce(0) { $0 &+ $1.utf8.count }
        // Spot checks: 1,000 addresses at random indices, each derived again by libsecp256k1 alone.
        var generator = SplitMix64(seed: UInt64(addresses))
        for _ in 0..<1_000 {
            let probe = Int.random(in: 0..<addresses, using: &generator)
            guard derived[probe] == (try descriptor.address(branch: 0, index: UInt32(probe), network: .regtest)) else {
                throw KinkoError(.internalError, "the batch derivation disagrees with libsecp256k1 at \(probe)")
            }
        }

        let builder = try WalletPSBTBuilder(descriptor: descriptor, network: .regtest)
        let coins = (0..<inputs).map { n in
            WalletPSBTBuilder.Coin(txid: Hex.encode(BitcoinHash.sha256(Array("coin \(n)".utf8))), vout: UInt32(n % 4), value: 100_000 + UInt64(n), branch: 0, index: UInt32(n))
        }
        let total = coins.reduce(UInt64(0)) { $0 + $1.value }
        // Pays nearly everything, so every coin is an input (a 2-of-3 input costs about 104 vB).
        let payment = BitcoinTransaction.Output(value: total - UInt64(inputs) * 250 - 20_000, scriptPubKey: try descriptor.scriptPubKey(branch: 0, index: 999_999))
        let psbtStart = ContinuousClock.now
        let psbt = try builder.build(coins: coins, payments: [payment], feeRate: 2, changeIndex: 0)
        let built = ContinuousClock.now
        var first = psbt, second = psbt
        try first.sign(with: masters[0])
        try second.sign(with: masters[2])
        let signed = ContinuousClock.now
        var combined = try PSBT.combine([first, second])
        try combined.finalize()  // verifies every signature first
        let transaction = try combined.extract()
        let finished = ContinuousClock.now
        let psbtSeconds = (finished - psbtStart).seconds

        let report: [String: Any] = [
            "addresses": addresses, "threads": threads, "address_seconds": addressSeconds, "addresses_per_second": Double(addresses) / addressSeconds,
            "baseline_addresses_per_second": Double(baselineCount) / baselineSeconds, "checksum": checksum,
            "psbt_inputs": psbt.inputs.count, "psbt_seconds": psbtSeconds, "build_seconds": (built - psbtStart).seconds, "sign_seconds": (signed - built).seconds,
            "verify_finalize_seconds": (finished - signed).seconds, "transaction_bytes": transaction.serialized().count,
        ]
        if json {
            print(String(decoding: try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print(String(format: "addresses: %d in %.2f s (%.0f/s, %d threads); baseline (plain derivation, 1 thread) %.0f/s",
                         addresses, addressSeconds, Double(addresses) / addressSeconds, threads, Double(baselineCount) / baselineSeconds))
            print(String(format: "PSBT of %d inputs: built %.3f s, signed twice %.3f s, verified, finalized and extracted %.3f s; total %.3f s",
                         psbt.inputs.count, (built - psbtStart).seconds, (signed - built).seconds, (finished - signed).seconds, psbtSeconds))
        }
    }
}

import Foundation
import KinkoBitcoin
import KinkoCore
import Testing

/// Kinko's Bitcoin code against an independent implementation: embit (PyPI), installed by
/// Tests/interop/setup.sh. `.ci/run` sets KINKO_INTEROP_PYTHON and KINKO_INTEROP_REQUIRED=1;
/// without them the test looks for the default venv and skips (saying so) when there is none.
enum Interop {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var python: String? {
        let environment = ProcessInfo.processInfo.environment
        if let python = environment["KINKO_INTEROP_PYTHON"], !python.isEmpty { return python }
        let venv = repository.appendingPathComponent(".build-interop/venv/bin/python").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : nil
    }

    static var required: Bool { ProcessInfo.processInfo.environment["KINKO_INTEROP_REQUIRED"] == "1" }
    static var available: Bool { python != nil || required }

    /// Runs `Tests/interop/<script>` with `input` on stdin; its stdout.
    static func run(_ script: String, input: Data) throws -> Data {
        let python = try #require(python, "KINKO_INTEROP_REQUIRED=1 but no interop venv: run Tests/interop/setup.sh")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [repository.appendingPathComponent("Tests/interop/\(script)").path]
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "\(script) failed: \(String(decoding: errors, as: UTF8.self))")
        return output
    }
}

@Suite("Bitcoin against embit")
struct BitcoinInteropTests {
    // Goal: for 1,000 random indices over random 2-of-3 and 3-of-5 wallets (random keys, all
    // three networks, receive and change branches), Kinko's addresses equal embit's; and 50
    // more from the batch derivation deposit addresses by the thousand go through.
    @Test(.enabled(if: Interop.available, "no interop venv (Tests/interop/setup.sh); KINKO_INTEROP_REQUIRED=1 makes this fail instead"))
    func addressesAgreeWithEmbit() throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        var random = SplitMix64(seed: seed)
        struct Request: Encodable {
            var descriptor: String, network: String, branch: Int, index: UInt32
        }
        var requests: [Request] = []
        var expected: [String] = []
        for wallet in 0..<20 {
            let (threshold, count) = wallet % 2 == 0 ? (2, 3) : (3, 5)
            let network = BitcoinNetwork.allCases[Int(random.next() % 3)]
            let keys = try (0..<count).map { _ in
                let master = try ExtendedKey.master(seed: (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }, network: network)
                let account = UInt32(random.next() % 10)
                return try SignerKeyFile.keyExpression(master: master, path: DerivationPath(parsing: "m/48'/\(network.coinType)'/\(account)'/2'")) + "/<0;1>/*"
            }
            let descriptor = try Descriptor(parsing: "wsh(sortedmulti(\(threshold),\(keys.joined(separator: ","))))")
            for _ in 0..<50 {
                let branch = Int(random.next() % 2)
                // Small indices (a new wallet's) and the whole range up to 2^31 − 1.
                let index = random.next() % 2 == 0 ? UInt32(random.next() % 100) : UInt32(random.next() % UInt64(ChildNumber.hardenedBit))
                requests.append(Request(descriptor: descriptor.withChecksum, network: network.rawValue, branch: branch, index: index))
                expected.append(try descriptor.address(branch: branch, index: index, network: network))
            }
            // The batch path (deposit addresses by the thousand): 25 of 1,000 consecutive ones.
            if wallet < 2 {
                let start = UInt32(random.next() % UInt64(ChildNumber.hardenedBit - 1_000))
                let batch = try descriptor.addresses(branch: 0, range: start..<(start + 1_000), network: network)
                for _ in 0..<25 {
                    let offset = Int(random.next() % 1_000)
                    requests.append(Request(descriptor: descriptor.withChecksum, network: network.rawValue, branch: 0, index: start + UInt32(offset)))
                    expected.append(batch[offset])
                }
            }
        }
        #expect(requests.count == 1_050)
        let output = try Interop.run("bitcoin_addresses.py", input: try JSONEncoder().encode(requests))
        let theirs = try JSONDecoder().decode([String].self, from: output)
        #expect(theirs.count == expected.count)
        let differing = zip(theirs, expected).enumerated().filter { $0.element.0 != $0.element.1 }
        #expect(differing.isEmpty, "seed \(seed): \(differing.count) differ, first at \(differing.first.map { requests[$0.offset] }.map { "\($0)" } ?? "")")
    }
}

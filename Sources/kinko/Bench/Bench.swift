import ArgumentParser
import Foundation
import KinkoCore
import KinkoGovernance
import KinkoLedger
import KinkoSQLite

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure Kinko (build with -c release). Figures go to docs/BENCHMARKS.md.",
        subcommands: [BenchLedger.self, CrashChild.self]
    )
}

struct BenchLedger: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Durable ledger ingest against a one-transaction-per-transfer SQLite baseline in the same run."
    )

    enum Workload: String, ExpressibleByArgument, CaseIterable {
        case all, tigerbeetle, exchange
    }

    @Option(help: "tigerbeetle, exchange or all.")
    var workload: Workload = .all
    @Option(help: "Transfers per workload (TigerBeetle's benchmark: 1,000,000; also try 10,000,000).")
    var transfers: Int = 1_000_000
    @Option(help: "Transfers per batch (at most 8,190).")
    var batchSize: Int = 8_189
    @Option(help: "Transfers the slow baseline runs (its rate is compared, not its total).")
    var baselineTransfers: Int = 20_000
    @Option(help: "Where the benchmark databases go (default: a new temporary directory, removed afterwards).")
    var directory: String?
    @Option(help: "Seed of the workload generator.")
    var seed: UInt64 = 42
    @Flag(help: "Print one JSON object per workload.")
    var json = false
    @Flag(help: "Also print the slowest batches.")
    var verbose = false

    static let transfersMax = 100_000_000

    func validate() throws {
        guard (1...8_190).contains(batchSize) else { throw ValidationError("--batch-size must be 1–8190; got \(batchSize)") }
        guard (1...Self.transfersMax).contains(transfers) else {
            throw ValidationError("--transfers must be 1–\(Self.transfersMax); got \(transfers)")
        }
        guard (0...1_000_000).contains(baselineTransfers) else {
            throw ValidationError("--baseline-transfers must be 0–1000000; got \(baselineTransfers)")
        }
    }

    func run() async throws {
        #if DEBUG
        FileHandle.standardError.write(Data("warning: this is a debug build; benchmark with `swift run -c release kinko bench ledger`\n".utf8))
        #endif
        let root = try directory.map { URL(fileURLWithPath: $0) } ?? makeTemporaryDirectory()
        defer { if directory == nil { try? FileManager.default.removeItem(at: root) } }
        let workloads: [Workload] = workload == .all ? [.tigerbeetle, .exchange] : [workload]
        for workload in workloads {
            let spec = workload == .tigerbeetle
                ? LedgerWorkload.tigerBeetle(transfers: transfers, batchSize: batchSize, seed: seed)
                : LedgerWorkload.exchange(transfers: transfers, batchSize: batchSize, seed: seed)
            let result = try await spec.run(in: root, baselineTransfers: baselineTransfers)
            print(json ? result.json : result.text)
            if verbose { print(result.slowest(5)) }
        }
    }

    private func makeTemporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kinko-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

struct BenchResult {
    var workload: String
    var accounts: Int
    var transfers: Int
    var failed: Int
    var seconds: Double
    var batchLatenciesMilliseconds: [Double]
    var baselineTransfers: Int
    var baselineSeconds: Double
    var batchSize: Int
    var audited: Bool

    var rate: Double { Double(transfers) / seconds }
    var baselineRate: Double { baselineTransfers == 0 ? 0 : Double(baselineTransfers) / baselineSeconds }
    var ratio: Double { baselineRate == 0 ? 0 : rate / baselineRate }

    func percentile(_ p: Double) -> Double {
        let sorted = batchLatenciesMilliseconds.sorted()
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }

    func slowest(_ count: Int) -> String {
        let ranked = batchLatenciesMilliseconds.enumerated().sorted { $0.element > $1.element }.prefix(count)
        return "  slowest batches: " + ranked.map { "#\($0.offset) \(format($0.element, 1)) ms" }.joined(separator: ", ")
    }

    var text: String {
        """
        \(workload)\(audited ? "" : " (audit log off)"): \(transfers) transfers (\(failed) refused) over \(accounts) accounts in batches of \(batchSize)
          kinko     \(format(rate, 0)) transfers/s  (\(format(seconds, 2)) s; batch p50 \(format(percentile(50), 2)) ms, p99 \(format(percentile(99), 2)) ms)
          baseline  \(format(baselineRate, 0)) transfers/s  (\(baselineTransfers) transfers, one SQL transaction each)
          ratio     \(format(ratio, 1))×
        """
    }

    var json: String {
        """
        {"workload":"\(workload)","accounts":\(accounts),"transfers":\(transfers),"failed":\(failed),"batch_size":\(batchSize),\
        "seconds":\(format(seconds, 3)),"transfers_per_second":\(format(rate, 0)),\
        "baseline_transfers":\(baselineTransfers),"baseline_transfers_per_second":\(format(baselineRate, 1)),\
        "ratio":\(format(ratio, 1)),"audited":\(audited),"batch_p50_ms":\(format(percentile(50), 3)),"batch_p99_ms":\(format(percentile(99), 3))}
        """
    }

    private func format(_ value: Double, _ places: Int) -> String { String(format: "%.\(places)f", value) }
}

import ArgumentParser
import AsyncHTTPClient
import Foundation
import Hummingbird
import KinkoCore
import KinkoGovernance
import KinkoLedger
import KinkoServer
import KinkoStores
import Logging
import NIOHTTP1
import ServiceLifecycle


/// `kinko bench http`: transfer batches posted over HTTP on loopback by several clients at
/// once, through the whole server (auth, parsing, the ledger, the durable append, the audit
/// entry). Setup (not timed): a database with 10,000 accounts (the tigerbeetle workload in the
/// shape the transfer controls accept: linked two-leg trades), every batch encoded as NDJSON up
/// front. Baseline in the same run: the same number of transfers posted in process through
/// `LedgerService.createTransfers` (the controls, no HTTP), one batch at a time.
struct BenchHTTP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "http", abstract: "HTTP ingest of transfer batches by concurrent clients.")

    @Option(help: "Transfers (1,000–10,000,000).") var transfers: Int = 400_000
    @Option(help: "Transfers per request (1–8,190).") var batch: Int = 1_000
    @Option(help: "Concurrent clients (1–64).") var clients: Int = 4
    @Option(help: "Loopback port for the server.") var port: Int = 18_181
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard (1_000...10_000_000).contains(transfers) else { throw ValidationError("--transfers must be 1000–10000000") }
        guard (1...8_190).contains(batch) else { throw ValidationError("--batch must be 1–8190") }
        guard (1...64).contains(clients) else { throw ValidationError("--clients must be 1–64") }
    }

    func run() async throws {
        let directory = try benchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("http.sqlite").path
        let session = try await ToolSession.open(path: path)
        let token = try Bootstrap.readTokens(from: path + ".tool-tokens.json")[.operator] ?? ""
        let stores = KinkoStores(sqlite: session.database)
        let services = try await Services(stores: stores.exchange)
        try await services.ledger.registerAssets(Asset.standard, by: session.admin)
        // The TigerBeetle workload in the shape the transfer controls accept (linked two-leg
        // trades between customers who cannot overdraw), through the controls both ways.
        var workload = LedgerWorkload.tigerBeetleControlled(transfers: transfers * 2, batchSize: batch, seed: 7)
        for chunk in workload.accounts.chunked(8_190) { _ = try await services.ledgerService.createAccounts(chunk, by: session.operator) }
        for chunk in workload.funding.chunked(8_190) { _ = try await services.ledger.createTransfers(chunk, by: session.operator) }
        let all = workload.transfers
        workload.transfers = Array(all.prefix(transfers - transfers % 2))
        let overHTTP = workload.batches()
        workload.transfers = Array(all.dropFirst(overHTTP.reduce(0) { $0 + $1.count }))
        let inProcess = workload.batches()
        let assets = Dictionary(uniqueKeysWithValues: Asset.standard.map { ($0.ledger, $0) })
        let bodies = overHTTP.map { chunk in
            ByteBuffer(string: chunk.map { t in
                let asset = assets[t.ledger]
                let flags = t.flags.contains(.linked) ? #","flags":["linked"]"# : ""
                return #"{"id":"\#(t.id.rawValue)","debit_account_id":"\#(t.debitAccountID.rawValue)","credit_account_id":"\#(t.creditAccountID.rawValue)","amount":"\#(Amount(units: t.amount).decimalString(scale: asset?.scale ?? 0))","asset":"\#(asset?.code ?? "BTC")","code":"trade"\#(flags)}"#
            }.joined(separator: "\n"))
        }

        let server = try await BenchServer.start(services, port: port, alongside: stores.backgroundServices)
        let client = HTTPClient.shared
        let base = server.base

        let started = ContinuousClock.now
        let perClient = try await withThrowingTaskGroup(of: (latencies: [Double], failed: Int).self) { group in
            for clientIndex in 0..<clients {
                group.addTask {
                    var latencies: [Double] = []
                    var failed = 0
                    for index in stride(from: clientIndex, to: bodies.count, by: clients) {
                        var request = HTTPClientRequest(url: base + "/v1/ledger/transfers")
                        request.method = .POST
                        request.headers.add(name: "Authorization", value: "Bearer \(token)")
                        request.headers.add(name: "Content-Type", value: "application/x-ndjson")
                        request.body = .bytes(bodies[index])
                        let sent = ContinuousClock.now
                        let response = try await client.execute(request, timeout: .seconds(120))
                        let body = try await response.body.collect(upTo: 1 << 22)
                        latencies.append((ContinuousClock.now - sent).milliseconds)
                        guard response.status == .ok else {
                            throw ValidationError("HTTP \(response.status.code): \(String(buffer: body).prefix(300))")
                        }
                        if let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] { failed += object["failed"] as? Int ?? 0 }
                    }
                    return (latencies, failed)
                }
            }
            var all: [(latencies: [Double], failed: Int)] = []
            for try await result in group { all.append(result) }
            return all
        }
        let seconds = (ContinuousClock.now - started).milliseconds / 1000
        try await server.stop()

        let baselineStarted = ContinuousClock.now
        var baselineFailed = 0
        for chunk in inProcess { baselineFailed += try await services.ledgerService.createTransfers(chunk, by: session.operator).count { $0 != .ok } }
        let baselineSeconds = (ContinuousClock.now - baselineStarted).milliseconds / 1000

        let latencies = perClient.flatMap(\.latencies).sorted()
        let histogram = Latencies(milliseconds: latencies)
        func percentile(_ p: Double) -> Double { histogram.milliseconds(at: p) }
        let failed = perClient.reduce(0) { $0 + $1.failed }
        let perSecond = Double(transfers) / seconds
        let baselinePerSecond = Double(transfers) / baselineSeconds
        if json {
            let object: [String: Any] = [
                "transfers": transfers, "batch": batch, "clients": clients, "requests": bodies.count, "seconds": seconds, "transfers_per_second": Int(perSecond),
                "failed": failed, "request_p50_ms": percentile(0.5), "request_p99_ms": percentile(0.99), "request_max_ms": percentile(1),
                "in_process_transfers_per_second": Int(baselinePerSecond), "in_process_failed": baselineFailed, "ratio_to_in_process": perSecond / baselinePerSecond,
            ]
            print(jsonText(object))
        } else {
            print("kinko bench http — \(transfers) transfers in \(bodies.count) requests of \(batch) by \(clients) clients over loopback (NDJSON, durable, audited)")
            print(String(format: "HTTP: %.0f transfers/s (%.2f s), %d refused; request latency p50 %.1f ms, p99 %.1f ms, max %.1f ms",
                         perSecond, seconds, failed, percentile(0.5), percentile(0.99), percentile(1)))
            print(String(format: "in process (same transfers, no HTTP): %.0f transfers/s — HTTP reaches %.2f of it", baselinePerSecond, perSecond / baselinePerSecond))
        }
    }
}

/// The whole server on loopback for a benchmark (warnings only in its log), answering
/// `/healthz` when `start` returns.
struct BenchServer {
    let group: ServiceGroup
    let task: Task<Void, any Error>
    let base: String

    /// `alongside`: the database's background services (the WAL checkpointer), as `kinko serve` runs them.
    static func start(_ services: Services, port: Int, alongside: [any Service] = []) async throws -> BenchServer {
        var logger = Logger(label: "kinko.http")
        logger.logLevel = .warning
        let app = try KinkoHTTPServer(services: services, logger: logger).application(host: "127.0.0.1", port: port, alongside: alongside)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let server = BenchServer(group: group, task: Task { try await group.run() }, base: "http://127.0.0.1:\(port)")
        for _ in 0..<200 {
            if let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: server.base + "/healthz"), timeout: .seconds(2)), response.status == .ok {
                return server
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        try await server.stop()
        throw ValidationError("the server did not start on port \(port)")
    }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}

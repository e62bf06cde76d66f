import ArgumentParser
import AsyncHTTPClient
import Foundation
import KinkoCore
import KinkoGovernance
import KinkoPlaybook
import KinkoServer
import KinkoSQLite
import KinkoStores
import KinkoSurveillance
import NIOCore
import NIOHTTP1

/// `kinko bench surveil-http`: the matching engine's pre-trade check over HTTP on loopback, one
/// question per request on one kept-alive connection from a thread of its own (the way an
/// engine calls it; `LoopbackHTTPClient`), under the insider list a data set implies (proposed,
/// approved and adopted as in production). The same run measures, as baselines, /healthz on
/// that connection (the HTTP floor), the same questions through AsyncHTTPClient in this process,
/// and `Surveillance.preTrade` in process (no HTTP).
struct BenchSurveilHTTP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "surveil-http", abstract: "The pre-trade check over HTTP on loopback, under an adopted insider list.")

    @Option(help: "A directory in marketsim's layout (accounts, links, restricted, announcements).") var dataset: String = "../shared/datasets/market-dev"
    @Option(help: "Requests (100–1,000,000).") var requests: Int = 20_000
    @Option(help: "Loopback port for the server.") var port: Int = 18_183
    @Flag(help: "Print one JSON object.") var json = false

    static let warmUp = 20

    /// Runs blocking work on a thread of its own, off Swift's cooperative pool.
    static func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }

    func validate() throws {
        guard (100...1_000_000).contains(requests) else { throw ValidationError("--requests must be 100–1000000") }
    }

    func run() async throws {
        let data = try MarketDataset(directory: dataset, skipping: ["orders", "trades"])
        let directory = try benchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("surveil-http.sqlite").path
        _ = try AuditSigner.create(path: KinkoDatabase.defaultAuditKeyPath(for: path))
        let database = try KinkoDatabase(path: path)
        let stores = KinkoStores(sqlite: database)
        let services = try await Services(stores: stores.exchange)
        let staff = try await Staff.found(services.governance, admins: ["bench.admin", "bench.second-admin"])
        let engine = try await staff.hire("bench.matching-engine", kind: .client, roles: [.operator], key: nil)
        let officer = try await staff.hire("bench.compliance", roles: [.compliance], key: nil)
        let reviewer = try await staff.hire("bench.reviewer", roles: [.compliance])
        let list = InsiderList.derive(from: data, version: "bench-insiders")
        let (_, request) = try await services.surveillance.insiderLists.propose(yaml: list.yaml, by: officer.caller)
        _ = try await reviewer.approve(request.id, in: services.governance)
        _ = try await services.surveillance.insiderLists.adopt(version: list.version, by: officer.caller)
        try database.checkpointNow()

        // Questions about the accounts on the list half the time (most of those refused), the rest about anyone.
        var random = SplitMix64(seed: 11)
        let listed = list.staff + list.restricted.map(\.account) + list.households.flatMap { $0 }
        let everyone = data.accounts.names, markets = data.markets.map(\.symbol)
        let times = list.blackouts.flatMap { [$0.from, $0.to] } + list.restricted.flatMap { [$0.from, $0.to] }
        let (low, high) = (times.min() ?? 0, times.max() ?? 1)
        let questions = (0..<(requests * 2)).map { index in
            let account = index % 2 == 0 && !listed.isEmpty ? listed[Int(random.next() % UInt64(listed.count))] : everyone[Int(random.next() % UInt64(everyone.count))]
            return PreTradeRequest(account: account, market: markets[Int(random.next() % UInt64(markets.count))], side: random.next() % 2 == 0 ? .buy : .sell,
                                   time: low + Int64(random.next() % UInt64(max(high - low, 1))))
        }

        let server = try await BenchServer.start(services, port: port, alongside: stores.backgroundServices)
        let authorization = "Bearer \(engine.token)"
        @Sendable func body(_ question: PreTradeRequest) -> String {
            #"{"account":"\#(question.account)","market":"\#(question.market)","side":"\#(question.side.rawValue)","time":\#(question.time)}"#
        }
        @Sendable func refusedAnswer(_ answer: [UInt8]) -> Bool {
            (try? JSONSerialization.jsonObject(with: Data(answer)) as? [String: Any])?["allowed"] as? Bool == false
        }
        // The matching engine's side: one kept-alive connection, a thread of its own.
        let port = port
        let asked = Array(questions.prefix(requests))
        let (latencies, refused, seconds, floor) = try await Self.onThread { () throws -> ([UInt64], Int, Double, [UInt64]) in
            let client = try LoopbackHTTPClient(port: port)
            var latencies: [UInt64] = [], floor: [UInt64] = []
            latencies.reserveCapacity(asked.count)
            var refused = 0
            let started = ContinuousClock.now
            for question in asked {
                let payload = Array(body(question).utf8)
                let sent = DispatchTime.now().uptimeNanoseconds
                let (status, answer) = try client.send(method: "POST", path: "/v1/surveillance/pretrade",
                                                       headers: [("Authorization", authorization), ("Content-Type", "application/json")], body: payload)
                latencies.append(DispatchTime.now().uptimeNanoseconds - sent)
                guard status == 200 else { throw ValidationError("HTTP \(status): \(String(decoding: answer.prefix(300), as: UTF8.self))") }
                if refusedAnswer(answer) { refused += 1 }
            }
            let seconds = (ContinuousClock.now - started).seconds
            // The floor: the same connection answering /healthz (no token, no body, no check).
            for _ in 0..<max(asked.count / 4, 100) {
                let sent = DispatchTime.now().uptimeNanoseconds
                _ = try client.send(method: "GET", path: "/healthz", headers: [], body: [])
                floor.append(DispatchTime.now().uptimeNanoseconds - sent)
            }
            return (latencies, refused, seconds, floor)
        }
        // The same questions through AsyncHTTPClient in this process (its event loops share the cores with the server's).
        var library: [UInt64] = []
        for question in asked.prefix(max(requests / 4, 100)) {
            var request = HTTPClientRequest(url: server.base + "/v1/surveillance/pretrade")
            request.method = .POST
            request.headers.add(name: "Authorization", value: authorization)
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body(question)))
            let sent = DispatchTime.now().uptimeNanoseconds
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
            _ = try await response.body.collect(upTo: 1 << 16)
            library.append(DispatchTime.now().uptimeNanoseconds - sent)
        }
        try await server.stop()

        var baseline: [UInt64] = []
        var refusedInProcess = 0
        for question in questions.dropFirst(requests) {
            let before = DispatchTime.now().uptimeNanoseconds
            let (decision, _) = try await services.surveillance.preTrade(question, by: engine.caller)
            baseline.append(DispatchTime.now().uptimeNanoseconds - before)
            if !decision.allowed { refusedInProcess += 1 }
        }
        let steady = Latencies(nanoseconds: Array(latencies.dropFirst(Self.warmUp)))
        let inProcess = Latencies(nanoseconds: Array(baseline.dropFirst(Self.warmUp)))
        let health = Latencies(nanoseconds: Array(floor.dropFirst(Self.warmUp)))
        let viaLibrary = Latencies(nanoseconds: Array(library.dropFirst(Self.warmUp)))
        func ms(_ histogram: Latencies, _ p: Double) -> Double { histogram.milliseconds(at: p) }
        if json {
            print(jsonText([
                "requests": requests, "seconds": seconds, "requests_per_second": Double(requests) / seconds, "refused": refused, "in_process_refused": refusedInProcess,
                "first_request_ms": Double(latencies[0]) / 1e6, "p50_ms": ms(steady, 0.5), "p99_ms": ms(steady, 0.99), "max_ms": ms(steady, 1),
                "in_process_p50_ms": ms(inProcess, 0.5), "in_process_p99_ms": ms(inProcess, 0.99),
                "healthz_p50_ms": ms(health, 0.5), "healthz_p99_ms": ms(health, 0.99),
                "async_http_client_p50_ms": ms(viaLibrary, 0.5), "async_http_client_p99_ms": ms(viaLibrary, 0.99),
                "insider_list": ["staff": list.staff.count, "restricted": list.restricted.count, "blackouts": list.blackouts.count, "households": list.households.count],
            ] as [String: Any]))
        } else {
            print("kinko bench surveil-http — \(requests) pre-trade checks over HTTP, one kept-alive connection from a thread of its own; insider list of \(list.staff.count) staff, \(list.restricted.count) restricted entries, \(list.blackouts.count) blackouts, \(list.households.count) households")
            print(String(format: "first request (loads the list): %.2f ms; then (after %d): p50 %.3f ms, p99 %.3f ms, max %.2f ms; %.0f requests/s; %d refused",
                         Double(latencies[0]) / 1e6, Self.warmUp, ms(steady, 0.5), ms(steady, 0.99), ms(steady, 1), Double(requests) / seconds, refused))
            print(String(format: "in process (Surveillance.preTrade, no HTTP): p50 %.4f ms, p99 %.4f ms; %d refused", ms(inProcess, 0.5), ms(inProcess, 0.99), refusedInProcess))
            print(String(format: "HTTP floor (GET /healthz on the same connection): p50 %.3f ms, p99 %.3f ms", ms(health, 0.5), ms(health, 0.99)))
            print(String(format: "through AsyncHTTPClient in this process (%d requests): p50 %.3f ms, p99 %.3f ms", library.count, ms(viaLibrary, 0.5), ms(viaLibrary, 0.99)))
        }
    }
}

import ArgumentParser
import AsyncHTTPClient
import Foundation
import KinkoCore
import KinkoGovernance
import KinkoMonitoring
import KinkoPlaybook
import KinkoServer
import KinkoSQLite
import KinkoStores
import NIOCore
import NIOHTTP1

/// `kinko bench monitor-http`: one monitoring event per request (`POST /v1/monitoring/events`),
/// one client after the other, through the whole server (auth, parsing, the watchlists, the
/// rule set, the durable batch with its verdict, alert and audit entry), with a sanctions list
/// of `--addresses` (1,000,000 by default) in force. Setup (not timed): the default rule set and
/// the list, each proposed by one compliance officer and approved by another; KYC profiles; the
/// events (the `bench monitor` stream, one withdrawal in ten to a listed address) encoded up
/// front; a checkpoint of the file, so that the timed part starts in a steady state. The first request (which loads the list into the server's cache) is reported apart.
/// Baseline in the same run: as many other events of the stream ingested in process through
/// `Monitoring.ingest`, one at a time (everything but HTTP).
struct BenchMonitorHTTP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "monitor-http",
                                                    abstract: "One monitoring event per HTTP request, with a large sanctions list in force.")

    @Option(help: "Requests, one event each (100–1,000,000).") var requests: Int = 5_000
    @Option(help: "Addresses on the sanctions list (1–1,000,000).") var addresses: Int = AddressList.addressesMax
    @Option(help: "Customers with KYC profiles (10–1,000,000).") var customers: Int = 10_000
    @Option(help: "Loopback port for the server.") var port: Int = 18_182
    @Flag(help: "Print one JSON object.") var json = false

    static let warmUp = 20

    func validate() throws {
        guard (100...1_000_000).contains(requests) else { throw ValidationError("--requests must be 100–1000000") }
        guard (1...AddressList.addressesMax).contains(addresses) else { throw ValidationError("--addresses must be 1–\(AddressList.addressesMax)") }
        guard (10...Monitoring.profilesPerImportMax).contains(customers) else { throw ValidationError("--customers must be 10–\(Monitoring.profilesPerImportMax)") }
    }

    static func listed(_ index: Int) -> String { "bc1qsanctioned\(index)" }

    /// The stream as NDJSON lines; every tenth withdrawal goes to a listed address.
    static func lines(_ events: [MonitoringEvent], addresses: Int) -> [String] {
        var withdrawals = 0
        return events.map { event in
            var object: [String: Any] = ["id": event.id, "kind": event.kind.rawValue, "customer": event.customer, "time": event.time.iso8601]
            if let asset = event.asset { object["asset"] = asset }
            if event.kind.movesValue { object["amount_jpy"] = event.amountJPY }
            if var address = event.address {
                if event.kind == .withdrawal {
                    withdrawals += 1
                    if withdrawals % 10 == 0 { address = listed(withdrawals % addresses) }
                }
                object["address"] = address
            }
            if let vasp = event.vasp { object["vasp"] = vasp }
            if let country = event.vaspCountry { object["vasp_country"] = country }
            if event.unhosted { object["unhosted"] = true }
            if let risk = event.counterpartyRisk { object["counterparty_risk"] = risk }
            for (field, party) in [("originator", event.originator), ("beneficiary", event.beneficiary)] {
                if let party { object[field] = ["name": party.name ?? "", "account": party.account ?? "", "geographic_address": party.geographicAddress ?? ""] }
            }
            if let counterparty = event.counterpartyCustomer { object["counterparty_customer"] = counterparty }
            if let ip = event.ip { object["ip"] = ip }
            if let country = event.country { object["country"] = country }
            return String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
        }
    }

    func run() async throws {
        let directory = try benchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("monitor-http.sqlite").path
        _ = try AuditSigner.create(path: KinkoDatabase.defaultAuditKeyPath(for: path))
        let database = try KinkoDatabase(path: path)
        let stores = KinkoStores(sqlite: database)
        let services = try await Services(stores: stores.exchange)
        let monitoring = services.monitoring
        let staff = try await Staff.found(services.governance, admins: ["bench.admin", "bench.second-admin"])
        let exchange = try await staff.hire("bench.exchange", kind: .client, roles: [.operator], key: nil)
        let officer = try await staff.hire("bench.compliance", roles: [.compliance], key: nil)
        let reviewer = try await staff.hire("bench.reviewer", roles: [.compliance])

        let (rules, rulesRequest) = try await monitoring.ruleSets.propose(yaml: MonitoringRules.defaultYAML, by: officer.caller)
        _ = try await reviewer.approve(rulesRequest.id, in: services.governance)
        _ = try await monitoring.ruleSets.adopt(version: rules.version, by: officer.caller)
        let csv = "customer,name,country,declared_income_jpy,declared_assets_jpy\n"
            + (0..<customers).map { "\($0),customer \($0),JP,6000000,10000000" }.joined(separator: "\n")
        _ = try await monitoring.importProfiles(csv: csv, by: officer.caller)
        let list = AddressList(kind: .sanctioned, asset: "BTC", version: "bench-\(addresses)", addresses: Set((0..<addresses).map(Self.listed)))
        let listRequest = try await monitoring.proposeList(list, by: officer.caller)
        _ = try await reviewer.approve(listRequest.id, in: services.governance)
        try await monitoring.activateList(list, request: listRequest.id, by: officer.caller)

        // The setup wrote the whole list: start the timed part from a checkpointed file.
        try database.checkpointNow()
        let lines = Self.lines(BenchMonitor.workload(events: requests * 2, customers: customers), addresses: addresses)
        let overHTTP = lines.prefix(requests).map { ByteBuffer(string: $0) }
        let inProcess = Array(lines.dropFirst(requests))

        let server = try await BenchServer.start(services, port: port, alongside: stores.backgroundServices)
        var latencies: [UInt64] = []
        latencies.reserveCapacity(requests)
        var outcomes: [String: Int] = [:]
        let started = ContinuousClock.now
        for body in overHTTP {
            var request = HTTPClientRequest(url: server.base + "/v1/monitoring/events")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(exchange.token)")
            request.headers.add(name: "Content-Type", value: "application/x-ndjson")
            request.body = .bytes(body)
            let sent = DispatchTime.now().uptimeNanoseconds
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
            let answer = try await response.body.collect(upTo: 1 << 20)
            latencies.append(DispatchTime.now().uptimeNanoseconds - sent)
            guard response.status == .ok else { throw ValidationError("HTTP \(response.status.code): \(String(buffer: answer).prefix(300))") }
            let results = (try? JSONSerialization.jsonObject(with: Data(answer.readableBytesView)) as? [String: Any])?["results"] as? [[String: Any]]
            outcomes[results?.first?["outcome"] as? String ?? results?.first?["status"] as? String ?? "?", default: 0] += 1
        }
        let seconds = (ContinuousClock.now - started).seconds
        try await server.stop()

        var baseline: [UInt64] = []
        baseline.reserveCapacity(inProcess.count)
        for line in inProcess {
            let before = DispatchTime.now().uptimeNanoseconds
            _ = try await monitoring.ingest(ndjson: line, by: exchange.caller)
            baseline.append(DispatchTime.now().uptimeNanoseconds - before)
        }

        let first = Double(latencies[0]) / 1e6
        let steady = Latencies(nanoseconds: Array(latencies.dropFirst(Self.warmUp)))
        let inProcessLatencies = Latencies(nanoseconds: Array(baseline.dropFirst(Self.warmUp)))
        func ms(_ histogram: Latencies, _ p: Double) -> Double { histogram.milliseconds(at: p) }
        if json {
            let object: [String: Any] = [
                "requests": requests, "addresses": addresses, "customers": customers, "seconds": seconds, "requests_per_second": Double(requests) / seconds,
                "first_request_ms": first, "p50_ms": ms(steady, 0.5), "p99_ms": ms(steady, 0.99), "max_ms": ms(steady, 1),
                "in_process_p50_ms": ms(inProcessLatencies, 0.5), "in_process_p99_ms": ms(inProcessLatencies, 0.99), "outcomes": outcomes,
            ]
            print(jsonText(object))
        } else {
            print("kinko bench monitor-http — \(requests) requests of one event each, one client, \(addresses) sanctioned addresses in force, \(customers) KYC profiles")
            print(String(format: "first request (loads the list): %.1f ms; then (after %d): p50 %.2f ms, p99 %.2f ms, max %.2f ms; %.0f requests/s",
                         first, Self.warmUp, ms(steady, 0.5), ms(steady, 0.99), ms(steady, 1), Double(requests) / seconds))
            print(String(format: "in process (Monitoring.ingest, one event, no HTTP): p50 %.2f ms, p99 %.2f ms", ms(inProcessLatencies, 0.5), ms(inProcessLatencies, 0.99)))
            print("outcomes: " + outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
    }
}

import ArgumentParser
import Foundation
import KinkoCore
import KinkoMonitoring

/// `kinko bench monitor`: a synthetic exchange stream through the full default rule set, in
/// process. Generated up front (not timed): customers with KYC profiles, a 10,000-address
/// sanctions list, and a stream of trades, deposits, withdrawals (hosted with travel-rule data,
/// or unhosted with a risk assessment), internal transfers and logins a few seconds apart.
/// Timed: every `evaluate`, each one separately for the latency percentiles. The baseline in the
/// same run is the least any stateful monitor does: one dictionary update per event.
struct BenchMonitor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "monitor", abstract: "AML monitoring throughput and per-event latency.")

    @Option(help: "Events (1,000–20,000,000).") var events: Int = 1_000_000
    @Option(help: "Customers (10–10,000,000).") var customers: Int = 100_000
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard (1_000...20_000_000).contains(events) else { throw ValidationError("--events must be 1000–20000000") }
        guard (10...10_000_000).contains(customers) else { throw ValidationError("--customers must be 10–10000000") }
    }

    static func workload(events count: Int, customers: Int) -> [MonitoringEvent] {
        var random = SplitMix64(seed: 42)
        var time: TimestampNanoseconds = 1_767_225_600_000_000_000
        let party = TravelRuleParty(name: "Sato Hanako", account: "acct", geographicAddress: "1-1 Chiyoda, Tokyo")
        var stream: [MonitoringEvent] = []
        stream.reserveCapacity(count)
        for index in 0..<count {
            time += 1 + random.next() % 20_000_000  // ~100 events a second on average
            // A few busy customers and a long tail, as on an exchange.
            let customer = random.next() % 10 < 3 ? random.next() % UInt64(min(customers, 1_000)) : random.next() % UInt64(customers)
            let id = "ev\(index)"
            let jpy = 1_000 + random.next() % 3_000_000
            switch random.next() % 20 {
            case 0..<8:
                stream.append(MonitoringEvent(id: id, kind: .trade, customer: customer, time: time, asset: "BTC", amountJPY: jpy))
            case 8..<11:
                stream.append(MonitoringEvent(id: id, kind: .deposit, customer: customer, time: time, asset: "BTC", amountJPY: jpy,
                                              address: random.next() % 2 == 0 ? "bc1qdeposit\(random.next() % 50_000)" : nil))
            case 11..<13:
                let hosted = random.next() % 2 == 0
                stream.append(MonitoringEvent(id: id, kind: .withdrawal, customer: customer, time: time, asset: "BTC", amountJPY: jpy,
                                              address: "bc1qout\(random.next() % 200_000)", vasp: hosted ? "bitflyer" : nil, vaspCountry: hosted ? "JP" : nil,
                                              unhosted: !hosted, originator: hosted ? party : nil, beneficiary: hosted ? party : nil,
                                              counterpartyRisk: hosted ? nil : "low"))
            case 13..<17:
                stream.append(MonitoringEvent(id: id, kind: .internalTransfer, customer: customer, time: time, asset: "JPY", amountJPY: jpy,
                                              counterpartyCustomer: random.next() % UInt64(customers)))
            default:
                stream.append(MonitoringEvent(id: id, kind: .login, customer: customer, time: time, ip: "10.\(random.next() % 256).\(random.next() % 256).\(random.next() % 256)",
                                              country: random.next() % 50 == 0 ? "US" : "JP"))
            }
        }
        return stream
    }

    func run() async throws {
        let rules = try MonitoringRules(yaml: MonitoringRules.defaultYAML)
        let profiles = (0..<UInt64(customers)).map {
            CustomerProfile(customer: $0, name: "customer \($0)", country: "JP", declaredIncomeJPY: 6_000_000, declaredAssetsJPY: 10_000_000)
        }
        let sanctioned = AddressList(kind: .sanctioned, asset: "BTC", version: "bench", addresses: Set((0..<10_000).map { "bc1qsanctioned\($0)" }))
        let stream = Self.workload(events: events, customers: customers)

        // Baseline: one dictionary update per event.
        var tally: [UInt64: (UInt64, UInt64)] = [:]
        let baselineStart = ContinuousClock.now
        for event in stream { tally[event.customer, default: (0, 0)].0 &+= 1; tally[event.customer, default: (0, 0)].1 &+= event.amountJPY }
        let baselineSeconds = (ContinuousClock.now - baselineStart).seconds
        let checksum = tally.values.reduce(0) { $0 &+ $1.0 }

        let rssBefore = Self.residentBytes()
        let engine = MonitoringEngine(rules: rules, watchlists: Watchlists([sanctioned]), profiles: profiles)
        var latencies = [UInt64](repeating: 0, count: stream.count)
        var outcomes: [Outcome: Int] = [:]
        var hits: [String: Int] = [:]
        let started = ContinuousClock.now
        for (index, event) in stream.enumerated() {
            let before = DispatchTime.now().uptimeNanoseconds
            let evaluation = try engine.evaluate(event)
            latencies[index] = DispatchTime.now().uptimeNanoseconds - before
            outcomes[evaluation.outcome, default: 0] += 1
            for hit in evaluation.hits { hits[hit.rule, default: 0] += 1 }
        }
        let seconds = (ContinuousClock.now - started).seconds
        let rssPerCustomer = (Self.residentBytes() - min(rssBefore, Self.residentBytes())) / max(engine.customersInMemory, 1)
        let histogram = Latencies(nanoseconds: latencies)
        func percentile(_ p: Double) -> Double { histogram.microseconds(at: p) }
        let perSecond = Double(stream.count) / seconds
        let baselinePerSecond = Double(stream.count) / max(baselineSeconds, 1e-9)
        let active = engine.customersInMemory
        let bytesPerCustomer = engine.approximateStateBytes / max(active, 1)
        let encodedPerCustomer = (0..<UInt64(min(customers, 10_000))).compactMap { engine.state(of: $0)?.encoded().count }.reduce(0, +)
            / max(1, (0..<UInt64(min(customers, 10_000))).count { engine.state(of: $0) != nil })
        if json {
            let object: [String: Any] = [
                "events": stream.count, "customers": customers, "active_customers": active, "seconds": seconds, "events_per_second": Int(perSecond),
                "baseline_events_per_second": Int(baselinePerSecond), "ratio_to_baseline": perSecond / baselinePerSecond,
                "p50_us": percentile(0.5), "p99_us": percentile(0.99), "p999_us": percentile(0.999), "max_us": percentile(1.0),
                "state_bytes_per_active_customer": bytesPerCustomer, "resident_bytes_per_active_customer": rssPerCustomer, "encoded_bytes_per_customer": encodedPerCustomer,
                "outcomes": Dictionary(uniqueKeysWithValues: outcomes.map { ($0.key.rawValue, $0.value) }), "hits": hits, "checksum": checksum,
            ]
            print(jsonText(object))
        } else {
            print("kinko bench monitor — \(stream.count) events, \(customers) customers (\(active) active), default rule set \(rules.version)")
            print(String(format: "full rule set: %.0f events/s (%.2f s); baseline (one dictionary update an event): %.0f events/s — %.3f of baseline",
                         perSecond, seconds, baselinePerSecond, perSecond / baselinePerSecond))
            print(String(format: "latency per event: p50 %.1f µs, p99 %.1f µs, p99.9 %.1f µs, max %.1f µs", percentile(0.5), percentile(0.99), percentile(0.999),
                         percentile(1.0)))
            print("state per active customer: ~\(bytesPerCustomer) bytes counted, \(rssPerCustomer) bytes of resident memory grown, \(encodedPerCustomer) bytes encoded (checksum \(checksum))")
            print("outcomes: " + outcomes.sorted { $0.key < $1.key }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", "))
            print("rules fired: " + hits.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
    }
}

extension BenchMonitor {
    /// Resident set size from /proc (Linux); 0 elsewhere.
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * 4_096 : 0
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

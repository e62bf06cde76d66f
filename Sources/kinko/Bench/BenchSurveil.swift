import ArgumentParser
import Foundation
import KinkoCore
import KinkoSurveillance

/// `kinko bench surveil`: a marketsim data set's order and trade stream through every detector,
/// in process, played `--copies` times back to back (each copy shifted by the set's span, so the
/// same accounts keep trading and memory must stay bounded by activity, not grow with time).
/// Timed: each event separately for the latency percentiles. The baseline in the same run is the
/// least any surveillance does: rebuilding the books. Then the pre-trade check: one million
/// questions about the set's accounts, markets and times, each timed.
struct BenchSurveil: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "surveil", abstract: "Market surveillance throughput, per-event latency and memory; the pre-trade check's latency.")

    @Option(help: "A directory in marketsim's layout.") var dataset: String = "../shared/datasets/market-dev"
    @Option(help: "Times the stream is played (1–20).") var copies: Int = 3
    @Option(help: "Pre-trade questions (1,000–10,000,000).") var checks: Int = 1_000_000
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard (1...20).contains(copies) else { throw ValidationError("--copies must be 1–20") }
        guard (1_000...10_000_000).contains(checks) else { throw ValidationError("--checks must be 1000–10000000") }
    }

    func run() async throws {
        let data = try MarketDataset(directory: dataset)
        let rules = try SurveillanceRules(yaml: SurveillanceRules.defaultYAML)
        guard let first = data.orders.first?.time, let last = data.orders.last?.time else { throw ValidationError("\(dataset) has no orders") }
        let span = last - first + 60_000

        // Baseline: the books alone.
        var books = Array(repeating: OrderBook(), count: data.markets.count)
        let baselineStart = ContinuousClock.now
        for _ in 0..<copies { for event in data.orders { books[event.market].apply(event) } }
        let baselineSeconds = (ContinuousClock.now - baselineStart).seconds

        var engine = SurveillanceEngine(dataset: data, rules: rules)
        var latencies = Latencies()
        var residentAfterCopy: [Int] = []
        var stateAfterCopy: [[String: Int]] = []
        let events = (data.orders.count + data.trades.count) * copies
        let started = ContinuousClock.now
        for copy in 0..<copies {
            let shift = Int64(copy) * span
            var tradeIndex = 0
            for event in data.orders {
                while tradeIndex < data.trades.count, data.trades[tradeIndex].time < event.time {
                    let trade = Self.shifted(data.trades[tradeIndex], by: shift)
                    let before = DispatchTime.now().uptimeNanoseconds
                    engine.observe(trade)
                    latencies.record(nanoseconds: DispatchTime.now().uptimeNanoseconds - before)
                    tradeIndex += 1
                }
                let shiftedEvent = Self.shifted(event, by: shift, copy: copy)
                let before = DispatchTime.now().uptimeNanoseconds
                engine.observe(shiftedEvent)
                latencies.record(nanoseconds: DispatchTime.now().uptimeNanoseconds - before)
            }
            for trade in data.trades[tradeIndex...] { engine.observe(Self.shifted(trade, by: shift)) }
            residentAfterCopy.append(BenchMonitor.residentBytes())
            stateAfterCopy.append(engine.stateEntries)
        }
        let alerts = engine.finish()
        let seconds = (ContinuousClock.now - started).seconds
        let orderEventsPerSecond = Double(data.orders.count * copies) / seconds
        let baselinePerSecond = Double(data.orders.count * copies) / max(baselineSeconds, 1e-9)
        let activeAccounts = Set(data.orders.map(\.account)).count

        // The pre-trade check.
        let controls = InsiderControls(list: InsiderList.derive(from: data, version: "bench"))
        var random = SplitMix64(seed: 7)
        let names = data.accounts.names, symbols = data.markets.map(\.symbol)
        let requests = (0..<checks).map { _ in
            PreTradeRequest(account: names[Int(random.next() % UInt64(names.count))], market: symbols[Int(random.next() % UInt64(symbols.count))],
                            side: random.next() % 2 == 0 ? .buy : .sell, time: first + Int64(random.next() % UInt64(span)))
        }
        var checkLatencies = Latencies()
        var refused = 0
        let checkStart = ContinuousClock.now
        for request in requests {
            let before = DispatchTime.now().uptimeNanoseconds
            let decision = controls.check(request)
            checkLatencies.record(nanoseconds: DispatchTime.now().uptimeNanoseconds - before)
            if !decision.allowed { refused += 1 }
        }
        let checkSeconds = (ContinuousClock.now - checkStart).seconds

        let object: [String: Any] = [
            "dataset": dataset, "copies": copies, "order_events": data.orders.count * copies, "events": events, "seconds": seconds,
            "order_events_per_second": Int(orderEventsPerSecond), "baseline_books_only_order_events_per_second": Int(baselinePerSecond),
            "p50_us": latencies.microseconds(at: 0.5), "p99_us": latencies.microseconds(at: 0.99), "p999_us": latencies.microseconds(at: 0.999),
            "max_us": latencies.microseconds(at: 1), "alerts": alerts.count, "active_accounts": activeAccounts,
            "resident_bytes_after_each_copy": residentAfterCopy, "state_after_each_copy": stateAfterCopy,
            "pretrade_checks": checks, "pretrade_per_second": Int(Double(checks) / max(checkSeconds, 1e-9)), "pretrade_refused": refused,
            "pretrade_p50_us": checkLatencies.microseconds(at: 0.5), "pretrade_p99_us": checkLatencies.microseconds(at: 0.99),
            "pretrade_max_us": checkLatencies.microseconds(at: 1),
        ]
        if json {
            print(jsonText(object))
            return
        }
        print("kinko bench surveil — \(dataset) played \(copies)×: \(data.orders.count * copies) order events and \(data.trades.count * copies) trades, \(activeAccounts) active accounts")
        print(String(format: "every detector: %.0f order events/s (%.2f s, trades included); baseline (books only): %.0f order events/s", orderEventsPerSecond, seconds, baselinePerSecond))
        print(String(format: "latency per event: p50 %.2f µs, p99 %.2f µs, p99.9 %.2f µs, max %.0f µs", latencies.microseconds(at: 0.5), latencies.microseconds(at: 0.99),
                     latencies.microseconds(at: 0.999), latencies.microseconds(at: 1)))
        print("resident memory after each copy (MB): " + residentAfterCopy.map { String(format: "%.1f", Double($0) / 1_048_576) }.joined(separator: ", "))
        print("state after each copy: " + stateAfterCopy.map { $0.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: " ") }.joined(separator: " | "))
        print("alerts: \(alerts.count)")
        print(String(format: "pre-trade check (in process): %d questions, %d refused; p50 %.2f µs, p99 %.2f µs, max %.1f µs", checks, refused,
                     checkLatencies.microseconds(at: 0.5), checkLatencies.microseconds(at: 0.99), checkLatencies.microseconds(at: 1)))
    }

    static func shifted(_ event: OrderEvent, by shift: Int64, copy: Int) -> OrderEvent {
        guard shift != 0 else { return event }
        // Order ids repeat in every copy; offset them so a copy's orders are new orders.
        let offset = Int64(copy) << 40
        return OrderEvent(time: event.time + shift, order: event.order + offset, account: event.account, market: event.market, side: event.side, type: event.type,
                          priceTicks: event.priceTicks, lots: event.lots, kind: event.kind, filledLots: event.filledLots)
    }

    static func shifted(_ trade: Trade, by shift: Int64) -> Trade {
        guard shift != 0 else { return trade }
        let offset = (shift > 0 ? 1 : 0) << 40 as Int64
        return Trade(time: trade.time + shift, id: trade.id + offset * 0 + shift, market: trade.market, priceTicks: trade.priceTicks, lots: trade.lots,
                     buyOrder: trade.buyOrder, sellOrder: trade.sellOrder, buyer: trade.buyer, seller: trade.seller, aggressor: trade.aggressor)
    }
}

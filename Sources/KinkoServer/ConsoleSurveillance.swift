import Foundation
import Hummingbird
import KinkoCore
import KinkoGovernance
import KinkoSurveillance

/// The console's market-surveillance pages: the alert queue, and an alert with its figures and a
/// replay of the market around it drawn as SVG by the server (no script).
extension Console {
    /// A stream time (ms since the epoch) in JST, to the millisecond: `2026-12-03 15:41:00.000 JST`.
    static func jstMilliseconds(_ milliseconds: Int64) -> String { jst(TimestampNanoseconds(max(0, milliseconds)) * 1_000_000, milliseconds: true) }

    static func window(_ start: Int64, _ end: Int64) -> String { "\(jstMilliseconds(start)) – \(jstMilliseconds(end))" }

    /// Market alerts, newest window first, filtered by typology and market, `listPageRows` a
    /// page; each with its customers by name for those who may read customers' records.
    func surveillance(_ caller: Caller, query: Parameters) async throws -> (template: String, context: [String: Any]) {
        let typology = try Self.choice(query, "typology", allowed: SurveillanceTypology.allCases.map(\.rawValue))
        let market = query.get("market") ?? ""
        guard market.count <= Self.marketFilterLengthMax, !market.contains(where: { $0.isNewline || $0 == "&" }) else {
            throw KinkoError(.invalidInput, "a market is at most \(Self.marketFilterLengthMax) characters on one line, without &", field: "market")
        }
        let from = try query.get("from").map { try KinkoAPI.int($0, field: "from", in: 0...Surveillance.alertsOffsetMax) } ?? 0
        let alerts = try await services.surveillance.alerts(typology: typology.isEmpty ? nil : typology, market: market.isEmpty ? nil : market,
                                                            offset: from, limit: Self.listPageRows + 1, by: caller)
        let shown = alerts.prefix(Self.listPageRows)
        let numbers = shown.flatMap { ($0.customers ?? []).compactMap(MarketAlertQueue.customerNumber) }
        let labels = try await customerLabels(numbers, caller: caller)
        let base = "/console/surveillance?typology=\(typology)&market=\(market.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
        return ("surveillance", [
            "typologies": Self.options(SurveillanceTypology.allCases.map { ($0.rawValue, $0.rawValue) }, chosen: typology), "market": market,
            "hasAlerts": !shown.isEmpty, "filtered": !typology.isEmpty || !market.isEmpty,
            "first": from > 0 ? base as Any : false,
            "next": alerts.count > Self.listPageRows ? base + "&from=\(from + Self.listPageRows)" as Any : false,
            "alerts": shown.map { a -> [String: Any] in
                let customers = (a.customers ?? []).compactMap(MarketAlertQueue.customerNumber).reduce(into: [UInt64]()) { found, number in if !found.contains(number) { found.append(number) } }
                return ["id": a.id, "typology": a.typology, "market": a.market, "score": a.score, "explanation": a.explanation, "window": Self.window(a.start, a.end),
                        "accounts": a.accounts.prefix(5).joined(separator: ", ") + (a.accounts.count > 5 ? " +\(a.accounts.count - 5)" : ""),
                        "customers": customers.prefix(3).map { labels[$0] ?? String($0) }.joined(separator: ", ") + (customers.count > 3 ? " +\(customers.count - 3)" : ""),
                        "status": a.status,
                        "queue": a.queueAlert.map { "#\($0) " + Self.alertStatusLabel(a.status) + (a.caseID.map { Self.both(" · 案件 \($0)", " · case \($0)") } ?? "") }
                            ?? Self.both("未登録", "not queued")]
            },
        ])
    }

    /// The longest market name the surveillance list's filter takes.
    static let marketFilterLengthMax = 32

    func surveillanceAlert(_ caller: Caller, id: String) async throws -> (template: String, context: [String: Any]) {
        let (alert, replay) = try await services.surveillance.replay(id, by: caller)
        return ("surveillanceAlert", [
            "id": alert.id, "typology": alert.typology, "market": alert.market, "window": Self.window(alert.start, alert.end), "ruleSet": alert.ruleSetVersion,
            "status": alert.status, "queueAlert": alert.queueAlert.map { $0 as Any } ?? false, "caseID": alert.caseID.map { $0 as Any } ?? false,
            "explanation": alert.explanation, "accounts": alert.accounts.joined(separator: ", "), "tradeCount": alert.trades.count,
            "figures": alert.figures.map { ["name": $0.name, "value": $0.value, "threshold": $0.threshold] as [String: Any] },
            "svg": Self.replaySVG(replay, label: "\(alert.typology) on \(alert.market), \(Self.window(alert.start, alert.end))"),
            "hasFlaggedTrades": !replay.flaggedTrades.isEmpty, "hasOrders": !replay.flagged.isEmpty,
            "orders": replay.flagged.map { o -> [String: Any] in
                ["order": o.order, "account": o.account, "side": o.side.rawValue, "price": o.price.map { String($0) } ?? "market", "quantity": o.quantity,
                 "placed": Self.jstMilliseconds(o.placedAt), "ended": o.endedAt.map { "\(o.ended?.rawValue ?? "") \(Self.jstMilliseconds($0))" } ?? "resting"]
            },
        ])
    }

    /// The replay as one SVG: time across, price up; every value drawn is a number the server
    /// computed, and the one text (the label) is escaped.
    static func replaySVG(_ replay: MarketReplay, label: String) -> String {
        let width = 900.0, height = 320.0, left = 70.0, right = 10.0, top = 10.0, bottom = 30.0
        var prices = replay.trades.map(\.price) + replay.flagged.compactMap(\.price)
        prices += replay.touch.flatMap { [$0.bid, $0.ask].compactMap { $0 } } + replay.depth.flatMap { $0.bids + $0.asks }
        guard let low = prices.min(), let high = prices.max(), replay.to > replay.from else {
            return "<p>" + Self.both("この期間の相場データはありません。", "No market data in this window.") + "</p>"
        }
        let margin = max((high - low) * 0.08, high * 0.0005)
        let (floor, ceiling) = (low - margin, high + margin)
        func x(_ time: Int64) -> Double { left + Double(min(max(time, replay.from), replay.to) - replay.from) / Double(replay.to - replay.from) * (width - left - right) }
        func y(_ price: Double) -> Double { top + (ceiling - price) / (ceiling - floor) * (height - top - bottom) }
        func f(_ value: Double) -> String { String(format: "%.1f", value) }
        var svg = ##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(Int(width))" height="\##(Int(height))" viewBox="0 0 \##(Int(width)) \##(Int(height))" role="img" aria-label="\##(escape(label))" style="max-width:100%;height:auto;background:#fff;border:1px solid #ddd">"##
        svg += ##"<title>\##(escape(label))</title>"##
        // Axes: prices at the bottom and top, times at both ends.
        svg += ##"<line x1="\##(f(left))" y1="\##(f(top))" x2="\##(f(left))" y2="\##(f(height - bottom))" stroke="#999"/><line x1="\##(f(left))" y1="\##(f(height - bottom))" x2="\##(f(width - right))" y2="\##(f(height - bottom))" stroke="#999"/>"##
        for price in [low, high] { svg += ##"<text x="4" y="\##(f(y(price) + 4))" font-size="11">\##(String(format: "%.10g", price))</text>"## }
        svg += ##"<text x="\##(f(left))" y="\##(f(height - 8))" font-size="11">\##(jstMilliseconds(replay.from))</text><text x="\##(f(width - right))" y="\##(f(height - 8))" font-size="11" text-anchor="end">\##(jstMilliseconds(replay.to))</text>"##
        // The book's next levels, faint.
        for sample in replay.depth {
            for price in sample.bids.dropFirst() { svg += ##"<circle cx="\##(f(x(sample.time)))" cy="\##(f(y(price)))" r="1.5" fill="#90caf9"/>"## }
            for price in sample.asks.dropFirst() { svg += ##"<circle cx="\##(f(x(sample.time)))" cy="\##(f(y(price)))" r="1.5" fill="#ef9a9a"/>"## }
        }
        // The touch as step lines.
        for (side, color) in [(\MarketReplay.Touch.bid, "#1565c0"), (\MarketReplay.Touch.ask, "#c62828")] {
            var path = "", previous: Double?
            for (index, point) in replay.touch.enumerated() {
                guard let price = point[keyPath: side] else { previous = nil; continue }
                let end = index + 1 < replay.touch.count ? replay.touch[index + 1].time : replay.to
                path += previous == nil ? "M\(f(x(point.time))) \(f(y(price)))" : " V\(f(y(price)))"
                path += " H\(f(x(end)))"
                previous = price
            }
            if !path.isEmpty { svg += ##"<path d="\##(path)" fill="none" stroke="\##(color)" stroke-width="1.2"/>"## }
        }
        for trade in replay.trades { svg += ##"<circle cx="\##(f(x(trade.time)))" cy="\##(f(y(trade.price)))" r="2" fill="#757575"/>"## }
        for trade in replay.flaggedTrades { svg += ##"<circle cx="\##(f(x(trade.time)))" cy="\##(f(y(trade.price)))" r="4" fill="#ef6c00" stroke="#000" stroke-width="0.5"/>"## }
        // The alert's orders: a bar from placement to end at the limit price; a cross when cancelled, a dot when filled.
        for order in replay.flagged {
            guard let price = order.price else { continue }
            let color = order.side == .buy ? "#0d47a1" : "#b71c1c"
            let (x1, x2, py) = (x(order.placedAt), x(order.endedAt ?? replay.to), y(price))
            svg += ##"<line class="flagged-order" x1="\##(f(x1))" y1="\##(f(py))" x2="\##(f(max(x2, x1 + 6)))" y2="\##(f(py))" stroke="\##(color)" stroke-width="4" opacity="0.8"/>"##
            switch order.ended {
            case .cancel?: svg += ##"<path d="M\##(f(x2 - 4)) \##(f(py - 4)) l8 8 m0 -8 l-8 8" stroke="#000" stroke-width="1.5"/>"##
            case .fill?: svg += ##"<circle cx="\##(f(x2))" cy="\##(f(py))" r="3" fill="#000"/>"##
            default: break
            }
        }
        return svg + "</svg>"
    }
}

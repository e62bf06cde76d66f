import Foundation
import KinkoCore
import KinkoCustody
import KinkoMonitoring
import KinkoReserve

/// Charts the console draws itself, as inline SVG (no script, nothing fetched).
extension Console {
    /// How far back the overview's history charts look.
    static let chartDays = 90

    /// Reserve adequacy (funded over required) at each computation of the last `chartDays` days,
    /// against the 100% line: a line of points on a time axis, dates in JST at both ends, the
    /// range and the last figure in words for a screen reader. Nil with fewer than two points in
    /// the window (one point is no history; the overview shows the figure itself).
    static func adequacyChart(_ points: [AdequacyPoint], now: TimestampNanoseconds) -> String? {
        let day: TimestampNanoseconds = 86_400_000_000_000
        let start = now - min(now, TimestampNanoseconds(chartDays) * day)
        let shown = points.filter { $0.time >= start && $0.time <= now && $0.required.units > 0 }
        guard shown.count >= 2 else { return nil }
        let ratios = shown.map { Double($0.funded.units) / Double($0.required.units) }
        let (width, height, left, right, top, bottom) = (600.0, 160.0, 44.0, 8.0, 8.0, 22.0)
        let ceiling = max(1.5, (ratios.max() ?? 1) * 1.1)
        func x(_ time: TimestampNanoseconds) -> Double { left + Double(time - start) / Double(now - start) * (width - left - right) }
        func y(_ ratio: Double) -> Double { top + (ceiling - min(ratio, ceiling)) / ceiling * (height - top - bottom) }
        func f(_ value: Double) -> String { String(format: "%.1f", value) }
        func percent(_ ratio: Double) -> String { String(format: "%.0f%%", ratio * 100) }
        let line = zip(shown, ratios).map { "\(f(x($0.time))),\(f(y($1)))" }.joined(separator: " ")
        let dots = zip(shown, ratios).map { point, ratio in
            #"<circle cx="\#(f(x(point.time)))" cy="\#(f(y(ratio)))" r="3" fill="\#(ratio >= 1 ? "#2e7d32" : "#c62828")"><title>\#(escape(jst(point.time))) \#(percent(ratio))</title></circle>"#
        }.joined()
        let label = both("責任準備金の充足率、過去 \(chartDays) 日の計算 \(shown.count) 回: 最低 \(percent(ratios.min() ?? 0))、最高 \(percent(ratios.max() ?? 0))、直近 \(percent(ratios.last ?? 0))",
                         "Reserve adequacy over the last \(chartDays) days, \(shown.count) computations: lowest \(percent(ratios.min() ?? 0)), highest \(percent(ratios.max() ?? 0)), latest \(percent(ratios.last ?? 0))")
        return """
            <svg id="adequacy-chart" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" role="img" aria-label="\(escape(label))">\
            <rect x="\(f(left))" y="\(f(top))" width="\(f(width - left - right))" height="\(f(height - top - bottom))" fill="#fafafa" stroke="#ddd"/>\
            <line x1="\(f(left))" x2="\(f(width - right))" y1="\(f(y(1)))" y2="\(f(y(1)))" stroke="#000" stroke-dasharray="4 3"/>\
            <text x="\(f(left - 4))" y="\(f(y(1) + 4))" text-anchor="end" font-size="11" fill="#222">100%</text>\
            <polyline points="\(line)" fill="none" stroke="#1a4fb5" stroke-width="2"/>\(dots)\
            <text x="\(f(left))" y="\(f(height - 6))" font-size="11" fill="#222">\(JST.day(of: start))</text>\
            <text x="\(f(width - right))" y="\(f(height - 6))" text-anchor="end" font-size="11" fill="#222">\(JST.day(of: now))</text></svg>
            """
    }
}

extension Console {
    /// Colours of the hot-share chart's assets, in order (each ≥ 3:1 against white, WCAG's
    /// figure for graphics).
    static let seriesColours = ["#1a4fb5", "#b45309", "#6a1b9a", "#00796b", "#ad1457", "#455a64"]

    /// The hot share of each crypto asset at each daily cut-off of the last `chartDays` days and
    /// now, against the limit (dashed): a line per asset, broken where a balance was missing or
    /// stale then, a point coloured red above the limit. Nil with fewer than two points.
    static func hotShareChart(_ points: [HotSharePoint], limitBasisPoints: UInt64) -> String? {
        let drawn = points.filter { !$0.basisPoints.isEmpty }
        guard drawn.count >= 2, let start = points.first?.time, let end = points.last?.time, end > start else { return nil }
        let assets = Array(Set(drawn.flatMap(\.basisPoints.keys))).sorted()
        let (width, height, left, right, top, bottom) = (600.0, 160.0, 44.0, 8.0, 8.0, 22.0)
        let highest = Double(drawn.flatMap(\.basisPoints.values).max() ?? 0) / 10_000
        let limit = Double(limitBasisPoints) / 10_000
        let ceiling = max(limit * 2, highest * 1.1)
        func x(_ time: TimestampNanoseconds) -> Double { left + Double(time - start) / Double(end - start) * (width - left - right) }
        func y(_ share: Double) -> Double { top + (ceiling - min(share, ceiling)) / ceiling * (height - top - bottom) }
        func f(_ value: Double) -> String { String(format: "%.1f", value) }
        func percent(_ share: Double) -> String { String(format: "%.2f%%", share * 100) }
        var series = "", words: [String] = [], legend: [String] = []
        for (index, asset) in assets.enumerated() {
            let colour = seriesColours[index % seriesColours.count]
            // A gap where the share is unknown: a new segment after it.
            var segments: [[(TimestampNanoseconds, Double)]] = [[]]
            for point in points {
                if let bp = point.basisPoints[asset] { segments[segments.count - 1].append((point.time, Double(bp) / 10_000)) } else if !(segments.last ?? []).isEmpty { segments.append([]) }
            }
            for segment in segments where segment.count >= 2 {
                series += ##"<polyline points="\##(segment.map { "\(f(x($0.0))),\(f(y($0.1)))" }.joined(separator: " "))" fill="none" stroke="\##(colour)" stroke-width="2"/>"##
            }
            let known = segments.flatMap { $0 }
            for (time, share) in known {
                series += ##"<circle cx="\##(f(x(time)))" cy="\##(f(y(share)))" r="2.5" fill="\##(share > limit ? "#c62828" : colour)"><title>\##(escape(asset)) \##(escape(jst(time))) \##(percent(share))</title></circle>"##
            }
            if let last = known.last {
                words.append("\(asset) \(percent(known.map(\.1).max() ?? 0))/\(percent(last.1))")
                legend.append(##"<tspan fill="\##(colour)">■</tspan> \##(escape(asset))"##)
            }
        }
        let label = both("ホット比率、過去 \(chartDays) 日の締め時刻と現在 (資産 最高/直近): \(words.joined(separator: "、"))、上限 \(percent(limit))",
                         "Hot share at each daily cut-off of the last \(chartDays) days and now (asset highest/latest): \(words.joined(separator: ", ")); the limit is \(percent(limit))")
        return """
            <svg id="hot-share-chart" width="\(Int(width))" height="\(Int(height + 16))" viewBox="0 0 \(Int(width)) \(Int(height + 16))" role="img" aria-label="\(escape(label))">\
            <rect x="\(f(left))" y="\(f(top))" width="\(f(width - left - right))" height="\(f(height - top - bottom))" fill="#fafafa" stroke="#ddd"/>\
            <line x1="\(f(left))" x2="\(f(width - right))" y1="\(f(y(limit)))" y2="\(f(y(limit)))" stroke="#000" stroke-dasharray="4 3"/>\
            <text x="\(f(left - 4))" y="\(f(y(limit) + 4))" text-anchor="end" font-size="11" fill="#222">\(String(format: "%g%%", limit * 100))</text>\(series)\
            <text x="\(f(left))" y="\(f(height - 6))" font-size="11" fill="#222">\(JST.day(of: start))</text>\
            <text x="\(f(width - right))" y="\(f(height - 6))" text-anchor="end" font-size="11" fill="#222">\(JST.day(of: end))</text>\
            <text x="\(f(left))" y="\(f(height + 12))" font-size="11" fill="#222">\(legend.joined(separator: "　"))</text></svg>
            """
    }

    /// Alerts raised per day over the last `chartDays` days (JST), as bars; the total, the
    /// busiest day and today's count in words.
    static func alertVolumeChart(_ counts: [Int64: Int], now: TimestampNanoseconds) -> String {
        let today = Monitoring.jstDayNumber(of: now)
        let days = (0..<Int64(chartDays)).map { today - Int64(chartDays) + 1 + $0 }
        let values = days.map { counts[$0] ?? 0 }
        let (width, height, left, right, top, bottom) = (600.0, 120.0, 44.0, 8.0, 8.0, 22.0)
        let ceiling = Double(max(4, values.max() ?? 0))
        let step = (width - left - right) / Double(days.count)
        func f(_ value: Double) -> String { String(format: "%.1f", value) }
        func dayText(_ day: Int64) -> String { JST.day(of: TimestampNanoseconds(max(0, day)) * 86_400_000_000_000) }
        var bars = ""
        for (index, value) in values.enumerated() where value > 0 {
            let barHeight = Double(value) / ceiling * (height - top - bottom)
            let x = left + Double(index) * step + 0.5
            bars += ##"<rect x="\##(f(x))" y="\##(f(height - bottom - barHeight))" width="\##(f(max(1, step - 1)))" height="\##(f(barHeight))" fill="#1a4fb5">"##
            bars += "<title>\(dayText(days[index])) \(value)</title></rect>"
        }
        let total = values.reduce(0, +), busiest = values.max() ?? 0
        let label = both("アラート件数、過去 \(chartDays) 日: 合計 \(total)、最多の日 \(busiest)、本日 \(values.last ?? 0)",
                         "Alerts raised per day over the last \(chartDays) days: \(total) in all, \(busiest) on the busiest day, \(values.last ?? 0) today")
        return """
            <svg id="alert-volume-chart" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" role="img" aria-label="\(escape(label))">\
            <rect x="\(f(left))" y="\(f(top))" width="\(f(width - left - right))" height="\(f(height - top - bottom))" fill="#fafafa" stroke="#ddd"/>\(bars)\
            <text x="\(f(left - 4))" y="\(f(top + 10))" text-anchor="end" font-size="11" fill="#222">\(Int(ceiling))</text>\
            <text x="\(f(left - 4))" y="\(f(height - bottom))" text-anchor="end" font-size="11" fill="#222">0</text>\
            <text x="\(f(left))" y="\(f(height - 6))" font-size="11" fill="#222">\(dayText(days[0]))</text>\
            <text x="\(f(width - right))" y="\(f(height - 6))" text-anchor="end" font-size="11" fill="#222">\(dayText(today))</text></svg>
            """
    }
}

extension Console {
    /// Customers a flow picture draws at most (the alert page lists them all).
    static let flowNodesMax = 60

    /// Who paid whom behind an alert, as SVG: each customer a circle labelled with their number
    /// (the alert's subject in orange), each transfer an arrow. Money that flows one way is laid
    /// out in columns from the first payers on the left to the last payees on the right (a fan
    /// is a star, scatter-gather three columns); money that goes round is drawn as a ring. Nil
    /// when none of the alert's events was a transfer between customers.
    static func flowChart(_ transfers: [CustomerTransfer], subject: UInt64, names: [UInt64: String]) -> String? {
        var nodes: [UInt64] = []
        for transfer in transfers {
            for party in [transfer.from, transfer.to] where !nodes.contains(party) && nodes.count < flowNodesMax { nodes.append(party) }
        }
        let edges = transfers.filter { nodes.contains($0.from) && nodes.contains($0.to) && $0.from != $0.to }
        guard !edges.isEmpty else { return nil }
        // Kahn's order gives each node its column (the longest chain of payments into it); nodes
        // it never reaches lie on a cycle.
        var incoming = Dictionary(uniqueKeysWithValues: nodes.map { ($0, 0) })
        for edge in edges { incoming[edge.to, default: 0] += 1 }
        var column = Dictionary(uniqueKeysWithValues: nodes.map { ($0, 0) })
        var ready = nodes.filter { incoming[$0] == 0 }
        var placed: Set<UInt64> = []
        while let node = ready.first {
            ready.removeFirst()
            placed.insert(node)
            for edge in edges where edge.from == node {
                column[edge.to] = max(column[edge.to] ?? 0, (column[node] ?? 0) + 1)
                incoming[edge.to, default: 0] -= 1
                if incoming[edge.to] == 0 { ready.append(edge.to) }
            }
        }
        let ring = placed.count < nodes.count
        let width = 640.0
        var position: [UInt64: (x: Double, y: Double)] = [:]
        let height: Double
        if ring {
            height = 360
            for (index, node) in nodes.enumerated() {
                let angle = Double(index) / Double(nodes.count) * 2 * Double.pi - Double.pi / 2
                position[node] = (width / 2 + cos(angle) * 140, height / 2 + sin(angle) * 140)
            }
        } else {
            let columns = (column.values.max() ?? 0) + 1
            let byColumn = (0..<columns).map { c in nodes.filter { column[$0] == c } }
            let rows = byColumn.map(\.count).max() ?? 1
            height = max(120, Double(rows) * 28 + 40)
            for (c, members) in byColumn.enumerated() {
                let x = columns == 1 ? width / 2 : 60 + Double(c) / Double(columns - 1) * (width - 120)
                for (r, node) in members.enumerated() { position[node] = (x, height / 2 + (Double(r) - Double(members.count - 1) / 2) * 28) }
            }
        }
        func f(_ value: Double) -> String { String(format: "%.1f", value) }
        var svg = ##"<svg id="flow-chart" width="\##(Int(width))" height="\##(Int(height))" viewBox="0 0 \##(Int(width)) \##(Int(height))" role="img" "##
        let label = both("資金の流れ: 顧客 \(nodes.count) 人、送金 \(edges.count) 件\(ring ? "、循環" : "")", "Money flows: \(nodes.count) customers, \(edges.count) transfers\(ring ? ", going round" : "")")
        svg += ##"aria-label="\##(escape(label))" style="max-width:100%;height:auto"><defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" fill="#455a64"/></marker></defs>"##
        for edge in edges {
            guard let a = position[edge.from], let b = position[edge.to] else { continue }
            let (dx, dy) = (b.x - a.x, b.y - a.y)
            let length = max(1, (dx * dx + dy * dy).squareRoot())
            let (ux, uy) = (dx / length * 11, dy / length * 11)  // stop at the circles' edges
            svg += ##"<line class="flow" x1="\##(f(a.x + ux))" y1="\##(f(a.y + uy))" x2="\##(f(b.x - ux))" y2="\##(f(b.y - uy))" stroke="#455a64" stroke-width="1.2" marker-end="url(#arrow)"><title>\##(escape(edge.event)) \##(escape(jst(edge.time)))</title></line>"##
        }
        for node in nodes {
            guard let p = position[node] else { continue }
            let name = names[node].map { " " + $0 } ?? ""
            svg += ##"<g class="flow-node" data-customer="\##(node)"><circle cx="\##(f(p.x))" cy="\##(f(p.y))" r="10" fill="\##(node == subject ? "#ef6c00" : "#e3f2fd")" stroke="#1a237e"/>"##
            svg += ##"<text x="\##(f(p.x + 13))" y="\##(f(p.y + 4))" font-size="11" fill="#222">\##(node)</text><title>\##(escape(both("顧客", "customer") + " \(node)" + name))</title></g>"##
        }
        return svg + "</svg>"
    }
}

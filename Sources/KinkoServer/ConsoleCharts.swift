import Foundation
import KinkoCore
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

import Histogram

/// One histogram for every benchmark: latencies recorded in nanoseconds in an HdrHistogram
/// (three significant digits), read back as percentiles in whatever unit a report prints.
struct Latencies {
    private var histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)

    init() {}

    /// From durations in milliseconds.
    init(milliseconds: [Double]) {
        for value in milliseconds { record(nanoseconds: UInt64(max(0, value) * 1_000_000)) }
    }

    /// From durations in nanoseconds.
    init(nanoseconds: [UInt64]) {
        for value in nanoseconds { record(nanoseconds: value) }
    }

    mutating func record(nanoseconds: UInt64) {
        _ = histogram.record(nanoseconds)
    }

    var count: UInt64 { histogram.totalCount }

    /// The value at `fraction` (0.5 the median, 0.99 the 99th percentile, 1 the maximum), in
    /// nanoseconds; 0 when nothing was recorded.
    func nanoseconds(at fraction: Double) -> UInt64 {
        guard histogram.totalCount > 0 else { return 0 }
        return fraction >= 1 ? histogram.max : histogram.valueAtPercentile(fraction * 100)
    }

    func milliseconds(at fraction: Double) -> Double { Double(nanoseconds(at: fraction)) / 1_000_000 }
    func microseconds(at fraction: Double) -> Double { Double(nanoseconds(at: fraction)) / 1_000 }
}

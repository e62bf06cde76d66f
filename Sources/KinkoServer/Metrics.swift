import Foundation
import Synchronization

/// Request counters and latency histograms per operation, in Prometheus' text format. Business
/// gauges (ledger, alerts, reserve, custody) are read when scraped (`Server.metricsText`).
final class RequestMetrics: Sendable {
    static let buckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

    private struct Histogram {
        var counts = [UInt64](repeating: 0, count: RequestMetrics.buckets.count)
        var sum = 0.0
        var count: UInt64 = 0
    }

    private struct State {
        var requests: [String: [String: UInt64]] = [:]  // operation → status → count
        var latency: [String: Histogram] = [:]
        var batchesPosted: UInt64 = 0
        var transfersPosted: UInt64 = 0
    }

    private let state = Mutex(State())

    func record(operation: String, status: Int, seconds: Double) {
        state.withLock { state in
            state.requests[operation, default: [:]][String(status), default: 0] += 1
            var histogram = state.latency[operation] ?? Histogram()
            for (index, bound) in Self.buckets.enumerated() where seconds <= bound { histogram.counts[index] += 1 }
            histogram.sum += seconds
            histogram.count += 1
            state.latency[operation] = histogram
        }
    }

    /// A transfer batch the API posted (whatever each transfer's result).
    func recordBatch(transfers: Int) {
        state.withLock { state in
            state.batchesPosted += 1
            state.transfersPosted += UInt64(transfers)
        }
    }

    var text: String {
        state.withLock { state in
            var lines = ["# HELP kinko_http_requests_total Requests served, by operation and status.", "# TYPE kinko_http_requests_total counter"]
            for (operation, statuses) in state.requests.sorted(by: { $0.key < $1.key }) {
                for (status, count) in statuses.sorted(by: { $0.key < $1.key }) {
                    lines.append("kinko_http_requests_total{operation=\"\(operation)\",status=\"\(status)\"} \(count)")
                }
            }
            lines += ["# HELP kinko_http_request_duration_seconds Request latency, by operation.", "# TYPE kinko_http_request_duration_seconds histogram"]
            for (operation, histogram) in state.latency.sorted(by: { $0.key < $1.key }) {
                for (index, bound) in Self.buckets.enumerated() {
                    lines.append("kinko_http_request_duration_seconds_bucket{operation=\"\(operation)\",le=\"\(bound)\"} \(histogram.counts[index])")
                }
                lines.append("kinko_http_request_duration_seconds_bucket{operation=\"\(operation)\",le=\"+Inf\"} \(histogram.count)")
                lines.append("kinko_http_request_duration_seconds_sum{operation=\"\(operation)\"} \(histogram.sum)")
                lines.append("kinko_http_request_duration_seconds_count{operation=\"\(operation)\"} \(histogram.count)")
            }
            lines += ["# HELP kinko_api_ledger_batches_total Transfer batches posted through this server.", "# TYPE kinko_api_ledger_batches_total counter",
                      "kinko_api_ledger_batches_total \(state.batchesPosted)",
                      "# HELP kinko_api_ledger_transfers_total Transfers posted through this server.", "# TYPE kinko_api_ledger_transfers_total counter",
                      "kinko_api_ledger_transfers_total \(state.transfersPosted)"]
            return lines.joined(separator: "\n")
        }
    }
}

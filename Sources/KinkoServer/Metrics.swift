import CoreMetrics
import Foundation
import Prometheus

/// `/metrics`: a swift-prometheus registry per server. Requests are recorded through
/// swift-metrics (`Counter`, `Timer`) with a `PrometheusMetricsFactory` on that registry, not the
/// process-wide bootstrap, so several servers in one process (the tests) keep their figures
/// apart. The state of the exchange (ledger, alerts, custody, reserve, connections) is set on
/// gauges when scraped (`MetricsText.render`). The metric names are those of the hand-written
/// exporter this replaced.
final class RequestMetrics: Sendable {
    static let buckets: [Duration] = [.microseconds(500), .milliseconds(1), .microseconds(2_500), .milliseconds(5), .milliseconds(10),
                                      .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                                      .seconds(1), .milliseconds(2_500), .seconds(5)]
    static let requestsName = "kinko_http_requests_total"
    static let latencyName = "kinko_http_request_duration_seconds"

    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let batches: CoreMetrics.Counter
    private let transfers: CoreMetrics.Counter

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = [Self.latencyName: Self.buckets]
        self.factory = factory
        batches = CoreMetrics.Counter(label: "kinko_api_ledger_batches_total", factory: factory)
        transfers = CoreMetrics.Counter(label: "kinko_api_ledger_transfers_total", factory: factory)
    }

    func record(operation: String, status: Int, seconds: Double) {
        CoreMetrics.Counter(label: Self.requestsName, dimensions: [("operation", operation), ("status", String(status))], factory: factory).increment()
        CoreMetrics.Timer(label: Self.latencyName, dimensions: [("operation", operation)], factory: factory)
            .recordNanoseconds(Int64(max(0, min(seconds, 1e9)) * 1e9))
    }

    /// A scheduled job's run (`kinko_jobs_runs_total{job,result}`) and, when it succeeded, its
    /// time (`kinko_jobs_last_success_seconds{job}`): a job that stopped succeeding shows.
    func recordJob(_ job: String, succeeded: Bool) {
        CoreMetrics.Counter(label: "kinko_jobs_runs_total", dimensions: [("job", job), ("result", succeeded ? "ok" : "failed")], factory: factory).increment()
        if succeeded {
            gauge("kinko_jobs_last_success_seconds", "When each scheduled job last succeeded (seconds since the epoch).", labels: [("job", job)],
                  Date().timeIntervalSince1970)
        }
    }

    /// A transfer batch the API posted (whatever each transfer's result).
    func recordBatch(transfers count: Int) {
        batches.increment()
        transfers.increment(by: count)
    }

    /// Sets a gauge the scrape reads (created with its help text on first use).
    func gauge(_ name: String, _ help: String, labels: [(String, String)] = [], _ value: Double) {
        registry.makeGauge(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: labels).set(value)
    }

    /// A counter with its help text (created on first use).
    func counter(_ name: String, _ help: String) -> Prometheus.Counter {
        registry.makeCounter(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: [])
    }

    var text: String { registry.emitToString() }
}

import Foundation
import Prometheus
import Synchronization

/// The server's Prometheus metrics: requests by route and status, latency, predictions by
/// version, and each model's rollout weight. Counters are made once and kept: a request only
/// increments.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let requestDuration: DurationHistogram
    /// The registry validates names and labels on every `make`; a request looks its counter up here.
    private let requestCounters = Mutex<[String: Counter]>([:])

    init() {
        requestDuration = registry.makeDurationHistogram(
            name: "mlops_request_duration_seconds",
            buckets: [.microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                      .milliseconds(10), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(1)],
            help: "Time to answer a request")
    }

    func requests(route: String, status: Int) -> Counter {
        let key = "\(route) \(status)"
        if let counter = requestCounters.withLock({ $0[key] }) { return counter }
        let counter = registry.makeCounter(name: "mlops_requests_total", labels: [("route", route), ("status", String(status))], help: "Requests answered")
        requestCounters.withLock { $0[key] = counter }
        return counter
    }

    func predictions(model: String, version: Int) -> Counter {
        registry.makeCounter(name: "mlops_predictions_total", labels: [("model", model), ("version", String(version))],
                             help: "Predictions made, by the version that answered")
    }

    func rolloutWeight(model: String) -> Gauge {
        registry.makeGauge(name: "mlops_rollout_weight", labels: [("model", model)], help: "The candidate's share of traffic, in percent")
    }

    func feedback() -> Counter {
        registry.makeCounter(name: "mlops_feedback_total", help: "Outcomes recorded")
    }

    func text() -> String { registry.emitToString() }
}

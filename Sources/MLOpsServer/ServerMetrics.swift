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
            descriptor: Self.name("request_duration", unit: "seconds", help: "Time to answer a request"),
            buckets: [.microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                      .milliseconds(10), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(1)])
    }

    func requests(route: String, status: Int) -> Counter {
        let key = "\(route) \(status)"
        if let counter = requestCounters.withLock({ $0[key] }) { return counter }
        let counter = registry.makeCounter(descriptor: Self.name("requests", unit: "total", help: "Requests answered"),
                                           labels: [("route", route), ("status", String(status))])
        requestCounters.withLock { $0[key] = counter }
        return counter
    }

    func predictions(model: String, version: Int) -> Counter {
        registry.makeCounter(descriptor: Self.name("predictions", unit: "total", help: "Predictions made, by the version that answered"),
                             labels: [("model", model), ("version", String(version))])
    }

    func rolloutWeight(model: String) -> Gauge {
        registry.makeGauge(descriptor: Self.name("rollout_weight", unit: "percent", help: "The candidate's share of traffic"),
                           labels: [("model", model)])
    }

    func feedback() -> Counter {
        registry.makeCounter(descriptor: Self.name("feedback", unit: "total", help: "Outcomes recorded"))
    }

    func text() -> String { registry.emitToString() }

    static func name(_ metric: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "mlops", metricName: metric, unitName: unit, helpText: help)
    }
}

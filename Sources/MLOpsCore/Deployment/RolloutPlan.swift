import Foundation

/// What a rollout was started with, stored with it so that the spec changing later cannot change a
/// rollout under way. Blue-green is a canary whose first step sends all traffic to the candidate:
/// its spec's steps are the post-promotion bake and analysis.
public struct RolloutPlan: Sendable, Hashable, Codable {
    public var strategy: String
    public var steps: [DeploySpec.Step]
    public var onInconclusive: String
    /// Blue-green: how long the previous version stays ready for an instant switch back.
    public var keepPreviousForMillis: Int64?

    public init(_ spec: DeploySpec) {
        strategy = spec.strategy.rawValue
        steps = spec.strategy == .blueGreen ? [.setWeight(100)] + spec.steps : spec.steps
        onInconclusive = spec.onInconclusive.rawValue
        keepPreviousForMillis = spec.keepPreviousFor?.milliseconds
    }

    public var machine: RolloutMachine {
        RolloutMachine(steps: steps, onInconclusive: DeploySpec.OnInconclusive(rawValue: onInconclusive) ?? .pause)
    }

    /// The bake before step `index`, whose `max_duration` bounds the analysis that follows it.
    func bake(before index: Int) -> DeploySpec.Step? {
        steps[..<index].last { if case .bake = $0 { true } else { false } }
    }
}

extension DeploySpec.Step: Codable {
    enum CodingKeys: String, CodingKey { case set_weight, bake, analysis, pause }
    enum BakeKeys: String, CodingKey { case min_duration_ms, min_samples, max_duration_ms }
    enum AnalysisKeys: String, CodingKey { case metric, margin, alpha }
    enum PauseKeys: String, CodingKey { case duration_ms }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case let .setWeight(weight):
            try container.encode(weight, forKey: .set_weight)
        case let .bake(minDuration, minSamples, maxDuration):
            var bake = container.nestedContainer(keyedBy: BakeKeys.self, forKey: .bake)
            try bake.encodeIfPresent(minDuration?.milliseconds, forKey: .min_duration_ms)
            try bake.encodeIfPresent(minSamples, forKey: .min_samples)
            try bake.encodeIfPresent(maxDuration?.milliseconds, forKey: .max_duration_ms)
        case let .analysis(metric, margin, alpha):
            var analysis = container.nestedContainer(keyedBy: AnalysisKeys.self, forKey: .analysis)
            try analysis.encode(metric, forKey: .metric)
            try analysis.encode(margin, forKey: .margin)
            try analysis.encode(alpha, forKey: .alpha)
        case let .pause(duration):
            var pause = container.nestedContainer(keyedBy: PauseKeys.self, forKey: .pause)
            try pause.encodeIfPresent(duration?.milliseconds, forKey: .duration_ms)
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let millis = { (value: Int64?) in value.map(SpecDuration.init(milliseconds:)) }
        if let weight = try container.decodeIfPresent(Int.self, forKey: .set_weight) {
            self = .setWeight(weight)
        } else if container.contains(.bake) {
            let bake = try container.nestedContainer(keyedBy: BakeKeys.self, forKey: .bake)
            self = .bake(minDuration: millis(try bake.decodeIfPresent(Int64.self, forKey: .min_duration_ms)),
                         minSamples: try bake.decodeIfPresent(Int.self, forKey: .min_samples),
                         maxDuration: millis(try bake.decodeIfPresent(Int64.self, forKey: .max_duration_ms)))
        } else if container.contains(.analysis) {
            let analysis = try container.nestedContainer(keyedBy: AnalysisKeys.self, forKey: .analysis)
            self = .analysis(metric: try analysis.decode(String.self, forKey: .metric),
                             margin: try analysis.decode(Double.self, forKey: .margin),
                             alpha: try analysis.decode(Double.self, forKey: .alpha))
        } else {
            let pause = try container.nestedContainer(keyedBy: PauseKeys.self, forKey: .pause)
            self = .pause(duration: millis(try pause.decodeIfPresent(Int64.self, forKey: .duration_ms)))
        }
    }

    /// The step as jobs.yaml would write it.
    public var summary: String {
        switch self {
        case let .setWeight(weight): return "set_weight \(weight)"
        case let .bake(minDuration, minSamples, maxDuration):
            return "bake " + [minDuration.map { "min \($0)" }, minSamples.map { "\($0) samples" }, maxDuration.map { "max \($0)" }]
                .compactMap { $0 }.joined(separator: ", ")
        case let .analysis(metric, margin, alpha): return "analysis \(metric) (margin \(margin), alpha \(alpha))"
        case let .pause(duration): return "pause" + (duration.map { " \($0)" } ?? " (manual)")
        }
    }
}

import Foundation
import MLOpsLearn

extension HitRateMonitor {
    public enum Verdict: String, Sendable, Codable {
        case insufficient, fine, dropped
    }

    /// One evaluation, as `mlops monitor` shows it and the monitor's run records it.
    public struct Evaluation: Sendable, Hashable, Codable {
        public var monitor: String
        public var model: String
        public var version: Int?
        public var time: Int64
        public var trials: Int
        public var successes: Int
        public var rate: Double?
        /// The two-sided interval at `confidence`, for showing.
        public var lower: Double?
        public var upper: Double?
        /// The one-sided upper bound at `confidence`: what the verdict compares with the bar.
        public var bound: Double?
        public var baseline: Double?
        public var baselineSource: String
        public var verdict: Verdict
        /// Consecutive evaluations with new outcomes that found a significant drop, this one included.
        public var breaches: Int
        /// `breaches_to_trigger` reached (or drift that triggers), outside the cooldown: retrain.
        public var shouldTrigger: Bool
        public var reason: String
        /// `wilson` or `cusum`; with CUSUM, its statistic and alarm threshold.
        public var method: String?
        public var cusum: Double?
        public var cusumThreshold: Double?
        /// Whether outcomes arrived since the previous evaluation: only then can a breach count.
        public var newOutcomes: Bool?
        public var drift: DriftSnapshot?

        init(monitor: String, model: String, version: Int?, time: Int64) {
            self.monitor = monitor
            self.model = model
            self.version = version
            self.time = time
            trials = 0
            successes = 0
            baselineSource = ""
            verdict = .insufficient
            breaches = 0
            shouldTrigger = false
            reason = ""
        }

        /// The figures a monitor's run records, so that `mlops runs` shows them.
        public var metrics: [String: Double] {
            var metrics: [String: Double] = ["mature_outcomes": Double(trials), "breaches": Double(breaches)]
            if let rate { metrics["hit_rate"] = rate }
            if let lower { metrics["hit_rate_lower"] = lower }
            if let upper { metrics["hit_rate_upper"] = upper }
            if let baseline { metrics["baseline"] = baseline }
            if let cusum { metrics["cusum"] = cusum }
            if let drift {
                metrics["drift_share"] = drift.share
                for feature in drift.features { metrics["psi_\(feature.name)"] = feature.psi }
            }
            return metrics
        }
    }

    /// The drift of the newest batch the champion scored, judged by the monitor's thresholds.
    public struct DriftSnapshot: Sendable, Hashable, Codable {
        public var period: Int?
        public var time: Int64
        public var share: Double
        public var drifted: Bool
        public var features: [DriftReport.Column]

        init(_ entry: FeatureDriftLog.Entry, settings: MonitorSpec.DriftSettings) {
            period = entry.period
            time = entry.time
            features = entry.report.columns.map { column in
                var judged = column
                let byPSI = column.decidedBy.hasPrefix("psi")
                judged.decidedBy = byPSI ? "psi >= \(settings.psi)" : "p < \(settings.alpha)"
                judged.drifted = byPSI ? column.psi >= settings.psi : column.pValue < settings.alpha
                return judged
            }
            share = features.isEmpty ? 0 : Double(features.filter(\.drifted).count) / Double(features.count)
            drifted = !features.isEmpty && share >= settings.maxShare
        }

        public var driftedNames: [String] { features.filter(\.drifted).map(\.name) }
    }
}

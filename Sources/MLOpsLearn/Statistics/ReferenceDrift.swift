import Foundation

extension DriftReport {
    /// A scored batch against the training reference a model carries, when the training rows are
    /// gone: numbers by PSI on the reference's decile bins and Kolmogorov–Smirnov on the binned
    /// CDFs (the largest gap at a bin edge, a lower bound of D, with n·m/(n+m) as the sample
    /// size), categories by a chi-square test of homogeneity against the training counts and PSI.
    /// The verdict follows the same rule as the two-table report.
    public init(reference: ModelArtifact.TrainingSummary, current: Table, alpha: Double = 0.05, psiThreshold: Double = 0.2,
                by criterion: Criterion = .auto) {
        self.alpha = alpha
        self.psiThreshold = psiThreshold
        let byP = criterion == .p || (criterion == .auto && reference.rows <= 1000 && current.rowCount <= 1000)
        let m = Double(reference.rows)
        var columns: [Column] = []
        for (name, histogram) in (reference.histograms ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let values = current.numeric(name) else { continue }
            let counts = histogram.counts(values)
            let n = counts.reduce(0, +)
            guard n > 0 else { continue }
            let shares = counts.map { $0 / n }
            var gap = 0.0, refCumulative = 0.0, curCumulative = 0.0
            for (r, c) in zip(histogram.shares, shares) {
                refCumulative += r
                curCumulative += c
                gap = max(gap, abs(refCumulative - curCumulative))
            }
            let p = TwoSampleTests.kolmogorovQ((n * m / (n + m)).squareRoot() * gap)
            columns.append(Column(name: name, kind: "numeric", test: "ks", statistic: gap, pValue: p,
                                  psi: TwoSampleTests.index(histogram.shares, shares), decidedBy: "", drifted: false))
        }
        for (name, frequencies) in reference.frequencies.sorted(by: { $0.key < $1.key }) {
            guard let values = current.categorical(name), !values.isEmpty else { continue }
            var counts: [String: Double] = [:]
            for v in values { counts[v, default: 0] += 1 }
            let chi = TwoSampleTests.chiSquare(counts: frequencies.mapValues { $0 * m }, counts)
            let levels = Array(Set(frequencies.keys).union(counts.keys)).sorted()
            let psi = TwoSampleTests.index(levels.map { frequencies[$0, default: 0] },
                                           levels.map { counts[$0, default: 0] / Double(values.count) })
            columns.append(Column(name: name, kind: "categorical", test: "chi_square", statistic: chi.statistic, pValue: chi.pValue,
                                  psi: psi, decidedBy: "", drifted: false))
        }
        for i in columns.indices {
            columns[i].decidedBy = byP ? "p < \(alpha)" : "psi >= \(psiThreshold)"
            columns[i].drifted = byP ? columns[i].pValue < alpha : columns[i].psi >= psiThreshold
        }
        self.columns = columns
    }
}

/// Per column of two tables with the same columns: has the current one drifted from the
/// reference? Numbers get Kolmogorov–Smirnov and PSI on the reference's deciles, categories a
/// chi-square test and PSI. The verdict follows the p-value on small samples (both ≤ 1000 rows,
/// where a test has the power it claims) and PSI on larger ones (where a test flags differences
/// too small to matter), unless `by` says which.
public struct DriftReport: Sendable, Hashable, Codable {
    public enum Criterion: String, Sendable, Codable, CaseIterable {
        case auto, p, psi
    }

    public struct Column: Sendable, Hashable, Codable {
        public var name: String
        public var kind: String
        public var test: String
        public var statistic: Double
        public var pValue: Double
        public var psi: Double
        /// What the verdict was decided on: `p < alpha` or `psi >= threshold`.
        public var decidedBy: String
        public var drifted: Bool
    }

    public var columns: [Column]
    public var alpha: Double
    public var psiThreshold: Double
    public var drifted: Int { columns.filter(\.drifted).count }
    public var share: Double { columns.isEmpty ? 0 : Double(drifted) / Double(columns.count) }

    public init(reference: Table, current: Table, columns names: [String], alpha: Double = 0.05, psiThreshold: Double = 0.2,
                by criterion: Criterion = .auto) {
        self.alpha = alpha
        self.psiThreshold = psiThreshold
        let byP = criterion == .p || (criterion == .auto && reference.rowCount <= 1000 && current.rowCount <= 1000)
        columns = names.compactMap { name in
            var column: Column
            switch (reference.column(name), current.column(name)) {
            case let (.numeric(a)?, .numeric(b)?):
                let ks = TwoSampleTests.kolmogorovSmirnov(a, b)
                column = Column(name: name, kind: "numeric", test: "ks", statistic: ks.statistic, pValue: ks.pValue,
                                psi: TwoSampleTests.psi(reference: a, current: b), decidedBy: "", drifted: false)
            case let (.categorical(a)?, .categorical(b)?):
                let chi = TwoSampleTests.chiSquare(a, b)
                column = Column(name: name, kind: "categorical", test: "chi_square", statistic: chi.statistic, pValue: chi.pValue,
                                psi: TwoSampleTests.psi(reference: a, current: b), decidedBy: "", drifted: false)
            default:
                return nil
            }
            column.decidedBy = byP ? "p < \(alpha)" : "psi >= \(psiThreshold)"
            column.drifted = byP ? column.pValue < alpha : column.psi >= psiThreshold
            return column
        }
    }
}

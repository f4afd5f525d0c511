import Foundation
import Testing
@testable import MLOpsLearn

@Suite struct SyntheticCohortTests {
    func settings(_ change: (inout SyntheticCohort.Settings) -> Void = { _ in }) -> SyntheticCohort.Settings {
        var s = SyntheticCohort.Settings()
        s.customers = 3000
        change(&s)
        return s
    }

    @Test func sameSeedSameDataOtherSeedOtherData() {
        let a = SyntheticCohort(settings()).week(3)
        #expect(a == SyntheticCohort(settings()).week(3))
        #expect(a != SyntheticCohort(settings { $0.seed = 8 }).week(3))
        #expect(a.rowCount == 3000)
        #expect(a.names == ["customer_id", "week"] + SyntheticCohort.features + ["bought"])
    }

    @Test func customersKeepTheirIdsAndTraitsAcrossWeeks() {
        let cohort = SyntheticCohort(settings())
        let w1 = cohort.week(1), w2 = cohort.week(2)
        #expect(w1.numeric("customer_id") == w2.numeric("customer_id"))
        #expect(w1.numeric("age") == w2.numeric("age"))
        #expect(w1.categorical("region") == w2.categorical("region"))
        #expect(w1.numeric("bought") != w2.numeric("bought"))
    }

    @Test func baseRateAndItsShift() {
        let rate = { (t: Table) in t.numeric("bought")!.reduce(0, +) / Double(t.rowCount) }
        let cohort = SyntheticCohort(settings { $0.priorShiftWeek = 5; $0.priorShiftBaseRate = 0.03 })
        #expect((0.07...0.11).contains(rate(cohort.week(1))))
        #expect((0.015...0.045).contains(rate(cohort.week(6))))
    }

    @Test func conceptDriftBlendsOverTheRamp() {
        let cohort = SyntheticCohort(settings { $0.conceptDriftWeek = 10; $0.conceptDriftRampWeeks = 4 })
        #expect(cohort.blended(9).visits == SyntheticCohort.before.visits)
        let halfway = cohort.blended(11).visits
        #expect(abs(halfway - (SyntheticCohort.before.visits + SyntheticCohort.after.visits) / 2) < 1e-12)
        #expect(cohort.blended(13).visits == SyntheticCohort.after.visits)
        #expect(cohort.lastLabelledWeek(asOf: 10) == 8)
    }
}

@Suite struct FeatureEncoderTests {
    func table() -> Table {
        var t = Table()
        t.append("x", .numeric([1, 2, 3, .nan]))
        t.append("c", .categorical(["b", "a", "b", "a"]))
        t.append("y", .numeric([0, 1, 0, 1]))
        return t
    }

    @Test func standardisesAndOneHotsWithAnUnseenSlot() throws {
        let encoder = try FeatureEncoder.fit(table(), exclude: ["y"])
        #expect(encoder.numerics == [.init(name: "x", mean: 2, std: sqrt(2.0 / 3))])
        #expect(encoder.featureNames == ["x", "c=a", "c=b", "c=<unseen>"])
        var other = Table()
        other.append("x", .numeric([2, .nan]))
        other.append("c", .categorical(["a", "z"]))
        let m = try encoder.encode(other)
        #expect(m.storage == [0, 1, 0, 0, 0, 0, 0, 1])
    }

    @Test func columnWiseScoringEqualsTheMatrixPath() throws {
        var s = SyntheticCohort.Settings()
        s.customers = 700
        let data = SyntheticCohort(s).week(3)
        var withGaps = Table()
        for (name, column) in zip(data.names, data.columns) {
            if case let .numeric(values) = column, name == "income" {
                withGaps.append(name, .numeric(values.enumerated().map { $0.offset % 7 == 0 ? .nan : $0.element }))
            } else if case let .categorical(values) = column, name == "region" {
                withGaps.append(name, .categorical(values.enumerated().map { $0.offset % 11 == 0 ? "atlantis" : $0.element }))
            } else {
                withGaps.append(name, column)
            }
        }
        let encoder = try FeatureEncoder.fit(data, features: SyntheticCohort.features)
        var g = SeededGenerator(seed: 5)
        let weights = (0..<encoder.width).map { _ in g.normal() }
        let direct = try encoder.linearPredictor(withGaps, intercept: -1.5, weights: weights)
        let matrix = try encoder.encode(withGaps)
        for r in 0..<matrix.rows {
            var z = -1.5
            for c in 0..<matrix.columns { z += weights[c] * matrix[r, c] }
            #expect(abs(z - direct[r]) < 1e-12)
        }
    }

    @Test func missingPolicyAndMissingColumns() throws {
        let strict = try FeatureEncoder.fit(table(), exclude: ["y"], missing: .error)
        #expect(throws: FeatureEncoder.EncodingError.self) { try strict.encode(self.table()) }
        #expect(throws: FeatureEncoder.EncodingError.self) { try FeatureEncoder.fit(self.table(), features: ["nope"]) }
        var missingColumn = Table()
        missingColumn.append("c", .categorical(["a"]))
        #expect(throws: FeatureEncoder.EncodingError.self) { try strict.encode(missingColumn) }
    }
}

@Suite struct LogisticRegressionTests {
    func data(seed: UInt64 = 1, n: Int = 2000) -> (Matrix, [Bool]) {
        var g = SeededGenerator(seed: seed)
        var x = Matrix(rows: n, columns: 3)
        var y: [Bool] = []
        for r in 0..<n {
            for c in 0..<3 { x[r, c] = g.normal() }
            y.append(g.bernoulli(1 / (1 + exp(-(-1 + 1.5 * x[r, 0] - 0.8 * x[r, 1])))))
        }
        return (x, y)
    }

    @Test func theFitSatisfiesItsOptimalityConditions() {
        let (x, y) = data()
        let model = LogisticRegression(l2: 2.0)
        let fit = model.fit(x, labels: y)
        #expect(fit.converged)
        #expect(fit.iterations < 15)
        // An independent check: the objective's finite-difference gradient vanishes at the fit.
        let theta = [fit.intercept] + fit.weights
        for i in theta.indices {
            var up = theta, down = theta
            up[i] += 1e-5
            down[i] -= 1e-5
            let slope = (model.objective(x, y, up) - model.objective(x, y, down)) / 2e-5
            #expect(abs(slope) < 1e-4, "d/dθ\(i) = \(slope)")
        }
        // It recovers the generating coefficients roughly.
        #expect(abs(fit.weights[0] - 1.5) < 0.2 && abs(fit.weights[1] + 0.8) < 0.2 && abs(fit.weights[2]) < 0.15)
    }

    @Test func aHeavyPenaltyLeavesOnlyTheBaseRate() {
        let (x, y) = data()
        let fit = LogisticRegression(l2: 1e12).fit(x, labels: y)
        let rate = Double(y.filter { $0 }.count) / Double(y.count)
        #expect(fit.weights.allSatisfy { abs($0) < 1e-6 })
        #expect(abs(fit.intercept - log(rate / (1 - rate))) < 1e-6)
    }

    @Test func classWeightsShiftTheIntercept() {
        let (x, y) = data()
        let plain = LogisticRegression(l2: 1).fit(x, labels: y)
        let balanced = LogisticRegression(l2: 1, classWeights: (1, 3)).fit(x, labels: y)
        #expect(balanced.intercept > plain.intercept + 0.5)
    }

    @Test func learnsThePropensityOfTheSyntheticCohort() throws {
        var settings = SyntheticCohort.Settings()
        settings.customers = 4000
        let cohort = SyntheticCohort(settings)
        let train = cohort.weeks(1...3), test = cohort.week(4)
        let encoder = try FeatureEncoder.fit(train, features: SyntheticCohort.features)
        let labels = { (t: Table) in t.numeric("bought")!.map { $0 == 1 } }
        let fit = LogisticRegression(l2: 1).fit(try encoder.encode(train), labels: labels(train))
        let auc = BinaryMetrics.auc(scores: fit.probabilities(try encoder.encode(test)), labels: labels(test))
        #expect(fit.converged)
        #expect(auc > 0.75, "AUC \(auc)")
    }
}

import Foundation

/// L2-regularised logistic regression fitted by Newton's method (IRLS) with a backtracking line
/// search: for the tens of features a propensity model has, the Hessian is small, a few passes
/// converge to machine precision, and no learning rate needs tuning.
///
/// Minimises Σᵢ cᵢ·logloss(yᵢ, σ(b + w·xᵢ)) + (l2 / 2)·‖w‖², the intercept b unpenalised; `l2`
/// is scikit-learn's 1 / C.
public struct LogisticRegression: Sendable {
    public var l2: Double
    public var maxIterations: Int
    /// Stop when the gradient's largest component, divided by the total sample weight, is below this.
    public var tolerance: Double
    /// Weights of the negative and the positive class (1, 1 by default).
    public var classWeights: (negative: Double, positive: Double)

    public init(l2: Double = 1.0, maxIterations: Int = 50, tolerance: Double = 1e-8,
                classWeights: (negative: Double, positive: Double) = (1, 1)) {
        self.l2 = l2
        self.maxIterations = maxIterations
        self.tolerance = tolerance
        self.classWeights = classWeights
    }

    public struct Fit: Sendable, Codable, Equatable {
        public var intercept: Double
        public var weights: [Double]
        public var iterations: Int
        public var gradientNorm: Double
        public var converged: Bool
        public var objective: Double

        public init(intercept: Double, weights: [Double], iterations: Int, gradientNorm: Double, converged: Bool, objective: Double) {
            self.intercept = intercept
            self.weights = weights
            self.iterations = iterations
            self.gradientNorm = gradientNorm
            self.converged = converged
            self.objective = objective
        }
    }

    public func fit(_ x: Matrix, labels: [Bool]) -> Fit {
        precondition(x.rows == labels.count, "\(x.rows) rows but \(labels.count) labels")
        let p = x.columns + 1  // parameter 0 is the intercept
        var theta = [Double](repeating: 0, count: p)
        // Start the intercept at the weighted log-odds of the base rate.
        let positives = labels.reduce(0.0) { $0 + ($1 ? classWeights.positive : 0) }
        let negatives = labels.reduce(0.0) { $0 + ($1 ? 0 : classWeights.negative) }
        if positives > 0, negatives > 0 { theta[0] = log(positives / negatives) }
        // Newton with exact Hessians for the first steps, then the chord method: the last
        // factorisation is reused (a pass then costs O(n·p), not O(n·p²)) while steps are taken
        // whole; a step that needs backtracking brings a fresh Hessian.
        let scale = max(1, positives + negatives)
        var current = evaluate(x, labels, theta, hessian: true)
        var factor: [Double]?
        var iterations = 0
        var freshSteps = 0
        var forceFresh = false
        while iterations < maxIterations {
            let gradientNorm = current.gradient.map(abs).max() ?? 0
            if gradientNorm / scale < tolerance { break }
            if let hessian = current.hessian { factor = Self.cholesky(hessian, size: p) }
            guard let l = factor, let step = Self.solve(l, current.gradient, size: p) else { break }
            iterations += 1
            var slope = 0.0
            for i in 0..<p { slope += current.gradient[i] * step[i] }
            let wantHessian = freshSteps < 3 || forceFresh
            var t = 1.0
            var candidate = theta
            var next = current
            for _ in 0..<30 {
                for i in 0..<p { candidate[i] = theta[i] - t * step[i] }
                next = evaluate(x, labels, candidate, hessian: wantHessian || t < 1)
                if next.objective <= current.objective - 1e-4 * t * slope { break }
                t /= 2
            }
            if t < 1 && next.hessian == nil { next = evaluate(x, labels, candidate, hessian: true) }
            let stepWasNewton = current.hessian != nil
            freshSteps += next.hessian != nil ? 1 : 0
            let improvement = current.objective - next.objective
            theta = candidate
            current = next
            // A step that no longer improves: a chord step gets a Newton step next; a Newton step
            // has reached the floating-point floor.
            forceFresh = false
            if improvement >= 0, improvement < 1e-15 * max(1, abs(current.objective)) {
                if stepWasNewton { break }
                forceFresh = true
                if current.hessian == nil { current = evaluate(x, labels, theta, hessian: true) }
            }
        }
        let gradientNorm = current.gradient.map(abs).max() ?? 0
        return Fit(intercept: theta[0], weights: Array(theta[1...]), iterations: iterations, gradientNorm: gradientNorm,
                   converged: gradientNorm / scale < max(tolerance, 1e-7), objective: current.objective)
    }

    struct Evaluation {
        var objective: Double
        var gradient: [Double]
        /// Full symmetric matrix, when asked for.
        var hessian: [Double]?
    }

    /// The objective, its gradient and, if asked, its Hessian, in one pass over the rows, split
    /// across the machine's cores (each chunk sums into its own slot; the slots are added at the end).
    func evaluate(_ x: Matrix, _ labels: [Bool], _ theta: [Double], hessian wantHessian: Bool) -> Evaluation {
        let p = x.columns + 1
        let chunks = x.rows >= 20_000 ? max(1, ProcessInfo.processInfo.activeProcessorCount) : 1
        let slot = 1 + p + (wantHessian ? p * p : 0)
        var partials = [Double](repeating: 0, count: chunks * slot)
        let positiveWeight = classWeights.positive, negativeWeight = classWeights.negative
        x.storage.withUnsafeBufferPointer { dataBuffer in
            labels.withUnsafeBufferPointer { labelBuffer in
                theta.withUnsafeBufferPointer { thetaBuffer in
                    partials.withUnsafeMutableBufferPointer { partialBuffer in
                        nonisolated(unsafe) let data = dataBuffer, labels = labelBuffer, th = thetaBuffer, out = partialBuffer
                        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                            let rowStart = x.rows * chunk / chunks, rowEnd = x.rows * (chunk + 1) / chunks
                            let base = chunk * slot
                            var loss = 0.0
                            var a = [Double](repeating: 1, count: p)
                            a.withUnsafeMutableBufferPointer { a in
                                for r in rowStart..<rowEnd {
                                    let row = r * x.columns
                                    var z = th[0]
                                    for c in 0..<x.columns {
                                        a[c + 1] = data[row + c]
                                        z += th[c + 1] * a[c + 1]
                                    }
                                    let y = labels[r]
                                    let weight = y ? positiveWeight : negativeWeight
                                    // One exponential serves both: e = exp(−|z|), log(1 + eᶻ) = max(z, 0) + log1p(e),
                                    // σ(z) = 1 / (1 + e) for z ≥ 0 and e / (1 + e) below.
                                    let e = exp(-abs(z))
                                    loss += weight * (max(z, 0) + log1p(e) - (y ? z : 0))
                                    let prob = z >= 0 ? 1 / (1 + e) : e / (1 + e)
                                    let residual = weight * (prob - (y ? 1 : 0))
                                    for i in 0..<p { out[base + 1 + i] += residual * a[i] }
                                    if wantHessian {
                                        let curvature = weight * prob * (1 - prob)
                                        let h = base + 1 + p
                                        for i in 0..<p {
                                            let ci = curvature * a[i]
                                            let rowBase = h + i * p
                                            for j in i..<p { out[rowBase + j] += ci * a[j] }
                                        }
                                    }
                                }
                            }
                            out[base] = loss
                        }
                    }
                }
            }
        }
        var loss = 0.0
        var gradient = [Double](repeating: 0, count: p)
        var hessian = [Double](repeating: 0, count: wantHessian ? p * p : 0)
        for chunk in 0..<chunks {
            let base = chunk * slot
            loss += partials[base]
            for i in 0..<p { gradient[i] += partials[base + 1 + i] }
            if wantHessian { for k in 0..<(p * p) { hessian[k] += partials[base + 1 + p + k] } }
        }
        var penalty = 0.0
        for i in 1..<p {
            penalty += theta[i] * theta[i]
            gradient[i] += l2 * theta[i]
        }
        if wantHessian {
            for i in 1..<p { hessian[i * p + i] += l2 }
            for i in 0..<p { for j in 0..<i { hessian[i * p + j] = hessian[j * p + i] } }
        }
        return Evaluation(objective: loss + 0.5 * l2 * penalty, gradient: gradient, hessian: wantHessian ? hessian : nil)
    }

    /// The objective written plainly, row by row: the tests' independent check on `evaluate`.
    func objective(_ x: Matrix, _ labels: [Bool], _ theta: [Double]) -> Double {
        var total = 0.0
        x.storage.withUnsafeBufferPointer { data in
            for r in 0..<x.rows {
                var z = theta[0]
                let row = r * x.columns
                for c in 0..<x.columns { z += theta[c + 1] * data[row + c] }
                // log(1 + e^z) − y·z, computed stably.
                let softplus = z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))
                total += (labels[r] ? classWeights.positive : classWeights.negative) * (softplus - (labels[r] ? z : 0))
            }
        }
        var penalty = 0.0
        for i in 1..<theta.count { penalty += theta[i] * theta[i] }
        return total + 0.5 * l2 * penalty
    }

    /// The Cholesky factor L (H = L·Lᵀ) of a symmetric positive-definite matrix; nil if it is not.
    static func cholesky(_ h: [Double], size n: Int) -> [Double]? {
        var l = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                var sum = h[i * n + j]
                for k in 0..<j { sum -= l[i * n + k] * l[j * n + k] }
                if i == j {
                    guard sum > 0 else { return nil }
                    l[i * n + i] = sqrt(sum)
                } else {
                    l[i * n + j] = sum / l[j * n + j]
                }
            }
        }
        return l
    }

    /// Solves L·Lᵀ·x = b by forward then back substitution.
    static func solve(_ l: [Double], _ b: [Double], size n: Int) -> [Double]? {
        var y = [Double](repeating: 0, count: n)
        for i in 0..<n {
            var sum = b[i]
            for k in 0..<i { sum -= l[i * n + k] * y[k] }
            y[i] = sum / l[i * n + i]
        }
        var x = [Double](repeating: 0, count: n)
        for i in stride(from: n - 1, through: 0, by: -1) {
            var sum = y[i]
            for k in (i + 1)..<n { sum -= l[k * n + i] * x[k] }
            x[i] = sum / l[i * n + i]
        }
        return x
    }
}

extension LogisticRegression.Fit {
    /// σ(b + w·x) for each row.
    public func probabilities(_ x: Matrix) -> [Double] {
        precondition(x.columns == weights.count, "\(x.columns) inputs but the model has \(weights.count)")
        var out = [Double](repeating: 0, count: x.rows)
        x.storage.withUnsafeBufferPointer { data in
            weights.withUnsafeBufferPointer { w in
                for r in 0..<x.rows {
                    var z = intercept
                    let row = r * x.columns
                    for c in 0..<x.columns { z += w[c] * data[row + c] }
                    out[r] = 1 / (1 + exp(-z))
                }
            }
        }
        return out
    }
}

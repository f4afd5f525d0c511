import Foundation

/// A customer base that changes over time, for a propensity model to learn and be monitored on with
/// no outside data. Every customer has a stable id and lasting traits (age, income, region,
/// channel, when they joined); each week adds behaviour (products, days since the last purchase,
/// web visits) and whether they bought, drawn from a logistic model. Knobs move the world: concept
/// drift (the label's coefficients blend toward another set), covariate drift (behaviour shifts),
/// prior shift (the base rate), and the delay before an outcome is known. Same seed, same data.
public struct SyntheticCohort: Sendable {
    public struct Settings: Sendable, Hashable, Codable {
        public var customers = 5000
        public var seed: UInt64 = 7
        /// The share who buy in a week, before any prior shift.
        public var baseRate = 0.09
        /// From this week the label's coefficients blend toward the new set, fully after the ramp.
        public var conceptDriftWeek: Int?
        public var conceptDriftRampWeeks = 4
        /// From this week web visits and recency shift by this many standard deviations.
        public var covariateDriftWeek: Int?
        public var covariateShift = 0.75
        /// From this week the base rate becomes `priorShiftBaseRate`.
        public var priorShiftWeek: Int?
        public var priorShiftBaseRate = 0.05
        /// Weeks before a purchase is known.
        public var labelDelayWeeks = 2

        public init() {}
    }

    public let settings: Settings

    public init(_ settings: Settings) { self.settings = settings }

    public static let regions = ["north", "south", "east", "west", "centre"]
    public static let channels = ["branch", "web", "app"]
    public static let label = "bought"
    public static let features = ["age", "income", "tenure_months", "products", "days_since_purchase", "web_visits", "channel", "region"]

    /// Coefficients on standardised features: before concept drift, and after.
    struct Coefficients {
        var age, income, tenure, products, recency, visits: Double
        var channel: [Double]  // branch, web, app
        var region: [Double]
    }

    static let before = Coefficients(age: -0.15, income: 0.35, tenure: 0.25, products: 0.45, recency: -0.7, visits: 0.85,
                                     channel: [0, 0.2, 0.5], region: [0.1, -0.1, 0, 0.05, -0.05])
    static let after = Coefficients(age: 0.55, income: 0.6, tenure: -0.2, products: -0.35, recency: -0.15, visits: 0.1,
                                    channel: [0.6, 0.1, -0.3], region: [-0.2, 0.25, 0.1, -0.1, 0])

    struct Traits {
        var age: Double
        var logIncome: Double
        var joinedWeeksAgo: Double
        var region: Int
        var channel: Int
        var activity: Double
    }

    func traits(_ id: Int) -> Traits {
        var g = SeededGenerator(seed: settings.seed, stream: 1, UInt64(id))
        let age = min(90, max(18, 45 + 12 * g.normal()))
        let logIncome = log(32_000) + 0.5 * g.normal()
        let joined = Double(Int(g.uniform() * 520))
        let region = g.choice(weights: [0.25, 0.2, 0.2, 0.2, 0.15])
        let channel = g.choice(weights: age > 55 ? [0.6, 0.3, 0.1] : [0.25, 0.35, 0.4])
        let activity = exp(0.4 * g.normal())
        return Traits(age: age, logIncome: logIncome, joinedWeeksAgo: joined, region: region, channel: channel, activity: activity)
    }

    /// The whole base in one week: features and the label. `wrongConcept` draws the label from the
    /// drifted coefficients whatever the week: a corrupted label feed, for a deliberately bad model.
    public func week(_ week: Int, wrongConcept: Bool = false) -> Table {
        let n = settings.customers
        var ids = [Double](), ages = [Double](), incomes = [Double](), tenures = [Double](), products = [Double]()
        var recency = [Double](), visits = [Double](), channels = [String](), regions = [String](), logits = [Double]()
        ids.reserveCapacity(n)
        let coefficients = wrongConcept ? Self.after : blended(week)
        let covariateShift = settings.covariateDriftWeek.map { week >= $0 ? settings.covariateShift : 0 } ?? 0
        for id in 0..<n {
            let t = traits(id)
            var g = SeededGenerator(seed: settings.seed, stream: 2, UInt64(week), UInt64(id))
            let tenure = t.joinedWeeksAgo / 4.345 + Double(week) / 4.345
            let productCount = Double(1 + g.poisson(min(4, 0.5 + tenure / 60)))
            let days = max(0, (30 / t.activity) * -log(1 - g.uniform()) * (1 + covariateShift))
            let webVisits = Double(g.poisson(max(0.1, t.activity * (2 + Double(t.channel)) * (1 + covariateShift))))
            ids.append(Double(id))
            ages.append((t.age * 10).rounded() / 10)
            incomes.append((exp(t.logIncome) / 10).rounded() * 10)
            tenures.append(tenure.rounded())
            products.append(productCount)
            recency.append(days.rounded())
            visits.append(webVisits)
            channels.append(Self.channels[t.channel])
            regions.append(Self.regions[t.region])
            let z = coefficients.age * (t.age - 45) / 12
                + coefficients.income * (t.logIncome - log(32_000)) / 0.5
                + coefficients.tenure * (tenure - 60) / 35
                + coefficients.products * (productCount - 2) / 1
                + coefficients.recency * (min(days, 365) - 30) / 30
                + coefficients.visits * (webVisits - 3) / 2.5
                + coefficients.channel[t.channel] + coefficients.region[t.region]
            logits.append(z)
        }
        let rate = settings.priorShiftWeek.map { week >= $0 ? settings.priorShiftBaseRate : settings.baseRate } ?? settings.baseRate
        let intercept = Self.intercept(for: logits, baseRate: rate)
        var bought = [Double]()
        bought.reserveCapacity(n)
        for id in 0..<n {
            var g = SeededGenerator(seed: settings.seed, stream: 3, UInt64(week), UInt64(id))
            bought.append(g.bernoulli(1 / (1 + exp(-(intercept + logits[id])))) ? 1 : 0)
        }
        var table = Table()
        table.append("customer_id", .numeric(ids))
        table.append("week", .numeric([Double](repeating: Double(week), count: n)))
        table.append("age", .numeric(ages))
        table.append("income", .numeric(incomes))
        table.append("tenure_months", .numeric(tenures))
        table.append("products", .numeric(products))
        table.append("days_since_purchase", .numeric(recency))
        table.append("web_visits", .numeric(visits))
        table.append("channel", .categorical(channels))
        table.append("region", .categorical(regions))
        table.append(Self.label, .numeric(bought))
        return table
    }

    /// Weeks `from` through `to`, stacked.
    public func weeks(_ range: ClosedRange<Int>, wrongConcept: Bool = false) -> Table {
        range.reduce(Table()) { $0.appending(week($1, wrongConcept: wrongConcept)) }
    }

    /// The last week whose outcomes are known at `week`.
    public func lastLabelledWeek(asOf week: Int) -> Int { week - settings.labelDelayWeeks }

    func blended(_ week: Int) -> Coefficients {
        guard let start = settings.conceptDriftWeek, week >= start else { return Self.before }
        let w = min(1, Double(week - start + 1) / Double(max(1, settings.conceptDriftRampWeeks)))
        func mix(_ a: Double, _ b: Double) -> Double { (1 - w) * a + w * b }
        let a = Self.before, b = Self.after
        return Coefficients(age: mix(a.age, b.age), income: mix(a.income, b.income), tenure: mix(a.tenure, b.tenure),
                            products: mix(a.products, b.products), recency: mix(a.recency, b.recency), visits: mix(a.visits, b.visits),
                            channel: zip(a.channel, b.channel).map(mix), region: zip(a.region, b.region).map(mix))
    }

    /// The intercept that makes the mean probability equal `baseRate`, by bisection.
    static func intercept(for logits: [Double], baseRate: Double) -> Double {
        var low = -20.0, high = 20.0
        for _ in 0..<80 {
            let mid = (low + high) / 2
            let mean = logits.reduce(0) { $0 + 1 / (1 + exp(-(mid + $1))) } / Double(max(1, logits.count))
            if mean < baseRate { low = mid } else { high = mid }
        }
        return (low + high) / 2
    }
}

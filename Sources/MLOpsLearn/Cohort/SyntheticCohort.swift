import Foundation
import Synchronization

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
        let key = WeekKey(settings: settings, week: week, wrongConcept: wrongConcept)
        if let table = Self.recent.withLock({ $0.table(key) }) { return table }
        let table = generate(week, wrongConcept: wrongConcept)
        Self.recent.withLock { $0.keep(table, for: key) }
        return table
    }

    func generate(_ week: Int, wrongConcept: Bool) -> Table {
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

    struct WeekKey: Hashable {
        var settings: Settings
        var week: Int
        var wrongConcept: Bool
    }

    /// The weeks generated last in this process. A weekly job's history window repeats all but one
    /// of last week's weeks, so a long-lived process (the scheduler, a simulated year) generates
    /// each week once; a week is pure in its key, so a kept one is the same table.
    struct RecentWeeks {
        static let capacity = 12
        var tables: [WeekKey: Table] = [:]
        var order: [WeekKey] = []

        func table(_ key: WeekKey) -> Table? { tables[key] }

        mutating func keep(_ table: Table, for key: WeekKey) {
            guard tables.updateValue(table, forKey: key) == nil else { return }
            order.append(key)
            if order.count > Self.capacity { tables[order.removeFirst()] = nil }
        }
    }

    static let recent = Mutex(RecentWeeks())

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

    /// The intercept that makes the mean probability equal `baseRate`: Newton's method (the mean is
    /// increasing and smooth in the intercept, so it converges in a handful of steps), kept inside a
    /// bisection bracket so a flat start cannot throw it out.
    static func intercept(for logits: [Double], baseRate: Double) -> Double {
        var low = -20.0, high = 20.0
        let n = Double(max(1, logits.count))
        let target = min(max(baseRate, 1e-9), 1 - 1e-9)
        var b = log(target / (1 - target)) - logits.reduce(0, +) / n
        for _ in 0..<60 {
            b = min(max(b, low), high)
            var mean = 0.0, slope = 0.0
            for z in logits {
                let p = 1 / (1 + exp(-(b + z)))
                mean += p
                slope += p * (1 - p)
            }
            mean /= n
            slope /= n
            let gap = mean - target
            if abs(gap) < 1e-13 { break }
            if gap < 0 { low = b } else { high = b }
            let step = slope > 1e-12 ? gap / slope : .infinity
            let next = b - step
            b = next > low && next < high ? next : (low + high) / 2
            if high - low < 1e-12 { break }
        }
        return b
    }
}

import Foundation
import Logging
import MLOpsCore
import MLOpsLearn
import Prometheus
import ServiceLifecycle
import Synchronization

/// What the server answers with, per model: the champion, and while a rollout is in flight its
/// candidate and weight. The snapshot is replaced whole when the store says a rollout or an alias
/// moved, after the new versions are loaded, so a request always meets a complete routing table:
/// a switch or a rollback under load fails no request.
final class ServingCatalog: Sendable {
    struct Served: Sendable {
        var version: Int
        var scorer: RowScorer
        var counter: Counter
    }

    struct Route: Sendable {
        var model: String
        var stable: Served
        var candidate: Served?
        var weight: Int
        var rolloutID: String?

        /// Sticky by entity; a request with no entity is routed at random.
        func served(for entity: String?) -> Served {
            guard let candidate, let rolloutID else { return stable }
            _ = rolloutID
            if let entity {
                return StickyRouting.takesCandidate(entity, salt: StickyRouting.salt(model: model, candidate: candidate.version), weight: weight) ? candidate : stable
            }
            return Int.random(in: 0..<100) < weight ? candidate : stable
        }
    }

    /// Each model's routing, as read from the store.
    struct Plan: Sendable, Equatable {
        var model: String
        var stable: Int
        var candidate: Int?
        var weight: Int
        var rolloutID: String?
    }

    let store: Store
    let registry: ModelRegistry
    let metrics: ServerMetrics
    let logger: Logger
    private let routes = Mutex<[String: Route]>([:])
    private let plans = Mutex<[Plan]?>(nil)
    private let loaded = Mutex<[String: RowScorer]>([:])

    init(store: Store, registryDirectory: String, metrics: ServerMetrics, logger: Logger) {
        self.store = store
        registry = ModelRegistry(store: store, directory: registryDirectory)
        self.metrics = metrics
        self.logger = logger
    }

    func route(_ model: String) -> Route? { routes.withLock { $0[model] } }
    var isReady: Bool { plans.withLock { $0 != nil } }
    var models: [String] { routes.withLock { $0.keys.sorted() } }

    /// Reads the routing from the store; loads what is new, then swaps. Returns whether it changed.
    @discardableResult
    func refresh() throws -> Bool {
        let current = try store.read { tx in
            var plans: [String: Plan] = [:]
            for (model, version) in try RegistryRecords.champions(tx) {
                plans[model] = Plan(model: model, stable: version, candidate: nil, weight: 0, rolloutID: nil)
            }
            for rollout in try RolloutRecords.allInFlight(tx) where rollout.weight > 0 {
                guard let stable = rollout.stableVersion else { continue }
                plans[rollout.model] = Plan(model: rollout.model, stable: stable, candidate: rollout.candidateVersion,
                                            weight: rollout.weight, rolloutID: rollout.id)
            }
            return plans.values.sorted { $0.model < $1.model }
        }
        if plans.withLock({ $0 == current }) { return false }
        var next: [String: Route] = [:]
        for plan in current {
            do {
                let stable = try served(plan.model, plan.stable)
                let candidate = try plan.candidate.map { try served(plan.model, $0) }
                next[plan.model] = Route(model: plan.model, stable: stable, candidate: candidate, weight: plan.weight, rolloutID: plan.rolloutID)
                metrics.rolloutWeight(model: plan.model).set(Double(candidate == nil ? 0 : plan.weight))
            } catch {
                // Keep answering with what was loaded before rather than drop the model.
                logger.error("cannot load \(plan.model): \(error); keeping the previous routing for it")
                if let previous = route(plan.model) { next[plan.model] = previous }
            }
        }
        routes.withLock { $0 = next }
        plans.withLock { $0 = current }
        let summary = current.map { p in "\(p.model) v\(p.stable)" + (p.candidate.map { " + v\($0) at \(p.weight)%" } ?? "") }
        logger.info("routing: \(summary.joined(separator: ", "))")
        return true
    }

    func served(_ model: String, _ version: Int) throws -> Served {
        let key = "\(model)/\(version)"
        let scorer = try loaded.withLock { $0[key] } ?? {
            let record = try registry.version(model, version)
            try registry.verify(record)
            let scorer = RowScorer(try ModelArtifact.load(folder: record.storageLocation))
            loaded.withLock { $0[key] = scorer }
            return scorer
        }()
        return Served(version: version, scorer: scorer, counter: metrics.predictions(model: model, version: version))
    }
}

/// Keeps the catalog current and rollouts moving: reads the routing every `interval`, and every
/// `advanceEvery` lets the rollout controller end bakes and run analyses.
struct CatalogRefresher: Service {
    let catalog: ServingCatalog
    let controller: RolloutController
    let interval: Duration
    let advanceEvery: Duration

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var sinceAdvance = Duration.zero
            while !Task.isCancelled {
                do {
                    if sinceAdvance >= advanceEvery {
                        sinceAdvance = .zero
                        for model in catalog.models { try controller.advance(model, now: catalog.store.nowMillis()) }
                    }
                    try catalog.refresh()
                } catch {
                    catalog.logger.error("refresh failed: \(error)")
                }
                try? await Task.sleep(for: interval)
                sinceAdvance += interval
            }
        }
    }
}

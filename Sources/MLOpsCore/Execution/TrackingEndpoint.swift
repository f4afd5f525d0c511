/// Where command stages reach MLflow's API, possibly still starting. `mlops run` starts its
/// endpoint beside the store work of a run's start and the first command stage waits for it, so
/// the endpoint's start-up (the largest fixed cost of a short job) overlaps the rest instead of
/// preceding it.
public struct TrackingEndpoint: Sendable {
    let resolve: @Sendable () async -> String?

    /// `resolve` gives the URI once the endpoint listens (nil if it could not start).
    public init(_ resolve: @escaping @Sendable () async -> String?) {
        self.resolve = resolve
    }

    /// An endpoint already listening at `uri`.
    public static func at(_ uri: String) -> TrackingEndpoint { TrackingEndpoint { uri } }

    public func uri() async -> String? { await resolve() }
}

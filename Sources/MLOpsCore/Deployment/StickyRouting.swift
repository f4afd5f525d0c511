/// Which arm an entity is in. The bucket is a stable hash of the candidate and the entity, so an
/// entity stays in its arm across weeks and requests (outcomes attribute cleanly to one version),
/// raising the weight only moves more buckets to the candidate, each candidate draws afresh, and a
/// replay with the same data routes alike (no random id in the salt).
public enum StickyRouting {
    /// The salt of a candidate's rollout.
    public static func salt(model: String, candidate: Int) -> String { "\(model)/v\(candidate)" }

    public static let buckets: UInt64 = 10_000

    public static func bucket(_ entity: String, salt: String) -> Int {
        // FNV-1a of "salt|entity", without building the string on a request's path.
        var hash = entity.hashStable(continuing: "|".hashStable(continuing: salt.hashStable))
        // FNV's low bits mix poorly; fold the high half in before taking the bucket.
        hash ^= hash >> 29
        hash = hash &* 0xBF58_476D_1CE4_E5B9
        hash ^= hash >> 32
        return Int(hash % buckets)
    }

    public static func takesCandidate(_ entity: String, salt: String, weight: Int) -> Bool {
        bucket(entity, salt: salt) < weight * Int(buckets) / 100
    }
}


/// The registry's owner rule: which versions of a model are served or part of a rollout in flight,
/// and so may not be deleted, and which aliases a rollout holds, and so may not be moved by any
/// other door (the CLI, a stage, the MLflow API). Read inside the transaction that would make the
/// change, so a rollout that starts concurrently is seen.
package struct ServedVersions {
    package let model: String
    /// Each protected version with why, in words a person can act on.
    private(set) var reasons: [Int: String] = [:]
    /// The rollout that holds the managed aliases, if any, and what to do about it.
    private(set) var holder: (rollout: String, action: String)?

    package init(_ db: SQLDatabase, model: String) throws {
        self.model = model
        // Rollouts first: their reasons say what to do.
        let rollouts = try Row.fetchAll(db, sql: """
            SELECT id, state, candidate_version, stable_version, previous_until FROM rollouts
            WHERE model_name = ? AND (\(RolloutRecords.inFlightStates) OR previous_until IS NOT NULL)
            """, arguments: [model])
        for row in rollouts {
            let id = String((row["id"] as String).prefix(8)), state: String = row["state"]
            let stable: Int? = row["stable_version"]
            if state == "promoted" {
                if let stable { add(stable, "blue-green rollout \(id) keeps it ready as `previous` for a fast rollback") }
                holder = ("blue-green rollout \(id) (promoted, keeping v\(stable.map(String.init) ?? "?") ready)", "wait until its keep_previous_for has passed")
                continue
            }
            add(row["candidate_version"], "it is the candidate of rollout \(id) (\(state))")
            if let stable { add(stable, "it is the stable version of rollout \(id) (\(state))") }
            holder = ("rollout \(id) (\(state))", "abort it (mlops abort \(model)) or let it finish")
        }
        let aliases = try Row.fetchAll(db, sql: "SELECT alias, version FROM registered_model_aliases WHERE name = ?", arguments: [model])
        for row in aliases {
            let alias = ModelAlias(rawValue: row["alias"])
            let version: Int = row["version"]
            switch alias {
            case .champion: add(version, "it is the champion and is served")
            case .challenger: add(version, "it is the challenger of a rollout")
            case .previous: add(version, "blue-green keeps it ready as `previous` for a fast rollback")
            default: break
            }
        }
    }

    private mutating func add(_ version: Int, _ why: String) {
        if reasons[version] == nil { reasons[version] = why }
    }

    /// Refuses to delete or change `version` when it is served or in flight.
    package func refuseChange(of version: Int, _ what: String) throws {
        guard let why = reasons[version] else { return }
        throw RegistryError("cannot \(what) \(model)/\(version): \(why). \(remedy(for: version))")
    }

    /// Refuses to delete or rename the whole model while any version of it is protected.
    package func refuseModelChange(_ what: String) throws {
        guard let (version, why) = reasons.min(by: { $0.key < $1.key }) else { return }
        throw RegistryError("cannot \(what) model \(model): version \(version) \(why.hasPrefix("it ") ? String(why.dropFirst(3)) : why). \(remedy(for: version))")
    }

    /// Refuses to move or remove one of the rollouts' aliases while a rollout holds them.
    package func refuseMove(of alias: ModelAlias) throws {
        guard alias.isManagedByRollouts, let holder else { return }
        throw RegistryError("cannot move \(model)@\(alias): \(holder.rollout) holds champion, challenger and previous. First \(holder.action).")
    }

    private func remedy(for version: Int) -> String {
        if let holder { return "First \(holder.action)." }
        return "First point champion at another version (mlops models alias \(model) champion VERSION) or roll back (mlops rollback \(model))."
    }
}

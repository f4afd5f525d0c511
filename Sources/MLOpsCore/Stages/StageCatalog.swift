import Yams

/// The built-in stages a spec may name in `uses:`, each with the check of its `with:` and the
/// factory that makes it. Validation and execution read the same list, so they cannot disagree.
public struct StageCatalog: Sendable {
    public struct Descriptor: Sendable {
        public var name: String
        public var summary: String
        /// Nil while a stage is known to the spec but cannot run in this version.
        var make: (@Sendable ([String: SpecValue]) -> any Stage)?
        var validate: @Sendable (inout SpecReader, Node?, String, [String: SpecValue]) -> Void
    }

    var descriptors: [String: Descriptor]

    public var names: [String] { descriptors.keys.sorted() }
    public func descriptor(_ name: String) -> Descriptor? { descriptors[name] }

    public func makeStage(_ name: String, with: [String: SpecValue]) -> (any Stage)? {
        descriptors[name]?.make?(with)
    }

    public static let standard = StageCatalog(descriptors: Dictionary(uniqueKeysWithValues: [
        Descriptor(name: "noop", summary: "does nothing; a join point or a placeholder",
                   make: { _ in NoopStage() }, validate: allowKeys([])),
        Descriptor(name: "sleep", summary: "waits `duration` (default 1s)",
                   make: { SleepStage(with: $0) },
                   validate: { reader, node, path, _ in
                       checkKeys(&reader, node, path, ["duration"])
                       if let value = child(node, "duration") { _ = reader.duration(value, "\(path).duration") }
                   }),
        Descriptor(name: "fail", summary: "fails with `message`; for testing failure paths",
                   make: { FailStage(with: $0) }, validate: allowKeys(["message"])),
        Descriptor(name: "synthetic-cohort", summary: "this week's customers and the labelled history, from a seeded generator",
                   make: { SyntheticCohortStage(with: $0) }, validate: allowKeys(SyntheticCohortStage.keys)),
        Descriptor(name: "csv", summary: "a user's own CSV: labelled history and rows to score",
                   make: { CSVIngestStage(with: $0) }, validate: allowKeys(CSVIngestStage.keys)),
        Descriptor(name: "logistic-regression", summary: "fits L2 logistic regression (Newton) on the history, the latest week held out",
                   make: { LogisticRegressionStage(with: $0) }, validate: allowKeys(LogisticRegressionStage.keys)),
        Descriptor(name: "evaluate", summary: "AUC, log loss, Brier, precision/recall/F1, hit rate and lift at k, ECE on the held-out week",
                   make: { EvaluateStage(with: $0) }, validate: allowKeys(EvaluateStage.keys)),
        Descriptor(name: "gate", summary: "passes a candidate only if upstream metrics meet `rules` (min/max, vs champion); a failure tags it gate=failed",
                   make: { GateStage(with: $0) }, validate: allowKeys(GateStage.keys)),
        Descriptor(name: "deploy", summary: "registers the upstream model and rolls it out: replace, canary or blue_green",
                   make: { DeployStage(with: $0) },
                   validate: { reader, node, path, _ in _ = DeploySpecParser.parse(node, path: path, reader: &reader) }),
        Descriptor(name: "outcomes", summary: "attaches the labels that became known (history.csv) to the predictions they answer",
                   make: { OutcomesStage(with: $0) }, validate: allowKeys(OutcomesStage.keys)),
        Descriptor(name: "score", summary: "scores current.csv with a model alias, picks whom to contact, keeps a random holdout",
                   make: { ScoreStage(with: $0) }, validate: allowKeys(ScoreStage.keys)),
    ].map { ($0.name, $0) }))

    static func allowKeys(_ keys: [String]) -> @Sendable (inout SpecReader, Node?, String, [String: SpecValue]) -> Void {
        { reader, node, path, _ in checkKeys(&reader, node, path, keys) }
    }

    static func checkKeys(_ reader: inout SpecReader, _ node: Node?, _ path: String, _ keys: [String]) {
        guard let node else { return }
        _ = reader.mapping(node, path, allowed: keys)
    }

    static func child(_ node: Node?, _ key: String) -> Node? {
        guard case let .mapping(mapping)? = node else { return nil }
        return mapping[key]
    }
}

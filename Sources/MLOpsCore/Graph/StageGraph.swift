/// A job's stages as a dependency graph: what can run in parallel, and in what order.
public struct StageGraph: Sendable {
    public let names: [String]
    /// For each stage, the stages it needs (only those that exist).
    public let needs: [String: [String]]
    /// For each stage, the stages that need it.
    public let dependents: [String: [String]]

    public init(job: JobSpec) {
        let known = Set(job.stages.map(\.name))
        names = job.stages.map(\.name)
        var needs: [String: [String]] = [:]
        var dependents: [String: [String]] = [:]
        for stage in job.stages {
            needs[stage.name] = stage.needs.filter { known.contains($0) && $0 != stage.name }
            dependents[stage.name, default: []] += []
            for need in needs[stage.name]! { dependents[need, default: []].append(stage.name) }
        }
        self.needs = needs
        self.dependents = dependents
    }

    /// A cycle as a list of stages in which each needs the next (and the last needs the first), or nil.
    public func cycle() -> [String]? {
        enum Mark { case visiting, done }
        var marks: [String: Mark] = [:]
        var stack: [String] = []
        func visit(_ name: String) -> [String]? {
            marks[name] = .visiting
            stack.append(name)
            for need in needs[name] ?? [] {
                switch marks[need] {
                case .visiting?:
                    let start = stack.firstIndex(of: need)!
                    return Array(stack[start...])
                case nil:
                    if let found = visit(need) { return found }
                case .done?: break
                }
            }
            stack.removeLast()
            marks[name] = .done
            return nil
        }
        for name in names where marks[name] == nil {
            if let found = visit(name) { return found }
        }
        return nil
    }

    /// Stages grouped by depth: layer 0 needs nothing, layer n needs something in layer n-1.
    /// Empty when the graph has a cycle.
    public func layers() -> [[String]] {
        var depth: [String: Int] = [:]
        var remaining = names
        while !remaining.isEmpty {
            var progressed = false
            remaining = remaining.filter { name in
                let deps = needs[name] ?? []
                guard deps.allSatisfy({ depth[$0] != nil }) else { return true }
                depth[name] = (deps.map { depth[$0]! }.max() ?? -1) + 1
                progressed = true
                return false
            }
            if !progressed { return [] }
        }
        let count = (depth.values.max() ?? -1) + 1
        var layers = [[String]](repeating: [], count: count)
        for name in names { layers[depth[name]!].append(name) }
        return layers
    }

    /// Every stage that `name` needs, directly or not.
    public func ancestors(of name: String) -> Set<String> {
        var result = Set<String>()
        var queue = needs[name] ?? []
        while let next = queue.popLast() {
            if result.insert(next).inserted { queue += needs[next] ?? [] }
        }
        return result
    }

    /// Graphviz source, edges in the direction data flows.
    public func dot(jobName: String, labels: [String: String] = [:]) -> String {
        let quote = TextEscaping.quoted
        var lines = ["digraph \(quote(jobName)) {", "  rankdir=LR;", "  node [shape=box, style=rounded];"]
        for name in names {
            lines.append("  \(quote(name)) [label=\(quote(name + (labels[name].map { "\n" + $0 } ?? "")))];")
        }
        for name in names {
            for need in needs[name] ?? [] { lines.append("  \(quote(need)) -> \(quote(name));") }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Turns a pipeline and a selection into a ``Plan``: pure, no processes, no store.
public enum Planner {
    public static func plan(_ pipeline: Pipeline, selection: Selection = Selection()) throws(SelectionError) -> Plan {
        let graph = DependencyGraph(steps: pipeline.steps)
        var problems: [String] = []
        let tags = Set(pipeline.steps.flatMap(\.tags))
        let instances = Dictionary(grouping: pipeline.steps.indices.filter { pipeline.steps[$0].instance != nil }) {
            pipeline.steps[$0].instance!.of
        }
        // A step's name, a fan-out's name for all its instances (`--only map`), or a tag standing for every step that
        // carries it (`--skip extraction`).
        func indices(_ names: [String], _ flag: String) -> [Int] {
            names.flatMap { name in
                if let index = graph.index[name] { return [index] }
                if let members = instances[name] { return members }
                // An instance of a fan-out whose items come at run time stands for the fan-out (a resumed run's).
                if let fanOut = FanOutSummary.fanOut(of: name), let index = graph.index[fanOut], pipeline.steps[index].fanOut?.isDynamic == true {
                    return [index]
                }
                if tags.contains(name) { return pipeline.steps.indices.filter { pipeline.steps[$0].tags.contains(name) } }
                let candidates = graph.names.filter { !$0.hasSuffix("]") } + instances.keys.sorted() + tags.sorted()
                let hint = Suggestion.closest(to: name, among: candidates).map { " (did you mean '\($0)'?)" } ?? ""
                problems.append("\(flag): '\(name)' is neither a step nor a tag of pipeline '\(pipeline.id)'\(hint)")
                return []
            }
        }
        let chosen = indices(selection.steps, "step")
        let from = indices(selection.from, "--from")
        let to = indices(selection.to, "--to")
        let only = indices(selection.only, "--only")
        let skip = indices(selection.skip, "--skip")
        var modeMembers: Set<Int>?
        if let name = selection.mode {
            if let mode = pipeline.modes.first(where: { $0.name == name }) {
                let members = Set(mode.members)
                modeMembers = Set(
                    pipeline.steps.indices.filter { index in
                        let step = pipeline.steps[index]
                        return members.contains(step.instance?.of ?? step.name) || members.contains(step.name) || !members.isDisjoint(with: step.tags)
                    })
            } else {
                let known = pipeline.modes.map(\.name)
                problems.append(
                    "--mode: pipeline '\(pipeline.id)' has no mode '\(name)'"
                        + (known.isEmpty ? "; it declares no modes" : "; its modes are: \(known.joined(separator: ", "))"))
            }
        }
        guard problems.isEmpty else { throw SelectionError(problems: problems) }

        // Each rule may exclude a step; the first rule that does gives the reason.
        var reasons: [Int: String] = [:]
        var inclusion: [Int: String] = [:]
        func exclude(_ index: Int, _ reason: String) { if reasons[index] == nil { reasons[index] = reason } }
        let all = Array(pipeline.steps.indices)
        if !chosen.isEmpty {
            let upstream = selection.withDependencies ? graph.ancestors(of: chosen) : []
            let names = selection.steps.joined(separator: ", ")
            for index in all {
                if chosen.contains(index) {
                    inclusion[index] = "selected"
                } else if upstream.contains(index) {
                    inclusion[index] = "upstream of \(names) (--with-deps)"
                } else {
                    exclude(index, "not selected (running \(names) alone)")
                }
            }
        }
        if let modeMembers, let name = selection.mode {
            for index in all where !modeMembers.contains(index) { exclude(index, "not in mode '\(name)'") }
            for index in modeMembers where inclusion[index] == nil { inclusion[index] = "in mode '\(name)'" }
        }
        if !only.isEmpty {
            for index in all where !only.contains(index) { exclude(index, "not listed in --only") }
            for index in only where inclusion[index] == nil { inclusion[index] = "listed in --only" }
        }
        if !from.isEmpty {
            let kept = graph.descendants(of: from).union(from)
            for index in all where !kept.contains(index) { exclude(index, "before --from \(selection.from.joined(separator: ","))") }
        }
        if !to.isEmpty {
            let kept = graph.ancestors(of: to).union(to)
            for index in all where !kept.contains(index) { exclude(index, "after --to \(selection.to.joined(separator: ","))") }
        }
        for index in skip { exclude(index, "skipped by --skip") }

        let entries = graph.topologicalOrder().map { index in
            Plan.Entry(
                index: index, step: pipeline.steps[index], included: reasons[index] == nil,
                reason: reasons[index] ?? inclusion[index] ?? (selection.isWholePipeline ? "part of the pipeline" : "selected"))
        }
        return Plan(pipeline: pipeline, graph: graph, entries: entries, selection: selection)
    }
}

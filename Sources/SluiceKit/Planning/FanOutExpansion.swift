/// The pipeline one run executes: each `foreach` or `matrix` step replaced by its instances (`map[A]`, `map[B]`),
/// every `{{ ... }}` filled in, and each step that depended on a fan-out depending on all of its instances.
///
/// Pure but for `files`, which matches a glob in the workspace. `{{ run.id }}` stays as written until launch.
public enum FanOutExpansion {
    /// More instances than this from one step is a mistake (a matrix's cross product gone wild), refused before
    /// anything is built.
    static let maximumInstances = 250_000

    public static func expand(
        _ pipeline: Pipeline, parameters: [String: String], files: (String) -> [String]
    ) throws(SluiceError) -> Pipeline {
        guard pipeline.steps.contains(where: { $0.fanOut != nil || hasTemplates($0) }) else { return pipeline }
        var expanded = pipeline
        expanded.steps = []
        var instancesOf: [String: [String]] = [:]
        for step in pipeline.steps {
            guard let fanOut = step.fanOut else {
                expanded.steps.append(try fill(step, item: nil, parameters: parameters))
                continue
            }
            let items = try self.items(of: fanOut.source, step: step.name, parameters: parameters, files: files)
            var used = Set<String>()
            var names: [String] = []
            names.reserveCapacity(items.count)
            for (position, item) in items.enumerated() {
                var key = instanceKey(item.label)
                if !used.insert(key).inserted {
                    key += "~\(position)"
                    used.insert(key)
                }
                var instance = try fill(step, item: item, parameters: parameters)
                instance.name = "\(step.name)[\(key)]"
                instance.fanOut = nil
                instance.instance = StepInstance(
                    of: step.name, item: item, position: position,
                    sourceParameter: { if case let .parameter(name) = fanOut.source { name } else { nil } }(),
                    maxParallel: fanOut.maxParallel, failFast: fanOut.failFast)
                instance.environment["SLUICE_ITEM"] = item.value
                for (field, value) in item.fields { instance.environment["SLUICE_ITEM_\(field.uppercased())"] = value }
                names.append(instance.name)
                expanded.steps.append(instance)
            }
            instancesOf[step.name] = names
        }
        if !instancesOf.isEmpty {
            for index in expanded.steps.indices where expanded.steps[index].dependsOn.contains(where: { instancesOf[$0] != nil }) {
                expanded.steps[index].dependsOn = expanded.steps[index].dependsOn.flatMap { instancesOf[$0] ?? [$0] }
            }
        }
        return expanded
    }

    private static func hasTemplates(_ step: Step) -> Bool {
        if case let .command(text) = step.action, text.contains("{{") { return true }
        return step.environment.values.contains { $0.contains("{{") } || (step.workdir?.contains("{{") ?? false)
            || step.inputs.contains { $0.contains("{{") } || step.outputs.contains { $0.contains("{{") }
    }

    // MARK: Items

    private static func items(
        of source: FanOut.Source, step: String, parameters: [String: String], files: (String) -> [String]
    ) throws(SluiceError) -> [FanOutItem] {
        switch source {
        case let .items(items): return items
        case let .parameter(name):
            let values = parameters[name].flatMap(ParameterSpec.listItems) ?? []
            try bound(values.count, step: step)
            return values.map { FanOutItem(value: $0) }
        case let .files(glob):
            let paths = files(glob)
            try bound(paths.count, step: step)
            return paths.map { path in
                let name = String(path.split(separator: "/").last ?? "")
                let stem = name.lastIndex(of: ".").map { $0 == name.startIndex ? name : String(name[..<$0]) } ?? name
                return FanOutItem(value: path, fields: [("path", path), ("name", name), ("stem", stem)], label: stem)
            }
        case let .matrix(matrix):
            let product = matrix.axes.reduce(1) { total, axis in
                let (count, overflow) = total.multipliedReportingOverflow(by: axis.values.count)
                return overflow ? Int.max : count
            }
            try bound(product, step: step)
            return combinations(matrix).map { FanOutItem(value: JSONText.object($0), fields: $0) }
        }
    }

    private static func bound(_ count: Int, step: String) throws(SluiceError) {
        guard count > maximumInstances else { return }
        throw SluiceError(
            .invalidInput,
            "step '\(step)' would run \(count == Int.max ? "too many" : String(count)) instances; at most \(maximumInstances) are allowed",
            step: step)
    }

    /// GitHub Actions' rules: the cross product in the order written (the first list varies slowest), less each
    /// combination an `exclude` entry matches; an `include` entry adds its other keys to every combination whose
    /// values it does not contradict, or else is a combination of its own.
    static func combinations(_ matrix: FanOut.Matrix) -> [[(String, String)]] {
        var result: [[(String, String)]] = matrix.axes.isEmpty ? [] : [[]]
        for axis in matrix.axes {
            result = result.flatMap { partial in axis.values.map { partial + [(axis.name, $0)] } }
        }
        func has(_ combination: [(String, String)], _ pair: (String, String)) -> Bool {
            combination.contains { $0.0 == pair.0 && $0.1 == pair.1 }
        }
        result.removeAll { combination in matrix.exclude.contains { $0.allSatisfy { has(combination, $0) } } }
        let axisNames = Set(matrix.axes.map(\.name))
        // Only the product's own combinations take an entry's keys, not those that entries added.
        let product = result.count
        for entry in matrix.include {
            var added = false
            for index in 0..<product where entry.allSatisfy({ !axisNames.contains($0.0) || has(result[index], $0) }) {
                for (key, value) in entry where !axisNames.contains(key) {
                    // Added values may be overwritten by a later entry; the lists' own values never are.
                    if let existing = result[index].firstIndex(where: { $0.0 == key }) {
                        result[index][existing].1 = value
                    } else {
                        result[index].append((key, value))
                    }
                }
                added = true
            }
            if !added { result.append(entry) }
        }
        return result
    }

    /// What goes between the brackets of an instance's name: the item's label with path separators, brackets and
    /// control characters replaced, at most 100 characters.
    static func instanceKey(_ label: String) -> String {
        let cleaned = String(
            label.unicodeScalars.prefix(100).map { scalar -> Character in
                scalar == "/" || scalar == "[" || scalar == "]" || scalar.properties.generalCategory == .control ? "_" : Character(scalar)
            })
        return cleaned.isEmpty ? "_" : cleaned
    }

    // MARK: Templates

    /// `step` with its templates filled in: values shell-quoted in `command`, as they are in `env`, and paths
    /// checked to stay inside the workspace.
    private static func fill(_ step: Step, item: FanOutItem?, parameters: [String: String]) throws(SluiceError) -> Step {
        guard hasTemplates(step) else { return step }
        func value(_ reference: Template.Reference) -> String? {
            switch (reference.path[0], reference.path.count) {
            case ("item", 1): item?.value ?? ""
            case ("item", _): item?.field(reference.path[1]) ?? ""
            case ("params", _): parameters[reference.path[1]] ?? ""
            default: nil
            }
        }
        func render(_ text: String, quoted: Bool = false) -> String {
            guard text.contains("{{"), let template = try? Template(parsing: text) else { return text }
            return template.render { reference in value(reference).map { quoted ? ShellQuote.quote($0) : $0 } }
        }
        var filled = step
        let label = item.map { "step '\(step.name)' for item \($0.value.debugDescription)" } ?? "step '\(step.name)'"
        func path(_ text: String, _ field: String) throws(SluiceError) -> String {
            let rendered = render(text)
            guard rendered != text else { return text }
            guard let normalized = WorkspacePath.normalized(rendered) else {
                throw SluiceError(
                    .invalidInput, "\(label): '\(field)' becomes \(rendered.debugDescription), which is not a path inside the workspace",
                    step: step.name)
            }
            return normalized
        }
        if case let .command(text) = step.action { filled.action = .command(render(text, quoted: true)) }
        filled.environment = step.environment.mapValues { render($0) }
        if let workdir = step.workdir, !workdir.hasPrefix("/") { filled.workdir = try path(workdir, "workdir") }
        filled.inputs = []
        for input in step.inputs { filled.inputs.append(try path(input, "inputs")) }
        filled.outputs = []
        for output in step.outputs { filled.outputs.append(try path(output, "outputs")) }
        return filled
    }
}

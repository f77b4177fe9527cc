import Foundation

/// The pipeline one run executes: each `foreach` or `matrix` step replaced by its instances (`map[A]`, `map[B]`),
/// every `{{ ... }}` filled in, and each step that depended on a fan-out depending on its instances: on all of them,
/// or, for an instance of a fan-out over the same items, on the one of its own item (`sort[A]` after `map[A]`).
///
/// Pure but for `files`, which matches a glob in the workspace. `{{ run.id }}` is filled in at launch.
public enum FanOutExpansion {
    /// A fan-out once expanded: its instances, what its items came from, and what it depended on (for a fan-out
    /// without items, whose dependents then wait for that instead).
    private struct Expanded {
        var instances: [String]
        var source: String?
        var dependsOn: [String]
    }

    public static func expand(
        _ pipeline: Pipeline, parameters: [String: String], files: (String) -> [String]
    ) throws(SluiceError) -> Pipeline {
        guard pipeline.steps.contains(where: { $0.fanOut != nil || hasTemplates($0) }) else { return pipeline }
        var expanded = pipeline
        expanded.steps = []
        var fanOuts: [String: Expanded] = [:]
        for step in pipeline.steps {
            // A fan-out over an upstream step's value stays one step until that step has run (``SchedulerStateMachine``).
            guard let fanOut = step.fanOut, !fanOut.isDynamic else {
                expanded.steps.append(step.fanOut != nil ? step : try StepTemplates(step)?.fill(step, item: nil, parameters: parameters) ?? step)
                continue
            }
            let items = try self.items(of: fanOut.source, step: step.name, parameters: parameters, files: files)
            let instances = try self.instances(of: step, fanOut: fanOut, items: items, parameters: parameters)
            expanded.steps += instances
            fanOuts[step.name] = Expanded(instances: instances.map(\.name), source: sourceKey(fanOut.source), dependsOn: step.dependsOn)
            if instances.isEmpty { expanded.emptyFanOuts.append(step.name) }
        }
        guard !fanOuts.isEmpty else { return expanded }
        // What waiting for `name` means for `step`; a fan-out without items stands for what it waited for itself.
        func upstream(_ name: String, of step: Step) -> [String] {
            guard let fanOut = fanOuts[name] else { return [name] }
            if fanOut.instances.isEmpty { return fanOut.dependsOn.flatMap { upstream($0, of: step) } }
            if let instance = step.instance, let source = fanOut.source, fanOuts[instance.of]?.source == source {
                return [fanOut.instances[instance.position]]
            }
            return fanOut.instances
        }
        for index in expanded.steps.indices where expanded.steps[index].dependsOn.contains(where: { fanOuts[$0] != nil }) {
            let step = expanded.steps[index]
            var seen = Set<String>()
            expanded.steps[index].dependsOn = step.dependsOn.flatMap { upstream($0, of: step) }.filter { seen.insert($0).inserted }
        }
        return expanded
    }

    /// The instances of `step`, one per item, in item order, with its templates filled in.
    static func instances(of step: Step, fanOut: FanOut, items: [FanOutItem], parameters: [String: String]) throws(SluiceError) -> [Step] {
        try bound(items.count, step: step.name)
        let templates = StepTemplates(step)
        var used = Set<String>()
        var instances: [Step] = []
        instances.reserveCapacity(items.count)
        for (position, item) in items.enumerated() {
            // A label taken already gets its position; one taken by a label like `a~2` gets the next free number.
            var key = instanceKey(item.label)
            var suffix = position
            while !used.insert(key).inserted {
                key = instanceKey(item.label) + "~\(suffix)"
                suffix += 1
            }
            var instance = try templates?.fill(step, item: item, parameters: parameters) ?? step
            instance.name = "\(step.name)[\(key)]"
            instance.fanOut = nil
            instance.instance = StepInstance(
                of: step.name, item: item, position: position,
                sourceParameter: { if case let .parameter(name) = fanOut.source { name } else { nil } }(),
                maxParallel: fanOut.maxParallel, failFast: fanOut.failFast)
            instance.environment["SLUICE_ITEM"] = item.value
            for (field, value) in item.fields { instance.environment["SLUICE_ITEM_\(field.uppercased())"] = value }
            instances.append(instance)
        }
        return instances
    }

    /// The items an upstream step's value holds: a JSON list of values (each its text) or of flat mappings (each its
    /// fields), or else one item per line that is not blank.
    static func items(fromValue text: String, of name: String) throws(SluiceError) -> [FanOutItem] {
        if text.hasPrefix("[") {
            guard let list = try? JSONDecoder().decode([JSONItem].self, from: Data(text.utf8)) else {
                throw SluiceError(
                    .invalidInput, "\(name) starts with '[' but is no JSON list of values or of flat mappings: \(OutputValues.oneLine(text))")
            }
            return list.map { item in
                switch item {
                case let .value(value): FanOutItem(value: value.text)
                case let .fields(fields):
                    FanOutItem(value: JSONText.object(fields.map { ($0.key, $0.value.text) }), fields: fields.map { ($0.key, $0.value.text) })
                }
            }
        }
        return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map {
            FanOutItem(value: $0)
        }
    }

    /// One element of a JSON list of items.
    private enum JSONItem: Decodable {
        case value(JSONScalar)
        /// A mapping's keys in sorted order: JSON objects have none of their own.
        case fields([(key: String, value: JSONScalar)])

        init(from decoder: any Decoder) throws {
            if let object = try? decoder.singleValueContainer().decode([String: JSONScalar].self) {
                self = .fields(object.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
            } else {
                self = .value(try decoder.singleValueContainer().decode(JSONScalar.self))
            }
        }
    }

    /// A JSON string, number, boolean or null, as the text an item gives: a number as written (`3`, not `3.0`).
    private struct JSONScalar: Decodable {
        var text: String

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                text = ""
            } else if let bool = try? container.decode(Bool.self) {
                text = String(bool)
            } else if let integer = try? container.decode(Int.self) {
                text = String(integer)
            } else if let number = try? container.decode(Double.self) {
                text = String(number)
            } else {
                text = try container.decode(String.self)
            }
        }
    }

    /// What identifies a fan-out's items, so that two fan-outs over the same ones pair their instances; nil for a
    /// matrix, whose instances always wait for all of an upstream fan-out's.
    private static func sourceKey(_ source: FanOut.Source) -> String? {
        switch source {
        case let .parameter(name): "params \(name)"
        case let .files(glob): "glob \(glob)"
        case let .items(items): "items " + JSONText.array(items.map(\.value))
        case .matrix, .upstream: nil
        }
    }

    private static func hasTemplates(_ step: Step) -> Bool {
        if case let .command(text) = step.action, Template.mayHoldReferences(text) { return true }
        return step.environment.values.contains(where: Template.mayHoldReferences) || step.workdir.map(Template.mayHoldReferences) == true
            || step.inputs.contains(where: Template.mayHoldReferences) || step.outputs.contains(where: Template.mayHoldReferences)
    }

    // MARK: Items

    private static func items(
        of source: FanOut.Source, step: String, parameters: [String: String], files: (String) -> [String]
    ) throws(SluiceError) -> [FanOutItem] {
        switch source {
        case let .items(items): return items
        case let .parameter(name):
            let values = parameters[name].flatMap(ParameterSpec.listItems) ?? []
            return values.map { FanOutItem(value: $0) }
        case let .files(glob):
            let paths = files(glob)
            return paths.map { path in
                let name = String(path.split(separator: "/").last ?? "")
                let stem = name.lastIndex(of: ".").map { $0 == name.startIndex ? name : String(name[..<$0]) } ?? name
                return FanOutItem(value: path, fields: [("path", path), ("name", name), ("stem", stem)], label: stem)
            }
        case let .matrix(matrix):
            try bound(matrix.size, step: step)
            return combinations(matrix).map { FanOutItem(value: JSONText.object($0), fields: $0) }
        case .upstream: return []
        }
    }

    private static func bound(_ count: Int, step: String) throws(SluiceError) {
        guard count > FanOut.maximumInstances else { return }
        throw SluiceError(
            .invalidInput,
            "step '\(step)' would run \(count == Int.max ? "too many" : String(count)) instances; at most \(FanOut.maximumInstances) are allowed",
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
        // Most labels are short printable ASCII with nothing to replace: kept as they are.
        let utf8 = label.utf8
        if !utf8.isEmpty, utf8.count <= 100,
            utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "[") && $0 != UInt8(ascii: "]") })
        {
            return label
        }
        var cleaned = ""
        for scalar in label.unicodeScalars {
            let kept: Unicode.Scalar =
                scalar == "/" || scalar == "[" || scalar == "]" || scalar.properties.generalCategory == .control ? "_" : scalar
            // Bytes, not characters: the name is part of its log's file name, at most 255 bytes.
            guard cleaned.utf8.count + String(kept).utf8.count <= 100 else { break }
            cleaned.unicodeScalars.append(kept)
        }
        return cleaned.isEmpty ? "_" : cleaned
    }

    // MARK: Templates

    /// A step's templated fields, parsed once for all its instances; nil for a step without templates.
    private struct StepTemplates {
        var command: Template?
        var environment: [String: Template]
        var workdir: Template?
        var inputs: [Template]
        var outputs: [Template]

        init?(_ step: Step) {
            guard FanOutExpansion.hasTemplates(step) else { return nil }
            // The loader checked every template: one it could not read is not filled in.
            func parse(_ text: String) -> Template { (try? Template(parsing: text)) ?? Template(literal: text) }
            if case let .command(text) = step.action { command = parse(text) }
            environment = step.environment.mapValues(parse)
            workdir = step.workdir.map(parse)
            inputs = step.inputs.map(parse)
            outputs = step.outputs.map(parse)
        }

        /// `step` with its templates filled in: values shell-quoted in `command`, as they are in `env`, and paths
        /// checked to stay inside the workspace.
        func fill(_ step: Step, item: FanOutItem?, parameters: [String: String]) throws(SluiceError) -> Step {
            func value(_ reference: Template.Reference) -> String? {
                switch (reference.path[0], reference.path.count) {
                case ("item", 1): item?.value ?? ""
                case ("item", _): item?.field(reference.path[1]) ?? ""
                case ("params", _): parameters[reference.path[1]] ?? ""
                default: nil
                }
            }
            let label = item.map { "step '\(step.name)' for item \($0.value.debugDescription)" } ?? "step '\(step.name)'"
            /// A path whose template a value filled in must not leave where it was written: the workspace, or for an
            /// absolute `workdir` the folder written.
            func path(_ template: Template, _ field: String) throws(SluiceError) -> String {
                guard !template.isPlain else { return template.render(value) }
                // A value is a name, never a pattern: `*` from an item would make an output match its siblings' files.
                let rendered = try template.render { reference throws(SluiceError) in
                    guard let text = value(reference) else { return nil }
                    guard !text.contains(where: { "*?[]".contains($0) }) else {
                        throw SluiceError(
                            .invalidInput, "\(label): '\(field)' would take \(text.debugDescription), whose * ? [ ] would match other files",
                            step: step.name)
                    }
                    return text
                }
                if field == "workdir", rendered.hasPrefix("/"), !rendered.split(separator: "/").contains("..") { return rendered }
                guard let normalized = WorkspacePath.normalized(rendered), !normalized.isEmpty,
                    field != "outputs" || !WorkspacePath.isSluicesOwn(normalized)
                else {
                    throw SluiceError(
                        .invalidInput, "\(label): '\(field)' becomes \(rendered.debugDescription), which is not a path inside the workspace",
                        step: step.name)
                }
                return normalized
            }
            var filled = step
            if let command { filled.action = .command(command.render { value($0).map(ShellQuote.quote) }) }
            filled.environment = environment.mapValues { $0.render(value) }
            if let workdir { filled.workdir = try path(workdir, "workdir") }
            filled.inputs = []
            for input in inputs { filled.inputs.append(try path(input, "inputs")) }
            filled.outputs = []
            filled.temporaryOutputs = []
            for (written, output) in zip(step.outputs, outputs) {
                let filledPath = try path(output, "outputs")
                filled.outputs.append(filledPath)
                if step.temporaryOutputs.contains(written) { filled.temporaryOutputs.insert(filledPath) }
            }
            return filled
        }
    }
}

import Yams

/// Checks every name a pipeline's templates (`{{ ... }}`) and conditions (`if:`) read, once the whole file is read
/// (parameters may be declared after the steps): each must be one the step will have, or validation fails at its
/// file:line:column.
struct ReferenceChecker {
    /// One templated field of a step, as read.
    struct Field {
        var step: String
        var key: String
        var text: String
        var node: Node

        /// Whether the field ends up in what a step's process gets, filled in when it starts (the run's id, the
        /// values of upstream steps): its command and `env`, and what Sluice writes into its command (a
        /// `pipeline:` step's `params`, a `wait_for:` target).
        var isFilledAtLaunch: Bool { ["command", "env", "wait_for"].contains(key) || key.hasPrefix("params.") }
    }

    private(set) var fields: [Field] = []
    private var conditions: [(step: String, condition: Condition, node: Node)] = []
    private var listedParameters: [(step: String, name: String, node: Node)] = []
    /// Steps that wrote `foreach` or `matrix`, read or not: one that could not be read was reported already, and its
    /// `{{ item }}` is no mistake of its own.
    private var declaredFanOuts: Set<String> = []

    mutating func noteFanOut(step: String) { declaredFanOuts.insert(step) }

    /// A step's `params:` list, checked against the pipeline's parameters once they are all read.
    mutating func noteListedParameters(step: String, _ names: [(String, Node)]) {
        listedParameters += names.map { (step, $0.0, $0.1) }
    }

    /// The parameters each step uses as its templates and `if:` name them (``Step/parameters``), with `named` by
    /// ``check(_:reader:)``: a step after a fan-out over a list parameter uses that list too, since it joins the list's
    /// instances. (The fan-out's own instances hold their item instead, so the list does not count for them.)
    static func parametersUsed(named: [String: Set<String>], in pipeline: Pipeline) -> [String: Set<String>] {
        var used = named
        let fannedOver = Dictionary(
            pipeline.steps.compactMap { step in if case let .parameter(name) = step.fanOut?.source { (step.name, name) } else { nil } },
            uniquingKeysWith: { first, _ in first })
        for step in pipeline.steps where used[step.name] != nil || step.parameters != nil {
            for upstream in step.dependsOn { if let list = fannedOver[upstream] { used[step.name, default: []].insert(list) } }
        }
        return used
    }

    mutating func note(step: String, condition: Condition, _ node: Node) { conditions.append((step, condition, node)) }

    mutating func note(step: String, key: String, _ text: String, _ node: Node) {
        if Template.mayHoldReferences(text) { fields.append(Field(step: step, key: key, text: text, node: node)) }
    }

    /// Reports every problem, and returns the parameters each step's templates and `if:` name, by step.
    func check(_ pipeline: Pipeline, reader: DefinitionReader) -> [String: Set<String>] {
        var named: [String: Set<String>] = [:]
        let parameters = Set(pipeline.parameters.map(\.name))
        let steps = StepsByName(pipeline.steps)
        for (step, name, node) in listedParameters where !parameters.contains(name) {
            reader.report(
                .unknownName, node, "params: step '\(step)' lists '\(name)', which this pipeline does not declare",
                fix: Suggestion.closest(to: name, among: parameters.sorted()).map { "did you mean '\($0)'?" }
                    ?? "declare it under the pipeline's 'params:'")
        }
        for step in pipeline.steps {
            if case let .upstream(source, key) = step.fanOut?.source,
                let (message, fix) = upstreamValueProblem(["steps", source, "outputs", key], in: step.name, steps: steps)
            {
                reader.report(Diagnostic(.unknownName, at: step.location, "foreach: {{ steps.\(source).outputs.\(key) }} \(message)", fix: fix))
            }
            guard case let .parameter(name) = step.fanOut?.source else { continue }
            let type = pipeline.parameters.first { $0.name == name }?.type
            guard type != .list else { continue }
            reader.report(
                Diagnostic(
                    .unknownName, at: step.location,
                    "step '\(step.name)' fans out over parameter '\(name)', "
                        + (type.map { "which is a \($0.rawValue), not a list" } ?? "which this pipeline does not declare"),
                    fix: "declare it under 'params:' as `\(name): {type: list}`"))
        }
        for (name, condition, node) in conditions {
            guard let step = steps[name] else { continue }
            let field = Field(step: name, key: "if", text: condition.text, node: node)
            for (path, offset) in condition.names {
                if path.count == 2 && path[0] == "params" { named[name, default: []].insert(path[1]) }
                if let (message, fix) = problem(in: condition, path, step: step, parameters: parameters, steps: steps) {
                    report(message, in: field, offset: offset, fix: fix, reader: reader)
                }
            }
        }
        for field in fields {
            let template: Template
            do { template = try Template(parsing: field.text) } catch {
                report(
                    error.message, in: field, offset: error.offset,
                    fix: "write {{ item }}, {{ params.NAME }}, {{ steps.NAME.outputs.KEY }} or {{ run.id }}", reader: reader)
                continue
            }
            for reference in template.references where reference.path.count == 2 && reference.path[0] == "params" {
                named[field.step, default: []].insert(reference.path[1])
            }
            let fanOut = steps[field.step]?.fanOut
            for reference in template.references where field.key == "command" {
                guard let danger = CommandContext.danger(in: field.text, at: reference.offset) else { continue }
                report(
                    "{{ \(reference.text) }} in step '\(field.step)' is \(danger), where bash would read its value as code",
                    in: field, offset: reference.offset,
                    fix: "write it as a plain word of the command, which Sluice quotes; a script can read it from its arguments",
                    reader: reader)
            }
            for reference in template.references {
                if let (message, fix) = problem(reference, field: field, fanOut: fanOut, parameters: parameters, steps: steps) {
                    report(message, in: field, offset: reference.offset, fix: fix, reader: reader)
                }
            }
        }
        return named
    }

    private func problem(
        _ reference: Reference, field: Field, fanOut: FanOut?, parameters: Set<String>, steps: StepsByName
    ) -> (String, String)? {
        let path = reference.path
        let name = "{{ \(reference.text) }}"
        switch path[0] {
        case "item":
            guard let fanOut else {
                if declaredFanOuts.contains(field.step) { return nil }
                return ("\(name) in step '\(field.step)': the step has no 'foreach' or 'matrix'", "add 'foreach:', or remove the template")
            }
            guard path.count > 1, !fanOut.isDynamic else { return nil }
            let keys = Self.itemKeys(fanOut.source)
            guard path.count == 2, keys.contains(path[1]) else {
                let known = keys.isEmpty ? "its items are plain values: write {{ item }}" : "its items have: \(keys.joined(separator: ", "))"
                return ("\(name) in step '\(field.step)' names no key of its items", known)
            }
            return nil
        case "params":
            guard path.count == 2, parameters.contains(path[1]) else {
                let fix =
                    path.count == 2
                    ? Suggestion.closest(to: path[1], among: parameters.sorted()).map { "did you mean {{ params.\($0) }}?" }
                        ?? "declare it under 'params:'"
                    : "write {{ params.NAME }}"
                return ("\(name) in step '\(field.step)' names no parameter of this pipeline", fix)
            }
            return nil
        case "run":
            guard path.count == 2, path[1] == "id" else { return ("\(name) is not known: a run has {{ run.id }}", "write {{ run.id }}") }
            guard field.isFilledAtLaunch else {
                return ("{{ run.id }} in '\(field.key)' of step '\(field.step)': the run's id is known in 'command' and 'env' only", "use it there")
            }
            return nil
        case "steps":
            if let problem = upstreamValueProblem(path, in: field.step, steps: steps) { return ("\(name) \(problem.0)", problem.1) }
            guard field.isFilledAtLaunch else {
                return (
                    "\(name) in '\(field.key)' of step '\(field.step)': an upstream step's values are known in 'command', 'env' and 'if' only",
                    "use it there, or write the path into a file the step reads"
                )
            }
            return nil
        default:
            let hint = Suggestion.closest(to: path[0], among: ["item", "params", "run", "steps"]).map { "did you mean '\($0)'?" }
            return (
                "\(name) in step '\(field.step)' is not a known name",
                hint ?? "templates take item, params.NAME, steps.NAME.outputs.KEY and run.id"
            )
        }
    }

    /// What is wrong with `steps.NAME.outputs.KEY` read by step `reader`: NAME must be a step it runs after
    /// (directly or through others), so that its values are known when the reader starts.
    private func upstreamValueProblem(_ path: [String], in reader: String, steps: StepsByName) -> (String, String)? {
        guard path.count == 4, path[2] == "outputs" else {
            return ("in step '\(reader)' is not known", "write {{ steps.NAME.outputs.KEY }}, KEY being what NAME wrote to $SLUICE_OUTPUT")
        }
        guard steps[path[1]] != nil else {
            let hint = Suggestion.closest(to: path[1], among: steps.names.sorted()).map { "did you mean '\($0)'?" }
            return ("in step '\(reader)' names no step of this pipeline", hint ?? "name a step in depends_on")
        }
        // Every step it runs after, through depends_on.
        var upstream = Set<String>()
        var work = steps[reader]?.dependsOn ?? []
        while let next = work.popLast() {
            guard upstream.insert(next).inserted else { continue }
            work += steps[next]?.dependsOn ?? []
        }
        guard upstream.contains(path[1]) else {
            return (
                "in step '\(reader)': '\(path[1])' is not upstream of it, so its values are not known when it starts",
                "add '\(path[1])' to depends_on"
            )
        }
        return nil
    }

    /// What is wrong with a name an `if:` reads: `params.NAME`, `item` in a fan-out, or `steps.NAME.state` of a step
    /// it depends on.
    private func problem(
        in condition: Condition, _ path: [String], step: Step, parameters: Set<String>, steps: StepsByName
    ) -> (String, String)? {
        let name = path.joined(separator: ".")
        let fix = "a condition reads params.NAME, steps.NAME.state and steps.NAME.outputs.KEY of a step in depends_on, and item in a fan-out"
        switch path[0] {
        case "params":
            guard path.count == 2, parameters.contains(path[1]) else {
                return (
                    "if: '\(name)' in step '\(step.name)' names no parameter of this pipeline",
                    path.count == 2 ? Suggestion.closest(to: path[1], among: parameters.sorted()).map { "did you mean 'params.\($0)'?" } ?? fix : fix
                )
            }
        case "item":
            guard let fanOut = step.fanOut else {
                if declaredFanOuts.contains(step.name) { return nil }
                return ("if: '\(name)' in step '\(step.name)': the step has no 'foreach' or 'matrix'", fix)
            }
            if path.count > 1, !fanOut.isDynamic, path.count != 2 || !Self.itemKeys(fanOut.source).contains(path[1]) {
                return ("if: '\(name)' in step '\(step.name)' names no key of its items", fix)
            }
        case "steps":
            if path.count == 4, path[2] == "outputs" {
                return upstreamValueProblem(path, in: step.name, steps: steps).map { ("if: '\(name)' \($0.0)", $0.1) }
            }
            guard path.count == 3, path[2] == "state" else { return ("if: '\(name)' in step '\(step.name)' is not known", fix) }
            guard step.dependsOn.contains(path[1]) else {
                return ("if: '\(name)' in step '\(step.name)': '\(path[1])' is not in its depends_on", "add it to depends_on")
            }
            if steps[path[1]]?.fanOut != nil {
                return ("if: '\(name)': '\(path[1])' fans out, so it has no single state", "branch on a step that does not fan out")
            }
        default:
            return ("if: '\(name)' in step '\(step.name)' is not a known name", fix)
        }
        return nil
    }

    typealias Reference = Template.Reference

    /// The keys `{{ item.KEY }}` may name.
    static func itemKeys(_ source: FanOut.Source) -> [String] {
        switch source {
        case let .items(items):
            // Keys every item has.
            (items.first?.fields.map(\.key) ?? []).filter { key in items.allSatisfy { $0.field(key) != nil } }
        case .parameter, .upstream: []
        case .files: ["path", "name", "stem"]
        case let .matrix(matrix):
            matrix.axes.map(\.name) + matrix.include.flatMap { $0.map(\.0) }.filter { key in !matrix.axes.contains { $0.name == key } }
        }
    }

    private func report(_ message: String, in field: Field, offset: Int, fix: String, reader: DefinitionReader) {
        reader.report(Diagnostic(.unknownName, at: reader.location(field.node, at: offset), message, fix: fix))
    }
}

/// A pipeline's steps by name, first of a name winning: positions in its list, where a dictionary of the steps
/// themselves would hold a copy of each (most of a big pipeline's peak memory while it is checked).
private struct StepsByName {
    let steps: [Step]
    let positions: [String: Int]

    init(_ steps: [Step]) {
        self.steps = steps
        positions = Dictionary(steps.indices.map { (steps[$0].name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    subscript(name: String) -> Step? { positions[name].map { steps[$0] } }

    var names: Dictionary<String, Int>.Keys { positions.keys }
}

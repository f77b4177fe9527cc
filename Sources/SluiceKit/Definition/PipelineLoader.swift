import Foundation
import Yams

/// Turns one pipeline file into a ``Pipeline``, or into every problem it has.
public enum PipelineLoader {
    /// Room for generated pipelines (100,000 steps in block style take about 16 MiB); a file past this is a mistake
    /// or an attack. The other protections (merge budget, nesting) hold whatever the size.
    static let maximumFileSize = 64 << 20

    /// Loads and validates the pipeline in `file`, whose scripts live in `scriptsDirectory`.
    public static func load(file: String, id: String, scriptsDirectory: String) -> Result<Pipeline, DefinitionError> {
        let start = SourceLocation(file: file, line: 1, column: 1)
        func failure(_ code: Diagnostic.Code, _ message: String, fix: String? = nil) -> Result<Pipeline, DefinitionError> {
            .failure(DefinitionError(diagnostics: [Diagnostic(code, at: start, message, fix: fix)]))
        }
        // The size first: a file far too big is refused without being read into memory.
        var info = stat()
        if stat(file, &info) == 0, info.st_size > maximumFileSize {
            return failure(
                .unreadableFile, "the file is \(info.st_size >> 20) MiB; pipeline files are limited to \(maximumFileSize >> 20) MiB",
                fix: "split it into several pipelines")
        }
        guard let data = FileManager.default.contents(atPath: file), data.count <= maximumFileSize else {
            return failure(.unreadableFile, "cannot read the file", fix: "check that it exists and is readable")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            return failure(.unreadableFile, "the file is not UTF-8 text", fix: "save it as UTF-8")
        }
        let root: Node
        do {
            // Every scalar is read as text and checked by Sluice, so Yams need not guess types (its guessing runs a
            // regular expression per scalar: half the load time of a large pipeline).
            guard let node = try Yams.compose(yaml: text, .basic) else {
                return failure(.missingKey, "the file is empty", fix: "declare at least `steps:`")
            }
            root = node
        } catch let error as YamlError {
            return .failure(DefinitionError(diagnostics: [syntaxDiagnostic(error, file: file)]))
        } catch {
            return failure(.yamlSyntax, "\(error)")
        }
        let reader = DefinitionReader(file: file, text: text)
        var pipeline = read(root, reader: reader, id: id, file: file, scriptsDirectory: scriptsDirectory)
        PipelineValidator.validate(pipeline, reader: reader)
        // File order; problems at the same position keep the order they were found in.
        let ordered = reader.diagnostics.enumerated().sorted {
            ($0.element.location.line, $0.element.location.column, $0.offset) < ($1.element.location.line, $1.element.location.column, $1.offset)
        }.map(\.element)
        guard ordered.contains(where: { $0.severity == .error }) else {
            pipeline.warnings = ordered
            return .success(pipeline)
        }
        return .failure(DefinitionError(diagnostics: ordered))
    }

    private static func syntaxDiagnostic(_ error: YamlError, file: String) -> Diagnostic {
        let fix = "check the indentation and quoting around this position"
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            let where_ = context.map { " (\($0.text) at line \($0.mark.line))" } ?? ""
            return Diagnostic(
                .yamlSyntax, at: SourceLocation(file: file, line: mark.line, column: mark.column),
                "invalid YAML: \(problem)\(where_)", fix: fix)
        default:
            return Diagnostic(.yamlSyntax, at: SourceLocation(file: file, line: 1, column: 1), "invalid YAML: \(error)", fix: fix)
        }
    }

    private static func read(_ root: Node, reader: DefinitionReader, id: String, file: String, scriptsDirectory: String) -> Pipeline {
        var pipeline = Pipeline(
            id: id, name: id, description: "", file: file, scriptsDirectory: scriptsDirectory,
            steps: [], parameters: [], modes: [], environment: [:], secrets: [], workdir: nil)
        var sawSteps = false
        var templates = ReferenceChecker()
        for (key, _, value) in reader.entries(of: root, known: PipelineFormat.pipeline.names, context: "the pipeline") {
            switch key {
            case "name": pipeline.name = reader.string(value, key) ?? id
            case "description": pipeline.description = reader.string(value, key) ?? ""
            case "env": pipeline.environment = reader.environment(value, "the pipeline")
            case "secrets":
                pipeline.secrets = reader.strings(value, key).compactMap { name, node in
                    guard EnvironmentName.isValid(name) else {
                        reader.report(
                            .badValue, node, "secret '\(name)' is not a valid environment variable name",
                            fix: "use letters, digits and underscores, not starting with a digit")
                        return nil
                    }
                    return name
                }
            case "workdir": pipeline.workdir = reader.string(value, key)
            case "params": pipeline.parameters = readParameters(value, reader: reader)
            case "modes": pipeline.modes = readModes(value, reader: reader)
            case "notify": pipeline.notify = NotificationTargetReader.read(value, reader: reader)
            case "concurrency":
                guard let text = reader.string(value, key) else { continue }
                guard let policy = ConcurrencyPolicy(rawValue: text) else {
                    reader.report(
                        .badValue, value, "'concurrency' must be allow, queue or reject, not '\(text)'",
                        fix: Suggestion.closest(to: text, among: ConcurrencyPolicy.allCases.map(\.rawValue)).map { "did you mean '\($0)'?" })
                    continue
                }
                pipeline.concurrency = policy
            case "executor": pipeline.placement.executor = PlacementReader.executor(value, reader: reader)
            case "slurm": pipeline.placement.slurm = PlacementReader.slurm(value, reader: reader)
            case "schedule": pipeline.schedules = TriggerReader.schedules(value, reader: reader)
            case "watch": pipeline.watches = TriggerReader.watches(value, reader: reader)
            case "steps":
                sawSteps = true
                guard let sequence = value.sequence else {
                    reader.report(.wrongType, value, "'steps' must be a list", fix: "start each step with '- name: ...'")
                    continue
                }
                // Sized once: steps are big values, and growing the list by doubling would hold two copies of it.
                pipeline.steps.reserveCapacity(sequence.count)
                for node in sequence { if let step = readStep(node, reader: reader, templates: &templates) { pipeline.steps.append(step) } }
            default: break
            }
        }
        let named = ReferenceChecker.parametersUsed(named: templates.check(pipeline, reader: reader), in: pipeline)
        for index in pipeline.steps.indices {
            let step = pipeline.steps[index]
            let used = named[step.name, default: []].union(step.parameters ?? [])
            pipeline.steps[index].parameters = step.parameters == nil && used.isEmpty ? nil : used
        }
        if !sawSteps, root.mapping != nil {
            reader.report(.missingKey, root, "the pipeline has no 'steps'", fix: "add a 'steps:' list")
        }
        return pipeline
    }

    private static func readStep(_ node: Node, reader: DefinitionReader, templates: inout ReferenceChecker) -> Step? {
        let entries = reader.entries(of: node, known: PipelineFormat.step.names, context: "a step")
        guard node.mapping != nil else { return nil }
        var step = Step(
            Step.Fields(
                name: "", description: "", action: .command(""), dependsOn: [], timeout: nil, retry: .none,
                environment: [:], tags: [], allowFailure: false, workdir: nil, location: reader.location(node)))
        var script: (String, Node)?
        var command: (String, Node)?
        var hasName = false, nameIsText = false
        var fanOutNodes: [String: Node] = [:]
        var templated: [(String, String, Node)] = []
        var conditionNode: Node?
        var listedParameters: [(String, Node)] = []
        var parametersNode: Node?
        var called: (String, Node)?
        var waitNode: Node?
        var retriesNode: Node?
        for (key, _, value) in entries {
            switch key {
            case "name":
                hasName = true
                nameIsText = reader.string(value, key).map { step.name = $0 } != nil
            case "description": step.description = reader.string(value, key) ?? ""
            case "script": script = reader.string(value, key).map { ($0, value) }
            case "command": command = reader.string(value, key).map { ($0, value) }
            case "depends_on": step.dependsOn = reader.strings(value, key).map(\.0)
            case "timeout": step.timeout = reader.duration(value, key)
            case "retries":
                step.retry = readRetry(value, reader: reader)
                retriesNode = value
            case "wait_for": waitNode = value
            case "resources": step.resources = readResources(value, reader: reader)
            case "pool":
                guard let name = reader.string(value, key) else { continue }
                if PoolName.isValid(name) {
                    step.pool = name
                } else {
                    reader.report(.badValue, value, "'\(name)' is not a pool name", fix: PoolName.rule)
                }
            case "priority": step.priority = reader.wholeNumber(value, key, in: -1_000_000...1_000_000) ?? 0
            case "env":
                step.environment = reader.environment(value, "a step")
                for (keyNode, field) in value.mapping ?? [:] {
                    if let text = field.scalar?.string, keyNode.scalar.map({ step.environment[$0.string] != nil }) == true {
                        templated.append(("env", text, field))
                    }
                }
            case "tags": step.tags = reader.strings(value, key).map(\.0)
            case "params": parametersNode = value
            case "pipeline": called = reader.string(value, key).map { ($0, value) }
            case "allow_failure": step.allowFailure = reader.bool(value, key) ?? false
            case "workdir":
                step.workdir = reader.string(value, key)
                if let text = step.workdir { templated.append((key, text, value)) }
            case "inputs":
                let paths = readPaths(value, key, reader: reader)
                step.inputs = paths.map(\.0)
                templated += paths.map { (key, $0.0, $0.1) }
            case "outputs":
                let paths = readOutputs(value, reader: reader)
                step.outputs = paths.map(\.path)
                step.temporaryOutputs = Set(paths.filter(\.temporary).map(\.path))
                templated += paths.map { (key, $0.path, $0.node) }
            case "foreach", "matrix", "max_parallel", "fail_fast": fanOutNodes[key] = value
            case "if":
                guard let text = reader.string(value, key) else { continue }
                do {
                    step.condition = try Condition(parsing: text)
                    conditionNode = value
                } catch {
                    reader.report(
                        Diagnostic(
                            .badValue, at: reader.location(value, at: error.offset), "if: \(error.message)",
                            fix: "write comparisons (==, !=, <, >, in) joined by and, or, not, such as: params.mode == 'full'"))
                }
            case "on_failure": step.onFailure = readFailureAction(value, reader: reader)
            case "executor": step.placement.executor = PlacementReader.executor(value, reader: reader)
            case "runs_on": step.placement.labels = PlacementReader.labels(value, reader: reader)
            case "slurm": step.placement.slurm = PlacementReader.slurm(value, reader: reader)
            case "trigger_rule":
                guard let text = reader.string(value, key) else { continue }
                if let rule = TriggerRule(rawValue: text) {
                    step.triggerRule = rule
                } else {
                    let names = TriggerRule.allCases.map(\.rawValue)
                    reader.report(
                        .badValue, value, "unknown trigger rule '\(text)'",
                        fix: Suggestion.closest(to: text, among: names).map { "did you mean '\($0)'?" }
                            ?? "use one of: \(names.joined(separator: ", "))")
                }
            default: break
            }
        }
        let label = step.name.isEmpty ? "this step" : "step '\(step.name)'"
        if !hasName {
            reader.report(.missingKey, node, "a step has no 'name'", fix: "add 'name: some_step'")
        } else if nameIsText, step.name.allSatisfy(\.isWhitespace) {
            reader.report(.badValue, node, "a step's name is empty", fix: "give it a name such as 'name: some_step'")
        } else if step.name.contains("/") || step.name.hasPrefix(".")
            || step.name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        {
            reader.report(
                .badValue, node,
                "step name '\(step.name.debugDescription.dropFirst().dropLast())' cannot contain '/' or control characters, or start with '.'",
                fix: "use letters, digits, '-' and '_'")
        }
        step.fanOut = readFanOut(fanOutNodes, of: label, node: node, reader: reader)
        if step.name.utf8.count > 100 {
            reader.report(
                .badValue, node, "a step's name is longer than 100 bytes; it names the step's log file",
                fix: "give it a shorter name, and say more in 'description'")
        }
        if step.name.contains("[") || step.name.contains("]") {
            reader.report(
                .badValue, node, "\(label): a step's name cannot hold '[' or ']', which name the instances of a fan-out (map[A])",
                fix: "rename it")
        }
        var childParameters: [(name: String, value: String, node: Node)] = []
        if let parametersNode {
            if called != nil, parametersNode.mapping != nil {
                childParameters = readChildParameters(parametersNode, reader: reader)
                templated += childParameters.map { ("params.\($0.name)", $0.value, $0.node) }
            } else if called != nil {
                reader.report(
                    .wrongType, parametersNode, "\(label) runs a pipeline: its 'params' are the child run's values, as a map",
                    fix: "write params: {name: value}")
            } else {
                listedParameters = reader.strings(parametersNode, "params")
                step.parameters = Set(listedParameters.map(\.0))
            }
        }
        if let called {
            if script != nil || command != nil {
                reader.report(.badValue, called.1, "\(label) has 'pipeline' and also 'script' or 'command'", fix: "keep one of them")
            } else if called.0.isEmpty || called.0.contains("/")
                || called.0.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
            {
                reader.report(
                    .badValue, called.1, "\(label): 'pipeline' must name a pipeline of the workspace",
                    fix: "write its id, such as 'pipeline: load_batch'")
            } else {
                let call = PipelineCall(
                    pipeline: called.0, parameters: Dictionary(childParameters.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 }))
                step.subPipeline = call
                command = (call.command, called.1)
            }
        }
        if let waitNode, let (wait, target) = readWaitFor(waitNode, reader: reader) {
            if script != nil || command != nil || called != nil {
                reader.report(
                    .badValue, waitNode, "\(label) has 'wait_for' and also 'script', 'command' or 'pipeline'",
                    fix: "a waiting step runs its checks only: put the work in a step that depends on it")
            } else if let retriesNode {
                reader.report(
                    .badValue, retriesNode, "\(label) waits: its 'interval' and 'timeout' say how often it checks",
                    fix: "remove 'retries'")
            } else {
                step.waitFor = wait
                step.retry = wait.retry
                if case .command = wait.check {
                    command = (wait.command, target)
                } else {
                    templated.append(("wait_for", target.scalar?.string ?? "", target))
                    command = (wait.command, waitNode)
                }
            }
        }
        if let command, step.subPipeline == nil, step.waitFor.map({ if case .command = $0.check { true } else { false } }) ?? true {
            templated.append(("command", command.0, command.1))
        }
        for (key, text, value) in templated { templates.note(step: step.name, key: key, text, value) }
        templates.noteListedParameters(step: step.name, listedParameters)
        if let condition = step.condition, let conditionNode { templates.note(step: step.name, condition: condition, conditionNode) }
        if fanOutNodes["foreach"] != nil || fanOutNodes["matrix"] != nil { templates.noteFanOut(step: step.name) }
        switch (script, command) {
        case let (script?, nil): step.action = .script(path: script.0)
        case let (nil, command?): step.action = .command(command.0)
        case (_?, let command?):
            reader.report(.badValue, command.1, "\(label) has both 'script' and 'command'", fix: "keep one of them")
        case (nil, nil) where called == nil && waitNode == nil:
            reader.report(
                .missingKey, node, "\(label) has neither 'script' nor 'command' nor 'pipeline'",
                fix: "add 'script: file.py', 'command: ...' or 'pipeline: OTHER'")
        case (nil, nil): break
        }
        return step
    }

    /// `resources: {cpus: N, memory: 4G}`.
    private static func readResources(_ node: Node, reader: DefinitionReader) -> StepResources {
        var resources = StepResources()
        guard node.mapping != nil else {
            reader.report(.wrongType, node, "'resources' must be a map", fix: "write resources: {cpus: 2, memory: 4G}")
            return resources
        }
        for (key, _, value) in reader.entries(of: node, known: PipelineFormat.resources.names, context: "'resources'") {
            switch key {
            case "cpus": resources.cpus = reader.wholeNumber(value, "resources.cpus", in: 1...100_000) ?? 1
            case "memory":
                guard let text = reader.string(value, "resources.memory") else { continue }
                guard let bytes = ByteSize.memory(text) else {
                    reader.report(.badValue, value, "'resources.memory' is not an amount of memory: '\(text)'", fix: "write 512M, 4G or 1T")
                    continue
                }
                resources.memory = bytes
            default: break
            }
        }
        return resources
    }

    /// `wait_for: {file|glob|command|http: TARGET, interval, timeout, soft_fail}`, with the node of its target.
    private static func readWaitFor(_ node: Node, reader: DefinitionReader) -> (WaitFor, Node)? {
        let entries = reader.entries(of: node, known: PipelineFormat.waitFor.names, context: "wait_for")
        guard node.mapping != nil else {
            reader.report(.wrongType, node, "'wait_for' must be a map", fix: "write wait_for: {file: incoming/today.csv, interval: 1m, timeout: 6h}")
            return nil
        }
        var checks: [(WaitFor.Check, Node)] = []
        var wait = WaitFor(check: .file(""), interval: WaitFor.defaultInterval, timeout: WaitFor.defaultTimeout, softFail: false)
        for (key, _, value) in entries {
            switch key {
            case "file", "glob", "command", "http":
                guard let text = reader.string(value, "wait_for.\(key)") else { continue }
                guard !text.allSatisfy(\.isWhitespace) else {
                    reader.report(.badValue, value, "'wait_for.\(key)' is empty", fix: "say what to wait for")
                    continue
                }
                let check: WaitFor.Check =
                    switch key {
                    case "file": .file(text)
                    case "glob": .glob(text)
                    case "command": .command(text)
                    default: .http(text)
                    }
                checks.append((check, value))
            case "interval": wait.interval = reader.duration(value, "wait_for.interval") ?? wait.interval
            case "timeout": wait.timeout = reader.duration(value, "wait_for.timeout") ?? wait.timeout
            case "soft_fail": wait.softFail = reader.bool(value, "wait_for.soft_fail") ?? false
            default: break
            }
        }
        guard checks.count == 1, let (check, target) = checks.first else {
            reader.report(
                .badValue, node, "'wait_for' must say one thing to wait for: file, glob, command or http",
                fix: "write wait_for: {file: incoming/today.csv}")
            return nil
        }
        // Templates are filled in later: `sluice probe` checks what they become.
        switch check {
        case let .http(url) where !Template.mayHoldReferences(url):
            if let problem = WaitProbe.problem(url: url) {
                reader.report(.badValue, target, "'wait_for.http' \(problem)", fix: "write http://host:port/path")
            }
        case let .file(path) where !Template.mayHoldReferences(path), let .glob(path) where !Template.mayHoldReferences(path):
            if let problem = WaitProbe.problem(file: path) {
                reader.report(.badValue, target, "'wait_for' \(problem)", fix: "write it relative to the workspace")
            }
        default: break
        }
        guard wait.interval <= wait.timeout else {
            reader.report(
                .badValue, node,
                "'wait_for.interval' (\(DurationFormat.short(wait.interval))) is longer than its timeout (\(DurationFormat.short(wait.timeout)))",
                fix: "check more often than it waits in all")
            return nil
        }
        guard wait.interval >= 0.1 else {
            reader.report(.badValue, node, "'wait_for.interval' is shorter than 0.1s", fix: "check every second or less often")
            return nil
        }
        guard wait.timeout / wait.interval <= 1_000_000 else {
            reader.report(.badValue, node, "'wait_for' would check more than a million times", fix: "check less often, or give up sooner")
            return nil
        }
        wait.check = check
        return (wait, target)
    }

    /// The parameters a `pipeline:` step gives its child run: `name: value` pairs, values templated as in a command.
    private static func readChildParameters(_ node: Node, reader: DefinitionReader) -> [(name: String, value: String, node: Node)] {
        (node.mapping ?? [:]).compactMap { keyNode, valueNode in
            guard let name = reader.string(keyNode, "params"), let value = reader.string(valueNode, "params.\(name)") else { return nil }
            guard EnvironmentName.isValid(name) else {
                reader.report(
                    .badValue, keyNode, "'\(name.prefix(80))' is not a valid parameter name",
                    fix: "use letters, digits and underscores, not starting with a digit")
                return nil
            }
            return (name, value, valueNode)
        }
    }

    /// Declared inputs or outputs: paths relative to the workspace, which must stay inside it (checked again once
    /// their templates are filled in).
    /// `outputs:`: paths, or `{path: P, temp: true}` for a temporary one.
    private static func readOutputs(_ node: Node, reader: DefinitionReader) -> [(path: String, node: Node, temporary: Bool)] {
        let items = node.sequence.map(Array.init) ?? [node]
        return items.flatMap { item -> [(path: String, node: Node, temporary: Bool)] in
            guard item.mapping != nil else { return readPaths(item, "outputs", reader: reader).map { ($0.0, $0.1, false) } }
            var path: Node?
            var temporary = false
            for (key, _, value) in reader.entries(of: item, known: PipelineFormat.output.names, context: "an output") {
                if key == "path" { path = value } else { temporary = reader.bool(value, "temp") ?? false }
            }
            guard let path else {
                reader.report(.missingKey, item, "an output written as a map has no 'path'", fix: "write {path: data/aligned.bam, temp: true}")
                return []
            }
            return readPaths(path, "outputs", reader: reader).map { ($0.0, $0.1, temporary) }
        }
    }

    private static func readPaths(_ node: Node, _ field: String, reader: DefinitionReader) -> [(String, Node)] {
        reader.strings(node, field).compactMap { path, item in
            guard let normalized = WorkspacePath.normalized(path) else {
                reader.report(
                    .badValue, item, "'\(path)' in '\(field)' must be a path inside the workspace",
                    fix: "write it relative to the workspace, without '..'")
                return nil
            }
            // Paths are taken as written but for `{{ templates }}`: `$SAMPLE` or `{sample}` would name a file of that
            // very name, found missing only after the step ran.
            let literal = (try? Template(parsing: path))?.render { _ in "" } ?? path
            if literal.contains("$") || literal.contains("{") || literal.contains("}") {
                reader.report(
                    .badValue, item,
                    "'\(path)' in '\(field)' looks like a variable, but paths are taken as written: no $VARIABLES or {wildcards}",
                    fix: "use {{ item }} or {{ params.NAME }}, or match several files with a glob such as data/*.fastq")
                return nil
            }
            if field == "outputs", WorkspacePath.isSluicesOwn(normalized) {
                reader.report(
                    .badValue, item, "'\(path)' in 'outputs' is or holds .sluice, where Sluice keeps its store and versions",
                    fix: "name the files the step writes")
                return nil
            }
            return (normalized, item)
        }
    }

    /// `foreach` or `matrix`, and the settings that bound its instances.
    private static func readFanOut(_ nodes: [String: Node], of label: String, node: Node, reader: DefinitionReader) -> FanOut? {
        if nodes["foreach"] != nil, let matrix = nodes["matrix"] {
            reader.report(.badValue, matrix, "\(label) has both 'foreach' and 'matrix'", fix: "keep one of them")
            return nil
        }
        guard
            let source = nodes["foreach"].flatMap({ FanOutReader.foreach($0, reader: reader) })
                ?? nodes["matrix"].flatMap({ FanOutReader.matrix($0, reader: reader) })
        else {
            for key in ["max_parallel", "fail_fast"] where nodes[key] != nil && nodes["foreach"] == nil && nodes["matrix"] == nil {
                reader.report(.badValue, nodes[key], "'\(key)' of \(label) applies to a step with 'foreach' or 'matrix'", fix: "remove it")
            }
            return nil
        }
        var fanOut = FanOut(source: source)
        if let value = nodes["max_parallel"] { fanOut.maxParallel = reader.wholeNumber(value, "max_parallel", in: 1...100_000) }
        if let value = nodes["fail_fast"] { fanOut.failFast = reader.bool(value, "fail_fast") ?? false }
        return fanOut
    }

    private static func readFailureAction(_ node: Node, reader: DefinitionReader) -> FailureAction? {
        let fix = "write 'on_failure: rollback' or 'on_failure: {run: heal.py}'"
        if let text = node.scalar?.string {
            if text == "rollback" { return .rollback }
            reader.report(.badValue, node, "unknown on_failure action '\(text)'", fix: fix)
            return nil
        }
        let entries = reader.entries(of: node, known: PipelineFormat.onFailure.names, context: "'on_failure'")
        guard entries.count == 1, let (key, _, value) = entries.first else {
            if node.mapping != nil { reader.report(.badValue, node, "'on_failure' takes exactly one action", fix: fix) }
            return nil
        }
        if key == "rollback" { return reader.bool(value, key) == true ? .rollback : nil }
        return reader.string(value, key).map { .run(script: $0) }
    }

    private static func readRetry(_ node: Node, reader: DefinitionReader) -> RetryPolicy {
        var policy = RetryPolicy(retries: 0, delay: 1, backoff: 2, maxDelay: 300)
        if node.scalar != nil {
            policy.retries = reader.wholeNumber(node, "retries", in: 0...1000) ?? 0
            return policy
        }
        for (key, _, value) in reader.entries(of: node, known: PipelineFormat.retry.names, context: "'retries'") {
            switch key {
            case "count": policy.retries = reader.wholeNumber(value, key, in: 0...1000) ?? 0
            case "delay": policy.delay = reader.duration(value, key) ?? policy.delay
            case "backoff": policy.backoff = reader.number(value, key, atLeast: 1) ?? policy.backoff
            case "max_delay": policy.maxDelay = reader.duration(value, key) ?? policy.maxDelay
            default: break
            }
        }
        return policy
    }

    private static func readParameters(_ node: Node, reader: DefinitionReader) -> [ParameterSpec] {
        guard let mapping = node.mapping else {
            reader.report(
                .wrongType, node, "'params' must map parameter names to their declarations",
                fix: "write `name: {type: string, default: x}`")
            return []
        }
        var boundNodes: [(name: String, key: String, node: Node)] = []
        var specs: [ParameterSpec] = mapping.compactMap { keyNode, value in
            guard let name = keyNode.scalar?.string, EnvironmentName.isValid(name) else {
                reader.report(
                    .badValue, keyNode, "'\(keyNode.scalar?.string ?? "?")' is not a valid parameter name",
                    fix: "use letters, digits and underscores, not starting with a digit")
                return nil
            }
            var spec = ParameterSpec(
                name: name, type: .string, defaultValue: nil, required: false, choices: [],
                description: "", location: reader.location(keyNode))
            var defaultNode: Node?
            var bounds: [String: Node] = [:]
            for (key, _, field) in reader.entries(of: value, known: PipelineFormat.parameter.names, context: "parameter '\(name)'") {
                switch key {
                case "type":
                    guard let text = reader.string(field, key) else { continue }
                    if let type = ParameterType(rawValue: text.lowercased()) {
                        spec.type = type
                    } else {
                        reader.report(
                            .badValue, field, "parameter '\(name)' has unknown type '\(text)'",
                            fix: Suggestion.closest(to: text, among: ParameterType.allCases.map(\.rawValue)).map { "did you mean '\($0)'?" }
                                ?? "use one of: \(ParameterType.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                case "default":
                    defaultNode = field
                    // A list parameter's default may be written as a YAML list.
                    if let sequence = field.sequence {
                        spec.defaultValue = JSONText.array(sequence.compactMap { reader.string($0, key) })
                    } else {
                        spec.defaultValue = reader.string(field, key)
                    }
                case "required": spec.required = reader.bool(field, key) ?? false
                case "choices": spec.choices = reader.strings(field, key).map(\.0)
                case "min", "max": bounds[key] = field
                case "description": spec.description = reader.string(field, key) ?? ""
                default: break
                }
            }
            if spec.type == .choice, spec.choices.isEmpty {
                reader.report(.missingKey, keyNode, "parameter '\(name)' is a choice but lists no 'choices'", fix: "add 'choices: [a, b]'")
            }
            if let value = spec.defaultValue, case let .failure(problem) = spec.normalize(value) {
                reader.report(.badValue, defaultNode, "default of \(problem)", fix: "write \(spec.type.expectedForm)")
            }
            boundNodes.append(contentsOf: bounds.map { (spec.name, $0.key, $0.value) })
            return spec
        }
        for (name, key, node) in boundNodes {
            guard let index = specs.firstIndex(where: { $0.name == name }) else { continue }
            let bound = readBound(node, key, of: specs[index], among: specs, reader: reader)
            if key == "min" { specs[index].minimum = bound } else { specs[index].maximum = bound }
        }
        for problem in ParameterBinding.defaultProblems(specs) {
            guard let spec = specs.first(where: { $0.name == problem.parameter }) else { continue }
            reader.report(
                Diagnostic(
                    .badValue, at: spec.location,
                    "parameter '\(spec.name)' has a default outside its bounds: \(problem.message); a run not given '\(spec.name)' would be refused",
                    fix: "change the default or the bound"))
        }
        return specs
    }

    /// A `min` or `max`: a value of the parameter's type, or the name of another parameter declared with the same type.
    private static func readBound(
        _ node: Node, _ key: String, of spec: ParameterSpec, among specs: [ParameterSpec],
        reader: DefinitionReader
    ) -> String? {
        guard let text = reader.string(node, key) else { return nil }
        guard spec.isOrdered else {
            reader.report(
                .badValue, node, "parameter '\(spec.name)' is a \(spec.type.rawValue); '\(key)' applies to int, number and date",
                fix: "remove '\(key)'")
            return nil
        }
        if let other = specs.first(where: { $0.name == text }) {
            guard other.name != spec.name, other.type == spec.type else {
                reader.report(
                    .badValue, node, "'\(key)' of parameter '\(spec.name)' names '\(text)', which is not another \(spec.type.rawValue) parameter",
                    fix: "name a different parameter of type \(spec.type.rawValue), or write a value")
                return nil
            }
            return text
        }
        switch spec.normalize(text) {
        case let .success(value): return value
        case .failure:
            reader.report(
                .badValue, node, "'\(key)' of parameter '\(spec.name)' is neither \(spec.type.expectedForm) nor a parameter's name: '\(text)'",
                fix: "write \(spec.type.expectedForm), or the name of another \(spec.type.rawValue) parameter")
            return nil
        }
    }

    private static func readModes(_ node: Node, reader: DefinitionReader) -> [Mode] {
        guard let mapping = node.mapping else {
            reader.report(
                .wrongType, node, "'modes' must map mode names to lists of steps or tags",
                fix: "write `schema-only: [discover_schema]`")
            return []
        }
        return mapping.compactMap { keyNode, value in
            guard let name = keyNode.scalar?.string else { return nil }
            if value.sequence != nil || value.scalar != nil {
                return Mode(name: name, members: reader.strings(value, name).map(\.0), description: "", location: reader.location(keyNode))
            }
            var mode = Mode(name: name, members: [], description: "", location: reader.location(keyNode))
            for (key, _, field) in reader.entries(of: value, known: PipelineFormat.mode.names, context: "mode '\(name)'") {
                if key == "steps" { mode.members = reader.strings(field, key).map(\.0) }
                if key == "description" { mode.description = reader.string(field, key) ?? "" }
            }
            return mode
        }
    }
}

import Foundation

/// Where a run lives and what every step of it sees: its directories and environment.
struct RunContext: Sendable {
    public let runID: String
    public let pipeline: Pipeline
    public let workspace: String
    public let directory: RunDirectory
    /// What every step gets as `NAME=value` entries: Sluice's own environment, the pipeline's `env`, the run's
    /// variables, parameters and secrets. Built once per run: steps differ only by a variable or two.
    private let environmentEntries: [String]
    /// The `PATH` that commands are looked up in.
    private let searchPath: String?
    /// What the run's `.env` holds: its own variables and parameters, and secrets only when opted in.
    let environmentFileVariables: [(String, String)]
    /// Whether `.env` holds secrets: it is then readable by its owner alone.
    let environmentFileHoldsSecrets: Bool
    /// Hides the values of the pipeline's secrets (and of the API server's token) in step logs and the run log.
    public let mask: SecretMask
    /// The run's trace, when spans are exported: each attempt's span reaches its step as `TRACEPARENT`.
    var traces: RunTraces?

    init(
        runID: String, pipeline: Pipeline, workspace: String, directory: RunDirectory, parameters: [String: String],
        secrets: [String: String] = [:], secretsInEnvironmentFile: Bool = false, trigger: TriggerDetail? = nil,
        inherited: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.runID = runID
        self.pipeline = pipeline
        self.workspace = workspace
        self.directory = directory
        var variables: [(String, String)] = [
            ("SLUICE_RUN_ID", runID),
            ("SLUICE_PIPELINE", pipeline.id),
            ("SLUICE_WORKSPACE", workspace),
            ("SLUICE_RUN_DIR", directory.root),
            ("SLUICE_OUTPUTS_DIR", directory.outputs),
            ("SLUICE_WORKING_DIR", directory.working),
            ("SLUICE_LOGS_DIR", directory.logs),
        ]
        // What a trigger started the run for: the due time, the changed files (one a line), the backfilled interval.
        let triggered = [
            ("SLUICE_SCHEDULED_FOR", trigger?.scheduledFor), ("SLUICE_CHANGED_PATHS", trigger?.paths?.joined(separator: "\n")),
            ("SLUICE_INTERVAL", trigger?.interval),
        ]
        variables += triggered.compactMap { name, value in value.map { (name, $0) } }
        variables += pipeline.environment.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        for spec in pipeline.parameters {
            guard let value = parameters[spec.name] else { continue }
            // A long list would copy into every process of the run, and past 128 KiB the kernel refuses to start any:
            // its steps fan out over it and get their own item.
            if spec.type == .list, value.utf8.count > Self.listVariableLimit { continue }
            variables.append((spec.environmentName, value))
        }
        // A parameter named like an `env` variable wins (it is given per run); `.env` lists each name once.
        let last = Dictionary(variables, uniquingKeysWith: { $1 })
        var listed = Set<String>()
        variables = variables.compactMap { name, _ in listed.insert(name).inserted ? (name, last[name]!) : nil }
        let secretVariables = secrets.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        environmentFileHoldsSecrets = secretsInEnvironmentFile && !secretVariables.isEmpty
        environmentFileVariables = variables + (environmentFileHoldsSecrets ? secretVariables : [])
        var environment = inherited
        // Per step and attempt, appended at launch: a value inherited from an enclosing run (a step that runs
        // `sluice run`) would come first in the environment and hide them.
        environment["SLUICE_STEP"] = nil
        environment["SLUICE_ATTEMPT"] = nil
        environment["SLUICE_OUTPUT"] = nil
        // The API server's token: steps have no business with it, and their logs are readable through the API.
        let token = environment.removeValue(forKey: "SLUICE_TOKEN")
        // What a `pipeline:` step runs its child run with: this same Sluice, unless the environment names another.
        if environment["SLUICE_BINARY"] == nil { environment["SLUICE_BINARY"] = Self.sluiceBinary }
        // Output goes to files; unbuffered Python makes `sluice logs --follow` show it as it is printed.
        environment["PYTHONUNBUFFERED"] = "1"
        for (name, value) in variables + secretVariables { environment[name] = value }
        environmentEntries = environment.map { "\($0.key)=\($0.value)" }
        searchPath = environment["PATH"]
        // Masked like a secret all the same, should a step get hold of it another way.
        mask = SecretMask(values: Array(secrets.values) + [token].compactMap { $0 })
    }

    /// This process's executable, `sluice` itself outside of tests.
    private static let sluiceBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path

    /// Longer list parameters are not in the environment.
    static let listVariableLimit = 32 << 10

    /// How to start `step` (or `action` in its place, such as its healing script): its command line, its working
    /// directory, its environment and its log file (`logs/STEP.log`, or `logs/STEP.LOGSUFFIX.log`).
    func launchSpec(for step: Step, action: StepAction? = nil, logSuffix: String? = nil) -> LaunchSpec {
        var entries = environmentEntries
        if !step.environment.isEmpty {
            entries.removeAll { entry in step.environment.keys.contains { entry.hasPrefix($0 + "=") } }
            entries += step.environment.map { "\($0.key)=\(withRunID($0.value))" }
        }
        entries.append("SLUICE_STEP=\(step.name)")
        let workdir = step.workdir ?? pipeline.workdir
        let directory = workdir.map { $0.hasPrefix("/") ? $0 : (workspace as NSString).appendingPathComponent($0) } ?? workspace
        let name = step.name + (logSuffix.map { ".\($0)" } ?? "")
        return LaunchSpec(
            arguments: StepCommandLine.arguments(for: withRunID(action ?? step.action), scriptsDirectory: pipeline.scriptsDirectory),
            environment: entries, searchPath: step.environment["PATH"] ?? searchPath,
            workingDirectory: directory, logFile: self.directory.log(of: name), mask: mask.isEmpty ? nil : mask,
            identity: AttemptIdentity(runID: runID, step: name, attempt: 1, runDirectory: self.directory.root),
            placement: pipeline.placement(of: step), resources: step.resources)
    }

    /// `{{ run.id }}`, a marker when the run's templates were filled in (the id was not known yet).
    private func withRunID(_ text: String) -> String {
        Template.fillMarkers(text) { $0 == "run.id" ? runID : nil }
    }

    /// `step` with the values of its upstream steps (`{{ steps.NAME.outputs.KEY }}`, by marker name) filled in:
    /// shell-quoted in its command, as written in its `env`.
    static func filling(_ step: Step, with values: [String: String]) -> Step {
        var filled = step
        if case let .command(text) = step.action {
            filled.action = .command(Template.fillMarkers(text) { values[$0].map(ShellQuote.quote) })
        }
        filled.environment = step.environment.mapValues { Template.fillMarkers($0) { values[$0] } }
        return filled
    }

    private func withRunID(_ action: StepAction) -> StepAction {
        if case let .command(text) = action { return .command(withRunID(text)) }
        return action
    }
}

/// The keys of pipeline files, section by section, each with the shape of its value. The loader reads a section's
/// keys from here, and `sluice schema pipeline` writes the same tables as a JSON Schema, so a key cannot exist in
/// one and not the other.
public enum PipelineFormat {
    public static let pipeline = KeyTable(
        [
            .init("name", .text, "the pipeline's name (the file's name if left out)"),
            .init("description", .text, "what the pipeline does"),
            .init("steps", .list(.section(step)), "the steps, in the order they are listed"),
            .init("params", .mapping(.section(parameter)), "parameters a run takes, by name: `name: {type: int, default: 5}`"),
            .init("modes", .mapping(.either([.names, .section(mode)])), "named selections of steps or tags: `quick: [load, report]`"),
            .init("env", .mapping(.text), "environment variables of every step"),
            .init("secrets", .names, "names of secrets every step gets in its environment, masked in logs"),
            .init("workdir", .text, "the steps' working folder, relative to the workspace"),
            .init("notify", .list(.section(notifyHandler)), "where to send notices of runs"),
            .init("concurrency", .choice(ConcurrencyPolicy.allCases.map(\.rawValue)), "what a run started while another runs does"),
            .init("schedule", .either([.text, .section(schedule), .list(.either([.text, .section(schedule)]))]), "cron schedules"),
            .init("watch", .either([.section(watch), .list(.section(watch))]), "folders whose new files start runs"),
            .init("executor", .choice(ExecutorKind.allCases.map(\.rawValue)), "where the steps run"),
            .init("slurm", .section(slurm), "the Slurm job every step asks for"),
        ], required: ["steps"])

    public static let step = KeyTable(
        [
            .init("name", .text, "the step's name, unique in the pipeline"),
            .init("description", .text, "what the step does"),
            .init("script", .text, "a script in the pipeline's folder, run by its extension or shebang"),
            .init("command", .text, "a shell command"),
            .init("depends_on", .names, "steps that must end first"),
            .init("timeout", .duration, "how long an attempt may take: 90s, 5m, 1h30m"),
            .init("retries", .either([.wholeNumber, .section(retry)]), "attempts after the first: a count, or {count, delay, backoff, max_delay}"),
            .init("env", .mapping(.text), "environment variables of this step"),
            .init("tags", .names, "tags that modes and --only select by"),
            .init("allow_failure", .flag, "a failure lets the run succeed"),
            .init("workdir", .text, "the step's working folder, relative to the workspace"),
            .init("inputs", .names, "files the step reads: a change in them runs it again"),
            .init("outputs", .either([.text, .section(output), .list(.either([.text, .section(output)]))]), "files the step writes, versioned"),
            .init("on_failure", .either([.text, .section(onFailure)]), "what to do when it fails: rollback, or {run: heal.py}"),
            .init("trigger_rule", .choice(TriggerRule.allCases.map(\.rawValue)), "which ends of the upstream steps start it"),
            .init("executor", .choice(ExecutorKind.allCases.map(\.rawValue)), "where the step runs"),
            .init("runs_on", .names, "labels a worker must have to run it"),
            .init("slurm", .section(slurm), "the Slurm job the step asks for"),
            .init("foreach", .either([.text, .section(foreachGlob), .list(.either([.text, .mapping(.text)]))]), "one instance per item"),
            .init("matrix", .section(matrix, others: .list(.text)), "one instance per combination of the lists"),
            .init("max_parallel", .wholeNumber, "instances of the fan-out that run at once"),
            .init("fail_fast", .flag, "a failed instance stops the fan-out's others"),
            .init("if", .text, "a condition on parameters and upstream values; false skips the step"),
            .init(
                "params", .either([.names, .mapping(.text)]),
                "the parameters the step reads (a list), or for a `pipeline:` step the child run's values (a map)"),
            .init("pipeline", .text, "another pipeline of the workspace, run as a child run"),
            .init("wait_for", .section(waitFor), "a file, glob, command or URL to wait for before the step starts"),
            .init("resources", .section(resources), "the CPUs and memory the step holds while it runs"),
            .init("pool", .text, "a pool of the workspace whose slots limit how many such steps run at once"),
            .init("priority", .wholeNumber, "steps of higher priority start first"),
        ], required: ["name"])

    static let resources = KeyTable([
        .init("cpus", .wholeNumber, "CPUs"),
        .init("memory", .text, "memory: 512M, 4G"),
    ])

    static let waitFor = KeyTable([
        .init("file", .text, "a file that must exist"),
        .init("glob", .text, "a pattern some file must match"),
        .init("command", .text, "a command that must succeed"),
        .init("http", .text, "a URL that must answer 2xx"),
        .init("interval", .duration, "time between checks"),
        .init("timeout", .duration, "how long to wait"),
        .init("soft_fail", .flag, "skip the step, rather than fail it, when the wait times out"),
    ])

    static let parameter = KeyTable([
        .init("type", .choiceAnyCase(ParameterType.allCases.map(\.rawValue)), "the parameter's type"),
        .init("default", .either([.text, .list(.text)]), "its value when a run gives none"),
        .init("required", .flag, "a run must give it"),
        .init("choices", .names, "the values a choice takes"),
        .init("min", .text, "the least value, or another parameter's name"),
        .init("max", .text, "the greatest value, or another parameter's name"),
        .init("description", .text, "what it is for"),
    ])

    static let retry = KeyTable([
        .init("count", .wholeNumber, "attempts after the first"),
        .init("delay", .duration, "the wait before the first retry"),
        .init("backoff", .number, "what each wait is multiplied by"),
        .init("max_delay", .duration, "the longest wait"),
    ])

    static let mode = KeyTable([
        .init("steps", .names, "steps or tags"),
        .init("description", .text, "what the mode is for"),
    ])

    static let onFailure = KeyTable([
        .init("rollback", .flag, "put the step's outputs back as they were"),
        .init("run", .text, "a healing script"),
    ])

    static let output = KeyTable(
        [
            .init("path", .text, "the output's path"),
            .init("temp", .flag, "delete it once every step that reads it has ended"),
        ], required: ["path"])

    /// Besides its lists, named as the user likes.
    static let matrix = KeyTable([
        .init("include", .list(.mapping(.text)), "combinations to add: [{region: ap, year: '2025'}]"),
        .init("exclude", .list(.mapping(.text)), "combinations to leave out"),
    ])

    static let foreachGlob = KeyTable([.init("glob", .text, "a pattern of workspace files: one instance per file")], required: ["glob"])

    static let slurm = KeyTable([
        .init("partition", .text, "the partition"),
        .init("cpus", .wholeNumber, "CPUs per task"),
        .init("memory", .text, "memory: 4G"),
        .init("time", .duration, "the time limit: 90m, 2h"),
        .init("flags", .names, "more sbatch options"),
    ])

    static let schedule = KeyTable(
        [
            .init("name", .text, "the schedule's name"),
            .init("cron", .text, "five cron fields: minute hour day month weekday"),
            .init("timezone", .text, "an IANA time zone: Europe/Paris"),
            .init("catch_up", .choice(CatchUpPolicy.allCases.map(\.rawValue)), "the runs to start for times missed while no scheduler ran"),
            .init("max_catch_up", .wholeNumber, "the most missed times to run"),
            .init(
                "params", .mapping(.text), "the run's parameters, with {{ schedule.date }}, {{ schedule.time }} or {{ schedule.end_date }} filled in"),
        ], required: ["cron"])

    static let watch = KeyTable(
        [
            .init("name", .text, "the watch's name"),
            .init("path", .text, "the folder to watch"),
            .init("pattern", .names, "patterns of the file names that count"),
            .init("debounce", .duration, "quiet time before a run starts"),
            .init("params", .mapping(.text), "the run's parameters, with {{ watch.paths }} or {{ watch.count }} filled in"),
        ], required: ["path"])

    public static let notifyHandler = KeyTable([
        .init("file", .text, "a file to write notices to"),
        .init("webhook", .text, "a URL to post notices to"),
        .init("command", .text, "a command to run with the notice"),
        .init("on", .names, "the events that send a notice"),
        .init("timeout", .duration, "how long one delivery may take"),
        .init("retries", .wholeNumber, "deliveries after a failed first"),
    ])
}

/// The keys a section of a definition file takes.
public struct KeyTable: Sendable {
    public let keys: [DefinitionKey]
    /// The names, in order: what the loader checks each key against.
    public let names: [String]
    /// The keys without which the loader refuses the section (it says so in its own words).
    public let required: [String]

    init(_ keys: [DefinitionKey], required: [String] = []) {
        self.keys = keys
        names = keys.map(\.name)
        self.required = required
    }
}

/// One key, the shape of its value, and what it is for.
public struct DefinitionKey: Sendable {
    public var name: String
    public var value: ValueShape
    public var summary: String

    init(_ name: String, _ value: ValueShape, _ summary: String) {
        self.name = name
        self.value = value
        self.summary = summary
    }
}

/// What a value must be for the loader to read it, before its own checks (a path inside the workspace, a cron
/// expression) apply.
public indirect enum ValueShape: Sendable {
    /// Any single value: text, a number or a boolean, read as text.
    case text
    /// One name or a list of them.
    case names
    /// true or false (yes, no, on, off too).
    case flag
    /// 90s, 5m, 1h30m or a number of seconds.
    case duration
    case number
    case wholeNumber
    /// One of these words.
    case choice([String])
    /// One of these words, in any case.
    case choiceAnyCase([String])
    /// A mapping of these keys, and of the user's own: starting with `x-`, or any other of the shape `others`.
    case section(KeyTable, others: ValueShape? = nil)
    /// A mapping of names the user chooses to values of one shape.
    case mapping(ValueShape)
    case list(ValueShape)
    case either([ValueShape])
}

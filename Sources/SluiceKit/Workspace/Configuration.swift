import Foundation
import Yams

/// The effective settings of a workspace, each with where it came from.
///
/// Precedence, highest first: command-line flags, `sluice.yaml`, `SLUICE_*` environment variables, defaults.
/// A setting in the workspace's own file wins over the host's environment.
public struct Configuration: Sendable {
    /// Where a value came from.
    public enum Source: Sendable, Equatable, CustomStringConvertible {
        case flag, file(String), environment(String), defaultValue
        public var description: String {
            switch self {
            case .flag: "command line"
            case let .file(path): "config file \(path)"
            case let .environment(name): "environment \(name)"
            case .defaultValue: "default"
            }
        }
    }

    /// One setting: its key in `sluice.yaml`, what it means and how to check it.
    public struct Key: Sendable {
        public var name: String
        public var summary: String
        var defaultValue: @Sendable () -> String
        var validate: @Sendable (String) -> String?
        public var environmentName: String { "SLUICE_" + name.uppercased() }
    }

    /// A setting's value and where it came from (default, `sluice.yaml`, environment, command line).
    public struct Value: Sendable {
        public var key: String
        public var value: String
        public var source: Source
        /// The value as shown (`sluice config`, the API, messages): a store URL's password masked.
        public var shown: String { ["store", "otlp_endpoint", "openlineage_url"].contains(key) ? PostgresRunStore.redacted(value) : value }
    }

    public static let keys: [Key] = [
        Key(name: "pipelines_dir", summary: "folder scanned for pipeline files", defaultValue: { "pipelines" }, validate: nonEmpty),
        Key(name: "runs_dir", summary: "folder holding one directory per run", defaultValue: { "runs" }, validate: nonEmpty),
        Key(
            name: "store", summary: "the run store: an SQLite file, or postgres://USER@HOST/DATABASE shared by several hosts",
            defaultValue: { ".sluice/store.sqlite" }, validate: StoreLocation.problem),
        Key(
            name: "store_timeout", summary: "how long to wait for a store another process holds locked", defaultValue: { "30s" },
            validate: { DurationText.seconds($0) == nil ? "must be a duration such as 30s" : nil }),
        Key(
            name: "versions_dir", summary: "folder keeping versions of declared step outputs", defaultValue: { ".sluice/versions" },
            validate: nonEmpty),
        Key(
            name: "jobs", summary: "steps run at once (those on Slurm wait in its queue instead)",
            defaultValue: { String(ProcessInfo.processInfo.activeProcessorCount) },
            validate: { Int($0).map { $0 >= 1 } == true ? nil : "must be a whole number of at least 1" }),
        Key(
            name: "cpus", summary: "CPUs the steps running on this machine may use at once, by their resources.cpus",
            defaultValue: { String(ProcessInfo.processInfo.activeProcessorCount) },
            validate: { Int($0).map { (1...100_000).contains($0) } == true ? nil : "must be a whole number from 1 to 100000" }),
        Key(
            name: "memory", summary: "memory the steps running on this machine may use at once, by their resources.memory",
            defaultValue: { ByteSize.memoryText(Int64(clamping: ProcessInfo.processInfo.physicalMemory)) },
            validate: { ByteSize.memory($0) == nil ? "must be an amount of memory such as 16G or 512M" : nil }),
        Key(
            name: "executor", summary: "where steps run unless their pipeline says: local, workers (sluice worker, PostgreSQL store) or slurm",
            defaultValue: { "local" }, validate: { ExecutorKind(rawValue: $0) == nil ? "must be local, workers or slurm" : nil }),
        Key(
            name: "grace_period", summary: "time between SIGTERM and SIGKILL when a step is stopped", defaultValue: { "10s" },
            validate: { DurationText.seconds($0) == nil ? "must be a duration such as 10s" : nil }),
        Key(
            name: "log_max_size", summary: "size past which a step's log is rotated (STEP.log.1 keeps the previous part)",
            defaultValue: { "100MB" }, validate: { ByteSize.bytes($0) == nil ? "must be a size such as 100MB, 1GB or 500KB" : nil }),
        Key(
            name: "log_lines", summary: "log lines shown for a failed step", defaultValue: { "20" },
            validate: { Int($0).map { $0 >= 0 } == true ? nil : "must be a whole number" }),
        Key(
            name: "params_file",
            summary: "a YAML or JSON file of parameter values every run starts from, under --params-file and -p (none by default)",
            defaultValue: { "" },
            validate: { value in
                value.contains(where: { $0.isNewline || $0.asciiValue.map { $0 < 32 } == true })
                    || (!value.isEmpty && value.allSatisfy(\.isWhitespace))
                    ? "must be a path (or empty for none)" : nil
            }),
        Key(
            name: "secrets_file", summary: "NAME=value lines for secrets not in the environment",
            defaultValue: { ".sluice/secrets.env" }, validate: nonEmpty),
        Key(
            name: "allowed_hosts", summary: "host names `sluice serve` answers to besides IP addresses and localhost (comma-separated; * for any)",
            defaultValue: { "" }, validate: listOfNames),
        Key(
            name: "allowed_origins",
            summary: "web origins besides the server's own whose pages may use it (comma-separated, as https://host:port; * for any)",
            defaultValue: { "" }, validate: listOfNames),
        Key(
            name: "otlp_endpoint",
            summary: "an OpenTelemetry collector (OTLP/HTTP, http://host:4318) that gets each run as a trace, each step attempt a span",
            defaultValue: { shared("OTEL_EXPORTER_OTLP_ENDPOINT", valid: httpURL) ?? "" }, validate: httpURL),
        Key(
            name: "openlineage_url",
            summary: "an OpenLineage backend (Marquez: http://host:5000) that gets each run's and step's start and end, with their files",
            defaultValue: { shared("OPENLINEAGE_URL", valid: httpURL) ?? "" }, validate: httpURL),
        Key(
            name: "openlineage_namespace", summary: "the namespace of the pipelines' jobs in OpenLineage",
            defaultValue: { shared("OPENLINEAGE_NAMESPACE", valid: nonEmpty) ?? "sluice" }, validate: nonEmpty),
        Key(
            name: "env_file_secrets", summary: "also write secrets, in clear, to each run's .env", defaultValue: { "false" },
            validate: { ["true", "false"].contains($0) ? nil : "must be true or false" }),
    ]

    /// The keys of `sluice.yaml`, as `sluice schema config` describes them.
    public static let fileKeys = KeyTable(
        keys.map { DefinitionKey($0.name, .text, $0.summary) } + [
            DefinitionKey("notify", .list(.section(PipelineFormat.notifyHandler)), "where to send notices of every pipeline's runs"),
            DefinitionKey("pools", .mapping(.wholeNumber), "pools of slots that steps with `pool:` share: `warehouse: 2`"),
        ])

    static let nonEmpty: @Sendable (String) -> String? = { value in
        value.allSatisfy(\.isWhitespace) ? "must not be empty" : hasControlCharacter(value) ? "must not hold control characters" : nil
    }

    /// C0, DEL and C1: printed back by `sluice config` and in notes, they would act on the terminal.
    static func hasControlCharacter(_ value: String) -> Bool {
        value.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
    }

    /// A variable other tools read too (`OPENLINEAGE_URL`, `OTEL_EXPORTER_OTLP_ENDPOINT`), as a default: one Sluice
    /// cannot use (an OTLP/gRPC address without a scheme) is passed over, rather than stopping every command.
    static func shared(_ name: String, valid: (String) -> String?) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], valid(value) == nil else { return nil }
        return value
    }

    /// Empty for none, or an http(s) address.
    static let httpURL: @Sendable (String) -> String? = { value in
        guard !value.isEmpty else { return nil }
        guard !hasControlCharacter(value) else { return "must not hold control characters" }
        guard let url = URLComponents(string: value), ["http", "https"].contains(url.scheme), url.host?.isEmpty == false else {
            return "must be an http:// or https:// address (or empty for none)"
        }
        // Sluice adds the path it posts to (/v1/traces, /api/v1/lineage): a query or fragment would end up before it.
        return url.query == nil && url.fragment == nil ? nil : "must be an address without ?query or #fragment"
    }
    static let listOfNames: @Sendable (String) -> String? = { text in
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let bad = items.first { $0.unicodeScalars.contains { $0.value <= 0x20 || $0.value == 0x7F || "\"'<>\\".unicodeScalars.contains($0) } }
        return bad.map { "must be names separated by commas ('\($0)' is not one)" }
    }
    public static let fileName = "sluice.yaml"

    /// The workspace folder; relative paths in the settings are relative to it.
    public let workspace: String
    public let values: [Value]
    /// Notification handlers for every pipeline (`notify:` in `sluice.yaml`, same form as in a pipeline file).
    public var notify: [NotificationTarget] = []
    /// `pools:` in `sluice.yaml`: how many steps may use each pool at once, across every run sharing the store.
    public var pools: [String: Int] = [:]

    /// Reads `sluice.yaml` in `workspace` (if present), the environment and `overrides` from flags.
    public static func load(
        workspace: String, environment: [String: String] = ProcessInfo.processInfo.environment,
        overrides: [String: String] = [:]
    ) throws(DefinitionError) -> Configuration {
        let file = (workspace as NSString).appendingPathComponent(fileName)
        let (fromFile, notify, pools) = try readFile(file)
        var values: [Value] = []
        var problems: [Diagnostic] = []
        for key in keys {
            let value: Value
            if let flag = overrides[key.name] {
                value = Value(key: key.name, value: flag, source: .flag)
            } else if let (text, _) = fromFile[key.name] {
                value = Value(key: key.name, value: text, source: .file(file))
            } else if let text = environment[key.environmentName] {
                value = Value(key: key.name, value: text, source: .environment(key.environmentName))
            } else {
                value = Value(key: key.name, value: key.defaultValue(), source: .defaultValue)
            }
            if let problem = key.validate(value.value) {
                let location = fromFile[key.name].map { $0.1 } ?? SourceLocation(file: value.source.description, line: 1, column: 1)
                // Control characters escaped: the message is printed, and they would act on the terminal.
                let shown = value.shown.unicodeScalars.map { hasControlCharacter(String($0)) ? "\\u{\(String($0.value, radix: 16))}" : String($0) }
                    .joined()
                problems.append(Diagnostic(.badValue, at: location, "setting '\(key.name)' \(problem), not '\(shown)'"))
            }
            values.append(value)
        }
        if !problems.isEmpty { throw DefinitionError(diagnostics: problems) }
        return Configuration(workspace: workspace, values: values, notify: notify, pools: pools)
    }

    private static func readFile(
        _ file: String
    ) throws(DefinitionError) -> ([String: (String, SourceLocation)], [NotificationTarget], [String: Int]) {
        guard FileManager.default.fileExists(atPath: file) else { return ([:], [], [:]) }
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            throw DefinitionError(diagnostics: [
                Diagnostic(
                    .unreadableFile, at: SourceLocation(file: file, line: 1, column: 1),
                    "cannot read the config file as UTF-8 text")
            ])
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text, .basic) } catch {
            let mark: Mark? =
                switch error as? YamlError {
                case let .scanner(_, _, mark, _)?, let .parser(_, _, mark, _)?, let .composer(_, _, mark, _)?: mark
                default: nil
                }
            throw DefinitionError(diagnostics: [
                Diagnostic(
                    .yamlSyntax, at: SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1),
                    "invalid YAML in the config file", fix: "check indentation and quoting")
            ])
        }
        guard let root else { return ([:], [], [:]) }
        let reader = DefinitionReader(file: file)
        var result: [String: (String, SourceLocation)] = [:]
        var notify: [NotificationTarget] = []
        var pools: [String: Int] = [:]
        for (key, _, value) in reader.entries(of: root, known: fileKeys.names, context: "the config file") {
            if key == "notify" {
                notify = NotificationTargetReader.read(value, reader: reader)
            } else if key == "pools" {
                pools = readPools(value, reader: reader)
            } else if let text = reader.string(value, key) {
                result[key] = (text, reader.location(value))
            }
        }
        if !reader.diagnostics.isEmpty { throw DefinitionError(diagnostics: reader.diagnostics) }
        return (result, notify, pools)
    }

    /// `pools: {NAME: SIZE}`.
    private static func readPools(_ node: Node, reader: DefinitionReader) -> [String: Int] {
        guard let mapping = node.mapping else {
            reader.report(.wrongType, node, "'pools' must map pool names to sizes", fix: "write pools: {warehouse: 2}")
            return [:]
        }
        var pools: [String: Int] = [:]
        for (keyNode, value) in mapping {
            guard let name = keyNode.scalar?.string, PoolName.isValid(name) else {
                reader.report(.badValue, keyNode, "'\(keyNode.scalar?.string ?? "")' in 'pools' is not a pool name", fix: PoolName.rule)
                continue
            }
            pools[name] = reader.wholeNumber(value, "pools.\(name)", in: 1...100_000)
        }
        return pools
    }

    public subscript(_ name: String) -> String { values.first { $0.key == name }!.value }

    private func path(_ name: String) -> String {
        let value = self[name]
        return value.hasPrefix("/") ? value : (workspace as NSString).appendingPathComponent(value)
    }

    public var pipelinesDirectory: String { path("pipelines_dir") }
    public var runsDirectory: String { path("runs_dir") }
    public var store: StoreLocation { StoreLocation(setting: self["store"], workspace: workspace) }
    public var versionsDirectory: String { path("versions_dir") }
    public var jobs: Int { Int(self["jobs"])! }
    public var cpus: Int { Int(self["cpus"])! }
    public var memory: Int64 { ByteSize.memory(self["memory"])! }
    public var executor: ExecutorKind { ExecutorKind(rawValue: self["executor"])! }
    public var gracePeriod: Double { DurationText.seconds(self["grace_period"])! }
    public var storeTimeout: Double { DurationText.seconds(self["store_timeout"])! }
    public var logLimit: Int64 { ByteSize.bytes(self["log_max_size"])! }
    public var logLines: Int { Int(self["log_lines"])! }
    public var secretsFile: String { path("secrets_file") }
    public var parametersFile: String? { self["params_file"].isEmpty ? nil : path("params_file") }
    public var secretsInEnvironmentFile: Bool { self["env_file_secrets"] == "true" }
    public var allowedHosts: [String] { list("allowed_hosts") }
    public var allowedOrigins: [String] { list("allowed_origins") }

    private func list(_ name: String) -> [String] {
        self[name].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

extension Configuration {
    /// A request to run `pipeline` with this workspace's settings (jobs, secrets).
    public func request(
        _ pipeline: Pipeline, selection: Selection = Selection(), parameters: [String: String], parametersFiles: [String] = [],
        trigger: String
    ) throws(DefinitionError) -> RunRequest {
        let problems = problems(with: pipeline)
        if !problems.isEmpty { throw DefinitionError(diagnostics: problems) }
        var request = RunRequest(
            pipeline: pipeline, selection: selection, parameters: try self.parameters(for: pipeline, files: parametersFiles, over: parameters),
            trigger: trigger, jobs: jobs,
            secrets: SecretValues.load(pipeline.secrets, file: secretsFile), secretsInEnvironmentFile: secretsInEnvironmentFile,
            workspace: workspace)
        request.capacity = capacity
        return request
    }

    /// What `pipeline` asks that this workspace cannot give: a pool `pools:` does not define, or a temporary output that
    /// is or holds one of Sluice's own folders and files (its removal would take them).
    public func problems(with pipeline: Pipeline) -> [Diagnostic] {
        var found = capacity.problems(with: pipeline.steps)
        var own = [
            pipelinesDirectory, runsDirectory, versionsDirectory, secretsFile, parametersFile,
            (workspace as NSString).appendingPathComponent(Self.fileName),
        ].compactMap { $0 }
        if case let .sqlite(path) = store { own.append(path) }
        let relative = own.compactMap { path -> String? in
            let standard = (path as NSString).standardizingPath, root = (workspace as NSString).standardizingPath
            return standard.hasPrefix(root + "/") ? String(standard.dropFirst(root.count + 1)) : nil
        }
        for step in pipeline.steps {
            for path in step.temporaryOutputs.sorted() {
                guard let taken = relative.first(where: { PathPatterns.covers(path, $0) || PathPatterns.covers($0, path) }) else { continue }
                found.append(
                    Diagnostic(
                        .badValue, at: step.location,
                        "step '\(step.name)': temporary output '\(path)' is or holds '\(taken)', which Sluice keeps for the workspace",
                        fix: "write the temporary files in a folder of their own"))
            }
        }
        return found
    }

    /// The CPUs, memory and pools this workspace's runs may use at once.
    public var capacity: RunCapacity { RunCapacity(cpus: cpus, memory: memory, pools: pools) }

    /// The values `pipeline` takes from the workspace's `params_file`, then from each of `files` in order, then from
    /// `given`. A file's names that the pipeline does not declare are left out: one file may serve several pipelines.
    public func parameters(
        for pipeline: Pipeline, files: [String] = [], over given: [String: String]
    ) throws(DefinitionError)
        -> [String: String]
    {
        var values: [String: String] = [:]
        if let parametersFile {
            do { values = try ParameterFile.read(parametersFile, for: pipeline.parameters) } catch {
                let source = self.values.first { $0.key == "params_file" }.map { "\($0.source)" } ?? "params_file"
                throw DefinitionError(
                    diagnostics: error.diagnostics.map { diagnostic in
                        var diagnostic = diagnostic
                        diagnostic.message += " (the workspace's params_file, set in \(source))"
                        return diagnostic
                    })
            }
        }
        for file in files { values.merge(try ParameterFile.read(file, for: pipeline.parameters)) { _, later in later } }
        return values.merging(given) { _, given in given }
    }

    /// The executors of this workspace's steps: local processes, and Slurm jobs or workers for the steps that ask for
    /// them. Slurm jobs run `sluiceBinary attempt …` on the compute nodes.
    public func executor(store: any RunStore, sluiceBinary: String) -> ExecutorRouter {
        let local = LocalExecutor(gracePeriod: gracePeriod, logLimit: logLimit)
        var others: [ExecutorKind: any StepExecutor] = [
            .slurm: SlurmExecutor(sluiceBinary: sluiceBinary, gracePeriod: gracePeriod, logLimit: logLimit)
        ]
        var unavailable: [ExecutorKind: String] = [:]
        if let queue = store as? any WorkQueue {
            others[.workers] = WorkQueueExecutor(queue: queue, gracePeriod: gracePeriod, logLimit: logLimit)
        } else {
            unavailable[.workers] = "workers need a PostgreSQL store (store: postgres://…); this workspace's store is an SQLite file"
        }
        return ExecutorRouter(local: local, defaultKind: executor, others: others, unavailable: unavailable)
    }

    /// The runner of this workspace's runs.
    public func runner(store: any RunStore, executor: any StepExecutor) -> PipelineRunner {
        PipelineRunner(
            store: store, executor: executor, workspace: workspace, runsDirectory: runsDirectory,
            pipelinesDirectory: pipelinesDirectory, versionsDirectory: versionsDirectory, notify: notify, lineage: lineage,
            traceEndpoint: self["otlp_endpoint"].isEmpty ? nil : self["otlp_endpoint"])
    }

    /// `openlineage_url`, when set.
    public var lineage: LineageTarget? {
        let url = self["openlineage_url"]
        guard !url.isEmpty else { return nil }
        return LineageTarget(url: url, namespace: self["openlineage_namespace"], apiKey: ProcessInfo.processInfo.environment["OPENLINEAGE_API_KEY"])
    }
}

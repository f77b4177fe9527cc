import Foundation
import SluiceKit

/// What the API says about a pipeline in lists.
struct PipelineSummary: Codable, Sendable {
    struct Problem: Codable, Sendable {
        var code: String
        var location: String
        var message: String
        var fix: String?
    }

    var id: String
    var name: String
    var description: String
    var file: String
    var valid: Bool
    var diagnostics: [Problem]
    var steps: Int
    var stepsCompleted: Int
    var stepsTested: Int
    var lastRun: RunRecord?
    var triggers: [TriggerInfo]
    /// Whether its schedules and watches are paused.
    var paused: Bool

    init(_ entry: PipelineCatalog.Entry, statuses: [StepStatusRecord], lastRun: RunRecord?, triggers: [TriggerInfo], paused: Bool) {
        id = entry.id
        name = entry.pipeline?.name ?? entry.id
        description = entry.pipeline?.description ?? ""
        file = entry.file
        valid = entry.pipeline != nil
        diagnostics = entry.diagnostics.map { Problem(code: $0.code.rawValue, location: $0.location.description, message: $0.message, fix: $0.fix) }
        let names = Set(entry.pipeline?.steps.map(\.name) ?? [])
        steps = names.count
        stepsCompleted = statuses.count { names.contains($0.step) && $0.completed }
        stepsTested = statuses.count { names.contains($0.step) && $0.tested }
        self.lastRun = lastRun
        self.triggers = triggers
        self.paused = paused
    }
}

/// A pipeline with its steps, parameters, modes and graph.
struct PipelineDetail: Codable, Sendable {
    struct StepInfo: Codable, Sendable {
        var name: String
        var description: String
        var script: String?
        var command: String?
        /// The pipeline a `pipeline:` step runs as a child run (its `command` is the `sluice run` that does it).
        var pipeline: String?
        var dependsOn: [String]
        var tags: [String]
        var inputs: [String]
        var outputs: [String]
        var triggerRule: String
        var onFailure: String?
        var timeoutSeconds: Double?
        var retries: Int
        var status: StepStatusRecord?
        /// A fan-out's instances, by their latest state: the graph draws it as one node that counts them.
        var instances: FanOutSummary?
    }

    struct ParameterInfo: Codable, Sendable {
        var name: String
        var type: String
        var defaultValue: String?
        var required: Bool
        var choices: [String]
        /// `min` and `max`: a value, or the name of another parameter.
        var minimum: String?
        var maximum: String?
        var description: String
    }

    struct ModeInfo: Codable, Sendable {
        var name: String
        var members: [String]
        var description: String
    }

    var summary: PipelineSummary
    var steps: [StepInfo]
    var parameters: [ParameterInfo]
    var modes: [ModeInfo]
    /// Dependencies as `[upstream, downstream]` pairs.
    var edges: [[String]]

    init(_ pipeline: Pipeline, summary: PipelineSummary, statuses: [StepStatusRecord]) {
        self.summary = summary
        let byStep = Dictionary(statuses.map { ($0.step, $0) }, uniquingKeysWith: { first, _ in first })
        let fanOuts = Dictionary(
            uniqueKeysWithValues: FanOutSummary.of(statuses.lazy.compactMap { status in status.lastState.map { (status.step, $0) } }).map {
                ($0.step, $0)
            })
        steps = pipeline.steps.map { step in
            var info = StepInfo(
                name: step.name, description: step.description, dependsOn: step.dependsOn, tags: step.tags,
                inputs: step.inputs, outputs: step.outputs, triggerRule: step.triggerRule.rawValue,
                timeoutSeconds: step.timeout, retries: step.retry.retries, status: byStep[step.name],
                instances: step.fanOut != nil ? fanOuts[step.name] : nil)
            switch step.action {
            case let .script(path): info.script = path
            case let .command(text): info.command = text
            }
            info.pipeline = step.subPipeline?.pipeline
            switch step.onFailure {
            case .rollback?: info.onFailure = "rollback"
            case let .run(script)?: info.onFailure = "run \(script)"
            case nil: break
            }
            return info
        }
        parameters = pipeline.parameters.map {
            ParameterInfo(
                name: $0.name, type: $0.type.rawValue, defaultValue: $0.defaultValue, required: $0.required, choices: $0.choices,
                minimum: $0.minimum, maximum: $0.maximum, description: $0.description)
        }
        modes = pipeline.modes.map { ModeInfo(name: $0.name, members: $0.members, description: $0.description) }
        edges = pipeline.steps.flatMap { step in step.dependsOn.map { [$0, step.name] } }
    }
}

/// A page of a run's steps: `next` (nil on the last page) goes in `after` for the next; `seq` in `since` for what
/// changed after this page was read.
struct StepPage: Codable, Sendable {
    var steps: [StepRunRecord]
    /// How many steps the filters let through in all.
    var total: Int
    var next: String?
    var seq: Int64
}

/// A page of a run's attempts: `next` (nil on the last page) goes in `after` for the next.
struct AttemptPage: Codable, Sendable {
    var attempts: [AttemptRecord]
    var next: String?
}

/// A run with every step, attempt and recovery action.
struct RunDetail: Codable, Sendable {
    struct Recovery: Codable, Sendable {
        var step: String
        var action: RecoveryAction
    }

    var run: RunRecord
    var steps: [StepRunRecord]
    var attempts: [AttemptRecord]
    var recoveryActions: [Recovery]
    /// Whether this server process runs it (and can cancel it directly).
    var ownedByServer: Bool
    /// Each fan-out's instances counted by state, in the order of `steps`.
    var fanOuts: [FanOutSummary]
    /// The run and step that started this run, when a `pipeline:` step did.
    var parent: ParentLink?
    /// The runs this run's `pipeline:` steps started, by step.
    var children: [ChildRun]

    struct ParentLink: Codable, Sendable {
        var run: String
        var step: String
    }

    struct ChildRun: Codable, Sendable {
        var id: String
        var pipeline: String
        var step: String
        var status: RunStatus
    }
}

/// The body of a request that starts a run. Parameter values may be JSON strings, numbers or booleans.
/// `POST /api/runs/{run}/retry`: parameters to change for the new run (the others are the retried run's).
struct RetryBody: Decodable, Sendable {
    var params: [String: StartRunBody.ParameterValue]?
}

struct StartRunBody: Decodable, Sendable {
    var params: [String: ParameterValue]?
    /// YAML or JSON files of parameter values, inside the workspace, under `params` (as `--params-file`).
    var paramsFiles: [String]?
    var mode: String?
    var from: [String]?
    var to: [String]?
    var only: [String]?
    var skip: [String]?
    var withDeps: Bool?
    var continueOnError: Bool?
    var force: Bool?

    struct ParameterValue: Decodable, Sendable {
        var text: String
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self.text = text
            } else if let flag = try? container.decode(Bool.self) {
                text = flag ? "true" : "false"
            } else if let number = try? container.decode(Int.self) {
                text = String(number)
            } else if let number = try? container.decode(Double.self) {
                text = String(number)
            } else if let list = try? container.decode([String].self) {
                // A list parameter's items, as they are: commas in them stay.
                text = JSONText.array(list)
            } else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "a parameter value must be a string, number, boolean or list of strings")
            }
        }
    }
}

/// A schedule or watch of a pipeline, with its shared state: what the UI shows and the next time it fires.
struct TriggerInfo: Codable, Sendable {
    var name: String
    /// `schedule` or `watch`.
    var kind: String
    var cron: String?
    var timezone: String?
    var catchUp: String?
    /// The next time the schedule is due, in its time zone; none while the pipeline is paused.
    var nextTime: String?
    var folder: String?
    var patterns: [String]?
    var debounceSeconds: Double?
    var params: [String: String]
    var lastRunID: String?
    var lastError: String?

    static func of(_ pipeline: Pipeline, states: [TriggerState], paused: Bool, now: Date) -> [TriggerInfo] {
        let byName = Dictionary(states.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let schedules = pipeline.schedules.map { schedule in
            TriggerInfo(
                name: schedule.name, kind: "schedule", cron: schedule.cron.description, timezone: schedule.timeZoneName,
                catchUp: schedule.catchUp.rawValue,
                nextTime: paused ? nil : schedule.nextTime(after: now),
                params: schedule.parameters.mapValues(\.text), lastRunID: byName[schedule.name]?.lastRunID,
                lastError: byName[schedule.name]?.lastError)
        }
        let watches = pipeline.watches.map { watch in
            TriggerInfo(
                name: watch.name, kind: "watch", folder: watch.folder, patterns: watch.patterns, debounceSeconds: watch.debounce,
                params: watch.parameters.mapValues(\.text), lastRunID: byName[watch.name]?.lastRunID, lastError: byName[watch.name]?.lastError)
        }
        return schedules + watches
    }
}

/// The body of a request that starts a backfill.
struct BackfillBody: Decodable, Sendable {
    var from: String
    var to: String
    var step: String?
    var maxActive: Int?
    var params: [String: StartRunBody.ParameterValue]?
}

/// What a backfill started: its id, the runs it queued, and the intervals it skipped or could not start.
struct BackfillStarted: Codable, Sendable {
    struct Interval: Codable, Sendable {
        var interval: String
        var reason: String
    }

    var id: String
    var runs: [RunRecord]
    var skipped: [Interval]
    var refused: [Interval]
}

/// `PUT /api/pipelines/{pipeline}/paused`.
struct PausedBody: Decodable, Sendable {
    var paused: Bool
}

/// `PUT /api/pipelines/{pipeline}/steps/{step}/tested`.
struct TestedBody: Decodable, Sendable {
    var tested: Bool
}

/// What `POST /api/runs/{run}/cancel` answers: the run being cancelled.
struct Cancelling: Codable, Sendable {
    var cancelling: String
}

import Foundation
import SluiceTestSupport
import Testing

@testable import SluiceKit

/// The scheduler's decisions, played through its state machine alone: no process, no clock, no sleep. Each case is
/// a pipeline, how each step's attempts end, and what the run must then do and say.
struct SchedulerStateMachineTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var testDescription: String
        /// What comes before `steps:` (parameters).
        var preamble = ""
        var steps: String
        /// Each step's attempts, in order (`STEP.recovery` for its recovery script); an attempt not listed succeeds,
        /// and `.running` runs until cancelled.
        var script: [String: [StepState]] = [:]
        var jobs = 2
        var continueOnError = false
        var attemptsBefore: [String: Int] = [:]
        var parameters: [String: String] = [:]
        var statesBefore: [String: StepState] = [:]
        /// Cancel (with this reason) once the run has said a line that starts with `cancelAfter`.
        var cancelAfter: String?
        var expected: [String: StepState]
        /// Lines the run must say, in this order (other lines may come between them).
        var says: [String] = []
        /// Attempts in the order they must start (`STEP#N`), when the order is the point.
        var launches: [String]?
        var maxRunningAtOnce: Int?
        /// `--only` these steps (the others are outside this go of the run).
        var only: [String] = []
        /// Steps (and fan-outs, for their instances) that wait in their executor's queue, as on Slurm.
        var elsewhere: Set<String> = []
        /// What the run's local steps may use at once.
        var cpus = 64
        var memory: Int64 = 1 << 40
        var pools: [String: Int] = [:]
        /// The most slots of any pool held at once.
        var maxInPoolAtOnce: Int?
    }

    static let cases: [Case] = [
        // Trigger rules.
        Case(
            testDescription: "all_success: a failure skips the steps below it and stops the run",
            steps: """
                - {name: a, command: x}
                - {name: b, command: x, depends_on: [a]}
                - {name: c, command: x, depends_on: [b]}
                - {name: later, command: x, depends_on: [a]}
                """,
            script: ["a": [.failed]],
            expected: ["a": .failed, "b": .skipped, "c": .skipped, "later": .skipped],
            says: [
                "finished a failed after 1",
                "skipped b: trigger rule all_success: upstream step 'a' failed",
                "skipped c: trigger rule all_success: upstream step 'b' was skipped",
            ]),
        Case(
            testDescription: "all_done: runs after an upstream failure",
            steps: """
                - {name: a, command: x}
                - {name: clean, command: x, depends_on: [a], trigger_rule: all_done}
                """,
            script: ["a": [.failed]], expected: ["a": .failed, "clean": .succeeded]),
        Case(
            testDescription: "one_failed: runs when an upstream step failed",
            steps: """
                - {name: a, command: x}
                - {name: b, command: x}
                - {name: alert, command: x, depends_on: [a, b], trigger_rule: one_failed}
                """,
            script: ["b": [.timedOut]], jobs: 1, continueOnError: true,
            expected: ["a": .succeeded, "b": .timedOut, "alert": .succeeded]),
        Case(
            testDescription: "one_failed: skipped when nothing failed",
            steps: """
                - {name: a, command: x}
                - {name: alert, command: x, depends_on: [a], trigger_rule: one_failed}
                """,
            expected: ["a": .succeeded, "alert": .skipped], says: ["skipped alert: trigger rule one_failed: no upstream step failed"]),
        Case(
            testDescription: "recovered: runs after a failure its recovery mended",
            steps: """
                - {name: a, command: x, on_failure: {run: heal.sh}}
                - {name: load, command: x, depends_on: [a], trigger_rule: recovered}
                """,
            script: ["a": [.failed]], expected: ["a": .failed, "load": .succeeded],
            launches: ["a#1", "a.recovery", "load#1"]),
        Case(
            testDescription: "recovered: skipped when the recovery failed too",
            steps: """
                - {name: a, command: x, on_failure: {run: heal.sh}}
                - {name: load, command: x, depends_on: [a], trigger_rule: recovered}
                """,
            script: ["a": [.failed], "a.recovery": [.failed]], expected: ["a": .failed, "load": .skipped],
            says: ["skipped load: trigger rule recovered: upstream step 'a' failed and was not recovered"]),
        Case(
            testDescription: "all_success does not take a recovery as success",
            steps: """
                - {name: a, command: x, on_failure: {run: heal.sh}}
                - {name: load, command: x, depends_on: [a]}
                """,
            script: ["a": [.failed]], expected: ["a": .failed, "load": .skipped]),
        Case(
            testDescription: "allow_failure: a tolerated failure lets all_success steps run and the run go on",
            steps: """
                - {name: a, command: x, allow_failure: true}
                - {name: b, command: x, depends_on: [a]}
                """,
            script: ["a": [.failed]], expected: ["a": .failed, "b": .succeeded], says: ["finished a failed after 1 (allowed)"]),
        Case(
            testDescription: "continue on error: independent steps still run, the failure's downstream does not",
            steps: """
                - {name: a, command: x}
                - {name: b, command: x, depends_on: [a]}
                - {name: c, command: x}
                """,
            script: ["a": [.failed]], jobs: 1, continueOnError: true,
            expected: ["a": .failed, "b": .skipped, "c": .succeeded]),
        Case(
            testDescription: "without continue on error, steps not started yet are skipped with the reason",
            steps: """
                - {name: a, command: x}
                - {name: c, command: x}
                """,
            script: ["a": [.failed]], jobs: 1, expected: ["a": .failed, "c": .skipped],
            says: ["skipped c: the run stopped after step 'a' failed (--continue-on-error runs independent steps)"]),
        Case(
            testDescription: "a stopped run still runs its clean-up",
            steps: """
                - {name: a, command: x}
                - {name: c, command: x}
                - {name: clean, command: x, depends_on: [c], trigger_rule: all_done}
                """,
            script: ["a": [.failed], "c": [.failed]], jobs: 2, expected: ["a": .failed, "c": .failed, "clean": .succeeded]),

        Case(
            testDescription: "none_failed_min_one_success: the join after a branch runs, whichever branch ran",
            steps: """
                - {name: choose, command: x}
                - {name: on_error, command: x, depends_on: [choose], trigger_rule: one_failed}
                - {name: usual, command: x, depends_on: [choose]}
                - {name: join, command: x, depends_on: [on_error, usual], trigger_rule: none_failed_min_one_success}
                - {name: strict, command: x, depends_on: [on_error, usual]}
                """,
            expected: ["choose": .succeeded, "on_error": .skipped, "usual": .succeeded, "join": .succeeded, "strict": .skipped],
            says: ["skipped strict: trigger rule all_success: upstream step 'on_error' was skipped"]),
        Case(
            testDescription: "none_failed_min_one_success: skipped when no upstream step succeeded",
            steps: """
                - {name: choose, command: x}
                - {name: on_error, command: x, depends_on: [choose], trigger_rule: one_failed}
                - {name: join, command: x, depends_on: [on_error], trigger_rule: none_failed_min_one_success}
                """,
            expected: ["choose": .succeeded, "on_error": .skipped, "join": .skipped],
            says: ["skipped join: trigger rule none_failed_min_one_success: no upstream step succeeded"]),
        Case(
            testDescription: "none_failed: a failed upstream step skips it",
            steps: """
                - {name: a, command: x}
                - {name: b, command: x}
                - {name: join, command: x, depends_on: [a, b], trigger_rule: none_failed}
                """,
            script: ["a": [.failed]], continueOnError: true, expected: ["a": .failed, "b": .succeeded, "join": .skipped],
            says: ["skipped join: trigger rule none_failed: upstream step 'a' failed"]),
        Case(
            testDescription: "none_failed: a step skipped because of a failure counts as one",
            steps: """
                - {name: a, command: x}
                - {name: b, command: x, depends_on: [a]}
                - {name: join, command: x, depends_on: [b], trigger_rule: none_failed}
                """,
            script: ["a": [.failed]], continueOnError: true, expected: ["a": .failed, "b": .skipped, "join": .skipped],
            says: ["skipped join: trigger rule none_failed: upstream step 'b' was skipped after a failure"]),
        Case(
            testDescription: "none_failed: a tolerated failure is none",
            steps: """
                - {name: a, command: x, allow_failure: true}
                - {name: join, command: x, depends_on: [a], trigger_rule: none_failed}
                """,
            script: ["a": [.failed]], expected: ["a": .failed, "join": .succeeded]),
        Case(
            testDescription: "none_failed_min_one_success: a tolerated failure is no success",
            steps: """
                - {name: choose, command: x}
                - {name: on_error, command: x, depends_on: [choose], trigger_rule: one_failed}
                - {name: usual, command: x, depends_on: [choose], allow_failure: true}
                - {name: join, command: x, depends_on: [on_error, usual], trigger_rule: none_failed_min_one_success}
                """,
            script: ["usual": [.failed]], expected: ["choose": .succeeded, "on_error": .skipped, "usual": .failed, "join": .skipped],
            says: ["skipped join: trigger rule none_failed_min_one_success: no upstream step succeeded"]),

        // Retries.
        Case(
            testDescription: "retries back off, up to the longest delay, and a later success is a success",
            steps: """
                - {name: a, command: x, retries: {count: 3, delay: 2s, backoff: 2, max_delay: 5s}}
                - {name: b, command: x, depends_on: [a]}
                """,
            script: ["a": [.failed, .timedOut, .failed]], expected: ["a": .succeeded, "b": .succeeded],
            says: ["retry a #2 in 2s", "retry a #3 in 4s", "retry a #4 in 5s", "finished a succeeded after 4"],
            launches: ["a#1", "a#2", "a#3", "a#4", "b#1"]),
        Case(
            testDescription: "retries run out: the last failure is the step's",
            steps: "- {name: a, command: x, retries: 1}",
            script: ["a": [.failed, .timedOut]], expected: ["a": .timedOut], says: ["finished a timed_out after 2"]),
        Case(
            testDescription: "a step waiting out its retry's delay holds no job slot",
            steps: """
                - {name: a, command: x, retries: {count: 1, delay: 30s}}
                - {name: c, command: x}
                """,
            script: ["a": [.failed]], jobs: 1, expected: ["a": .succeeded, "c": .succeeded], launches: ["a#1", "c#1", "a#2"]),
        Case(
            testDescription: "a resumed run numbers its attempts after the earlier go's",
            steps: "- {name: a, command: x, retries: 1}",
            script: ["a": [.failed]], attemptsBefore: ["a": 2], expected: ["a": .succeeded],
            says: ["retry a #4 in 1s", "finished a succeeded after 4"], launches: ["a#3", "a#4"]),
        Case(
            testDescription: "no more than `jobs` steps run at once",
            steps: """
                - {name: a, command: x}
                - {name: b, command: x}
                - {name: c, command: x}
                - {name: d, command: x}
                - {name: e, command: x, depends_on: [a, b, c, d]}
                """,
            jobs: 2, expected: ["a": .succeeded, "b": .succeeded, "c": .succeeded, "d": .succeeded, "e": .succeeded],
            maxRunningAtOnce: 2),

        // Cancels.
        Case(
            testDescription: "a cancel stops what runs and skips the rest, clean-up included, saying why",
            steps: """
                - {name: a, command: x}
                - {name: b, command: x, depends_on: [a]}
                - {name: clean, command: x, depends_on: [a], trigger_rule: all_done}
                """,
            script: ["a": [.running]], cancelAfter: "started a#1",
            expected: ["a": .cancelled, "b": .skipped, "clean": .skipped],
            says: [
                "finished a cancelled after 1: cancelled: the server shut down",
                "skipped b: the run was cancelled: the server shut down",
            ]),
        Case(
            testDescription: "a cancel during a retry's delay ends the step, and the retry never starts",
            steps: """
                - {name: a, command: x, retries: {count: 2, delay: 1m}}
                - {name: b, command: x, depends_on: [a]}
                """,
            script: ["a": [.failed]], cancelAfter: "retry a #2",
            expected: ["a": .cancelled, "b": .skipped],
            says: ["finished a cancelled after 1: cancelled while waiting to retry: the server shut down"], launches: ["a#1"]),
        Case(
            testDescription: "a cancel skips a failed step's recovery",
            steps: """
                - {name: a, command: x, on_failure: {run: heal.sh}}
                - {name: b, command: x}
                """,
            script: ["a": [.failed], "b": [.running]], cancelAfter: "started b#1",
            expected: ["a": .failed, "b": .cancelled], launches: ["a#1", "b#1"]),

        // Conditions: a false `if:` skips its step, which fails nothing.
        Case(
            testDescription: "if: the branch whose condition is false is skipped with the values it saw; the join runs after the other",
            preamble: "params: {mode: {type: choice, choices: [full, quick], default: full}}\n",
            steps: """
                - {name: check, command: x}
                - {name: full, command: x, depends_on: [check], if: "params.mode == 'full' and steps.check.state == 'succeeded'"}
                - {name: quick, command: x, depends_on: [check], if: "not (params.mode == 'full')"}
                - {name: join, command: x, depends_on: [full, quick], trigger_rule: none_failed_min_one_success}
                - {name: strict, command: x, depends_on: [full, quick]}
                """,
            parameters: ["mode": "full"],
            expected: ["check": .succeeded, "full": .succeeded, "quick": .skipped, "join": .succeeded, "strict": .skipped],
            says: [
                "skipped quick: if: not (params.mode == 'full') is false (params.mode = 'full')",
                "skipped strict: trigger rule all_success: upstream step 'quick' was skipped",
            ]),
        Case(
            testDescription: "if: a condition on an upstream state runs the repair only after a failure",
            steps: """
                - {name: load, command: x, allow_failure: true}
                - {name: repair, command: x, depends_on: [load], trigger_rule: all_done, if: "steps.load.state in ['failed', 'timed_out']"}
                - {name: report, command: x, depends_on: [load], if: "steps.load.state != 'failed'"}
                """,
            script: ["load": [.failed]],
            expected: ["load": .failed, "repair": .succeeded, "report": .skipped],
            says: ["skipped report: if: steps.load.state != 'failed' is false (steps.load.state = 'failed')"]),
        Case(
            testDescription: "if: on a fan-out's item skips that instance alone",
            preamble: "params: {samples: {type: list, default: [A, B, C]}}\n",
            steps: """
                - {name: map, foreach: [A, B, C], command: x, if: "item != 'B' and item in params.samples"}
                """,
            parameters: ["samples": #"["A","B"]"#],
            expected: ["map[A]": .succeeded, "map[B]": .skipped, "map[C]": .skipped],
            says: ["skipped map[B]: if: item != 'B' and item in params.samples is false (item = 'B')"]),

        Case(
            testDescription: "if: a step outside this go (a resumed run's) is read as it ended before",
            steps: """
                - {name: load, command: x}
                - {name: report, command: x, depends_on: [load], if: "steps.load.state == 'succeeded'"}
                """,
            statesBefore: ["load": .succeeded], expected: ["report": .succeeded], only: ["report"]),

        // Fan-outs: each instance is a step; `max_parallel` and `fail_fast` bound them.
        Case(
            testDescription: "max_parallel bounds one fan-out's instances under --jobs; other steps use the free slots",
            steps: """
                - {name: map, foreach: [a, b, c, d], max_parallel: 2, command: x}
                - {name: other, command: x}
                - {name: join, command: x, depends_on: [map]}
                """,
            jobs: 4,
            expected: [
                "map[a]": .succeeded, "map[b]": .succeeded, "map[c]": .succeeded, "map[d]": .succeeded, "other": .succeeded, "join": .succeeded,
            ],
            maxRunningAtOnce: 3),
        Case(
            testDescription: "a failed instance does not stop its siblings; the join waits for all and is skipped",
            steps: """
                - {name: map, foreach: [a, b, c], command: x}
                - {name: join, command: x, depends_on: [map]}
                - {name: later, command: x}
                """,
            script: ["map[a]": [.failed]], jobs: 1,
            expected: ["map[a]": .failed, "map[b]": .succeeded, "map[c]": .succeeded, "join": .skipped, "later": .skipped],
            says: [
                "finished map[a] failed after 1", "finished map[c] succeeded after 1",
                "skipped join: trigger rule all_success: upstream step 'map[a]' failed",
            ]),
        Case(
            testDescription: "fail_fast: a failed instance skips its siblings that have not started, even with --continue-on-error",
            steps: """
                - {name: map, foreach: [a, b, c], fail_fast: true, command: x}
                - {name: later, command: x}
                """,
            script: ["map[a]": [.failed]], jobs: 1, continueOnError: true,
            expected: ["map[a]": .failed, "map[b]": .skipped, "map[c]": .skipped, "later": .succeeded],
            says: ["skipped map[b]: fail_fast: instance 'map[a]' failed"]),
        Case(
            testDescription: "a trigger rule counts instances as upstream steps: one_failed runs after one failed instance",
            steps: """
                - {name: map, foreach: [a, b], command: x}
                - {name: alert, command: x, depends_on: [map], trigger_rule: one_failed}
                """,
            script: ["map[b]": [.timedOut]], expected: ["map[a]": .succeeded, "map[b]": .timedOut, "alert": .succeeded]),
        Case(
            testDescription: "fail_fast under max_parallel: every waiting sibling is skipped, and the alert still runs",
            steps: """
                - {name: map, foreach: [a, b, c, d], max_parallel: 1, fail_fast: true, command: x}
                - {name: alert, command: x, depends_on: [map], trigger_rule: one_failed}
                """,
            script: ["map[a]": [.failed]], jobs: 2,
            expected: ["map[a]": .failed, "map[b]": .skipped, "map[c]": .skipped, "map[d]": .skipped, "alert": .succeeded]),
        Case(
            testDescription: "a stopped run skips the instances waiting for max_parallel; a clean-up after them still runs",
            steps: """
                - {name: map, foreach: [a, b, c], max_parallel: 1, command: x, if: "item != 'b'"}
                - {name: clean, command: x, depends_on: [map], trigger_rule: all_done}
                """,
            jobs: 2, expected: ["map[a]": .succeeded, "map[b]": .skipped, "map[c]": .succeeded, "clean": .succeeded]),
        Case(
            testDescription: "an instance waiting to retry keeps its max_parallel place",
            steps: "- {name: map, foreach: [a, b], max_parallel: 1, command: x, retries: 1}",
            script: ["map[a]": [.failed]], jobs: 2, expected: ["map[a]": .succeeded, "map[b]": .succeeded],
            launches: ["map[a]#1", "map[a]#2", "map[b]#1"]),

        // Steps that wait in their executor's own queue (Slurm's) hold no job slot.
        Case(
            testDescription: "a fan-out queued by its executor starts all its instances at once, beside local steps up to --jobs",
            steps: """
                - {name: map, foreach: [a, b, c, d], command: x}
                - {name: one, command: x}
                - {name: two, command: x}
                """,
            jobs: 1,
            expected: ["map[a]": .succeeded, "map[b]": .succeeded, "map[c]": .succeeded, "map[d]": .succeeded, "one": .succeeded, "two": .succeeded],
            launches: ["map[a]#1", "map[b]#1", "map[c]#1", "map[d]#1", "one#1", "two#1"], maxRunningAtOnce: 5, elsewhere: ["map"]),
        Case(
            testDescription: "an instance queued by its executor retries when due, without waiting for a job slot",
            steps: """
                - {name: map, foreach: [a, b], command: x, retries: 1}
                - {name: slow, command: x}
                """,
            script: ["map[a]": [.failed], "slow": [.running]], jobs: 1, cancelAfter: "finished map[a] succeeded",
            expected: ["map[a]": .succeeded, "map[b]": .succeeded, "slow": .cancelled],
            launches: ["map[a]#1", "map[b]#1", "slow#1", "map[a]#2"], elsewhere: ["map"]),
        Case(
            testDescription: "max_parallel still bounds a fan-out queued by its executor",
            steps: "- {name: map, foreach: [a, b, c], max_parallel: 2, command: x}",
            jobs: 1, expected: ["map[a]": .succeeded, "map[b]": .succeeded, "map[c]": .succeeded], maxRunningAtOnce: 2, elsewhere: ["map"]),

        // Priorities, resources and pools.
        Case(
            testDescription: "priority: of the steps ready together, the higher priority starts first; equals in file order",
            steps: """
                - {name: low, command: x}
                - {name: high, command: x, priority: 5}
                - {name: middle, command: x, priority: 1}
                - {name: plain, command: x}
                """,
            jobs: 1, expected: ["low": .succeeded, "high": .succeeded, "middle": .succeeded, "plain": .succeeded],
            launches: ["high#1", "middle#1", "low#1", "plain#1"]),
        Case(
            testDescription: "resources.cpus: steps start while their CPUs fit; the first waiting one is not overtaken",
            steps: """
                - {name: big, command: x, resources: {cpus: 3}}
                - {name: wide, command: x, resources: {cpus: 2}}
                - {name: small, command: x}
                """,
            jobs: 4, expected: ["big": .succeeded, "wide": .succeeded, "small": .succeeded], launches: ["big#1", "wide#1", "small#1"],
            maxRunningAtOnce: 2, cpus: 4),
        Case(
            testDescription: "resources.memory: two steps that do not fit together run one after the other",
            steps: """
                - {name: a, command: x, resources: {memory: 3G}}
                - {name: b, command: x, resources: {memory: 3G}}
                - {name: c, command: x, resources: {memory: 1G}, depends_on: [a]}
                """,
            jobs: 4, expected: ["a": .succeeded, "b": .succeeded, "c": .succeeded], maxRunningAtOnce: 2, memory: 4 << 30),
        Case(
            testDescription: "a step that asks for more than the run has fails at once, saying what it asked for",
            steps: """
                - {name: huge, command: x, resources: {cpus: 8}}
                - {name: greedy, command: x, resources: {memory: 64G}}
                - {name: fine, command: x}
                """,
            jobs: 1, continueOnError: true, expected: ["huge": .failed, "greedy": .failed, "fine": .succeeded],
            says: [
                "finished huge failed after 0: it asks for 8 CPUs (resources.cpus) and the steps of this run may use 2 (--cpus, or cpus in sluice.yaml)",
                "finished greedy failed after 0: it asks for 64G of memory (resources.memory) and the steps of this run may use 16G (--memory, or memory in sluice.yaml)",
            ],
            cpus: 2, memory: 16 << 30),
        Case(
            testDescription: "pool: steps of a pool of 1 run one at a time, whatever the job slots",
            steps: """
                - {name: a, command: x, pool: warehouse}
                - {name: b, command: x, pool: warehouse}
                - {name: c, command: x, pool: warehouse}
                """,
            jobs: 3, expected: ["a": .succeeded, "b": .succeeded, "c": .succeeded], maxRunningAtOnce: 1, pools: ["warehouse": 1],
            maxInPoolAtOnce: 1),
        Case(
            testDescription: "a step waiting for its pool holds no job slot: another step runs meanwhile",
            steps: """
                - {name: a, command: x, pool: warehouse}
                - {name: b, command: x, pool: warehouse}
                - {name: c, command: x}
                """,
            jobs: 2, expected: ["a": .succeeded, "b": .succeeded, "c": .succeeded], launches: ["c#1", "a#1", "b#1"], maxRunningAtOnce: 2,
            pools: ["warehouse": 1], maxInPoolAtOnce: 1),
        Case(
            testDescription: "a pool of 2 runs two of its steps at once; a retry gives its slot back while it waits",
            steps: """
                - {name: a, command: x, pool: db, retries: 1}
                - {name: b, command: x, pool: db}
                - {name: c, command: x, pool: db}
                """,
            script: ["a": [.failed]], jobs: 3, expected: ["a": .succeeded, "b": .succeeded, "c": .succeeded],
            launches: ["a#1", "b#1", "c#1", "a#2"], maxRunningAtOnce: 2, pools: ["db": 2], maxInPoolAtOnce: 2),
        Case(
            testDescription: "a cancel ends the steps waiting for their pool, saying so",
            steps: """
                - {name: a, command: x, pool: warehouse}
                - {name: b, command: x, pool: warehouse}
                - {name: c, command: x, pool: warehouse}
                """,
            script: ["a": [.running]], jobs: 3, cancelAfter: "started a#1",
            expected: ["a": .cancelled, "b": .cancelled, "c": .cancelled],
            says: ["finished b cancelled after 0: cancelled while waiting for pool 'warehouse': the server shut down"],
            pools: ["warehouse": 1]),
    ]

    @Test(arguments: cases)
    func theRunDoesWhatItsStepsAndTheirRulesSay(_ test: Case) throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline("p", test.preamble + "steps:\n" + test.steps.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        try workspace.script("p", "heal.sh", "true")
        let plan = try Planner.plan(
            FanOutExpansion.expand(try workspace.load("p"), parameters: [:], files: { _ in [] }), selection: Selection(only: test.only))
        var run = MachineRun(
            plan: plan,
            options: .init(
                jobs: test.jobs, capacity: RunCapacity(cpus: test.cpus, memory: test.memory, pools: test.pools),
                continueOnError: test.continueOnError, attemptsBefore: test.attemptsBefore, parameters: test.parameters,
                statesBefore: test.statesBefore,
                queuedElsewhere: { [elsewhere = test.elsewhere] in elsewhere.contains($0.instance?.of ?? $0.name) }),
            script: test.script)
        run.play(cancelAfter: test.cancelAfter)

        let outcomes = try #require(run.outcomes, "the run finished")
        #expect(outcomes.mapValues(\.state) == test.expected)
        var lines = run.said[...]
        for line in test.says {
            let found = lines.firstIndex(of: line)
            #expect(found != nil, "says \"\(line)\" in order; it said:\n\(run.said.joined(separator: "\n"))")
            if let found { lines = lines[(found + 1)...] }
        }
        if let launches = test.launches { #expect(run.launches == launches) }
        if let most = test.maxRunningAtOnce { #expect(run.mostRunningAtOnce == most) }
        if let most = test.maxInPoolAtOnce { #expect(run.mostInPoolAtOnce == most) }
        let held = run.poolSlots.values.reduce(0) { $0 + $1.count }
        #expect(held == 0, "every pool slot is given back")
        #expect(run.running.isEmpty && run.hanging.isEmpty && run.wakes.isEmpty && run.poolWaits.isEmpty, "nothing is left running or waiting")
    }

    /// A late retry after a cancel changes nothing (the race the scheduler's lock settles one way or the other).
    @Test func aRetryFallingDueAfterACancelStartsNothing() throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline("p", "steps:\n  - {name: a, command: x, retries: {count: 1, delay: 10s}}")
        var machine = SchedulerStateMachine(plan: try Planner.plan(try workspace.load("p")), options: .init(jobs: 1, continueOnError: false))
        _ = machine.start()
        let failed = AttemptResult(state: .failed, error: "exit 1", startedAt: Date(), finishedAt: Date())
        let waiting = machine.attemptEnded(0, attempt: 1, result: failed)
        #expect(waiting.contains { if case .wake(0, after: 10) = $0 { true } else { false } })
        let cancelled = machine.cancel(why: nil, at: Date())
        #expect(cancelled.contains { if case .finish = $0 { true } else { false } }, "the run ends at once")
        #expect(machine.retryDue(0).isEmpty, "the retry that falls due afterwards does nothing")
    }

    /// An attempt the scheduler started after a cancel (it was being launched meanwhile) is cancelled as it is
    /// reported; one reported for an attempt that is no longer current is not kept.
    @Test func anAttemptStartedAroundACancelIsCancelled() throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline("p", "steps:\n  - {name: a, command: x}")
        var machine = SchedulerStateMachine(plan: try Planner.plan(try workspace.load("p")), options: .init(jobs: 1, continueOnError: false))
        _ = machine.start()
        let cancel = machine.cancel(why: nil, at: Date())
        #expect(cancel.contains { if case let .cancel(attempts) = $0 { attempts.isEmpty } else { false } }, "nothing to stop yet")
        #expect(machine.started(0, attempt: 2, FakeAttempt(index: 0, attempt: 2)).isEmpty, "not the current attempt")
        let late = machine.started(0, attempt: 1, FakeAttempt(index: 0, attempt: 1))
        #expect(late.contains { if case let .cancel(attempts) = $0 { attempts.count == 1 } else { false } })
    }
}

/// An attempt handle the machine keeps and hands back to cancel.
private struct FakeAttempt: RunningAttempt {
    var index: Int
    var attempt: Int
    func cancel() {}
}

/// Plays a run through the state machine the way the scheduler would, one event at a time: the actions of an event
/// are carried out first; then the attempt running longest ends as scripted; when none can, the retry due first
/// falls due. What the run says is kept, a line per event.
private struct MachineRun {
    var machine: SchedulerStateMachine
    let plan: Plan
    var script: [String: [StepState]]
    var said: [String] = []
    var launches: [String] = []
    var running: [FakeAttempt] = []
    var hanging: [FakeAttempt] = []
    var wakes: [Int] = []
    var mostRunningAtOnce = 0
    /// The pools' slots, by pool, as the store holds them; the sizes come with each request.
    var poolSlots: [String: Set<Int>] = [:]
    var poolWaits: [Int] = []
    var mostInPoolAtOnce = 0
    var outcomes: [String: StepOutcome]?

    init(plan: Plan, options: SchedulerStateMachine.Options, script: [String: [StepState]]) {
        machine = SchedulerStateMachine(plan: plan, options: options)
        self.plan = plan
        self.script = script
    }

    mutating func play(cancelAfter: String?) {
        var actions = machine.start()
        var cancelled = false
        while true {
            var queue = actions[...]
            actions = []
            while let action = queue.popFirst() {
                let more = perform(action)
                queue.append(contentsOf: more)
                if let cancelAfter, !cancelled, said.contains(where: { $0.hasPrefix(cancelAfter) }) {
                    cancelled = true
                    queue.append(contentsOf: machine.cancel(why: "the server shut down", at: Date()))
                }
            }
            mostRunningAtOnce = max(mostRunningAtOnce, running.count + hanging.count)
            if !running.isEmpty {
                let attempt = running.removeFirst()
                let name = plan.pipeline.steps[attempt.index].name
                let state = next(attempt.attempt == 0 ? name + ".recovery" : name)
                actions = end(attempt, state)
            } else if !wakes.isEmpty {
                actions = machine.retryDue(wakes.removeFirst())
            } else if !poolWaits.isEmpty {
                actions = machine.poolMayHaveRoom(poolWaits.removeFirst())
            } else {
                return
            }
        }
    }

    private mutating func next(_ name: String) -> StepState {
        script[name]?.isEmpty == false ? script[name]!.removeFirst() : .succeeded
    }

    private mutating func end(_ attempt: FakeAttempt, _ state: StepState) -> [SchedulerStateMachine.Action] {
        let result = AttemptResult(state: state, error: state == .succeeded ? nil : state.rawValue, startedAt: Date(), finishedAt: Date())
        if attempt.attempt == 0 { return machine.recoveryEnded(attempt.index, recovered: state == .succeeded) }
        return machine.attemptEnded(attempt.index, attempt: attempt.attempt, result: result)
    }

    private mutating func perform(_ action: SchedulerStateMachine.Action) -> [SchedulerStateMachine.Action] {
        switch action {
        case let .emit(kind):
            said.append(Self.line(kind))
            return []
        case let .launch(index, attempt, number):
            let name = plan.pipeline.steps[index].name
            launches.append("\(name)#\(number)")
            said.append("started \(name)#\(number)")
            return begin(FakeAttempt(index: index, attempt: attempt), hangs: script[name]?.first == .running)
        case let .recover(index, _):
            let name = plan.pipeline.steps[index].name
            launches.append(name + ".recovery")
            return begin(FakeAttempt(index: index, attempt: 0), hangs: false)
        case let .wake(index, _):
            wakes.append(index)
            return []
        case let .cancel(attempts):
            return attempts.flatMap { handle -> [SchedulerStateMachine.Action] in
                let attempt = handle as! FakeAttempt
                guard let found = hanging.firstIndex(where: { $0.index == attempt.index && $0.attempt == attempt.attempt }) else { return [] }
                hanging.remove(at: found)
                return end(attempt, .cancelled)
            }
        case let .finish(outcomes):
            self.outcomes = outcomes
            return []
        case let .takePoolSlot(index, pool, size):
            guard poolSlots[pool, default: []].count < size else { return machine.poolFull(index, at: Date()) }
            poolSlots[pool, default: []].insert(index)
            mostInPoolAtOnce = max(mostInPoolAtOnce, poolSlots[pool]!.count)
            return machine.poolSlotTaken(index, at: Date())
        case let .releasePoolSlot(index):
            for pool in poolSlots.keys { poolSlots[pool]!.remove(index) }
            return []
        case let .waitForPool(index):
            poolWaits.append(index)
            return []
        case .check, .recordOutputs:
            Issue.record("these cases declare no outputs")
            return []
        }
    }

    private mutating func begin(_ attempt: FakeAttempt, hangs: Bool) -> [SchedulerStateMachine.Action] {
        if hangs {
            _ = script[plan.pipeline.steps[attempt.index].name]!.removeFirst()
            hanging.append(attempt)
        } else {
            running.append(attempt)
        }
        return machine.started(attempt.index, attempt: attempt.attempt, attempt)
    }

    static func line(_ kind: RunEvent.Kind) -> String {
        switch kind {
        case let .stepFinished(step, state, attempts, allowed, result):
            // Why a step was cancelled, or failed without starting.
            let detail = state == .cancelled || attempts == 0 ? ": \(result.error ?? "")" : ""
            return "finished \(step) \(state.rawValue) after \(attempts)\(allowed ? " (allowed)" : "")\(detail)"
        case let .stepSkipped(step, reason): return "skipped \(step): \(reason)"
        case let .retryScheduled(step, attempt, delay): return "retry \(step) #\(attempt) in \(Int(delay))s"
        default: return "\(kind)"
        }
    }
}

import Foundation

/// What steps run without their upstream steps (`sluice step P load`) take from earlier runs: the values those
/// upstream steps passed on, and the files their runs left in `outputs/`, from the newest run where each succeeded
/// (or from one chosen run). Without it such a step would read empty values and an empty outputs folder.
public struct UpstreamRun: Sendable {
    /// Each upstream step outside the selection, with the run it is taken from.
    public let sources: [(step: String, runID: String)]
    let values: [String: [String: String]]
    /// The instances fan-outs over an upstream step's value had in those runs, in item order.
    let instances: [String: [String]]
    /// How the steps taken from those runs ended there: an instance of a fan-out that runs again which succeeded
    /// there counts as done.
    let states: [String: StepState]
    /// The run directories whose `outputs/` are copied into the new run's, oldest first (a newer file wins).
    let directories: [String]

    /// How many of the pipeline's newest runs are searched for an upstream step that succeeded.
    static let searched = 100

    /// Nil when every upstream step of the selection runs too. Throws when `fromRun` is not a run of the pipeline,
    /// or an upstream step did not succeed in it (or in any recent run).
    public static func find(for prepared: PreparedRun, in store: any RunStore, fromRun: String? = nil) async throws -> UpstreamRun? {
        let plan = prepared.plan
        let included = Set(plan.included.map(\.index))
        // Every step upstream of the selection that does not run, through any number of others: a step may read
        // the value of any step it runs after.
        var names: [String] = []
        var seen = Set<Int>()
        var work = plan.included.map(\.index)
        while let index = work.popLast() {
            for upstream in plan.graph.upstream[index] where seen.insert(upstream).inserted {
                work.append(upstream)
                if !included.contains(upstream) { names.append(plan.pipeline.steps[upstream].name) }
            }
        }
        guard !names.isEmpty else { return nil }
        let pipeline = prepared.request.pipeline.id
        let candidates: [RunRecord]
        if let fromRun {
            guard let run = try await store.run(id: fromRun), run.pipeline == pipeline else {
                let said = fromRun.count > 40 ? fromRun.prefix(40) + "…" : fromRun
                throw SluiceError(
                    .notFound, "--from-run \(said.debugDescription): no run of pipeline '\(pipeline)' has that id", fields: ["fromRun": "unknown run"]
                )
            }
            candidates = [run]
        } else {
            candidates = try await store.runs(RunFilter(pipeline: pipeline), limit: searched, offset: 0)
        }
        var wanted = Set(names)
        var found: [String: (runID: String, values: [String: String]?)] = [:]
        var instances: [String: [String]] = [:]
        var directories: [String] = []
        for run in candidates where !wanted.isEmpty {
            let rows = try await store.stepRuns(runID: run.id)
            let succeeded = rows.filter { wanted.contains($0.step) && $0.state.isSuccess }
            guard !succeeded.isEmpty else { continue }
            let added = Self.instances(in: rows, of: prepared.request.pipeline)
            for step in succeeded {
                found[step.step] = (run.id, step.outputValues)
                wanted.remove(step.step)
                // A fan-out whose items came at run time passes on its instances' values.
                for instance in rows where added[step.step] != nil && FanOutSummary.fanOut(of: instance.step) == step.step {
                    found[instance.step] = (run.id, instance.outputValues)
                }
                if let members = added[step.step] { instances[step.step] = members }
            }
            directories.insert(run.runDirectory, at: 0)
        }
        guard wanted.isEmpty else {
            let missing = names.filter(wanted.contains).map { "'\($0)'" }.joined(separator: ", ")
            let place = fromRun.map { "in run \($0)" } ?? "in the last \(searched) runs of '\(pipeline)'"
            throw SluiceError(
                .invalidInput,
                "upstream step\(wanted.count == 1 ? "" : "s") \(missing) did not succeed \(place), so what it passes on is not known; "
                    + (fromRun == nil ? "run it first, or add --with-deps" : "choose another run, or add --with-deps"))
        }
        return UpstreamRun(
            sources: names.map { ($0, found[$0]!.runID) },
            values: found.compactMapValues(\.values), instances: instances, states: [:],
            directories: directories)
    }

    /// What a retry of `run` (``RunRetry``) or its resumption takes from it: every step that succeeded there, with
    /// its values and state, and for a retry, which runs in a directory of its own, the files it left in `outputs/`.
    static func succeeded(in run: RunRecord, rows: [StepRunRecord], pipeline: Pipeline, copyingOutputs: Bool) -> UpstreamRun {
        let succeeded = rows.filter(\.state.isSuccess)
        return UpstreamRun(
            sources: succeeded.map { ($0.step, run.id) },
            values: Dictionary(succeeded.compactMap { row in row.outputValues.map { (row.step, $0) } }, uniquingKeysWith: { $1 }),
            instances: instances(in: rows, of: pipeline),
            states: Dictionary(succeeded.map { ($0.step, $0.state) }, uniquingKeysWith: { $1 }),
            directories: copyingOutputs ? [run.runDirectory] : [])
    }

    /// The instances, in item order, that `pipeline`'s fan-outs over an upstream step's value had among a run's
    /// `rows` (in position order).
    static func instances(in rows: [StepRunRecord], of pipeline: Pipeline) -> [String: [String]] {
        let dynamic = Set(pipeline.steps.filter { $0.fanOut?.isDynamic == true }.map(\.name))
        guard !dynamic.isEmpty else { return [:] }
        var instances: [String: [String]] = [:]
        for row in rows {
            if let fanOut = FanOutSummary.fanOut(of: row.step), dynamic.contains(fanOut) { instances[fanOut, default: []].append(row.step) }
        }
        return instances
    }

    /// Copies the chosen runs' output files into `outputs`, leaving alone any file already there.
    func copyOutputs(into outputs: String) throws {
        let files = FileManager.default
        for directory in directories.reversed() {
            let source = RunDirectory(root: directory).outputs
            for name in (try? files.contentsOfDirectory(atPath: source)) ?? [] {
                let target = (outputs as NSString).appendingPathComponent(name)
                guard !files.fileExists(atPath: target) else { continue }
                try files.copyItem(atPath: (source as NSString).appendingPathComponent(name), toPath: target)
            }
        }
    }
}

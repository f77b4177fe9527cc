import Foundation

/// What steps run without their upstream steps (`sluice step P load`) take from earlier runs: the values those
/// upstream steps passed on, and the files their runs left in `outputs/`, from the newest run where each succeeded
/// (or from one chosen run). Without it such a step would read empty values and an empty outputs folder.
public struct UpstreamRun: Sendable {
    /// Each upstream step outside the selection, with the run it is taken from.
    public let sources: [(step: String, runID: String)]
    let values: [String: [String: String]]
    /// The run directories whose `outputs/` are copied into the new run's, oldest first (a newer file wins).
    let directories: [String]

    /// How many of the pipeline's newest runs are searched for an upstream step that succeeded.
    static let searched = 100

    /// Nil when every upstream step of the selection runs too. Throws when `fromRun` is not a run of the pipeline,
    /// or an upstream step did not succeed in it (or in any recent run).
    public static func find(for prepared: PreparedRun, in store: any RunStore, fromRun: String? = nil) async throws -> UpstreamRun? {
        let plan = prepared.plan
        let included = Set(plan.included.map(\.index))
        var names: [String] = []
        var seen = Set<Int>()
        for index in plan.included.map(\.index) {
            for upstream in plan.graph.upstream[index] where !included.contains(upstream) && seen.insert(upstream).inserted {
                names.append(plan.pipeline.steps[upstream].name)
            }
        }
        guard !names.isEmpty else { return nil }
        let pipeline = prepared.request.pipeline.id
        let candidates: [RunRecord]
        if let fromRun {
            guard let run = try await store.run(id: fromRun), run.pipeline == pipeline else {
                throw SluiceError(
                    .notFound, "--from-run \(fromRun): no run of pipeline '\(pipeline)' has that id", fields: ["fromRun": "unknown run"])
            }
            candidates = [run]
        } else {
            candidates = try await store.runs(RunFilter(pipeline: pipeline), limit: searched, offset: 0)
        }
        var wanted = Set(names)
        var found: [String: (runID: String, values: [String: String]?)] = [:]
        var directories: [String] = []
        for run in candidates where !wanted.isEmpty {
            let succeeded = try await store.stepRuns(runID: run.id).filter { wanted.contains($0.step) && $0.state.isSuccess }
            guard !succeeded.isEmpty else { continue }
            for step in succeeded {
                found[step.step] = (run.id, step.outputValues)
                wanted.remove(step.step)
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
            values: found.compactMapValues(\.values),
            directories: directories)
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

import Foundation

/// Why a step would run or be skipped as up to date, if its pipeline ran now (`sluice why`).
public struct ChangeExplanation: Sendable {
    public var step: String
    public var upToDate: Bool
    /// One line per cause: each changed input, parameter or script with its old and new hashes.
    public var reasons: [String]

    /// Looks at the files as they are now; reads and hashes on a dispatch thread, off the cooperative pool.
    public static func explain(
        _ step: Step, in pipeline: Pipeline, parameters: [String: String], store: any RunStore,
        workspace: String, versionsDirectory: String
    ) async throws -> ChangeExplanation {
        guard !step.outputs.isEmpty else {
            return ChangeExplanation(step: step.name, upToDate: false, reasons: ["it declares no outputs, so it runs every time"])
        }
        let known = try await store.outputState(pipeline: pipeline.id)
        let tracker = OutputTracker(
            pipeline: pipeline, workspace: workspace, versionsDirectory: versionsDirectory, parameters: parameters,
            force: false, previous: known.fingerprints, cache: try await store.runCache(pipeline: pipeline.id), knownHashes: known.hashes)
        return ChangeExplanation(step.name, try await offPool { try tracker.decide(step) })
    }

    /// What a run of `prepared` would find for each included step that declares outputs, as `--dry-run` shows it:
    /// up to date now, unless a step before it runs and changes its inputs. One tracker for all, as a run has.
    public static func explain(
        _ prepared: PreparedRun, store: (any RunStore)?, workspace: String,
        versionsDirectory: String
    ) async throws -> [String: ChangeExplanation] {
        let pipeline = prepared.plan.pipeline
        let steps = prepared.plan.included.map(\.step).filter { !$0.outputs.isEmpty }
        guard !steps.isEmpty, !prepared.request.force else { return [:] }
        let known = try await store?.outputState(pipeline: pipeline.id) ?? (fingerprints: [:], hashes: [:])
        // A store of an older schema, opened without migrating, has no run cache yet.
        let cache = (try? await store?.runCache(pipeline: pipeline.id)) ?? [:]
        let tracker = OutputTracker(
            pipeline: pipeline, workspace: workspace, versionsDirectory: versionsDirectory,
            parameters: prepared.parameters, force: false, previous: known.fingerprints, cache: cache, knownHashes: known.hashes)
        let decisions = try await offPool { try steps.map { ($0.name, try tracker.decide($0)) } }
        return Dictionary(uniqueKeysWithValues: decisions.map { name, decision in (name, ChangeExplanation(name, decision)) })
    }
}

extension ChangeExplanation {
    /// A step that would be restored from the run cache runs no process: it counts as up to date.
    init(_ step: String, _ decision: OutputTracker.Decision) {
        switch decision {
        case let .upToDate(reason): self.init(step: step, upToDate: true, reasons: [reason])
        case let .run(_, reasons): self.init(step: step, upToDate: false, reasons: reasons)
        case let .restore(restoration): self.init(step: step, upToDate: true, reasons: [restoration.reason])
        }
    }
}

/// Parent and child runs: a run that a `pipeline:` step started has the trigger `parent:RUN:STEP`.
extension RunRecord {
    /// The trigger of a run that `step` of run `run` starts.
    public static func childTrigger(run: String, step: String) -> String { "parent:\(run):\(step)" }

    /// The run and step that started this run, when a `pipeline:` step did (run ids hold no ':', step names may).
    public var parent: (run: String, step: String)? {
        guard trigger.hasPrefix("parent:") else { return nil }
        let rest = trigger.dropFirst("parent:".count)
        guard let colon = rest.firstIndex(of: ":") else { return nil }
        return (String(rest[..<colon]), String(rest[rest.index(after: colon)...]))
    }
}

extension RunStore {
    /// The runs that the `pipeline:` steps of run `id` started, by step.
    public func childRuns(of id: String) async throws -> [RunRecord] {
        try await runs(RunFilter(trigger: "parent:\(id)"), limit: 100_000, offset: 0)
            .filter { $0.parent?.run == id }
            .sorted { ($0.parent?.step ?? "", $0.createdAt) < ($1.parent?.step ?? "", $1.createdAt) }
    }
}

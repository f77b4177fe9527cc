import Foundation

/// A pipeline's last runs by step, as Airflow's grid shows them: a column per run (oldest first), a row per step (a
/// fan-out one row), a cell per step in a run with its state and figures.
public struct StepHistory: Sendable, Codable, Equatable {
    public struct Run: Sendable, Codable, Equatable {
        public var id: String
        public var status: RunStatus
        public var createdAt: Date
        public var finishedAt: Date?
    }

    public struct Cell: Sendable, Codable, Equatable {
        /// A fan-out's: the worst of its instances' states.
        public var state: StepState
        /// The step whose log a click opens: for a fan-out, its first instance that failed, else its first.
        public var open: String
        /// A fan-out's: from its first instance's start to its last one's end.
        public var durationSeconds: Double?
        /// A fan-out's: the most of its instances'.
        public var peakMemoryKB: Int?
        /// A fan-out's: the sum of its instances'.
        public var cpuSeconds: Double?
        /// How many instances a fan-out had; nil for a step.
        public var instances: Int?
    }

    public struct Row: Sendable, Codable, Equatable {
        public var step: String
        /// One per run of `runs`, nil where the run did not have the step.
        public var cells: [Cell?]
    }

    public var runs: [Run]
    public var steps: [Row]
    /// Rows left out for the limit.
    public var more: Int

    /// `steps` of `runs` (newest first, as the store lists them), rows in `order` (the pipeline's steps) and then
    /// those only earlier runs had.
    public init(runs newestFirst: [RunRecord], steps: [StepRunRecord], order: [String], limit: Int = 300) {
        let runs = Array(newestFirst.reversed())
        self.runs = runs.map { Run(id: $0.id, status: $0.status, createdAt: $0.createdAt, finishedAt: $0.finishedAt) }
        let column = Dictionary(uniqueKeysWithValues: runs.enumerated().map { ($1.id, $0) })
        var members: [String: [[StepRunRecord]]] = [:]
        var seen: [String] = []
        for step in steps {
            guard let index = column[step.runID] else { continue }
            let name = FanOutSummary.fanOut(of: step.step) ?? step.step
            if members[name] == nil {
                members[name] = Array(repeating: [], count: runs.count)
                seen.append(name)
            }
            members[name]![index].append(step)
        }
        let known = Set(order)
        let names = order.filter { members[$0] != nil } + seen.filter { !known.contains($0) }
        self.steps = names.prefix(limit).map { name in
            Row(step: name, cells: members[name]!.map { Self.cell(name, $0) })
        }
        more = names.count - self.steps.count
    }

    private static func cell(_ name: String, _ group: [StepRunRecord]) -> Cell? {
        // A fan-out over an upstream value keeps a row of its own besides its instances: the instances speak for it.
        let instances = group.filter { $0.step != name }
        guard !instances.isEmpty else {
            return group.first.map {
                Cell(
                    state: $0.state, open: $0.step, durationSeconds: $0.duration, peakMemoryKB: $0.peakMemoryKB, cpuSeconds: $0.cpuSeconds,
                    instances: nil)
            }
        }
        let worst = instances.min { severity.firstIndex(of: $0.state) ?? 99 < severity.firstIndex(of: $1.state) ?? 99 }!
        let open = instances.first { $0.state.isFailure } ?? instances[0]
        let start = instances.compactMap(\.startedAt).min(), end = instances.compactMap(\.finishedAt).max()
        let cpu = instances.compactMap(\.cpuSeconds)
        return Cell(
            state: worst.state, open: open.step, durationSeconds: start.flatMap { s in end.map { $0.timeIntervalSince(s) } },
            peakMemoryKB: instances.compactMap(\.peakMemoryKB).max(), cpuSeconds: cpu.isEmpty ? nil : cpu.reduce(0, +),
            instances: instances.count)
    }

    /// The states from worst to best: a fan-out's cell shows its worst.
    static let severity: [StepState] = [.failed, .timedOut, .interrupted, .cancelled, .running, .pending, .skipped, .succeeded, .upToDate]
}

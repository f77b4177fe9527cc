import Foundation

/// The steps' peak memory, CPU time and duration side by side, a fan-out's instances taken together (their least,
/// median and most), as Nextflow's report draws them: what the run page and `report.html` chart.
public struct ResourceFigures: Sendable, Codable, Equatable {
    /// The least, median and most of a figure over a fan-out's instances (all three the same for one step).
    public struct Spread: Sendable, Codable, Equatable {
        public var min: Double
        public var median: Double
        public var max: Double

        init?(_ values: [Double]) {
            guard !values.isEmpty else { return nil }
            let sorted = values.sorted()
            min = sorted[0]
            median = sorted[sorted.count / 2]
            max = sorted[sorted.count - 1]
        }
    }

    public struct Row: Sendable, Codable, Equatable {
        /// The step, or the fan-out its instances belong to.
        public var step: String
        /// How many of its steps ran and were measured.
        public var measured: Int
        public var memoryKB: Spread?
        public var cpuSeconds: Spread?
        public var durationSeconds: Spread?
    }

    /// The steps (a fan-out one row) in file order: those with the highest peak memory when there are more than
    /// `limit`.
    public var rows: [Row]
    /// Rows left out for the limit.
    public var more: Int

    public init(_ steps: [StepRunRecord], limit: Int = 40) {
        var order: [String] = []
        // Positions, not copies: a fan-out of many thousand instances would otherwise be held twice.
        var members: [String: [Int]] = [:]
        for (index, step) in steps.enumerated() where step.attempts > 0 && step.state != .running && step.state != .pending {
            let name = FanOutSummary.fanOut(of: step.step) ?? step.step
            if members[name] == nil { order.append(name) }
            members[name, default: []].append(index)
        }
        let all = order.map { name in
            let group = members[name]!
            return Row(
                step: name, measured: group.count, memoryKB: Spread(group.compactMap { steps[$0].peakMemoryKB.map(Double.init) }),
                cpuSeconds: Spread(group.compactMap { steps[$0].cpuSeconds }), durationSeconds: Spread(group.compactMap { steps[$0].duration }))
        }
        let kept = Set(all.sorted { ($0.memoryKB?.max ?? -1) > ($1.memoryKB?.max ?? -1) }.prefix(limit).map(\.step))
        rows = all.filter { kept.contains($0.step) }
        more = all.count - rows.count
    }
}

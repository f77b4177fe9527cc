/// A fan-out's instances (recorded as steps named `map[A]`, `map[B]`) said as one line: `map 97/100 succeeded,
/// 2 failed, 1 running`. Front ends show it in place of, or above, the instances; the API and exports carry it.
public struct FanOutSummary: Sendable, Equatable, Codable {
    /// The step as written: what comes before the bracket.
    public var step: String
    public var total: Int
    /// Instances by state (`succeeded`, `failed`, …).
    public var counts: [String: Int]
    /// `97/100 succeeded (3 up to date), 2 failed, 1 running`: the successes first, then each other state.
    public var summary: String

    /// Past this many instances, a listing shows a few of them and counts the rest.
    public static let collapseAfter = 24
    /// How many instances such a listing shows.
    public static let shownWhenCollapsed = 10

    /// The fan-out `name` is an instance of, or nil for a step that is none.
    public static func fanOut(of name: String) -> String? {
        guard name.hasSuffix("]"), let open = name.firstIndex(of: "["), open != name.startIndex else { return nil }
        return String(name[..<open])
    }

    /// `steps` less the rows of fan-outs over an upstream step's value that met their items: such a fan-out is
    /// recorded as a step of its own (it may fail before it has instances), shown as its instances once it has them.
    /// Lazily: a run's many instances are counted, not copied.
    public static func shown(_ steps: [StepRunRecord]) -> LazyFilterSequence<[StepRunRecord]> {
        let fanOuts = Set(steps.lazy.compactMap { fanOut(of: $0.step) })
        return steps.lazy.filter { !fanOuts.contains($0.step) }
    }

    /// The fan-outs among `steps`, in the order their first instance comes, with their states counted.
    public static func of<S: Sequence>(_ steps: S) -> [FanOutSummary] where S.Element == (name: String, state: StepState) {
        var order: [String] = []
        var counts: [String: [StepState: Int]] = [:]
        for (name, state) in steps {
            guard let step = fanOut(of: name) else { continue }
            if counts[step] == nil { order.append(step) }
            counts[step, default: [:]][state, default: 0] += 1
        }
        return order.map { step in
            let byState = counts[step]!
            let total = byState.values.reduce(0, +)
            let upToDate = byState[.upToDate] ?? 0
            let succeeded = (byState[.succeeded] ?? 0) + upToDate
            let others = StepState.allCases.filter { $0 != .succeeded && $0 != .upToDate }.compactMap { state in
                byState[state].map { "\($0) \(state.rawValue.replacingOccurrences(of: "_", with: " "))" }
            }
            let summary = (["\(succeeded)/\(total) succeeded" + (upToDate > 0 ? " (\(upToDate) up to date)" : "")] + others)
                .joined(separator: ", ")
            return FanOutSummary(
                step: step, total: total, counts: Dictionary(uniqueKeysWithValues: byState.map { ($0.key.rawValue, $0.value) }),
                summary: summary)
        }
    }
}

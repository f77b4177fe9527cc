/// A fan-out's instances (recorded as steps named `map[A]`, `map[B]`) said as one line: `map 97/100 succeeded,
/// 2 failed, 1 running`. Front ends show it in place of, or above, the instances.
public struct FanOutSummary: Sendable, Equatable {
    /// The step as written: what comes before the bracket.
    public var step: String
    public var counts: [StepState: Int]
    public var total: Int

    /// The fan-out `name` is an instance of, or nil for a step that is none.
    public static func fanOut(of name: String) -> String? {
        guard name.hasSuffix("]"), let open = name.firstIndex(of: "["), open != name.startIndex else { return nil }
        return String(name[..<open])
    }

    /// The fan-outs among `steps`, in the order their first instance comes, with their states counted.
    public static func of<S: Sequence>(_ steps: S) -> [FanOutSummary] where S.Element == (name: String, state: StepState) {
        var order: [String] = []
        var summaries: [String: FanOutSummary] = [:]
        for (name, state) in steps {
            guard let step = fanOut(of: name) else { continue }
            if summaries[step] == nil {
                order.append(step)
                summaries[step] = FanOutSummary(step: step, counts: [:], total: 0)
            }
            summaries[step]!.counts[state, default: 0] += 1
            summaries[step]!.total += 1
        }
        return order.map { summaries[$0]! }
    }

    /// `97/100 succeeded (3 up to date), 2 failed, 1 running`: the successes first, then each other state.
    public var text: String {
        let upToDate = counts[.upToDate] ?? 0
        let succeeded = (counts[.succeeded] ?? 0) + upToDate
        let others = StepState.allCases.filter { $0 != .succeeded && $0 != .upToDate }.compactMap { state in
            counts[state].map { "\($0) \(state.rawValue.replacingOccurrences(of: "_", with: " "))" }
        }
        return (["\(succeeded)/\(total) succeeded" + (upToDate > 0 ? " (\(upToDate) up to date)" : "")] + others).joined(separator: ", ")
    }
}

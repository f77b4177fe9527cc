import Foundation

/// Which of a run's steps a page shows, in file order; nil lets every value through.
public struct StepQuery: Sendable, Equatable {
    /// Only steps in one of these states (none: any state).
    public var states: [StepState]
    /// Only steps whose name holds this text, whatever its case.
    public var search: String?
    /// Only steps whose state changed after this event (and instances a fan-out added since): what a client keeping
    /// a copy of the run asks for.
    public var changedAfter: Int64?
    /// Only steps after this position (the `next` of the page before).
    public var afterPosition: Int?
    public var limit: Int
    /// The fan-outs that added instances after `changedAfter`: theirs count as changed (the store fills this in).
    var fanOutsAdded: [String] = []

    public init(states: [StepState] = [], search: String? = nil, changedAfter: Int64? = nil, afterPosition: Int? = nil, limit: Int = 100) {
        self.states = states
        self.search = search
        self.changedAfter = changedAfter
        self.afterPosition = afterPosition
        self.limit = limit
    }

    /// `search` as a `LIKE` pattern over lower-cased names, its wildcards escaped with `\`.
    var searchPattern: String? {
        search.map { text in
            "%"
                + text.lowercased().replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                .replacingOccurrences(of: "_", with: "\\_") + "%"
        }
    }
}

/// Which of a run's attempts a page shows, ordered by their step's position, then by attempt.
public struct AttemptQuery: Sendable, Equatable {
    public var step: String?
    public var states: [StepState]
    /// Only attempts after this one (the `next` of the page before).
    public var after: (position: Int, attempt: Int)?
    public var limit: Int

    public init(step: String? = nil, states: [StepState] = [], after: (position: Int, attempt: Int)? = nil, limit: Int = 100) {
        self.step = step
        self.states = states
        self.after = after
        self.limit = limit
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.step == rhs.step && lhs.states == rhs.states && lhs.after?.position == rhs.after?.position && lhs.after?.attempt == rhs.after?.attempt
            && lhs.limit == rhs.limit
    }
}

/// The steps of one run in execution order, each with whether it runs and why.
public struct Plan: Sendable {
    /// One step of the pipeline: whether the run includes it, and why.
    public struct Entry: Sendable {
        public var index: Int
        public var step: Step
        public var included: Bool
        public var reason: String
    }

    public let pipeline: Pipeline
    public let graph: DependencyGraph
    /// Every step of the pipeline, in topological order.
    public let entries: [Entry]
    public let selection: Selection

    /// The entries the run includes, in the same order.
    public let included: [Entry]

    init(pipeline: Pipeline, graph: DependencyGraph, entries: [Entry], selection: Selection) {
        self.pipeline = pipeline
        self.graph = graph
        self.entries = entries
        self.selection = selection
        included = entries.filter(\.included)
    }
}

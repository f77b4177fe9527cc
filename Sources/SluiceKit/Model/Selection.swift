/// Which steps of a pipeline a run covers.
public struct Selection: Sendable, Codable, Equatable {
    /// Run only these steps (`sluice step`); empty means the whole pipeline.
    public var steps: [String] = []
    /// With `steps`: also run everything they depend on.
    public var withDependencies = false
    /// Start at these steps: they and everything downstream of them.
    public var from: [String] = []
    /// Stop at these steps: they and everything upstream of them.
    public var to: [String] = []
    /// Exactly these steps.
    public var only: [String] = []
    /// Leave these steps out (`--skip`, as in `--skip extraction`).
    public var skip: [String] = []
    /// A named subset declared under `modes:`.
    public var mode: String?

    public init(
        steps: [String] = [], withDependencies: Bool = false, from: [String] = [], to: [String] = [],
        only: [String] = [], skip: [String] = [], mode: String? = nil
    ) {
        self.steps = steps
        self.withDependencies = withDependencies
        self.from = from
        self.to = to
        self.only = only
        self.skip = skip
        self.mode = mode
    }

    var isWholePipeline: Bool { self == Selection() }
}

/// A selection that names steps or modes the pipeline does not have.
public struct SelectionError: SluiceErrorConvertible, Sendable, CustomStringConvertible {
    public var problems: [String]
    public var description: String { problems.joined(separator: "\n") }
    public var sluiceError: SluiceError { SluiceError(.invalidInput, description, fields: ["selection": description]) }
}

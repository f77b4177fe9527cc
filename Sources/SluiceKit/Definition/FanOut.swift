/// `foreach:` or `matrix:` of a step: it runs once per item, each instance a step in its own right (`map[A]`).
public struct FanOut: Sendable {
    /// Where the items come from.
    public enum Source: Sendable {
        /// Written in the file: scalars, or mappings whose keys are `{{ item.KEY }}`.
        case items([FanOutItem])
        /// A `list` parameter, known when the run starts (`foreach: "{{ params.samples }}"`).
        case parameter(String)
        /// The workspace's files matching a glob when the run starts (`foreach: {glob: "data/*.fastq"}`): each item
        /// has `path`, `name` (the file name) and `stem` (the name without its extension).
        case files(glob: String)
        /// The cross product of named lists, less `exclude`, plus `include` (GitHub Actions' `matrix`).
        case matrix(Matrix)
        /// What an upstream step passed on, known only once it has run (`foreach: "{{ steps.list.outputs.files }}"`):
        /// a JSON list (of values, or of mappings whose keys are `{{ item.KEY }}`), or one item a line.
        case upstream(step: String, key: String)
    }

    /// Whether its items are known only at run time.
    public var isDynamic: Bool { if case .upstream = source { true } else { false } }

    public struct Matrix: Sendable {
        public var axes: [(name: String, values: [String])]
        public var include: [[(String, String)]] = []
        public var exclude: [[(String, String)]] = []

        /// How many combinations the lists make before `include` and `exclude`; `Int.max` past what an `Int` holds.
        var size: Int {
            axes.reduce(1) { total, axis in
                let (count, overflow) = total.multipliedReportingOverflow(by: axis.values.count)
                return overflow ? Int.max : count
            }
        }
    }

    public var source: Source
    /// At most this many instances of the step run at once (under the run's `--jobs`); nil: no bound of its own.
    public var maxParallel: Int?
    /// A failed instance stops its siblings that have not started; by default they run on.
    public var failFast = false

    /// More instances than this from one step is a mistake (a matrix's cross product gone wild), refused before
    /// anything is built.
    static let maximumInstances = 250_000
}

/// One item of a fan-out.
public struct FanOutItem: Sendable, Equatable {
    /// What `{{ item }}` and `$SLUICE_ITEM` give: the scalar, the file's path, or the mapping as JSON.
    public var value: String
    /// `{{ item.KEY }}`, in declaration order.
    public var fields: [(key: String, value: String)]

    /// What names the instance between the brackets: the scalar, the file's stem, or the mapping's values.
    public var label: String

    public init(value: String, fields: [(key: String, value: String)] = [], label: String? = nil) {
        self.value = value
        self.fields = fields
        self.label = label ?? (fields.isEmpty ? value : fields.map(\.value).joined(separator: ","))
    }

    func field(_ key: String) -> String? { fields.first { $0.key == key }?.value }

    public static func == (lhs: FanOutItem, rhs: FanOutItem) -> Bool {
        lhs.value == rhs.value && lhs.fields.map(\.key) == rhs.fields.map(\.key) && lhs.fields.map(\.value) == rhs.fields.map(\.value)
    }
}

/// What makes a step an instance of a fan-out: the step it came from and its item.
public struct StepInstance: Sendable {
    /// The name of the step as written, `map` for `map[A]`.
    public var of: String
    public var item: FanOutItem
    /// Its place among the step's instances, from 0, in item order.
    public var position: Int
    /// The list parameter the items came from: its whole value is not part of each instance's fingerprint (its own
    /// item is), so adding an item leaves the other instances up to date.
    var sourceParameter: String?
    var maxParallel: Int?
    var failFast: Bool
}

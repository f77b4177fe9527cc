/// What went wrong, in words a person acts on, with what it is about (a file, a step, the values at fault) when that is
/// known, and a code that each front end maps once: the API to an HTTP status, the command line to an exit status.
/// Errors with a shape of their own (a run's parameter problems) convert into one (``SluiceErrorConvertible``).
public struct SluiceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure; new kinds are new constants, as in service-lifecycle's `ServiceGroupError.Code`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String

        private init(_ name: String) { self.name = name }

        public var description: String { name }

        /// No such pipeline, step, run, version or file.
        public static let notFound = Code("not_found")
        /// A value given (a parameter, an option, a selection, a pipeline definition) is not acceptable.
        public static let invalidInput = Code("invalid_input")
        /// What was asked does not fit how things stand: the run is running (or is not), or its pipeline runs one run
        /// at a time.
        public static let conflict = Code("conflict")
        /// Nothing is left to do (a retry or a resume of a run whose steps all succeeded): not a failure.
        public static let nothingToDo = Code("nothing_to_do")
        /// The store cannot be opened, read or written.
        public static let store = Code("store")
        /// A file or folder Sluice keeps (a run's directory, versioned outputs, a notification file) cannot be read or
        /// written.
        public static let file = Code("file")
        /// Anything else: a defect of Sluice's, to be reported.
        public static let `internal` = Code("internal")
    }

    public var code: Code
    public var message: String
    /// The file or store it is about.
    public var file: String?
    /// The step it is about.
    public var step: String?
    /// The values at fault, by field (`params.NAME`, `from`, `selection`), each with what is wrong with it: a form
    /// shows each beside its field.
    public var fields: [String: String]

    public init(_ code: Code, _ message: String, file: String? = nil, step: String? = nil, fields: [String: String] = [:]) {
        self.code = code
        self.message = message
        self.file = file.flatMap { $0.isEmpty ? nil : $0 }
        self.step = step
        self.fields = fields
    }

    public var description: String { file.map { "\($0): \(message)" } ?? message }
}

/// An error with a shape of its own that front ends see as a ``SluiceError``.
public protocol SluiceErrorConvertible: Error {
    var sluiceError: SluiceError { get }
}

/// A position in a pipeline file; line and column start at 1.
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// One problem found in a pipeline definition, with where it is and how to fix it.
public struct Diagnostic: Sendable, Equatable, CustomStringConvertible {
    /// A stable identifier of the kind of problem, for scripts and tests.
    public enum Code: String, Sendable {
        case yamlSyntax = "yaml-syntax"
        case wrongType = "wrong-type"
        case missingKey = "missing-key"
        case unknownKey = "unknown-key"
        case missingScript = "missing-script"
        case duplicateStep = "duplicate-step"
        case unknownDependency = "unknown-dependency"
        case dependencyCycle = "dependency-cycle"
        case badValue = "bad-value"
        case unreadableFile = "unreadable-file"
        case duplicatePipeline = "duplicate-pipeline"
        case ignoredSetting = "ignored-setting"
        case unknownName = "unknown-name"
        case pipelineCycle = "pipeline-cycle"
    }

    /// An error makes the pipeline invalid; a warning says what is probably not meant, and the pipeline still runs.
    public enum Severity: String, Sendable {
        case error, warning
    }

    public var code: Code
    public var severity: Severity = .error
    public var location: SourceLocation
    public var message: String
    /// What to do about it.
    public var fix: String?

    public init(_ code: Code, at location: SourceLocation, _ message: String, fix: String? = nil) {
        self.code = code
        self.location = location
        self.message = message
        self.fix = fix
    }

    public var description: String {
        let head = "\(location): \(severity.rawValue): \(message)"
        return fix.map { "\(head)\n    fix: \($0)" } ?? head
    }
}

/// Thrown when a pipeline file has problems; carries every one of them.
public struct DefinitionError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// One version of one output file, as the annotations file (`annotations.json`) records it.
public struct OutputAnnotation: Sendable, Codable, Equatable {
    public var path: String
    public var sha256: String
    public var size: Int64
    public var version: Int
    public var runID: String
    public var recordedAt: String

    enum CodingKeys: String, CodingKey {
        case path, sha256, size, version
        case runID = "run_id"
        case recordedAt = "recorded_at"
    }
}

/// The annotations file of one step: every version of its outputs, and which versions made its last good state.
public struct OutputAnnotations: Sendable, Codable, Equatable {
    public var pipeline: String
    public var step: String
    public var versions: [OutputAnnotation] = []
    /// The outputs of the last successful attempt: path to version.
    public var lastGood: [String: Int] = [:]

    enum CodingKeys: String, CodingKey {
        case pipeline, step, versions
        case lastGood = "last_good"
    }

    public func newest(_ path: String) -> OutputAnnotation? { versions.last { $0.path == path } }
}

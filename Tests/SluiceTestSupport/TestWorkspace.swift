import Foundation
import SluiceKit

/// A throw-away Sluice workspace in a temporary folder: pipelines, scripts and a store of its own.
public final class TestWorkspace: @unchecked Sendable {
    public let root: String

    public init() throws {
        var template = Array((NSTemporaryDirectory() + "sluice-test-XXXXXX").utf8CString)
        guard let path = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
        root = String(cString: path)
        try FileManager.default.createDirectory(atPath: pipelinesDirectory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    public var pipelinesDirectory: String { path("pipelines") }
    public var runsDirectory: String { path("runs") }
    public var storePath: String { path(".sluice/store.sqlite") }

    public func path(_ relative: String) -> String { (root as NSString).appendingPathComponent(relative) }

    /// Writes a file under the workspace, creating its folders.
    @discardableResult
    public func write(_ relative: String, _ contents: String, executable: Bool = false) throws -> String {
        let file = path(relative)
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try contents.write(toFile: file, atomically: true, encoding: .utf8)
        if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file) }
        return file
    }

    /// Writes `pipelines/NAME.yaml`.
    public func pipeline(_ name: String, _ yaml: String) throws {
        try write("pipelines/\(name).yaml", yaml)
    }

    /// Writes a step script into `pipelines/PIPELINE/`.
    public func script(_ pipeline: String, _ name: String, _ contents: String) throws {
        try write("pipelines/\(pipeline)/\(name)", contents)
    }

    public func read(_ relative: String) throws -> String {
        try String(contentsOfFile: relative.hasPrefix("/") ? relative : path(relative), encoding: .utf8)
    }

    public func exists(_ relative: String) -> Bool {
        FileManager.default.fileExists(atPath: relative.hasPrefix("/") ? relative : path(relative))
    }

    /// The loaded pipeline `name`; fails the test with its diagnostics if it does not validate.
    public func load(_ name: String) throws -> Pipeline {
        guard let entry = PipelineCatalog.scan(pipelinesDirectory).entry(name) else { throw TestFailure("no pipeline \(name)") }
        return try entry.result.get()
    }
}

/// A failure inside a test helper, with a message.
public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
